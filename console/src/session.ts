/**
 * The signed-in key. It lives in this module's memory, and in sessionStorage only when the person asks to stay
 * signed in for the tab (never localStorage or a cookie): closing the tab or signing out forgets it.
 */
const STORAGE_KEY = "apikeys.console.key";

let current: string | null = readStored();

function readStored(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

/** signedInKey is the key sent with every call, or null. Secret: never log or display it. */
export function signedInKey(): string | null {
  return current;
}

/** rememberKey makes `key` the signed-in key; `keepForTab` also keeps it in sessionStorage. */
export function rememberKey(key: string, keepForTab: boolean): void {
  current = key;
  try {
    if (keepForTab) {
      globalThis.sessionStorage?.setItem(STORAGE_KEY, key);
    } else {
      globalThis.sessionStorage?.removeItem(STORAGE_KEY);
    }
  } catch {
    // Storage refused (private mode): memory only.
  }
}

/** forgetKey signs out: the key leaves memory and storage. */
export function forgetKey(): void {
  current = null;
  try {
    globalThis.sessionStorage?.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored.
  }
}
