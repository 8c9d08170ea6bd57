// Hostile and careless input through the compiled binary: every case ends in a positioned error (or
// is accepted), exit 1 for errors, no stack trace, bounded output, and secrets masked everywhere.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb, type RunResult } from "../support/binary.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-e2e-bad-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEEP = 30_000;
const NULL_SOURCE = 'source "null" "a" { communicator = "none" }\nbuild { sources = ["source.null.a"] }\n';
const NULL_JSON = { type: "null", communicator: "none" };

function file(name: string, text: string | Uint8Array): string {
  writeFileSync(join(dir, name), text);
  return name;
}

async function validate(...args: string[]): Promise<RunResult> {
  return runImgb(["validate", ...args], { cwd: dir, timeoutMs: 20_000 });
}

/** A failed run as a user sees it: exit 1, the summary and file:line:column, no crash text. */
function expectPositioned(r: RunResult, summary: string | RegExp, where: RegExp): void {
  expect(r.exitCode, r.stderr).toBe(1);
  if (typeof summary === "string") expect(r.stderr).toContain(summary);
  else expect(r.stderr).toMatch(summary);
  expect(r.stderr).toMatch(where);
  expect(r.stderr).not.toContain("Maximum call stack");
  expect(r.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/);
}

describe("nesting depth", () => {
  test("a JSON template nested 30,000 levels (arrays, objects) is refused at the bracket", async () => {
    const arrays = file("deep-arrays.json", `{"builders":[{"type":"null","x":${"[".repeat(DEEP)}${"]".repeat(DEEP)}}]}`);
    expectPositioned(await validate(arrays), "exceeded max depth", /on deep-arrays\.json:1:\d+:/);
    const objects = file("deep-objects.json", `{"builders":[{"type":"null","x":${'{"a":'.repeat(DEEP)}1${"}".repeat(DEEP)}}]}`);
    expectPositioned(await validate(objects), "exceeded max depth", /on deep-objects\.json:1:\d+:/);
  });

  test("a var file nested 30,000 levels deep", async () => {
    const t = file("plain.json", JSON.stringify({ variables: { a: "" }, builders: [NULL_JSON] }));
    const vars = file("deep-vars.json", `{"a":${"[".repeat(DEEP)}${"]".repeat(DEEP)}}`);
    expectPositioned(await validate(`-var-file=${vars}`, t), /Error reading variables in 'deep-vars.json'.*exceeded max depth/, /on deep-vars\.json:1:\d+:/);
  });

  test("Go template actions and parentheses nested 30,000 deep", async () => {
    const ifs = file("deep-if.json", JSON.stringify({ builders: [NULL_JSON], provisioners: [{ type: "shell-local", inline: ["{{if true}}".repeat(DEEP) + "{{end}}".repeat(DEEP)] }] }));
    expectPositioned(await validate(ifs), "max depth exceeded", /on deep-if\.json:1:\d+:/);
    const parens = file("deep-parens.json", JSON.stringify({ builders: [NULL_JSON], provisioners: [{ type: "shell-local", inline: [`{{${"(".repeat(DEEP)}1${")".repeat(DEEP)}}}`] }] }));
    expectPositioned(await validate(parens), "max depth exceeded", /on deep-parens\.json:1:\d+:/);
  });

  test("HCL expressions, HCL JSON and decoded JSON/YAML nested 30,000 deep", async () => {
    const hcl = file("deep.pkr.hcl", `locals { x = ${"[".repeat(DEEP)}${"]".repeat(DEEP)} }\n${NULL_SOURCE}`);
    expectPositioned(await validate(hcl), "Nesting too deep", /on deep\.pkr\.hcl:1:\d+:/);
    const hclJson = file("deep.pkr.json", `{"locals":{"x":${"[".repeat(DEEP)}${"]".repeat(DEEP)}}}`);
    expectPositioned(await validate(hclJson), "Nesting too deep", /on deep\.pkr\.json:1:\d+:/);
    file("deep.json.txt", "[".repeat(DEEP) + "]".repeat(DEEP));
    file("deep.yaml", "- ".repeat(2000) + "x\n");
    const decoded = file("decode.pkr.hcl", `locals {\n  j = jsondecode(file("deep.json.txt"))\n  y = yamldecode(file("deep.yaml"))\n}\n${NULL_SOURCE}`);
    const r = await validate(decoded);
    expectPositioned(r, /nesting too deep/i, /on decode\.pkr\.hcl:2:\d+:/);
    expect(r.stderr).toMatch(/on decode\.pkr\.hcl:3:\d+:[\s\S]*nested more than 200 levels deep/);
  });
});

