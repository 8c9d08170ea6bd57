// Version constraints with Packer/Terraform syntax (hashicorp/go-version): comma-separated terms
// that must all hold; operators `=` (or none), `!=`, `>`, `>=`, `<`, `<=`, `~>`. A constraint
// version may leave out minor/patch ("1.2"). `~> 1.2` means >= 1.2, < 2.0; `~> 1.2.0` means
// >= 1.2.0, < 1.3.0. A pre-release version is only chosen when a term names it exactly
// (`= 1.3.0-beta.1`), so `>= 1.0` never picks up a beta by accident.
import { compareSemVer, parseSemVer, type SemVer } from "./semver.ts";

type Op = "=" | "!=" | ">" | ">=" | "<" | "<=" | "~>";

interface Term {
  op: Op;
  version: SemVer;
  /** How many of major.minor.patch were written (for ~>). */
  segments: number;
}

export interface Constraint {
  text: string;
  terms: Term[];
}

const TERM = /^(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export function parseConstraint(text: string): Constraint | { error: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { text, terms: [] };
  const terms: Term[] = [];
  for (const raw of trimmed.split(",")) {
    const part = raw.trim();
    const m = TERM.exec(part);
    if (!m) return { error: `malformed version constraint term ${JSON.stringify(part)}` };
    const nums = (m[2] as string).split(".");
    const segments = nums.length;
    while (nums.length < 3) nums.push("0");
    const version = parseSemVer(`${nums.join(".")}${m[3] ?? ""}${m[4] ?? ""}`);
    if (!version) return { error: `malformed version in constraint term ${JSON.stringify(part)}` };
    terms.push({ op: (m[1] as Op | undefined) ?? "=", version, segments });
  }
  return { text, terms };
}

function termHolds(t: Term, v: SemVer): boolean {
  const c = compareSemVer(v, t.version);
  switch (t.op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case "~>": {
      if (c < 0) return false;
      // All written segments but the last must match exactly; the last may grow.
      const vs = [v.major, v.minor, v.patch];
      const cs = [t.version.major, t.version.minor, t.version.patch];
      for (let i = 0; i < t.segments - 1; i++) if (vs[i] !== cs[i]) return false;
      return true;
    }
  }
}

export function satisfies(constraint: Constraint, version: SemVer): boolean {
  if (version.prerelease.length > 0) {
    const named = constraint.terms.some((t) => t.op === "=" && compareSemVer(t.version, version) === 0);
    if (!named) return false;
  }
  return constraint.terms.every((t) => termHolds(t, version));
}

/** The highest version in `candidates` that satisfies the constraint. */
export function highestSatisfying(constraint: Constraint, candidates: string[]): string | undefined {
  let best: SemVer | undefined;
  for (const c of candidates) {
    const v = parseSemVer(c);
    if (!v || !satisfies(constraint, v)) continue;
    if (!best || compareSemVer(v, best) > 0) best = v;
  }
  return best?.text;
}
