// Text from plugins and remote commands reaches the terminal only through here (Output and the
// diagnostic/error printers call it), so it can never drive the terminal or pass for imgb's own
// lines: escape sequences (CSI, OSC — window titles, clipboard writes with ESC]52 — DCS, APC, PM,
// SOS, two-character ESC forms) are removed whole; other C0/C1 controls, DEL and the bidirectional
// overrides are removed; a lone CR (which would let a line overwrite its own prefix) becomes a line
// break, and Output gives every line its `==> BUILD:` / `    BUILD:` prefix. Printable text, tabs
// and line breaks stay. imgb adds its colours after this, so they are untouched.

// ESC [ ... final; ESC ] ... BEL|ST; ESC P/X/^/_ ... ST; ESC + one char. The 8-bit C1 forms too.
const ESCAPES =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][\s\S]*?(?:\x07|\x1b\\|\x9c|$)|[\x90\x98\x9d\x9e\x9f][\s\S]*?(?:\x07|\x1b\\|\x9c|$)|\x1b[\s\S]?/g;
// C0 but tab and LF, DEL, C1, and the Unicode bidi embeddings/overrides/isolates.
const CONTROLS = /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  if (!/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(text)) return text;
  return text.replace(ESCAPES, "").replace(/\r\n/g, "\n").replace(/\r/g, "\n").replace(CONTROLS, "");
}

/**
 * For text imgb prints without a per-line prefix (the closing summary's `--> BUILD: <artifact>`):
 * a continuation line that would start like one of imgb's own headlines (`==>`, `-->`) is indented,
 * so an artifact description or error cannot pass for a line of the summary.
 */
export function noForgedHeadlines(text: string): string {
  return text.replace(/\n(?=[ \t]*(?:==>|-->))/g, "\n    ");
}

/** Lines and characters of one text a plugin words (an error, a warning) that the terminal shows. */
export const PLUGIN_TEXT_LINES = 100;
export const PLUGIN_TEXT_CHARS = 16 * 1024;

/**
 * A plugin's error or warning as the user sees it: at most PLUGIN_TEXT_LINES lines and
 * PLUGIN_TEXT_CHARS characters, then how much was left out (an 8 MB error_set was printed whole,
 * twice: 100,000 lines past the UI rate limit).
 */
export function boundedText(text: string): string {
  let cut = text.length > PLUGIN_TEXT_CHARS ? PLUGIN_TEXT_CHARS : text.length;
  let lines = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < cut; i = text.indexOf("\n", i + 1)) {
    if (++lines === PLUGIN_TEXT_LINES) {
      cut = i;
      break;
    }
  }
  if (cut >= text.length) return text;
  const rest = text.slice(cut);
  const restLines = rest.split("\n").length - (rest.startsWith("\n") ? 1 : 0);
  return `${text.slice(0, cut)}… (${rest.length} more characters, ${restLines} more lines)`;
}
