/**
 * A CLI session for end-to-end tests: every `apikeys` command runs as its own process
 * (`node_modules/.bin/tsx src/cli/main.ts …`, stdin not a terminal) the way a user runs it, and every output
 * is kept, so a test file can finally scan ALL of them for secrets: each secret a command issued must
 * appear in that command's output only, once; no other output may contain it.
 */
import { expect } from "vitest";
import { SECRET_LINE_PREFIX } from "../../../src/cli/commands/command-helpers.js";
import { type CliRun, type SpawnedCli, spawnCli } from "../../cli/helpers/cli-runner.js";

/** RecordedRun is one finished CLI process. */
export interface RecordedRun extends CliRun {
  readonly argv: readonly string[];
}

/** IssuedSecret is a secret a command printed (the whole key, and its secret part when known). */
interface IssuedSecret {
  readonly secret: string;
  readonly secretKey: string | null;
  readonly run: RecordedRun;
}

/** CliSession runs and records CLI processes. */
export interface CliSession {
  /** run runs `apikeys <argv>` to completion with the session's environment plus `env`. */
  run(argv: readonly string[], env?: Readonly<Record<string, string>>): Promise<RecordedRun>;
  /** spawn starts a long-running command (audit tail); its output is recorded once it exits. */
  spawn(
    argv: readonly string[],
    env?: Readonly<Record<string, string>>,
  ): SpawnedCli & {
    readonly recorded: Promise<RecordedRun>;
  };
  /** issued notes that `run` printed `secret` (and `secretKey`, the secret part) as a new secret. */
  issued(run: RecordedRun, secret: string, secretKey?: string): void;
  /** neverShown notes a value that no output may contain (bootstrap token, admin keys from elsewhere). */
  neverShown(value: string): void;
  /** expectSecretsShownOnce checks every recorded output against every noted secret. */
  expectSecretsShownOnce(): void;
  readonly runs: readonly RecordedRun[];
}

/** createCliSession makes a session whose commands get `baseEnv()` (read at each run). */
export function createCliSession(baseEnv: () => Readonly<Record<string, string>>): CliSession {
  const runs: RecordedRun[] = [];
  const secrets: IssuedSecret[] = [];
  const hidden: string[] = [];
  const session: CliSession = {
    runs,
    async run(argv, env = {}) {
      const result = await spawnCli([...argv], { ...baseEnv(), ...env }).done;
      const recorded: RecordedRun = { ...result, argv: [...argv] };
      runs.push(recorded);
      return recorded;
    },
    spawn(argv, env = {}) {
      const spawned = spawnCli([...argv], { ...baseEnv(), ...env }, 120_000);
      const recorded = spawned.done.then((result) => {
        const run: RecordedRun = { ...result, argv: [...argv] };
        runs.push(run);
        return run;
      });
      return { ...spawned, recorded };
    },
    issued(run, secret, secretKey) {
      expect(secret.length).toBeGreaterThan(20);
      secrets.push({ secret, secretKey: secretKey ?? null, run });
    },
    neverShown(value) {
      hidden.push(value);
    },
    expectSecretsShownOnce() {
      expect(secrets.length).toBeGreaterThan(0);
      for (const { secret, secretKey, run } of secrets) {
        const where = `issued by 'apikeys ${run.argv.join(" ")}'`;
        expect(occurrences(run.stdout + run.stderr, secret), `${where}: shown exactly once`).toBe(1);
        for (const other of runs) {
          if (other === run) {
            continue;
          }
          const label = `${where}, leaked by 'apikeys ${other.argv.join(" ")}'`;
          expect(other.stdout + other.stderr, label).not.toContain(secret);
          if (secretKey !== null) {
            expect(other.stdout + other.stderr, label).not.toContain(secretKey);
          }
        }
      }
      for (const value of hidden) {
        for (const run of runs) {
          expect(run.stdout + run.stderr, `'apikeys ${run.argv.join(" ")}'`).not.toContain(value);
        }
      }
    },
  };
  return session;
}

/** secretLineOf returns the secret of the one marked secret line of a human output (it fails otherwise). */
export function secretLineOf(stdout: string): string {
  const lines = stdout.split("\n").filter((line) => line.startsWith(SECRET_LINE_PREFIX));
  expect(lines, stdout).toHaveLength(1);
  return (lines[0] as string).slice(SECRET_LINE_PREFIX.length);
}

/** occurrences counts how often `needle` occurs in `haystack`. */
export function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** oneErrorLine checks that stderr is exactly one "apikeys: …" line and returns it. */
export function oneErrorLine(run: CliRun): string {
  const lines = run.stderr.split("\n").filter((line) => line !== "");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^apikeys: \S/);
  return lines[0] as string;
}
