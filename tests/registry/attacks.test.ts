// Each TUF attack (and a few plain faults) against a real registry served on 127.0.0.1: the client
// must refuse with a message naming the registry and/or plugin and the reason.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { canonicalBytes } from "../../core/registry/canonical-json.ts";
import { RegistryClient } from "../../core/registry/client.ts";
import { resolveRegistryConfig } from "../../core/registry/config.ts";
import { initPlugins } from "../../core/registry/init.ts";
import { generateKey, publicOf } from "../../core/registry/keys.ts";
import { LAYOUT } from "../../core/registry/layout.ts";
import { readLock } from "../../core/registry/lock.ts";
import { signPlugin, trustPublisher } from "../../core/registry/publish.ts";
import { readRegistryIndex, readRegistryTimestamp, refreshTimestamp, writeSignedIndex, writeTimestamp, updateIndex } from "../../core/registry/repository.ts";
import { sha256Hex } from "../../core/registry/hashing.ts";
import { signEnvelope } from "../../core/registry/signing.ts";
import { makeRegistry, refusal, required, TestUi, type TestRegistry } from "./harness.ts";

let reg: TestRegistry;
beforeEach(async () => {
  reg = await makeRegistry();
});
afterEach(async () => {
  await reg.close();
});

const init = (source = "acme/hello", constraint = ">= 1.0", extra: { upgrade?: boolean; accept?: boolean; ui?: TestUi } = {}) =>
  initPlugins([required(source, constraint)], reg.templateDir, {
    upgrade: extra.upgrade ?? false,
    acceptCapabilities: extra.accept ?? true,
    ui: extra.ui ?? new TestUi(),
    registry: reg.client,
  });

async function client() {
  return new RegistryClient(await resolveRegistryConfig(reg.client));
}

describe("attacks on plugin modules", () => {
  test("tampered wasm (same size, one byte changed) is refused", async () => {
    const wasm = await reg.publish("acme/hello", "1.0.0", []);
    const blob = join(reg.dir, LAYOUT.blob(sha256Hex(wasm)));
    const bad = new Uint8Array(wasm);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0xff;
    await writeFile(blob, bad);
    await refusal(init(), "mismatch", /registry http:\/\/127\.0\.0\.1:\d+/, /plugin acme\/hello 1\.0\.0/, /sha256 .* differs from the signed .*tampered/);
    expect(await readLock(reg.templateDir)).toBeUndefined();
  });

  test("oversized module (more bytes than the signed size) is cut off", async () => {
    const wasm = await reg.publish("acme/hello", "1.0.0", []);
    const blob = join(reg.dir, LAYOUT.blob(sha256Hex(wasm)));
    await writeFile(blob, new Uint8Array(wasm.length + 100_000));
    await refusal(init(), "too-large", /plugin acme\/hello 1\.0\.0/, new RegExp(`over the limit of ${wasm.length} bytes`));
  });

  test("publisher signature that does not cover the metadata is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    // The registry (validly re-signing) changes what the plugin may do; the publisher never signed that.
    await updateIndex(reg.dir, reg.signers, (index) => {
      const pv = index.plugins["acme/hello"]?.versions["1.0.0"];
      if (pv) pv.capabilities = ["local_exec"];
    });
    await refusal(init(), "bad-signature", /plugin acme\/hello 1\.0\.0/, /bad publisher signature/);
  });

  test("plugin signed by a key the index does not trust is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const stranger = generateKey();
    const signed = signPlugin({ wasm: (await readFile(join(reg.dir, LAYOUT.blob((await readRegistryIndex(reg.dir)).signed.plugins["acme/hello"]?.versions["1.0.0"]?.wasm.sha256 ?? "")))), name: "acme/hello", version: "1.0.0", capabilities: [] }, stranger);
    await updateIndex(reg.dir, reg.signers, (index) => {
      const pv = index.plugins["acme/hello"]?.versions["1.0.0"];
      if (pv) pv.publisher = signed.signature;
    });
    await refusal(init(), "bad-signature", /plugin acme\/hello 1\.0\.0/, /unknown publisher key/);
  });

  test("publisher key trusted for another namespace is refused", async () => {
    const other = generateKey();
    await trustPublisher(reg.dir, publicOf(other), ["other"], reg.signers);
    await refusal(reg.publish("acme/hello", "1.0.0", [], { key: other }), "bad-signature", /may not publish in namespace "acme"/);
  });
});

