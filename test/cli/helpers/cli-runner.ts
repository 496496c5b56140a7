/**
 * Two ways to run the CLI in tests: in-process through runCli with a scripted CliIo (fast; a fake terminal
 * for prompts), and as a real process (`node_modules/.bin/tsx src/cli/main.ts …`), the way a user runs it.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { abortableSleep, type CliIo } from "../../../src/cli/cli-io.js";
import { runCli } from "../../../src/cli/run-cli.js";

/** CliRun is the outcome of one run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** prompts are the questions asked (in-process runs only). */
  prompts: string[];
}

/** repoRoot is the checkout the CLI runs from. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** runInProcess runs `apikeys <argv>` in this process. */
export async function runInProcess(
  argv: string[],
  options: {
    env?: Record<string, string>;
    tty?: boolean;
    answers?: string[];
    interrupt?: AbortSignal;
    now?: Date;
  } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const prompts: string[] = [];
  const answers = [...(options.answers ?? [])];
  const io: CliIo = {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    env: options.env ?? {},
    stdinIsTTY: options.tty ?? false,
    async prompt(question) {
      prompts.push(question);
      return answers.shift() ?? "";
    },
    now: () => options.now ?? new Date(),
    sleep: abortableSleep,
    interrupt: options.interrupt ?? new AbortController().signal,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr, prompts };
}

/** SpawnedCli is a CLI process started by spawnCli. */
export interface SpawnedCli {
  /** done resolves when the process exits. */
  done: Promise<CliRun>;
  /** stdout so far. */
  stdout(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** spawnCli starts `apikeys <argv>` as a process, with only the given APIKEYS_* / BOOTSTRAP_TOKEN variables. */
export function spawnCli(argv: string[], env: Record<string, string> = {}, timeoutMs = 30_000): SpawnedCli {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith("APIKEYS_") && name !== "BOOTSTRAP_TOKEN",
    ),
  );
  const child = spawn(`${repoRoot}node_modules/.bin/tsx`, ["src/cli/main.ts", ...argv], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<CliRun>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr, prompts: [] });
    });
  });
  return { done, stdout: () => stdout, kill: (signal = "SIGTERM") => child.kill(signal) };
}

/** runSpawned runs `apikeys <argv>` as a process to completion. */
export function runSpawned(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return spawnCli(argv, env).done;
}
