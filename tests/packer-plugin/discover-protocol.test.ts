// Which encoding a plugin is started with, as Packer decides it (packer/plugin.go
// DiscoverMultiPlugin): `--protobuf` when its description says protocol v2, unless PACKER_FORCE_GOB.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findComponent, goArch } from "../../core/packer-plugin/discover.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-discover-"));
  const folder = join(dir, "github.com", "acme", "acme");
  mkdirSync(folder, { recursive: true });
  const script = join(folder, `packer-plugin-acme_v1.0.0_x5.0_${process.platform}_${goArch()}`);
  writeFileSync(script, `#!/bin/sh\nexec ${process.execPath} ${resolve(import.meta.dir, "../support/datasource-plugin.ts")} "$@"\n`);
  chmodSync(script, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a v2 plugin is started with --protobuf between kind and name; PACKER_FORCE_GOB keeps gob; only the kinds it describes", async () => {
  const folders = [{ dir, nested: true }];
  const saved = process.env.PACKER_FORCE_GOB;
  try {
    delete process.env.PACKER_FORCE_GOB;
    const v2 = await findComponent("datasource", "acme-echo", folders);
    expect(v2?.argv.slice(1)).toEqual(["start", "datasource", "--protobuf", "echo"]);
    expect(v2?.encoding).toBe("protobuf");
    process.env.PACKER_FORCE_GOB = "1";
    const gob = await findComponent("datasource", "acme-echo", folders);
    expect(gob?.argv.slice(1)).toEqual(["start", "datasource", "echo"]);
    expect(gob?.encoding).toBe("gob");
    expect(await findComponent("builder", "acme-echo", folders)).toBeUndefined();
  } finally {
    if (saved === undefined) delete process.env.PACKER_FORCE_GOB;
    else process.env.PACKER_FORCE_GOB = saved;
  }
});
