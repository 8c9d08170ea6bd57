// The file provisioner (plugins-wasm/file, real wasm in the sandbox) against a real OpenSSH server:
// uploads and downloads of files and folders with rsync's trailing-slash rules, `content`,
// `generated`, the granted local roots, and Packer's config errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { localCommunicator } from "../../core/communicator/local.ts";
import { Rig } from "./support.ts";

const rig = new Rig();
let remote: string;
let tpl: string;
/** Downloads land in the working directory (the root the host grants for local writes). */
let downloads: string;

beforeAll(async () => {
  await rig.start();
  remote = rig.sshd.remoteDir;
  tpl = rig.templateDir;
  mkdirSync(join(process.cwd(), "tests", ".tmp"), { recursive: true });
  downloads = mkdtempSync(join(process.cwd(), "tests", ".tmp", "file-prov-"));
  // tpl/site/{index.html, css/a.css (0600)}, tpl/app.bin (0750)
  mkdirSync(join(tpl, "site", "css"), { recursive: true });
  writeFileSync(join(tpl, "site", "index.html"), "<h1>hi</h1>\n");
  writeFileSync(join(tpl, "site", "css", "a.css"), "a{}\n");
  chmodSync(join(tpl, "site", "css", "a.css"), 0o600);
  writeFileSync(join(tpl, "app.bin"), "binary\x00data");
  chmodSync(join(tpl, "app.bin"), 0o750);
}, 120_000);
afterAll(async () => {
  await rig.stop();
  rmSync(downloads, { recursive: true, force: true });
});

/** "path mode" of every entry below a remote folder, sorted. */
async function listing(dir: string): Promise<string> {
  return (await rig.remote(`cd '${dir}' && find . -mindepth 1 -printf '%P %m\\n' | sort`)).trim();
}

async function freshRemote(name: string): Promise<string> {
  const d = `${remote}/${name}`;
  await rig.remote(`rm -rf '${d}' && mkdir -p '${d}'`);
  return d;
}

describe("file: describe and prepare", () => {
  test("describe declares the keys and the capabilities it uses", async () => {
    const d = await rig.catalog.describe("provisioner", "file");
    expect(d.capabilities.sort()).toEqual(["communicator", "local_file_read", "temp_file"]);
    expect(d.schema.fields.map((f) => f.name).sort()).toEqual(["content", "destination", "direction", "generated", "source", "sources"]);
  });

  test("prepare: direction defaults to upload; source is appended after sources", async () => {
    const p = await rig.catalog.provisioner("file");
    const r = await p.prepare([{ sources: ["a", "b"], source: "c", destination: "/tmp/" }]);
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toMatchObject({ direction: "upload", sources: ["a", "b", "c"] });
    await p.close();
  });

  test("config errors are diagnostics that name the keys", async () => {
    expect(await rig.prepareErrors("file", {})).toEqual([
      "Source must be specified (set source, sources or content).",
      "Destination must be specified (destination).",
    ]);
    expect(await rig.prepareErrors("file", { source: "a", destination: "/x", direction: "sideways" })).toEqual([
      'Direction must be one of: download, upload. (direction = "sideways")',
    ]);
    expect(await rig.prepareErrors("file", { source: "a", content: "x", destination: "/x" })).toEqual(["source(s) conflicts with content."]);
    expect(await rig.prepareErrors("file", { content: "x", destination: "/x", direction: "download" })).toEqual([
      'content can only be uploaded: remove content or set direction = "upload".',
    ]);
    expect(await rig.prepareErrors("file", { source: ["a", "b"], destination: "/x", generated: "yes please" })).toEqual([
      "'source' expected type 'string', got unconvertible type '[]interface {}'",
      `cannot parse 'generated' as bool: strconv.ParseBool: parsing "yes please": invalid syntax`,
    ]);
  });
});

