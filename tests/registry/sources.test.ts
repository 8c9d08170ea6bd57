// Configured registries: where they are kept and which wins, and how one plugin name resolves to
// exactly one of several registries (namespace claims, or an ordered search that refuses conflicts).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { initPlugins } from "../../core/registry/init.ts";
import { readLock } from "../../core/registry/lock.ts";
import { addRegistry, configuredRegistries, PROJECT_FILE, removeRegistry } from "../../core/registry/sources.ts";
import { makeRegistry, refusal, required, TestUi, type TestRegistry } from "./harness.ts";

let a: TestRegistry;
let b: TestRegistry;
let env: Record<string, string>;
beforeEach(async () => {
  a = await makeRegistry();
  b = await makeRegistry();
  env = { HOME: join(a.base, "home") };
  await mkdir(env.HOME!, { recursive: true });
});
afterEach(async () => {
  await a.close();
  await b.close();
});

const init = (templateDir = a.templateDir) =>
  initPlugins([required("github.com/acme/hello", ">= 1.0", "hello")], templateDir, {
    upgrade: false,
    acceptCapabilities: true,
    ui: new TestUi(),
    registry: { env, stateDir: a.client.stateDir ?? "", cacheDir: a.client.cacheDir ?? "" },
  });

describe("configured registries", () => {
  test("the environment comes first, then the project file, then the user's; a project entry shadows a user entry of the same name", async () => {
    await addRegistry({ name: "acme", url: a.url, root: a.rootPath, env });
    await addRegistry({ name: "other", url: b.url, root: b.rootPath, env });
    await addRegistry({ name: "acme", url: b.url, root: b.rootPath, projectDir: a.templateDir, env });
    const list = await configuredRegistries({ env: { ...env, IMGB_REGISTRY_URL: "http://127.0.0.1:1", IMGB_REGISTRY_ROOT: a.rootPath }, templateDir: a.templateDir });
    expect(list.map((c) => [c.name, c.origin, c.url])).toEqual([
      ["IMGB_REGISTRY_URL", "environment", "http://127.0.0.1:1"],
      ["acme", "project", b.url],
      ["other", "user", b.url],
    ]);
    // The project's root file is kept next to it, relative, so the folder can be checked in.
    expect(JSON.parse(await readFile(join(a.templateDir, PROJECT_FILE), "utf8")).registries[0].root).toBe("imgb-roots/acme.root.json");
    await removeRegistry("other", { env });
    expect((await configuredRegistries({ env })).map((c) => c.name)).toEqual(["acme"]);
    await refusal(removeRegistry("nope", { env }), "not-found", /no registry named nope/);
  });

  test("a plugin offered by two registries is an error naming both; a namespace claim settles it", async () => {
    await a.publish("acme/hello", "1.0.0", []);
    const wasmB = await b.publish("acme/hello", "1.0.0", []);
    await addRegistry({ name: "first", url: a.url, root: a.rootPath, env });
    await addRegistry({ name: "second", url: b.url, root: b.rootPath, env });
    await refusal(init(), "usage", /plugin acme\/hello: offered by several registries \(first, second\); say which one serves namespace "acme"/);
    await addRegistry({ name: "second", url: b.url, root: b.rootPath, namespaces: ["acme"], env });
    await init();
    const lock = await readLock(a.templateDir);
    expect(lock?.plugins["acme/hello"]?.registry).toBe(b.url);
    expect(lock?.plugins["acme/hello"]?.sha256).toBe(new Bun.CryptoHasher("sha256").update(wasmB).digest("hex"));
    await addRegistry({ name: "first", url: a.url, root: a.rootPath, namespaces: ["acme"], env });
    await refusal(init(b.templateDir), "usage", /namespace "acme" is claimed by registries (first and second|second and first)/);
  });

  test("bad entries are refused with the file and the key", async () => {
    await refusal(addRegistry({ name: "Bad Name", url: a.url, root: a.rootPath, env }), "usage", /registry name/);
    await refusal(addRegistry({ name: "x", url: "ftp://x", root: a.rootPath, env }), "usage", /must start with http/);
    await refusal(addRegistry({ name: "x", url: a.url, root: a.rootPath, rootSha256: "ab", env }), "usage", /not both/);
    await Bun.write(join(env.HOME!, ".config", "imgb", "registries.json"), JSON.stringify({ registries: [{ name: "x", url: "http://u:p@h/" }] }));
    await refusal(configuredRegistries({ env }), "usage", /registries\.json: at registries\.0\.url: credentials do not belong in a stored URL/);
  });
});

describe("registry aliases", () => {
  test("the signed index may serve a Packer source address under another name; the lock remembers it", async () => {
    await a.publish("acme/motd", "1.0.0", []);
    const { aliasPlugin } = await import("../../core/registry/publish.ts");
    await aliasPlugin(a.dir, "github.com/acme/packer-plugin-message-of-the-day", "acme/motd", a.signers);
    await addRegistry({ name: "acme", url: a.url, root: a.rootPath, env });
    const req = [required("github.com/acme/packer-plugin-message-of-the-day", "~> 1.0", "motd")];
    const opts = { upgrade: false, acceptCapabilities: true, ui: new TestUi(), registry: { env, stateDir: a.client.stateDir ?? "", cacheDir: a.client.cacheDir ?? "" } };
    expect((await initPlugins(req, a.templateDir, opts))[0]).toMatchObject({ name: "acme/motd", action: "installed" });
    expect((await readLock(a.templateDir))?.plugins["acme/motd"]?.source).toBe("github.com/acme/packer-plugin-message-of-the-day");
    expect((await initPlugins(req, a.templateDir, opts))[0]).toMatchObject({ name: "acme/motd", action: "kept" });
  });
});
