// `imgb init` installing a native Packer plugin from a GitHub-release layout (packer init's github
// getter: tag list, SHA256SUMS, per-platform zip), served by a local HTTP server, into Packer's
// plugin folder (PACKER_CONFIG_DIR/plugins); the installed plugin then serves a build.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";

const hasPacker = Bun.which("packer") !== null;
const arch = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;
const platform = `x5.0_${process.platform}_${arch}`;
let dir: string;
let server: ReturnType<typeof Bun.serve>;
const hits: string[] = [];
/** Served files by URL path. */
const files = new Map<string, Uint8Array | string>();
const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** A release of github.com/acme/pk: a multi-component plugin (describe, start builder null via packer 1.6.6). */
function release(version: string, opts: { tamper?: boolean } = {}): void {
  const bin = `packer-plugin-pk_v${version}_${platform}`;
  const work = join(dir, `rel-${version}`);
  mkdirSync(work, { recursive: true });
  const describe = JSON.stringify({ version, sdk_version: "0.0.0", api_version: "x5.0", builders: ["null"], post_processors: [], provisioners: [], datasources: [] });
  writeFileSync(
    join(work, bin),
    [
      "#!/bin/sh",
      `case "$1" in describe) echo '${describe}'; exit 0;; start) ;; *) exit 2;; esac`,
      '[ "$2" = builder ] && [ "$3" = null ] || exit 2',
      "packer plugin packer-builder-null | sed -u '1s/^5|/5|0|/'",
    ].join("\n") + "\n",
  );
  chmodSync(join(work, bin), 0o755);
  expect(Bun.spawnSync(["zip", "-q", `${bin}.zip`, bin], { cwd: work }).exitCode).toBe(0);
  const zip = new Uint8Array(readFileSync(join(work, `${bin}.zip`)));
  const base = `/acme/packer-plugin-pk/releases/download/v${version}`;
  files.set(`${base}/packer-plugin-pk_v${version}_SHA256SUMS`, `${sha(zip)}  ${bin}.zip\n${"0".repeat(64)}  packer-plugin-pk_v${version}_x5.0_plan9_amd64.zip\n`);
  if (opts.tamper) zip[zip.length - 30] = zip[zip.length - 30]! ^ 0xff;
  files.set(`${base}/${bin}.zip`, zip);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-pinit-"));
  release("1.1.0");
  release("1.2.3");
  release("2.0.0");
  release("3.0.0", { tamper: true });
  files.set("/repos/acme/packer-plugin-pk/git/matching-refs/tags", JSON.stringify(["v1.1.0", "v1.2.3", "v2.0.0", "v3.0.0"].map((v) => ({ ref: `refs/tags/${v}` }))));
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      hits.push(path);
      const body = files.get(path);
      return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
    },
  });
});
afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ PACKER_CONFIG_DIR: join(dir, "packer"), IMGB_PACKER_PLUGIN_API: `http://127.0.0.1:${server.port}`, IMGB_PACKER_PLUGIN_WEB: `http://127.0.0.1:${server.port}` });
function template(name: string, constraint: string): string {
  writeFileSync(
    join(dir, name),
    `packer {
  required_plugins {
    pk = { source = "github.com/acme/pk", version = "${constraint}" }
  }
}
source "pk-null" "x" {
  communicator = "none"
}
build {
  sources = ["source.pk-null.x"]
}
`,
  );
  return name;
}

describe.skipIf(!hasPacker || !Bun.which("zip"))("imgb init: native Packer plugins from a release layout", () => {
  test("installs the newest release the constraint allows into Packer's folder, says it is native; the build uses it", async () => {
    const r = await runImgb(["init", template("t.pkr.hcl", "~> 1.2")], { cwd: dir, env: env() });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const folder = join(dir, "packer", "plugins", "github.com", "acme", "pk");
    const bin = join(folder, `packer-plugin-pk_v1.2.3_${platform}`);
    expect(r.stdout).toContain(`github.com/acme/pk: v1.2.3 installed at ${bin}`);
    expect(r.stdout).toContain("a native Packer plugin: its builders and data sources run unsandboxed with your rights");
    expect(readFileSync(`${bin}_SHA256SUM`, "utf8")).toBe(sha(readFileSync(bin)));
    const b = await runImgb(["build", "-color=false", "t.pkr.hcl"], { cwd: dir, env: env() });
    expect(b.exitCode, b.stdout + b.stderr).toBe(0);
    expect(b.stdout).toContain(`native Packer plugin ${bin}`);
    expect(b.stdout).toContain("Did not export anything. This is the null builder");

    const zips = hits.filter((h) => h.endsWith(".zip")).length;
    const again = await runImgb(["init", "t.pkr.hcl"], { cwd: dir, env: env() });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("v1.2.3 already installed");
    expect(hits.filter((h) => h.endsWith(".zip")).length).toBe(zips);
  }, 60_000);

  test("a zip that does not match SHA256SUMS installs nothing", async () => {
    const r = await runImgb(["init", template("bad.pkr.hcl", ">= 3.0")], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`plugin github.com/acme/pk: packer-plugin-pk_v3.0.0_${platform}.zip does not match its SHA256SUMS entry; nothing installed`);
    expect(existsSync(join(dir, "packer", "plugins", "github.com", "acme", "pk", `packer-plugin-pk_v3.0.0_${platform}`))).toBe(false);
  }, 30_000);

  test("no release satisfying the constraint", async () => {
    const r = await runImgb(["init", template("none.pkr.hcl", ">= 9.0")], { cwd: dir, env: env() });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('plugin github.com/acme/pk: no release satisfies ">= 9.0" (releases: 1.1.0, 1.2.3, 2.0.0, 3.0.0)');
  }, 30_000);
});