describe("file uploads over SSH", () => {
  test("a file to a file path keeps its mode; to a folder ending in / keeps its name", async () => {
    const d = await freshRemote("up-file");
    const src = join(tpl, "app.bin");
    const r = await rig.run("file", { source: src, destination: `${d}/renamed.bin` });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual([`say: Uploading ${src} => ${d}/renamed.bin`]);
    const r2 = await rig.run("file", { source: src, destination: `${d}/` });
    expect(r2.error).toBeNull();
    expect(await listing(d)).toBe("app.bin 750\nrenamed.bin 750");
    expect(readFileSync(`${d}/app.bin`, "latin1")).toBe("binary\x00data");
  });

  for (const method of ["scp", "sftp"] as const) {
    test(`folders (${method}): "src" copies the folder itself, "src/" copies its contents`, async () => {
      const comm = await rig.connect({ ssh_file_transfer_method: method });
      try {
        const itself = await freshRemote(`dir-${method}-itself`);
        const r = await rig.run("file", { source: join(tpl, "site"), destination: itself }, { communicator: comm });
        expect(r.error).toBeNull();
        expect(await listing(itself)).toBe("site 755\nsite/css 755\nsite/css/a.css 600\nsite/index.html 644");
        const contents = await freshRemote(`dir-${method}-contents`);
        const r2 = await rig.run("file", { source: `${join(tpl, "site")}/`, destination: contents }, { communicator: comm });
        expect(r2.error).toBeNull();
        expect(r2.lines).toEqual([`say: Uploading ${join(tpl, "site")}/ => ${contents}`]);
        expect(await listing(contents)).toBe("css 755\ncss/a.css 600\nindex.html 644");
      } finally {
        await comm.close();
      }
    });
  }

  test("sources go to one folder, names kept, in order", async () => {
    const d = await freshRemote("multi");
    const r = await rig.run("file", { sources: [join(tpl, "app.bin"), join(tpl, "site", "index.html")], destination: `${d}/` });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual([`say: Uploading ${join(tpl, "app.bin")} => ${d}/`, `say: Uploading ${join(tpl, "site", "index.html")} => ${d}/`]);
    expect(await listing(d)).toBe("app.bin 750\nindex.html 644");
  });

  test("content is written to the destination file, or to pkr-file-content in a folder", async () => {
    const d = await freshRemote("content");
    const text = "line 1\nquotes ' \" and $dollar\n";
    const r = await rig.run("file", { content: text, destination: `${d}/motd` });
    expect(r.error).toBeNull();
    expect(r.lines[0]).toMatch(new RegExp(`^say: Uploading /tmp/pkr-file-content\\d+ => ${d}/motd$`));
    expect(readFileSync(`${d}/motd`, "utf8")).toBe(text);
    const r2 = await rig.run("file", { content: "in a folder", destination: `${d}/` });
    expect(r2.error).toBeNull();
    expect(readFileSync(`${d}/pkr-file-content`, "utf8")).toBe("in a folder");
    expect(await listing(d)).toBe("motd 644\npkr-file-content 644");
  });

  test("a missing source fails before anything is uploaded; generated sources are looked at only when their turn comes", async () => {
    const d = await freshRemote("generated");
    const later = join(tpl, "made-later.txt");
    rmSync(later, { force: true });
    const missing = await rig.run("file", { sources: [join(tpl, "app.bin"), later], destination: `${d}/` });
    expect(missing.error).toBe(`plugin file: Bad source '${later}': no such file or directory`);
    expect(missing.lines).toEqual([]);
    expect(await listing(d)).toBe("");

    // With generated = true, prepare and the earlier uploads do not look at it; a file made by an
    // earlier step of the build (here: shell-local) is uploaded.
    const p = await rig.catalog.provisioner("file");
    expect((await p.prepare([{ source: later, destination: `${d}/`, generated: true }])).diagnostics).toEqual([]);
    await p.close();
    const maker = await rig.run("shell-local", { inline: [`echo generated > ${later}`] });
    expect(maker.error).toBeNull();
    const r = await rig.run("file", { source: later, destination: `${d}/`, generated: true });
    expect(r.error).toBeNull();
    expect(readFileSync(`${d}/made-later.txt`, "utf8")).toBe("generated\n");

    rmSync(later);
    const gone = await rig.run("file", { sources: [join(tpl, "app.bin"), later], destination: `${d}/`, generated: true });
    expect(gone.error).toBe(`plugin file: Bad source '${later}': no such file or directory`);
    expect(await listing(d)).toBe("app.bin 750\nmade-later.txt 644");
  });

  test("relative sources are relative to the working directory, as in Packer", async () => {
    // A template folder under the working directory, so the same file is inside both roots.
    const local = mkdtempSync(join(downloads, "tpl-"));
    writeFileSync(join(local, "rel.txt"), "relative");
    const d = await freshRemote("relative");
    const rel = relative(process.cwd(), join(local, "rel.txt"));
    const r = await rig.run("file", { source: rel, destination: `${d}/` }, { templateDir: local });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual([`say: Uploading ${rel} => ${d}/`]);
    expect(readFileSync(`${d}/rel.txt`, "utf8")).toBe("relative");
    // The bare name is looked up in the working directory, not in the template folder.
    const bare = await rig.run("file", { source: "rel.txt", destination: `${d}/` }, { templateDir: local });
    expect(bare.error).toBe("plugin file: Bad source 'rel.txt': no such file or directory");
  });

  test("sources outside the granted folders are refused, naming the capability and the path", async () => {
    const r = await rig.run("file", { source: "/etc/hostname", destination: `${remote}/` });
    expect(r.error).toBe('plugin file: capability local_file_read refused for "/etc/hostname": outside the template directory and the working directory');
  });

  test("an upload the machine refuses is an error with Packer's 'Upload failed' line", async () => {
    const r = await rig.run("file", { source: join(tpl, "app.bin"), destination: `${remote}/no/such/folder/x` });
    expect(r.error).toStartWith("plugin file: ");
    expect(r.error).toContain(`${remote}/no/such/folder/x`);
    expect(r.lines.at(-1)).toStartWith("error: Upload failed: ");
  });
});

