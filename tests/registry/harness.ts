// Test harness: a real registry folder made with the real authoring tools, served over real HTTP on
// 127.0.0.1, and a client state/cache in a temp dir. Plugin modules are small valid wasm modules
// built byte by byte (a custom section makes each version's bytes distinct).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKey, publicOf } from "../../core/registry/keys.ts";
import { initRegistry, publishPlugin, signPlugin, trustPublisher } from "../../core/registry/publish.ts";
import type { Signers } from "../../core/registry/repository.ts";
import type { Limits, PrivateKeyFile, Vetting } from "../../core/registry/schema.ts";
import { serveRegistry, type RegistryServer } from "../../core/registry/serve.ts";
import type { RegistryOptions } from "../../core/registry/config.ts";
import type { ProgressTracker, Ui } from "../../core/ui/types.ts";
import { LAYOUT } from "../../core/registry/layout.ts";

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** A valid, empty wasm module carrying `label` in a custom section named "imgb-test". */
export function tinyWasm(label: string, padTo = 0): Uint8Array {
  const name = new TextEncoder().encode("imgb-test");
  let payload = new TextEncoder().encode(label);
  if (padTo > payload.length) {
    const p = new Uint8Array(padTo);
    p.set(payload);
    payload = p;
  }
  const body = [...leb(name.length), ...name, ...payload];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, ...leb(body.length), ...body]);
}

export class TestUi implements Ui {
  lines: string[] = [];
  answers: string[] | undefined;
  asked: string[] = [];
  constructor(answers?: string[]) {
    this.answers = answers;
  }
  say(m: string) {
    this.lines.push(`say: ${m}`);
  }
  message(m: string) {
    this.lines.push(m);
  }
  error(m: string) {
    this.lines.push(`error: ${m}`);
  }
  async ask(q: string): Promise<string> {
    this.asked.push(q);
    const a = this.answers?.shift();
    if (a === undefined) throw new Error("no terminal");
    return a;
  }
  progress(): ProgressTracker {
    return { update() {}, finish() {} };
  }
  machine() {}
  get text(): string {
    return this.lines.join("\n");
  }
}

export const VETTING: Vetting = {
  reviewer: "reviewer@example.org",
  repository: "https://example.org/acme/hello",
  commit: "0123456789abcdef0123456789abcdef01234567",
  date: "2026-11-01T00:00:00Z",
};

export interface TestRegistry {
  base: string;
  dir: string;
  root: PrivateKeyFile;
  signers: Signers;
  publisher: PrivateKeyFile;
  server: RegistryServer;
  url: string;
  rootPath: string;
  /** Fresh client dirs (state, cache) per test unless reused on purpose. */
  client: RegistryOptions;
  templateDir: string;
  publish(name: string, version: string, capabilities: string[], opts?: { wasm?: Uint8Array; limits?: Limits; key?: PrivateKeyFile }): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function makeRegistry(): Promise<TestRegistry> {
  const base = await mkdtemp(join(tmpdir(), "imgb-registry-test-"));
  const dir = join(base, "registry");
  const root = generateKey();
  const signers: Signers = { index: [generateKey()], timestamp: [generateKey()] };
  const publisher = generateKey();
  await initRegistry(dir, { root: [root], index: signers.index, timestamp: signers.timestamp });
  await trustPublisher(dir, publicOf(publisher), ["acme"], signers);
  const server = await serveRegistry(dir);
  const templateDir = join(base, "template");
  await Bun.write(join(templateDir, "template.pkr.hcl"), "");
  const reg: TestRegistry = {
    base,
    dir,
    root,
    signers,
    publisher,
    server,
    url: server.url,
    rootPath: join(dir, LAYOUT.versionedRoot(1)),
    client: { url: server.url, rootPath: join(dir, LAYOUT.versionedRoot(1)), stateDir: join(base, "state"), cacheDir: join(base, "cache"), env: {} },
    templateDir,
    async publish(name, version, capabilities, opts = {}) {
      const wasm = opts.wasm ?? tinyWasm(`${name}@${version}`);
      const wasmPath = join(base, `${name.replace("/", "_")}-${version}.wasm`);
      await Bun.write(wasmPath, wasm);
      const signed = signPlugin({ wasm, name, version, capabilities, ...(opts.limits ? { limits: opts.limits } : {}) }, opts.key ?? publisher);
      await publishPlugin(dir, { wasmPath, signed, vetting: VETTING, signers });
      return wasm;
    },
    async close() {
      await server.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
  return reg;
}

export function required(source: string, versionConstraint: string, localName = source.split("/")[1] ?? source) {
  return { localName, source, versionConstraint };
}

/** Awaits a rejection and checks it is a RegistryError (or DiagnosticsError) with this code and text. */
export async function refusal(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<string> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) throw new Error(`expected a refusal (${code}), but it succeeded`);
  const got = (err as { code?: string }).code ?? err.name;
  if (got !== code) throw new Error(`expected code ${code}, got ${got}: ${err.message}`);
  for (const re of patterns) if (!re.test(err.message)) throw new Error(`message ${JSON.stringify(err.message)} does not match ${re}`);
  return err.message;
}
