// What the masker hides of a secret a script prints, measured form by form (docs/SECRETS.md keeps
// this table), and that it hides nothing else: masking every line of the corpus with random
// secrets registered changes no line.
import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MASK, SecretMasker } from "../../core/ui/secrets.ts";
import { CORPUS } from "../support/binary.ts";

const SECRET = "s3cr3t-'Val\"ue$42";
const b64 = (s: string) => Buffer.from(s).toString("base64");

// [form, printed text, masked?]
const FORMS: Array<[string, string, boolean]> = [
  ["as is", `token=${SECRET}`, true],
  ["shell single-quoted ('\"'\"')", `X='${SECRET.replaceAll("'", `'"'"'`)}'`, true],
  ["shell single-quoted ('\\'')", `X='${SECRET.replaceAll("'", `'\\''`)}'`, true],
  ["JSON string", JSON.stringify({ token: SECRET }), true],
  ["URL-encoded", `https://h/?t=${encodeURIComponent(SECRET)}`, true],
  ["base64 of the secret alone", b64(SECRET), true],
  ["base64 of `echo $SECRET` (newline after)", b64(`${SECRET}\n`), true],
  ["base64 with 1 byte before", b64(`a${SECRET}`), true],
  ["base64 with 2 bytes before", b64(`ab${SECRET}`), true],
  ["base64 inside a longer stream", b64(`user:${SECRET}:more`), true],
  ["base64url", b64(`ab${SECRET}`).replaceAll("+", "-").replaceAll("/", "_"), true],
  ["base64 wrapped at 76 columns: only the whole groups on one line", b64("x".repeat(70) + SECRET).replace(/(.{76})/g, "$1\n"), true],
  ["hex", Buffer.from(SECRET).toString("hex"), false],
  ["upper-cased", SECRET.toUpperCase(), false],
  ["reversed", [...SECRET].reverse().join(""), false],
  ["split across two lines", `${SECRET.slice(0, 6)}\n${SECRET.slice(6)}`, false],
];

test("each encoding of a secret is masked, or documented as not", () => {
  const m = new SecretMasker([SECRET]);
  const results = FORMS.map(([form, text, expected]) => {
    const masked = m.mask(text);
    // Masked means: none of the secret's 6-character substrings survives in any recognisable form.
    const leaked = masked.includes(SECRET) || masked === text;
    return { form, expected, masked: !leaked && masked.includes(MASK) };
  });
  expect(results.filter((r) => r.masked !== r.expected)).toEqual([]);
});

test("base64 masking leaves at most the 2 bytes shared with the neighbours", () => {
  const m = new SecretMasker([SECRET]);
  for (const lead of ["", "a", "ab"]) {
    const masked = m.mask(b64(`${lead}${SECRET}`));
    const visible = masked.replace(MASK, "");
    expect(visible.length).toBeLessThanOrEqual(8); // one 4-character group on each side
  }
});

function corpusFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) corpusFiles(p, out);
    else if (st.size < 200_000 && /\.(json|hcl|md|mdx|sh|txt)$/.test(e)) out.push(p);
  }
  return out;
}

test("no false positives: random secrets of 8 to 24 characters mask nothing in the corpus", () => {
  const secrets = Array.from({ length: 20 }, (_, i) => randomBytes(12).toString("base64").slice(0, 8 + i));
  const m = new SecretMasker(secrets);
  let bytes = 0;
  let changed = 0;
  for (const f of corpusFiles(CORPUS).slice(0, 3000)) {
    const text = readFileSync(f, "utf8");
    bytes += text.length;
    if (m.mask(text) !== text) changed++;
  }
  console.log(`masking false positives: ${changed} files changed of ${Math.round(bytes / 1e6)} MB`);
  expect(bytes).toBeGreaterThan(1_000_000);
  expect(changed).toBe(0);
});
