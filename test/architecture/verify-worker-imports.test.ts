/**
 * The verify worker exists to run the gRPC port in an isolate that holds nothing but the transport and
 * verification (docs/architecture.md, "The verify worker"). This follows every module the worker thread
 * loads at run time — every import except `import type`, which is erased (with verbatimModuleSyntax an
 * `import { type X }` still loads its module) — and checks that none is the database driver, the metrics
 * library, the HTTP port's stack, storage or the main thread's composition.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(new URL("../..", import.meta.url).pathname);
const entry = join(root, "src/verify-worker/verify-worker-main.ts");

function runtimeSpecifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(import|export)(\s+type)?\s[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gms)]
    .filter((match) => match[2] === undefined)
    .map((match) => match[3] ?? match[4] ?? "");
}

/** workerModuleGraph returns the local files (relative to the repository) and packages the worker loads. */
function workerModuleGraph(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    const name = relative(root, file);
    if (files.has(name)) {
      continue;
    }
    files.add(name);
    for (const specifier of runtimeSpecifiers(file)) {
      if (specifier.startsWith(".")) {
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")));
      } else if (!specifier.startsWith("node:")) {
        const parts = specifier.split("/");
        packages.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string));
      }
    }
  }
  return { files, packages };
}

describe("the verify worker's modules", () => {
  const { files, packages } = workerModuleGraph();

  it("include the transport and the verifier (the graph is really followed)", () => {
    expect(packages).toContain("@grpc/grpc-js");
    expect(files).toContain("src/domain/key-verifier.ts");
    expect(files).toContain("src/verify/key-cache.ts");
  });

  it.each(["mongodb", "prom-client", "@connectrpc/connect-node", "commander", "express", "fastify"])(
    "never load %s",
    (name) => {
      expect(packages).not.toContain(name);
    },
  );

  it("never load storage, the CLI, the client library or the main thread's composition", () => {
    const offending = [...files].filter(
      (file) =>
        /^src\/(storage|cli|client)\//.test(file) ||
        /^src\/server\/(main|boot|start-server|wire-[a-z-]+|database|http-server|audit-pipeline)\.ts$/.test(
          file,
        ),
    );
    expect(offending).toEqual([]);
  });
});
