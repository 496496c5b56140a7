import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// The layers' dependency rules (docs/architecture.md): the domain is pure, storage never reaches up into the
// transports, and only the composition root wires concrete pieces together.
const root = new URL("../..", import.meta.url).pathname;

function sourceFiles(folder: string): string[] {
  const dir = join(root, folder);
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map(
    (match) => match[1] ?? "",
  );
}

const rules: ReadonlyArray<{ layer: string; forbidden: readonly RegExp[] }> = [
  {
    layer: "src/domain",
    forbidden: [
      /^mongodb$/,
      /^pino$/,
      /^@connectrpc\//,
      /^@grpc\//,
      /^@bufbuild\//,
      /^prom-client$/,
      /\/(gen|storage|rpc|server|verify|client|cli)\//,
    ],
  },
  { layer: "src/storage", forbidden: [/^@connectrpc\//, /^@grpc\//, /\/(gen|rpc|server|client|cli)\//] },
  { layer: "packages/client/src", forbidden: [/^mongodb$/, /\/(storage|server|verify|cli)\//] },
];

describe.each(rules)("$layer", ({ layer, forbidden }) => {
  const files = sourceFiles(layer);

  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)("%s imports only what its layer may", (file) => {
    const offending = importsOf(file).filter((specifier) => forbidden.some((rule) => rule.test(specifier)));
    expect(offending, `${file} imports ${offending.join(", ")}`).toEqual([]);
  });
});
