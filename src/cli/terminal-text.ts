/**
 * terminalText makes a server-provided string safe to print: control characters (including ESC, so no ANSI
 * sequence can repaint the terminal or forge a line) become "?", and an empty value becomes the
 * placeholder.
 */
export function terminalText(value: string | null | undefined, placeholder = "-"): string {
  if (value === null || value === undefined || value === "") {
    return placeholder;
  }
  let out = "";
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
    // Bidi overrides can make a printed name read differently from what it is.
    const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    out += control || bidi ? "?" : char;
  }
  return out;
}

/** oneLine joins a possibly multi-line message into one line, for the single stderr error line. */
export function oneLine(message: string): string {
  return terminalText(message.replace(/\s*[\r\n]+\s*/g, " ").trim(), "");
}
