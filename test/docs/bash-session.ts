/**
 * One bash process that runs a document's blocks one after another, like a reader pasting them into one
 * terminal: variables and functions set by a block are there for the next. Blocks run under
 * `set -euo pipefail`, so the first failing command ends the session, and every later block reports that.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** BlockResult is how a block ended. */
export interface BlockResult {
  /** status is 0 when the block finished; otherwise the exit status of its first failed command. */
  readonly status: number;
  /** output is what the block wrote to stdout and stderr. */
  readonly output: string;
  /** variables are the values, after the block, of the variables the block assigns. */
  readonly variables: Readonly<Record<string, string>>;
}

/** assignedVariables are the shell variables a block assigns at the start of a line (NAME=…, export NAME=…). */
export function assignedVariables(code: string): string[] {
  return [
    ...new Set([...code.matchAll(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1] ?? "")),
  ];
}

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

/** BashSession is a running bash that blocks are fed to. */
export class BashSession {
  private readonly child: ChildProcess;
  private readonly exited: Promise<number>;
  private exitStatus: number | null = null;
  private count = 0;

  /**
   * constructor starts bash in `cwd` with exactly `env`, after sourcing `prelude`; `dir` is its scratch
   * folder (blocks, their output, DOCS_TEST_DIR).
   */
  constructor(
    cwd: string,
    private readonly dir: string,
    env: Record<string, string>,
    prelude: string,
  ) {
    this.child = spawn("bash", ["--noprofile", "--norc"], {
      cwd,
      env: { ...env, DOCS_TEST_DIR: dir, DOCS_TEST_BLOCK: "0", DOCS_TEST_GRPCURL_CALLS: "0" },
      stdio: ["pipe", "ignore", "ignore"],
    });
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        this.exitStatus = code ?? (signal === null ? 1 : 128);
        resolve(this.exitStatus);
      }),
    );
    this.send(`set -euo pipefail\nsource ${shellQuote(prelude)}\n`);
  }

  private send(text: string): void {
    this.child.stdin?.write(text);
  }

  /**
   * run runs `code` in the session. With `expectFailure`, it runs in a subshell instead, so a block that is
   * meant to fail reports its status and the session goes on.
   */
  async run(code: string, options: { expectFailure?: boolean } = {}): Promise<BlockResult> {
    if (this.exitStatus !== null) {
      throw new Error(`the session ended (status ${this.exitStatus}) in an earlier block`);
    }
    this.count += 1;
    const n = this.count;
    const file = (name: string) => join(this.dir, `${name}-${n}`);
    writeFileSync(file("block"), code);
    const names = assignedVariables(code);
    const dump = names.map((name) => `printf '%s\\0%s\\0' ${name} "\${${name}-}"`).join("; ");
    const source = `source ${shellQuote(file("block"))}`;
    const body = options.expectFailure
      ? `set +e; ( set -e; ${source} ) >${shellQuote(file("out"))} 2>&1 </dev/null; DOCS_TEST_STATUS=$?; set -e`
      : `DOCS_TEST_STATUS=0; { ${source}; } >${shellQuote(file("out"))} 2>&1 </dev/null`;
    // The block reads /dev/null, never the pipe that carries the next blocks.
    this.send(
      `DOCS_TEST_BLOCK=${n}\n${body}\n{ ${dump || ":"}; } >${shellQuote(file("vars"))}\n` +
        `echo "$DOCS_TEST_STATUS" >${shellQuote(file("done"))}\n`,
    );
    for (;;) {
      if (existsSync(file("done"))) {
        const done = readFileSync(file("done"), "utf8");
        if (done.endsWith("\n")) {
          const fields = readFileSync(file("vars"), "utf8").split("\0");
          const variables: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) {
            variables[fields[i] ?? ""] = fields[i + 1] ?? "";
          }
          return { status: Number(done.trim()), output: readFileSync(file("out"), "utf8"), variables };
        }
      }
      if (this.exitStatus !== null) {
        const output = existsSync(file("out")) ? readFileSync(file("out"), "utf8") : "";
        return { status: this.exitStatus, output, variables: {} };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** grpcurlCalls are the argument lists of the grpcurl calls the last block made (see grpcurl-stand-in.sh). */
  grpcurlCalls(): string[][] {
    const prefix = `grpcurl-${this.count}-`;
    return readdirSync(this.dir)
      .filter((name) => name.startsWith(prefix))
      .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)))
      .map((name) => readFileSync(join(this.dir, name), "utf8").split("\0").slice(0, -1));
  }

  /** close ends bash (if a failed block has not ended it already). */
  async close(): Promise<void> {
    if (this.exitStatus === null) {
      this.child.stdin?.end();
      await this.exited;
    }
  }
}
