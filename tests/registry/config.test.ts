import { describe, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRegistryConfig } from "../../core/registry/config.ts";
import { generateKey, keyId, publicOf } from "../../core/registry/keys.ts";
import { buildRoot } from "../../core/registry/publish.ts";
import { signEnvelope } from "../../core/registry/signing.ts";
import { refusal } from "./harness.ts";

describe("registry configuration", () => {
  test("defaults come from the environment; no URL or no root is a clear error, and no root is built in", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imgb-registry-config-"));
    try {
      const k = generateKey();
      const root = buildRoot(1, { root: { keys: [publicOf(k)] }, index: { keys: [publicOf(k)] }, timestamp: { keys: [publicOf(k)] } }, new Date());
      await writeFile(join(dir, "root.json"), JSON.stringify(signEnvelope(root, [k])));
      const rootEnv = { IMGB_REGISTRY_ROOT: join(dir, "root.json") };
      const cfg = await resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "http://u:secret@127.0.0.1:1/reg/", XDG_STATE_HOME: "/s", XDG_CACHE_HOME: "/c", ...rootEnv } });
      expect(cfg).toMatchObject({ url: "http://127.0.0.1:1/reg", stateDir: "/s/imgb", cacheDir: "/c/imgb", rootSource: join(dir, "root.json") });
      expect((await resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "file:///x", HOME: "/h", ...rootEnv } })).cacheDir).toBe("/h/.cache/imgb");
      expect((await resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "oci://127.0.0.1:5000/imgb/plugins", ...rootEnv } })).url).toBe("oci://127.0.0.1:5000/imgb/plugins");
      await refusal(resolveRegistryConfig({ env: {} }), "usage", /no plugin registry configured: add one with "imgb registry add/);
      const noRoot = await refusal(resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "https://u:secret@example.org/r" } }), "usage", /no root of trust for https:\/\/example.org\/r/);
      expect(noRoot).not.toContain("secret");
      await refusal(resolveRegistryConfig({ env: { IMGB_REGISTRY_URL: "ftp://x", ...rootEnv } }), "usage", /must start with http/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
