// Reading a template, variable file or var-file as text. Every file must be UTF-8: a byte that is not
// is refused at its line and column (decoding it to U+FFFD would run a command nobody wrote). HCL2
// files may start with a UTF-8 byte order mark, as Packer accepts; it is dropped.
import { readFileSync } from "node:fs";
import { errorDiag, type Diagnostic } from "../errors/diagnostic.ts";
import { firstInvalidUtf8 } from "../hcl/parse.ts";
import { SourceFile } from "../source/source-file.ts";

export type SourceText = { ok: true; text: string } | { ok: false; diagnostic: Diagnostic };

/** Decodes a file's bytes; `bom: "strip"` drops a leading byte order mark (HCL2 files). */
export function decodeSourceText(filename: string, bytes: Uint8Array, bom: "strip" | "keep"): SourceText {
  const bad = firstInvalidUtf8(bytes);
  if (bad !== undefined) {
    const before = new TextDecoder().decode(bytes.subarray(0, bad));
    // The byte offset is the decoder's (a leading byte order mark is not in `before`).
    const { line, column } = new SourceFile(filename, before).pos(before.length);
    const start = { line, column, byte: bad };
    const byteHex = (bytes[bad] ?? 0).toString(16).padStart(2, "0");
    return {
      ok: false,
      diagnostic: errorDiag(
        "Invalid character encoding",
        { filename, start, end: { line, column: column + 1, byte: bad + 1 } },
        `Byte 0x${byteHex} at byte offset ${bad} is not valid UTF-8. All input files must be UTF-8 encoded; ensure that UTF-8 encoding is selected in your editor.`,
      ),
    };
  }
  const hasBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(hasBom && bom === "strip" ? bytes.subarray(3) : bytes);
  return { ok: true, text };
}

/** Reads and decodes a file; throws the file system's error when it cannot be read. */
export function readSourceText(filename: string, bom: "strip" | "keep"): SourceText {
  return decodeSourceText(filename, readFileSync(filename), bom);
}