describe("attacks on metadata", () => {
  test("index signed by an unknown key is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const index = (await readRegistryIndex(reg.dir)).signed;
    await writeSignedIndex(reg.dir, { ...index, version: index.version + 1 }, { index: [generateKey()], timestamp: reg.signers.timestamp });
    await refusal(init(), "bad-signature", /registry http/, /index is signed only by unknown keys/);
  });

  test("index with no signatures, or a corrupted signature, is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const index = (await readRegistryIndex(reg.dir)).signed;
    const next = { ...index, version: index.version + 1 };
    const unsigned = new TextEncoder().encode(JSON.stringify({ signed: next, signatures: [] }));
    await writeFile(join(reg.dir, LAYOUT.versionedIndex(next.version)), unsigned);
    await writeTimestamp(reg.dir, { version: next.version, sha256: sha256Hex(unsigned), length: unsigned.length }, reg.signers.timestamp);
    await refusal(init(), "bad-signature", /registry http/, /index is not signed/);

    const env = signEnvelope(next, reg.signers.index);
    const sig = env.signatures[0];
    if (sig) sig.sig = (sig.sig.startsWith("0") ? "1" : "0") + sig.sig.slice(1);
    const corrupted = new TextEncoder().encode(JSON.stringify(env));
    await writeFile(join(reg.dir, LAYOUT.versionedIndex(next.version)), corrupted);
    await writeTimestamp(reg.dir, { version: next.version, sha256: sha256Hex(corrupted), length: corrupted.length }, reg.signers.timestamp);
    await refusal(init(), "bad-signature", /index has 0 valid signature\(s\) of the 1 required \(1 invalid: bad signature\)/);
  });

  test("replayed older timestamp + index (rollback) is refused after a newer one was seen", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const oldTs = await readFile(join(reg.dir, LAYOUT.timestamp));
    await reg.publish("acme/hello", "1.1.0", []);
    await (await client()).refresh(); // the client sees the newer index
    await writeFile(join(reg.dir, LAYOUT.timestamp), oldTs); // attacker serves the old, validly signed pair
    await refusal((await client()).refresh(), "rollback", /registry http/, /timestamp version \d+ is older than version \d+ already seen \(rollback attack\)/);
    await refusal(init(), "rollback", /rollback attack/);
  });

  test("expired timestamp (freeze attack) is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    await refreshTimestamp(reg.dir, reg.signers.timestamp, { lifetimes: { timestamp: -60_000 } });
    await refusal(init(), "expired", /registry http/, /timestamp version \d+ expired at .*freeze attack/);
  });

  test("metadata that is fine today is refused once the clock passes its expiry", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const later = new Date(Date.now() + 2 * 24 * 3600 * 1000);
    await refusal(
      initPlugins([required("acme/hello", ">= 1.0")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: { ...reg.client, now: () => later } }),
      "expired",
      /timestamp version \d+ expired/,
    );
  });

  test("mix-and-match: an index file that is not the one the timestamp pins is refused", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const ts = (await readRegistryTimestamp(reg.dir)).signed;
    // Serve the previous (validly signed) index under the current index's name.
    await copyFile(join(reg.dir, LAYOUT.versionedIndex(ts.index.version - 1)), join(reg.dir, LAYOUT.versionedIndex(ts.index.version)));
    await refusal(init(), "mismatch", /registry http/, /does not match the timestamp.*mixed-and-matched/);
  });

  test("endless data instead of a timestamp is cut off at the cap", async () => {
    let sent = 0;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname.endsWith(".root.json")) return new Response("not found", { status: 404 });
        const chunk = new Uint8Array(64 * 1024).fill(0x20);
        return new Response(
          new ReadableStream({
            pull(ctl) {
              sent += chunk.length;
              if (sent > 64 * 1024 * 1024) ctl.close(); // bounded even if the client misbehaved
              else ctl.enqueue(chunk);
            },
          }),
        );
      },
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      await refusal(
        initPlugins([required("acme/hello", ">= 1")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: { ...reg.client, url } }),
        "too-large",
        new RegExp(`registry ${url}`),
        /timestamp exceeds the limit of 65536 bytes/,
      );
      expect(sent).toBeLessThan(16 * 1024 * 1024); // the client stopped long before the server would have
    } finally {
      await server.stop(true);
    }
  });
});

describe("plugin names", () => {
  test("a required plugin with path traversal is a template diagnostic", async () => {
    const err = await refusal(
      initPlugins([{ localName: "evil", source: "../../etc/passwd", versionConstraint: ">= 1", range: { filename: "t.pkr.hcl", start: { line: 3, column: 5, byte: 20 }, end: { line: 3, column: 30, byte: 45 } } }], reg.templateDir, {
        upgrade: false,
        acceptCapabilities: true,
        ui: new TestUi(),
        registry: reg.client,
      }),
      "DiagnosticsError",
      /t\.pkr\.hcl:3:5: Invalid plugin source "\.\.\/\.\.\/etc\/passwd"/,
    );
    expect(err).toContain("HOSTNAME/NAMESPACE/TYPE");
  });

  test("an index listing a plugin named with path traversal is refused as a whole", async () => {
    await reg.publish("acme/hello", "1.0.0", []);
    const index = (await readRegistryIndex(reg.dir)).signed;
    const evil = structuredClone(index);
    const entry = evil.plugins["acme/hello"];
    if (entry) evil.plugins["acme/../../x"] = entry;
    evil.version += 1;
    await writeSignedIndex(reg.dir, evil, reg.signers);
    await refusal(init(), "bad-document", /registry http/, /index is malformed: at signed\.plugins/);
  });

  test("publishing a name with path traversal is refused", async () => {
    await refusal(reg.publish("acme/../evil", "1.0.0", []), "bad-name", /invalid plugin name "acme\/\.\.\/evil"/);
    await refusal(reg.publish("acme/he%2fllo", "1.0.0", []), "bad-name");
  });
});

describe("canonical JSON", () => {
  test("sorted keys, no whitespace, integers only", () => {
    expect(new TextDecoder().decode(canonicalBytes({ b: 1, a: [true, null, "x\n"], c: { z: 0, y: "é" } }))).toBe('{"a":[true,null,"x\\n"],"b":1,"c":{"y":"é","z":0}}');
    expect(() => canonicalBytes({ a: 1.5 })).toThrow(/safe integers/);
  });
});

describe("slow servers", () => {
  test("a server that sends headers and then nothing is given up on", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (new URL(req.url).pathname.endsWith(".root.json")) return new Response("not found", { status: 404 });
        return new Response(new ReadableStream({ pull: () => new Promise<void>(() => {}) }));
      },
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const started = performance.now();
      await refusal(
        initPlugins([required("acme/hello", ">= 1")], reg.templateDir, { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: { ...reg.client, url, timeoutMs: 300 } }),
        "unreachable",
        new RegExp(`registry ${url}`),
        /no (answer within|data for) 300 ms/,
      );
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await server.stop(true);
    }
  });
});
