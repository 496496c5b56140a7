import { terminalText } from "./terminal-text.js";

/**
 * formatTable renders rows as left-aligned columns separated by two spaces, with an upper-case header line.
 * Cells are made terminal-safe; widths count code points, so wide characters may misalign but never break
 * the table.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [
    headers.map((header) => header.toUpperCase()),
    ...rows.map((row) => row.map((cell) => terminalText(cell))),
  ];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => [...(row[column] ?? "")].length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1
            ? cell
            : cell.padEnd((widths[column] ?? 0) + cell.length - [...cell].length),
        )
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
