// Packer's flags are Go-style (`-only=x`, `-var k=v`, repeatable); citty expects `--flag`. Translate
// once, at the edge, so every verb reads the same way Packer users type.

/** `-only=x` → `--only=x`; leaves `--x`, `-` (stdin), negative numbers and everything after `--` alone. */
export function normalizeGoFlags(argv: string[]): string[] {
  const out: string[] = [];
  let rest = false;
  for (const a of argv) {
    if (rest || a === "--") {
      rest = true;
      out.push(a);
    } else if (/^-[A-Za-z][A-Za-z0-9_-]+(=.*)?$/s.test(a)) {
      out.push(`-${a}`);
    } else {
      out.push(a);
    }
  }
  return out;
}
