/**
 * PEM files named by configuration variables: a file that cannot be read is reported naming its variable,
 * so a misconfigured certificate fails the start in one line instead of at the first handshake.
 */
import { readFileSync } from "node:fs";

export function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : "unreadable";
    throw new Error(`${variable}: cannot read ${path} (${reason})`);
  }
}
