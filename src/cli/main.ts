#!/usr/bin/env node
/**
 * The `apikeys` command: the composition root of the CLI (real process I/O, signals, exit code). Run from a
 * clone with `npm run apikeys -- <args>`; installed, the package's bin runs the built dist/cli/main.js.
 */
import { createInterface } from "node:readline/promises";
import { abortableSleep, type CliIo } from "./cli-io.js";
import { runCli } from "./run-cli.js";

const interrupt = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) {
      // A second Ctrl-C means "now".
      process.exit(130);
    }
    interrupt.abort();
  });
}
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // `apikeys audit tail | head`: the reader went away, which is not a failure.
  if (error.code === "EPIPE") {
    process.exit(0);
  }
  throw error;
});

const io: CliIo = {
  out: (text) => {
    process.stdout.write(text);
  },
  err: (text) => {
    process.stderr.write(text);
  },
  env: process.env,
  stdinIsTTY: process.stdin.isTTY === true,
  async prompt(question) {
    const readline = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    try {
      return await readline.question(question, { signal: interrupt.signal });
    } catch {
      return "";
    } finally {
      readline.close();
    }
  },
  now: () => new Date(),
  sleep: abortableSleep,
  interrupt: interrupt.signal,
};

const exitCode = await runCli(process.argv.slice(2), io);
// Exit explicitly once output is flushed: idle HTTP/2 sessions would otherwise keep the process alive.
process.stdout.write("", () => {
  process.stderr.write("", () => process.exit(exitCode));
});
