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

/** Every value of a repeatable flag, in order: `--var a=1 --var=b=2`. citty keeps only the last. */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === `--${name}`) {
      const v = rawArgs[i + 1];
      if (v !== undefined) values.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) {
      values.push(a.slice(name.length + 3));
    }
  }
  return values;
}

/** `-only a,b -only c` → ["a","b","c"]. */
export function listFlag(rawArgs: string[], name: string): string[] {
  return repeatedFlag(rawArgs, name)
    .flatMap((v) => v.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
}
