// Errors are values with a position until the CLI prints them. Every layer (template loading, HCL,
// plugin configuration, the engine) reports problems as Diagnostics; only cmd/ turns them into text
// and exit codes, so no stack trace ever reaches a user.

/** A point in a source file: 1-based line and column (a tab counts as one column), 0-based UTF-8 byte offset. */
export interface Pos {
  line: number;
  column: number;
  byte: number;
}

/** A half-open source range [start, end) in one file. */
export interface SourceRange {
  filename: string;
  start: Pos;
  end: Pos;
}

export type Severity = "error" | "warning";

export interface Diagnostic {
  severity: Severity;
  summary: string;
  detail?: string;
  range?: SourceRange;
}

/** Thrown (or returned) when one or more diagnostics of severity "error" stop an operation. */
export class DiagnosticsError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "DiagnosticsError";
    this.diagnostics = diagnostics;
  }
}

export function errorDiag(summary: string, range?: SourceRange, detail?: string): Diagnostic {
  const d: Diagnostic = { severity: "error", summary };
  if (range) d.range = range;
  if (detail !== undefined) d.detail = detail;
  return d;
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === "error");
}

/** Throws a DiagnosticsError when any diagnostic is an error; returns the warnings otherwise. */
export function throwIfErrors(diags: readonly Diagnostic[]): Diagnostic[] {
  if (hasErrors(diags)) throw new DiagnosticsError([...diags]);
  return diags.filter((d) => d.severity === "warning");
}

/** `file:line:col: summary; detail` — the one-line form used in logs and machine-readable output. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.range ? `${d.range.filename}:${d.range.start.line}:${d.range.start.column}: ` : "";
  const detail = d.detail ? `; ${d.detail}` : "";
  return `${where}${d.summary}${detail}`;
}

/** An error a user caused or can act on (bad flag, missing file, refused capability): printed without a stack. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
