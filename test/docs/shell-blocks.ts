/**
 * The shell blocks of a Markdown document (```sh, ```bash, ```shell fences), in order, each with what the
 * docs test does with it. An HTML comment on the line right before a fence tells the test about a block:
 *
 *   <!-- docs-test: skip (needs Docker) -->           not runnable here; reported as skipped with the reason
 *   <!-- docs-test: fails with FAILED_PRECONDITION --> run, and expected to end with that error code
 *
 * Every other shell block runs.
 */

const SHELL_LANGUAGES = new Set(["sh", "bash", "shell"]);
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/;
const MARKER = /^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$/;
const SKIP = /^skip\s*\((.+)\)$/;
const FAILS = /^fails with ([A-Z_]+)\b/;

/** BlockPlan is what the docs test does with a block. */
export type BlockPlan =
  | { readonly kind: "run" }
  | { readonly kind: "skip"; readonly reason: string }
  | { readonly kind: "fails"; readonly code: string };

/** ShellBlock is one fenced shell block of a document. */
export interface ShellBlock {
  /** line is the 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  readonly plan: BlockPlan;
}

function planOf(marker: string | undefined, line: number): BlockPlan {
  if (marker === undefined) {
    return { kind: "run" };
  }
  const skip = SKIP.exec(marker);
  if (skip?.[1] !== undefined) {
    return { kind: "skip", reason: skip[1] };
  }
  const fails = FAILS.exec(marker);
  if (fails?.[1] !== undefined) {
    return { kind: "fails", code: fails[1] };
  }
  throw new Error(`line ${line}: unknown docs-test marker "${marker}" (skip (reason) or fails with CODE)`);
}

/** shellBlocksOf returns the shell blocks of `markdown`, in order. */
export function shellBlocksOf(markdown: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  let index = 0;
  while (index < lines.length) {
    const open = FENCE.exec(lines[index] ?? "");
    if (open === null) {
      index += 1;
      continue;
    }
    const [, indent = "", fence = "", language = ""] = open;
    const start = index;
    const body: string[] = [];
    index += 1;
    while (index < lines.length && !(lines[index] ?? "").trimStart().startsWith(fence)) {
      body.push((lines[index] ?? "").slice(indent.length));
      index += 1;
    }
    index += 1;
    if (!SHELL_LANGUAGES.has(language)) {
      continue;
    }
    let previous = start - 1;
    while (previous >= 0 && (lines[previous] ?? "").trim() === "") {
      previous -= 1;
    }
    const marker = MARKER.exec(lines[previous] ?? "")?.[1];
    blocks.push({ line: start + 1, code: `${body.join("\n")}\n`, plan: planOf(marker, start + 1) });
  }
  return blocks;
}
