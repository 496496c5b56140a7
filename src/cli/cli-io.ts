/**
 * CliIo is everything the CLI touches outside itself, so commands run the same in a terminal and in tests:
 * output streams, the environment, whether stdin is a terminal, the confirmation prompt, the clock, sleeping
 * and the interrupt signal (Ctrl-C).
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdinIsTTY tells whether a human can answer a prompt. */
  readonly stdinIsTTY: boolean;
  /** prompt asks a question on stderr and resolves with the answer line. */
  prompt(question: string): Promise<string>;
  now(): Date;
  /** sleep waits, or resolves early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** interrupt aborts when the user asks the CLI to stop (SIGINT/SIGTERM). */
  readonly interrupt: AbortSignal;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
