// One error type for the whole interpolation engine: a message in Go text/template's wording and the
// offset in the template text where it happened, so callers can turn it into a file:line:column.

export class TemplateError extends Error {
  /** UTF-16 offset in the template text. */
  readonly offset: number;
  /** Length of the offending token (at least 1 when the text is not empty). */
  readonly length: number;
  constructor(message: string, offset: number, length = 1) {
    super(message);
    this.name = "TemplateError";
    this.offset = offset;
    this.length = length;
  }
}

/** Thrown by template functions: the Go function returned an error (exec wraps it with "error calling X"). */
export class FuncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FuncError";
  }
}
