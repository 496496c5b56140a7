#!/usr/bin/env node
// The `apikeys` command of the repository (npm links it into node_modules/.bin, so `npx apikeys` finds it).
// It runs the TypeScript source of src/cli through tsx: no build step, never stale. After `npm run build`
// without the dev dependencies (a production image), it runs the compiled dist/cli/main.js.
import { existsSync } from "node:fs";

const source = new URL("../../src/cli/main.ts", import.meta.url);
const built = new URL("../../dist/cli/main.js", import.meta.url);

async function tsxRegister() {
  try {
    return (await import("tsx/esm/api")).register;
  } catch {
    return null;
  }
}

const register = existsSync(source) ? await tsxRegister() : null;
if (register !== null) {
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write("apikeys: not built: run 'npm install' (or 'npm run build')\n");
  process.exit(1);
}
