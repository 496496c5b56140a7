import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configVariables } from "../../src/server/config.js";

// The README's configuration table is the operators' reference: every variable loadConfig reads must be in it,
// with the default loadConfig actually applies.
describe("README configuration table", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = new Map(
    readme
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .map((cells) => [cells[1]?.replaceAll("`", "") ?? "", cells[2] ?? ""] as const),
  );

  it.each(configVariables.map((variable) => [variable.name, variable] as const))(
    "documents %s",
    (name, variable) => {
      expect(rows.has(name), `${name} is missing from the README configuration table`).toBe(true);
      const documentedDefault = rows.get(name)?.replaceAll("`", "");
      expect(documentedDefault).toBe(variable.default ?? "—");
    },
  );
});