describe("file downloads over SSH", () => {
  test("a file to a file path, and to a folder ending in / (keeping its name)", async () => {
    const d = await freshRemote("down");
    await rig.remote(`printf 'remote data' > ${d}/r.txt && chmod 640 ${d}/r.txt`);
    const dest = join(downloads, "r-copy.txt");
    const r = await rig.run("file", { direction: "download", source: `${d}/r.txt`, destination: dest });
    expect(r.error).toBeNull();
    expect(r.lines).toEqual([`say: Downloading ${d}/r.txt => ${dest}`]);
    expect(readFileSync(dest, "utf8")).toBe("remote data");
    const r2 = await rig.run("file", { direction: "download", source: `${d}/r.txt`, destination: `${downloads}/` });
    expect(r2.error).toBeNull();
    expect(readFileSync(join(downloads, "r.txt"), "utf8")).toBe("remote data");
    expect(statSync(join(downloads, "r.txt")).mode & 0o777).toBe(0o640);
  });

  test("a folder ending in / downloads its contents into the destination", async () => {
    const d = await freshRemote("down-dir");
    await rig.remote(`mkdir -p ${d}/tree/sub && echo one > ${d}/tree/one && echo two > ${d}/tree/sub/two`);
    const dest = join(downloads, "tree-copy");
    const r = await rig.run("file", { direction: "download", source: `${d}/tree/`, destination: dest });
    expect(r.error).toBeNull();
    expect(readFileSync(join(dest, "one"), "utf8")).toBe("one\n");
    expect(readFileSync(join(dest, "sub", "two"), "utf8")).toBe("two\n");
  });

  test("a missing remote file is Packer's 'Download failed' error", async () => {
    const r = await rig.run("file", { direction: "download", source: `${remote}/nope.txt`, destination: join(downloads, "nope.txt") });
    expect(r.error).toStartWith("plugin file: ");
    expect(r.error).toContain("nope.txt");
    expect(r.lines.at(-1)).toStartWith("error: Download failed: ");
    // Like Packer (which creates the file before downloading), an empty local file may be left behind.
  });

  test("a download outside the working directory is refused (absolute paths elsewhere, even the template folder)", async () => {
    const d = await freshRemote("down-refused");
    await rig.remote(`echo x > ${d}/x.txt`);
    const r = await rig.run("file", { direction: "download", source: `${d}/x.txt`, destination: join(tpl, "x.txt") });
    expect(r.error).toBe(`plugin file: capability communicator refused for "${join(tpl, "x.txt")}": outside the working directory`);
    expect(existsSync(join(tpl, "x.txt"))).toBe(false);
  });
});

describe("file through the local communicator", () => {
  test("folders keep the trailing-slash rule and files their mode", async () => {
    const dest = mkdtempSync(join(downloads, "local-"));
    const comm = localCommunicator();
    expect((await rig.run("file", { source: join(tpl, "site"), destination: dest }, { communicator: comm })).error).toBeNull();
    expect((await rig.run("file", { source: `${join(tpl, "site")}/`, destination: dest }, { communicator: comm })).error).toBeNull();
    expect((await rig.run("file", { source: join(tpl, "app.bin"), destination: `${dest}/` }, { communicator: comm })).error).toBeNull();
    expect(readFileSync(join(dest, "site", "css", "a.css"), "utf8")).toBe("a{}\n");
    expect(readFileSync(join(dest, "index.html"), "utf8")).toBe("<h1>hi</h1>\n");
    expect(statSync(join(dest, "app.bin")).mode & 0o777).toBe(0o750);
  });
});