test("a chain of 3,000 locals nesting a value through references is refused where it gets too deep", async () => {
  const locals = ["a0 = 1"];
  for (let i = 1; i <= 3000; i++) locals.push(`a${i} = [local.a${i - 1}]`);
  const t = file("chain.pkr.hcl", `locals {\n${locals.join("\n")}\n}\nsource "null" "a" { communicator = "none" }\nbuild {\n  sources = ["source.null.a"]\n  provisioner "shell-local" {\n    inline = ["echo"]\n    env = { X = jsonencode(local.a3000) }\n  }\n}\n`);
  const started = performance.now();
  const r = await validate(t);
  expect(performance.now() - started).toBeLessThan(5000);
  expectPositioned(r, "Value too deep", /on chain\.pkr\.hcl:203:\d+:/);
});

describe("expansion bounds", () => {
  test("a {{user}} billion laughs stops at the variable that crosses the string limit", async () => {
    const v: Record<string, string> = { a0: "xxxxxxxxxx" };
    for (let i = 1; i <= 11; i++) v[`a${i}`] = `{{user \`a${i - 1}\`}}`.repeat(10);
    const r = await validate(file("laughs.json", JSON.stringify({ variables: v, builders: [NULL_JSON] })));
    expectPositioned(r, /Failed to interpolate "a7": .*over the limit of 16777216/, /on laughs\.json:1:\d+:/);
  });

  test("HCL locals and concat laughs, format widths and nested joins are refused at the expression", async () => {
    const locals = ['a0 = "xxxxxxxxxx"'];
    for (let i = 1; i <= 11; i++) locals.push(`a${i} = "${`\${local.a${i - 1}}`.repeat(10)}"`);
    expectPositioned(await validate(file("laughs.pkr.hcl", `locals {\n${locals.join("\n")}\n}\n${NULL_SOURCE}`)), "Value too large", /on laughs\.pkr\.hcl:9:\d+:/);
    const lists = ['c0 = ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i <= 11; i++) lists.push(`c${i} = concat(${Array(10).fill(`local.c${i - 1}`).join(", ")})`);
    const concat = await validate(file("concat.pkr.hcl", `locals {\n${lists.join("\n")}\n}\n${NULL_SOURCE}`));
    expectPositioned(concat, /concatenated list would have 1000000 elements, over the limit of 100000/, /on concat\.pkr\.hcl:7:\d+:/);
    const format = await validate(file("format.pkr.hcl", `locals { f = format("%0999999999d", 1) }\n${NULL_SOURCE}`));
    expectPositioned(format, /width of "%999999999d"/, /on format\.pkr\.hcl:1:14:/);
    const s = "x".repeat(100);
    const join = await validate(
      file("join.pkr.hcl", `locals {\n s = join("", [for i in range(1000): "${s}"])\n t = join("", [for i in range(1000): local.s])\n}\n${NULL_SOURCE}`),
    );
    expectPositioned(join, /joined string would be 100000000 characters/, /on join\.pkr\.hcl:3:\d+:/);
  });
});

describe("bounded diagnostics", () => {
  test("200 unknown keys in a minified template: windows around the column, 30 printed, the rest counted", async () => {
    const b: Record<string, string> = { ...NULL_JSON };
    for (let i = 0; i < 200; i++) b[`unknown_key_${i}`] = "v".repeat(40);
    const r = await validate(file("unknown.json", JSON.stringify({ builders: [b] })));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("… and 170 more errors not shown.");
    expect(r.stderr.length).toBeLessThan(16_000);
    for (const line of r.stderr.split("\n")) expect(line.length).toBeLessThan(200);
  });

  test("a 5 MB file of duplicate keys is reported in bounded output and time", async () => {
    const body = Array(600_000).fill('"k":"é"').join(",");
    const started = performance.now();
    const r = await validate(file("dups.json", `{"builders":[{"type":"null","communicator":"none","x":{${body}}}]}`));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain("template has duplicate field: k");
    expect(r.stderr).toContain("more errors not shown");
    expect(r.stderr.length).toBeLessThan(16_000);
  });
});

describe("text encoding", () => {
  test("invalid UTF-8 is refused at its position, in HCL and JSON templates", async () => {
    const hcl = file("bad-utf8.pkr.hcl", Buffer.concat([Buffer.from(`${NULL_SOURCE}locals {\n  x = "echo `), Buffer.from([0xff, 0xfe]), Buffer.from('"\n}\n')]));
    expectPositioned(await validate(hcl), "Invalid character encoding", /on bad-utf8\.pkr\.hcl:4:13:/);
    const json = file("bad-utf8.json", Buffer.concat([Buffer.from('{"builders":[{"type":"null","communicator":"none"}],\n"provisioners":[{"type":"shell-local","inline":["echo '), Buffer.from([0xc3]), Buffer.from('"]}]}')]));
    const r = await validate(json);
    expectPositioned(r, "Invalid character encoding", /on bad-utf8\.json:2:\d+:/);
    expect(r.stderr).toContain("Byte 0xc3");
  });

  test("a UTF-8 byte order mark at the start of an HCL file is accepted", async () => {
    const r = await validate(file("bom.pkr.hcl", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(NULL_SOURCE)])));
    expect(r.exitCode, r.stderr).toBe(0);
  });
});

