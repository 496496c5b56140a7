import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

// The layers' dependency rules (docs/architecture.md). Every folder of src/ is listed with the folders it may
// import from; the graph has no cycles, and the domain and the client package keep to their own packages.
const root = new URL("../..", import.meta.url).pathname;

/** mayImport: for each folder of src/, the other folders of src/ its files may import from. */
const mayImport: Readonly<Record<string, readonly string[]>> = {
  domain: [],
  gen: [],
  storage: ["domain"],
  audit: ["domain"],
  verify: ["domain"],
  metrics: ["domain", "verify", "audit"],
  rpc: ["domain", "gen"],
  // transport: the per-RPC metrics are scrape-time metrics (metrics/collected-metric.ts).
  transport: ["domain", "gen", "rpc", "metrics"],
  // server: recover-super-user runs offline on the service's configuration and storage.
  cli: ["domain", "gen", "server"],
  server: ["domain", "gen", "storage", "audit", "verify", "metrics", "rpc", "transport"],
};

/** Packages a folder must not use at all, whatever the folder graph allows. */
const forbiddenPackages: Readonly<Record<string, readonly RegExp[]>> = {
  domain: [/^mongodb$/, /^pino$/, /^@connectrpc\//, /^@grpc\//, /^@bufbuild\//, /^prom-client$/],
  storage: [/^@connectrpc\//, /^@grpc\//, /^@bufbuild\//],
  audit: [/^mongodb$/, /^@connectrpc\//, /^@grpc\//],
  verify: [/^mongodb$/, /^@connectrpc\//, /^@grpc\//],
  rpc: [/^mongodb$/],
  transport: [/^mongodb$/],
};

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map(
    (match) => match[1] ?? "",
  );
}

/** folderOf names the src/ folder a relative import of `file` lands in (null outside src/). */
function folderOf(file: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) {
    return null;
  }
  const target = relative(join(root, "src"), resolve(root, dirname(file), specifier));
  return target.startsWith("..") ? "outside" : (target.split("/")[0] ?? null);
}

const folders = readdirSync(join(root, "src"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe("src/ folders", () => {
  it("every folder has a rule", () => {
    expect(folders.filter((folder) => !(folder in mayImport))).toEqual([]);
  });

  it("the allowed imports between folders form no cycle", () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycles: string[] = [];
    const visit = (folder: string, path: string[]) => {
      if (visiting.has(folder)) {
        cycles.push([...path, folder].join(" → "));
        return;
      }
      if (done.has(folder)) {
        return;
      }
      visiting.add(folder);
      for (const next of mayImport[folder] ?? []) {
        visit(next, [...path, folder]);
      }
      visiting.delete(folder);
      done.add(folder);
    };
    for (const folder of Object.keys(mayImport)) {
      visit(folder, []);
    }
    expect(cycles).toEqual([]);
  });
});

describe.each(folders.filter((folder) => folder !== "gen"))("src/%s", (folder) => {
  const files = sourceFiles(`src/${folder}`);
  const allowed = new Set([folder, ...(mayImport[folder] ?? [])]);

  it.each(files)("%s imports only what its folder may", (file) => {
    const offending = importsOf(file).filter((specifier) => {
      const target = folderOf(file, specifier);
      if (target !== null) {
        return !allowed.has(target);
      }
      return (forbiddenPackages[folder] ?? []).some((rule) => rule.test(specifier));
    });
    expect(offending, `${file} imports ${offending.join(", ")}`).toEqual([]);
  });
});

describe("packages/client", () => {
  it.each(sourceFiles("packages/client/src"))("%s stays inside its package", (file) => {
    const offending = importsOf(file).filter(
      (specifier) =>
        /^(mongodb|pino|prom-client)$/.test(specifier) ||
        (specifier.startsWith(".") &&
          relative(join(root, "packages/client"), resolve(root, dirname(file), specifier)).startsWith("..")),
    );
    expect(offending, `${file} imports ${offending.join(", ")}`).toEqual([]);
  });
});
