// The component pipeline: `build` runs each provisioner with the config its validation prepared,
// so a plugin is prepared once per component per build; a config that uses a value first known at
// run time (build.ID) is prepared again with it, as Packer's HCL2Provisioner does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginCatalog, type WasmPluginCatalog } from "../../core/plugin/catalog.ts";
import { prepareCallCount } from "../../core/plugin/instances.ts";
import { loadTemplate } from "../../core/template/load.ts";
import { validateTemplate } from "../../core/engine/validate.ts";
import { runBuilds } from "../../core/engine/run.ts";
import { ComponentPipeline } from "../../core/engine/components.ts";
import { Output } from "../../core/ui/output.ts";

let dir: string;
let catalog: WasmPluginCatalog;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "imgb-components-"));
  catalog = createPluginCatalog();
});

afterAll(async () => {
  await catalog.closeAll();
  await rm(dir, { recursive: true, force: true });
});

async function validateThenBuild(name: string, template: string) {
  const path = join(dir, name);
  await writeFile(path, template);
  const t = await loadTemplate(path, { vars: [], varFiles: [], env: {} });
  const filter = { only: [], except: [] };
  const components = new ComponentPipeline(catalog);
  let text = "";
  try {
    const before = prepareCallCount();
    const validated = await validateTemplate(t, catalog, filter, components);
    expect(validated.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const afterValidate = prepareCallCount();
    const out = new Output({ mode: "human", color: false, timestamp: false, sensitive: [], write: (s) => void (text += s) });
    const result = await runBuilds({
      template: t,
      catalog,
      out,
      write: (s) => void (text += s),
      color: false,
      parallel: 0,
      onError: "cleanup",
      force: false,
      signal: new AbortController().signal,
      components,
      ...filter,
    });
    expect(result.exitCode).toBe(0);
    return { validate: afterValidate - before, build: prepareCallCount() - afterValidate, text };
  } finally {
    await components.closeAll();
  }
}

test("each provisioner is prepared once per build: validation's prepare is the build's", async () => {
  const provisioners = Array.from({ length: 4 }, (_, i) => ({ type: "shell-local", inline: [`echo component ${i}`] }));
  const template = JSON.stringify({
    builders: ["one", "two"].map((name) => ({ type: "null", name, communicator: "none" })),
    provisioners,
    "post-processors": [{ type: "shell-local", inline: ["true"] }],
  });
  const counts = await validateThenBuild("once.json", template);
  // 2 builds x (4 provisioners + 1 post-processor), all in validation; the build prepares none again.
  expect(counts.validate).toBe(10);
  expect(counts.build).toBe(0);
  for (const build of ["one", "two"]) for (let i = 0; i < 4; i++) expect(counts.text).toContain(`${build}: component ${i}`);
});

test("a provisioner whose config uses build.ID is prepared again with the build's value", async () => {
  const template = `
source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo static"]
  }
  provisioner "shell-local" {
    inline = ["echo id=\${build.ID}"]
  }
}
`;
  const counts = await validateThenBuild("again.pkr.hcl", template);
  expect(counts.validate).toBe(2);
  expect(counts.build).toBe(1);
  expect(counts.text).toContain("id=");
  expect(counts.text).not.toContain("id=<");
});

// Packer 1.9 renders every {{build_name}} of an HCL2 component with packer_build_name, the source's
// name (hcl2template's builderVariables): a key the core renders (inline) and a late key the plugin
// renders (execute_command) must agree, and neither is the full build name "named.null.first".
test("build_name test: a core-rendered key and a late key agree on the source's name", async () => {
  const template = `
source "null" "first" {
  communicator = "none"
}
build {
  name    = "named"
  sources = ["source.null.first"]
  provisioner "shell-local" {
    inline          = ["echo core={{build_name}}"]
    execute_command = ["/bin/sh", "-c", "echo late={{build_name}}; {{.Vars}} /bin/sh {{.Script}}"]
  }
}
`;
  const { text } = await validateThenBuild("build-name.pkr.hcl", template);
  expect(text).toContain("named.null.first: core=first");
  expect(text).toContain("named.null.first: late=first");
});