describe("secrets", () => {
  const SECRET = "Zq7SecretVal'x";
  const secretVar = `variable "secret" {\n  type = string\n  default = ${JSON.stringify(SECRET)}\n  sensitive = true\n}\n`;

  test("validate masks a sensitive value inside a function error, as build does", async () => {
    const t = file("leak.pkr.hcl", `${secretVar}locals { t = timeadd(var.secret, "1h") }\n${NULL_SOURCE}`);
    for (const verb of ["validate", "build"]) {
      const r = await runImgb([verb, "-color=false", t].filter((a) => verb === "build" || a !== "-color=false"), { cwd: dir });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('cannot use "<sensitive>" as year');
      expect(r.stdout + r.stderr).not.toContain("Zq7Secret");
    }
  });

  test("sensitive environment_vars stay out of the process table and go through a removed 0600 file; encodings are masked", async () => {
    const t = file(
      "env.pkr.hcl",
      `${secretVar}source "null" "a" { communicator = "none" }
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    environment_vars = ["TOKEN=\${var.secret}"]
    inline = [
      "echo in-process-table=$(ps -eo args | grep -c Zq7SecretVa[l])",
      "test \\"$TOKEN\\" = ${JSON.stringify(SECRET).replaceAll('"', '\\"')} && echo token-ok",
      "echo env-file=$(ls -l /tmp/packer-shell-vars* | cut -c1-10)",
      "printf %s \\"$TOKEN-and-more\\" | base64",
      "printf '%s\\\\n' \\"$TOKEN\\"",
    ]
  }
}
`,
    );
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith("packer-shell-vars"));
    const r = await runImgb(["build", "-color=false", t], { cwd: dir });
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("in-process-table=0");
    expect(r.stdout).toContain("token-ok");
    expect(r.stdout).toContain("env-file=-rw-------");
    expect(r.stdout).not.toContain("Zq7Secret");
    expect(r.stdout).not.toContain(Buffer.from(`${SECRET}-and-more`).toString("base64").slice(0, 16));
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith("packer-shell-vars"))).toEqual(before);
  });
});
