// The one masking path. Sensitive values (HCL `sensitive = true` variables and locals, JSON
// `sensitive-variables`) are registered here as soon as the template loader knows them, and every
// channel that prints text — build output in all modes, diagnostics of every verb, the final error —
// replaces them, and their common encodings, with `<sensitive>` (docs/SECRETS.md says what is covered).

export const MASK = "<sensitive>";

/** Encoded forms shorter than this are not masked: too likely to occur by chance in other text. */
const MIN_ENCODED_LENGTH = 8;

const BASE64 = /[+/]/g;

/**
 * The parts of base64 text that the secret's bytes alone determine, at each of the three
 * alignments the secret can have inside a longer encoded stream (standard and URL-safe alphabets).
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const out: string[] = [];
  for (let lead = 0; lead < 3; lead++) {
    const encoded = Buffer.concat([Buffer.alloc(lead), bytes]).toString("base64");
    // Groups of 4 characters fully inside the secret: skip the group with the lead bytes, stop
    // before the group the secret's last bytes share with what follows.
    const from = lead === 0 ? 0 : 4;
    const whole = Math.floor((bytes.length - (lead === 0 ? 0 : 3 - lead)) / 3);
    const stable = encoded.slice(from, from + whole * 4);
    if (stable.length >= MIN_ENCODED_LENGTH) {
      out.push(stable, stable.replace(BASE64, (c) => (c === "+" ? "-" : "_")));
    }
  }
  return out;
}

/** encodeURIComponent, which refuses text with a lone surrogate (then there is no URL form). */
function urlEncoded(secret: string): string {
  try {
    return encodeURIComponent(secret);
  } catch {
    return secret;
  }
}

/** The secret as a shell, JSON or URL encoder would print it, where that differs from the secret. */
function quotedForms(secret: string): string[] {
  return [
    secret.replaceAll("'", `'"'"'`),
    secret.replaceAll("'", `'\\''`),
    JSON.stringify(secret).slice(1, -1),
    urlEncoded(secret),
  ].filter((f) => f !== secret && f.length >= MIN_ENCODED_LENGTH);
}

/** Every form of a secret that is masked: itself, quoted and escaped, base64. */
export function secretForms(secret: string): string[] {
  if (secret.length === 0) return [];
  return [...new Set([secret, ...quotedForms(secret), ...base64Forms(secret)])];
}

export class SecretMasker {
  private readonly secrets = new Set<string>();
  private forms: string[] = [];

  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  add(values: Iterable<string>): void {
    let changed = false;
    for (const v of values) {
      if (v.length === 0 || this.secrets.has(v)) continue;
      this.secrets.add(v);
      changed = true;
    }
    if (!changed) return;
    // Longest first, so a value containing another is masked whole.
    this.forms = [...new Set([...this.secrets].flatMap(secretForms))].sort((a, b) => b.length - a.length);
  }

  contains(text: string): boolean {
    for (const s of this.secrets) if (text.includes(s)) return true;
    return false;
  }

  mask(text: string): string {
    let out = text;
    for (const f of this.forms) if (out.includes(f)) out = out.split(f).join(MASK);
    return out;
  }
}

/** The process's sensitive values: whatever a loaded template declared sensitive. */
const processSecrets = new SecretMasker();

export function registerSecrets(values: Iterable<string>): void {
  processSecrets.add(values);
}

export function maskSecrets(text: string): string {
  return processSecrets.mask(text);
}

/** Does the text contain a registered sensitive value? */
export function containsSecret(text: string): boolean {
  return processSecrets.contains(text);
}
