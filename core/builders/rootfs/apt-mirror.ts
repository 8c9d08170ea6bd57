// The default mirror is the one apt on this machine uses: read from sources.list and
// sources.list.d (one-line and deb822 formats), so a build host behind its own mirror or proxy needs
// no configuration and no host is written into imgb.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
}

/** One-line format: `deb [options] URI SUITE [COMPONENT...]`. */
export function parseSourcesList(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (m) out.push({ uris: [m[1]!], suites: [m[2]!], components: m[3]!.trim().split(/\s+/).filter(Boolean) });
  }
  return out;
}

/** deb822 format: stanzas of `Key: value` separated by blank lines. */
export function parseDeb822(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = "";
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      const cont = /^\s+(\S.*)$/.exec(raw);
      if (cont && last) {
        fields.set(last, `${fields.get(last)} ${cont[1]}`);
        continue;
      }
      const kv = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (kv) fields.set((last = kv[1]!.toLowerCase()), kv[2]!.trim());
    }
    const words = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    if (!words("types").includes("deb") || fields.get("enabled") === "no") continue;
    out.push({ uris: words("uris"), suites: words("suites"), components: words("components") });
  }
  return out;
}

/** The first main-archive entry (not -security/-updates/-backports). */
export function pickMirror(sources: AptSource[]): string | undefined {
  const isMain = (s: AptSource) => s.suites.some((suite) => !/[-/](security|updates|backports)$/.test(suite));
  const chosen = sources.find((s) => isMain(s) && s.components.includes("main")) ?? sources.find(isMain);
  return chosen?.uris[0];
}

export async function aptSources(etcApt = "/etc/apt"): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const list = await readFile(join(etcApt, "sources.list"), "utf8").catch(() => "");
  sources.push(...parseSourcesList(list));
  const dir = join(etcApt, "sources.list.d");
  const names = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const name of names) {
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    if (name.endsWith(".list")) sources.push(...parseSourcesList(text));
    else if (name.endsWith(".sources")) sources.push(...parseDeb822(text));
  }
  return sources;
}

/** The mirror apt uses here, or undefined when none is configured. */
export async function hostAptMirror(etcApt = "/etc/apt"): Promise<string | undefined> {
  return pickMirror(await aptSources(etcApt));
}
