import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { embeddedRoot, resolveRegistryConfig } from "../../core/registry/config.ts";
import { generateKey, keyId, publicOf } from "../../core/registry/keys.ts";
import { buildRoot } from "../../core/registry/publish.ts";
import { signEnvelope } from "../../core/registry/signing.ts";
import { refusal } from "./harness.ts";

describe("registry configuration", () => {
  test("the embedded official root is valid and signed by its threshold of root keys", () => {
    const root = embeddedRoot();
    expect(root.signed.version).toBe(1);
    expect(root.signed.roles.root.threshold).toBe(2);
    expect(root.signatures).toHaveLength(2);
    expect(Date.parse(root.signed.expires)).toBeGreaterThan(Date.now());
  });

  test("defaults come from the environment; no URL is a clear error", async () => {
    const cfg = await resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "http://127.0.0.1:1/reg/", XDG_STATE_HOME: "/s", XDG_CACHE_HOME: "/c" } });
    expect(cfg).toMatchObject({ url: "http://127.0.0.1:1/reg", stateDir: "/s/imgb", cacheDir: "/c/imgb", rootSource: "embedded official root" });
    expect((await resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "file:///x", HOME: "/h" } })).cacheDir).toBe("/h/.cache/imgb");
    await refusal(resolveRegistryConfig({ env: {} }), "usage", /no plugin registry configured: set IMGB_REGISTRY_URL/);
    await refusal(resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "ftp://x" } }), "usage", /must start with http/);
  });

  test("a trusted root file must be signed by its own root keys", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imgb-registry-config-"));
    try {
      const k = generateKey();
      const other = generateKey();
      const root = buildRoot(1, { root: { keys: [publicOf(k)] }, index: { keys: [publicOf(k)] }, timestamp: { keys: [publicOf(k)] } }, new Date());
      await writeFile(join(dir, "good.json"), JSON.stringify(signEnvelope(root, [k])));
      await writeFile(join(dir, "bad.json"), JSON.stringify(signEnvelope(root, [other])));
      const cfg = await resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "http://127.0.0.1:1", IMGB_REGISTRY_ROOT: join(dir, "good.json") } });
      expect(Object.keys(cfg.trustedRoot.signed.keys)).toEqual([keyId(publicOf(k))]);
      await refusal(resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "http://127.0.0.1:1", IMGB_REGISTRY_ROOT: join(dir, "bad.json") } }), "bad-signature", /signed only by unknown keys/);
      await refusal(resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "http://127.0.0.1:1", IMGB_REGISTRY_ROOT: join(dir, "missing.json") } }), "usage", /cannot read trusted root/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
