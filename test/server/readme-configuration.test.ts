import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configVariables } from "../../src/server/config.js";

// The README's configuration table is the operators' reference: every variable loadConfig reads must be in it,
// with the default, the accepted values and the meaning of the configuration table itself.
describe("README configuration table", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const rows = new Map(
    readme
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .map((line) => line.split("|").map((cell) => cell.trim()))
      .map((cells) => [cells[1]?.replaceAll("`", "") ?? "", cells.slice(2, 5)] as const),
  );

  it.each(configVariables.map((variable) => [variable.name, variable] as const))(
    "documents %s",
    (name, variable) => {
      expect(rows.has(name), `${name} is missing from the README configuration table`).toBe(true);
      const [documentedDefault, accepts, meaning] = rows.get(name) ?? [];
      expect(documentedDefault?.replaceAll("`", "")).toBe(variable.default ?? "—");
      expect(accepts?.replaceAll("\\|", "|")).toBe(variable.range);
      expect(meaning).toBe(variable.meaning);
    },
  );
});
