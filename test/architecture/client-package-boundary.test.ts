import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The client package is installed by other services: everything it imports is its own source, a Node
// built-in, or a package its package.json declares (so no server dependency can slip in through an import
// that only works inside this repository).
const packageDir = new URL("../../packages/client", import.meta.url).pathname;
const sourceDir = join(packageDir, "src");
const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
const declared = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
]);

const files = readdirSync(sourceDir, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
  .map((entry) => join(entry.parentPath, entry.name));

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map(
    (match) => match[1] ?? "",
  );
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

function isAllowed(file: string, specifier: string): boolean {
  if (specifier.startsWith(".")) {
    return !relative(sourceDir, resolve(dirname(file), specifier)).startsWith("..");
  }
  if (specifier.startsWith("node:") || builtinModules.includes(specifier)) {
    return true;
  }
  return declared.has(packageNameOf(specifier));
}

describe("the client package", () => {
  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it("declares no server dependency", () => {
    for (const name of ["mongodb", "pino", "prom-client", "lru-cache", "commander", "@grpc/reflection"]) {
      expect(declared.has(name), name).toBe(false);
    }
  });

  it.each(files.map((file) => relative(packageDir, file)))(
    "%s imports only its own files and declared packages",
    (file) => {
      const path = join(packageDir, file);
      const offending = importsOf(path).filter((specifier) => !isAllowed(path, specifier));
      expect(offending, `${file} imports ${offending.join(", ")}`).toEqual([]);
    },
  );
});
