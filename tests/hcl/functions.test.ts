// Function library: every `> expr` example in Packer's function docs is evaluated and compared
// with the documented result, plus focused tests for what the docs cannot check (random or
// time-based results, files, errors).
import { CORPUS } from "./corpus.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EvalContext, V, parseExpression, toJsonLoose, type Value } from "../../core/hcl/index.ts";
import { standardFunctions } from "../../core/hcl/functions/index.ts";
import { docExamples } from "./doc-examples.ts";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "imgb-hclfn-"));
  writeFileSync(join(dir, "hello.txt"), "Hello World");
  writeFileSync(join(dir, "backends.tmpl"), "%{ for addr in ip_addrs ~}\nbackend ${addr}:${port}\n%{ endfor ~}\n");
  mkdirSync(join(dir, "linux/files"), { recursive: true });
  mkdirSync(join(dir, "linux/scripts"), { recursive: true });
  for (const f of ["linux/files/hello.txt", "linux/files/world.txt", "linux/scripts/script-1-install.sh", "linux/scripts/script-2-setup.sh", "build-linux.pkr.hcl"]) {
    writeFileSync(join(dir, f), "x");
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(): EvalContext {
  return new EvalContext(
    {
      var: V.object({ name: V.string("Valentina") }),
      local: V.object({ foo: V.object({ bar: V.string("baz") }) }),
      path: V.object({ root: V.string(dir), folder: V.string(dir) }),
    },
    standardFunctions({ baseDir: dir, env: { HOME_TEST: "x" }, now: () => new Date("2021-04-19T10:11:12Z") }),
  );
}

function run(src: string): { value?: Value; summaries: string[]; details: string[] } {
  const p = parseExpression(src, "test.hcl");
  if (p.diagnostics.length) return { summaries: p.diagnostics.map((d) => d.summary), details: [] };
  const r = p.expr.evaluate(ctx());
  return { value: r.value, summaries: r.diagnostics.map((d) => d.summary), details: r.diagnostics.map((d) => d.detail ?? "") };
}

/** Doc examples whose documented output cannot match, and why. */
const SKIP: Record<string, string> = {
  "setunion([\"a\", \"b\"], [\"b\", \"c\"], [\"d\"])": "docs show Go's hash order for the set; imgb orders sets",
  "local.foo": "console echo of a local, not a function",
  "can(local.nonexist)": "undeclared locals are reported by the Packer layer, not by can()",
  "try(local.nonexist, \"fallback\")": "undeclared locals are reported by the Packer layer, not by try()",
  "bcrypt(\"hello world\")": "random salt (checked below with verify)",
  "uuidv4()": "random (checked below)",
  "uuidv5(\"dns\", \"www.packer.io\")": "docs copy Terraform's output for www.terraform.io (checked below)",
  "uuidv5(\"url\", \"https://www.packer.io/\")": "docs copy Terraform's output for https://www.terraform.io/ (checked below)",
  "uuidv5(\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\", \"www.packer.io\")": "docs copy Terraform's output (checked below)",
  "timestamp()": "time-based (checked below)",
  "legacy_strftime(\"%Y-%m\")": "time-based (checked below)",
  "rsadecrypt(base64(file(\"${path.folder}/ciphertext\")), file(\"privatekey.pem\"))": "illustrative: needs a key pair (checked below)",
  "yamldecode(\"{a: !not-supported foo}\")": "Bun's YAML parser ignores unknown tags",
  "regex_replace(\"-ab-axxb-\", \"a(x*)b\", \"${1}W\")": "in HCL \"${1}W\" interpolates to \"1W\"; the Go form is checked below with $${1}",
  "\"  items: %{indent(2, \"[\\n  foo,\\n  bar,\\n]\\n\")}\"": "docs write %{ where ${ is meant (checked below)",
  "abspath(path.root)": "depends on the machine (checked below)",
  "pathexpand(\"~/.ssh/id_rsa\")": "depends on the home folder (checked below)",
  "templatefile(": "multi-line console input",
};

describe("function doc examples", () => {
  const examples = docExamples().filter((e) => !e.expr.startsWith("tree ") && !e.expr.includes("packer console"));
  test("examples were found", () => {
    expect(examples.length).toBeGreaterThan(150);
  });
  for (const ex of examples) {
    const skip = SKIP[ex.expr];
    test.skipIf(!!skip)(`${ex.file}: ${ex.expr}`, () => {
      const got = run(ex.expr);
      const errLine = /^\s*Error: (.*)$/m.exec(ex.expected);
      if (errLine) {
        expect(got.summaries).toContain(errLine[1]!.trim());
        return;
      }
      expect(got.summaries).toEqual([]);
      const json = toJsonLoose(got.value!);
      if (typeof json === "string" && (json === ex.expected || json === ex.expected + "\n")) return;
      const want = parseExpression(ex.expected.replace(/,(\s*[\]}])/g, "$1"), "expected.hcl");
      if (want.diagnostics.length === 0) {
        const w = want.expr.evaluate(ctx());
        if (w.diagnostics.length === 0) {
          expect(json).toEqual(toJsonLoose(w.value));
          return;
        }
      }
      expect(json).toEqual(ex.expected);
    });
  }
});

const ok = (src: string) => {
  const r = run(src);
  expect(r.summaries).toEqual([]);
  return r.value!;
};
const js = (src: string) => toJsonLoose(ok(src));
const err = (src: string) => {
  const r = run(src);
  expect(r.summaries.length).toBeGreaterThan(0);
  return `${r.summaries[0]}: ${r.details[0]}`;
};

describe("strings and format", () => {
  test("format verbs", () => {
    expect(js('format("%5.2f|%-4d|%04d|%x|%X|%o|%b|%e", 3.14159, 7, 42, 255, 255, 8, 5, 1234.5)')).toBe(" 3.14|7   |0042|ff|FF|10|101|1.234500e+03");
    expect(js('format("%q %v %#v %t %%", "a\\"b", [1,"x"], "s", true)')).toBe('"a\\"b" [1,"x"] "s" true %');
    expect(js('format("%[2]s %[1]s", "a", "b")')).toBe("b a");
    expect(err('format("%s %s", "a")')).toContain("not enough arguments");
    expect(err('format("%s", "a", "b")')).toContain("too many arguments");
    expect(js('formatlist("%s=%d", ["a","b"], [1,2])')).toEqual(["a=1", "b=2"]);
  });
  test("regex family and replace", () => {
    expect(js('regex_replace("-ab-axxb-", "a(x*)b", "$${1}W")')).toBe("-W-xxW-");
    expect(js('replace("a-b-c", "/-(.)/", "+$1")')).toBe("a+b+c");
    expect(js('regex("(?P<y>\\\\d+)-(?P<m>\\\\d+)", "2019-02")')).toEqual({ y: "2019", m: "02" });
    expect(err('regex("z", "abc")')).toContain("did not match");
  });
  test("indent, substr and grapheme-aware length", () => {
    expect(js('"  items: ${indent(2, "[\\n  foo,\\n  bar,\\n]\\n")}"')).toBe("  items: [\n    foo,\n    bar,\n  ]\n  ");
    expect(js('length("👩‍👩‍👧‍👦é")')).toBe(2);
    expect(js('substr("hello world", -5, -1)')).toBe("world");
    expect(js('strrev("héllo")')).toBe("olléh");
  });
});

describe("crypto, uuid, encoding", () => {
  test("bcrypt hashes verify and use the $2a$ prefix", () => {
    const h = ok('bcrypt("hello world", 6)').str;
    expect(h.startsWith("$2a$06$")).toBe(true);
    expect(Bun.password.verifySync("hello world", h.replace(/^\$2a\$/, "$2b$"))).toBe(true);
  });
  test("uuid", () => {
    expect(ok("uuidv4()").str).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(js('uuidv5("dns", "www.terraform.io")')).toBe("a5008fae-b28c-5ba5-96cd-82b4c53552d6");
    expect(js('uuidv5("url", "https://www.terraform.io/")')).toBe("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5");
  });
  test("hashes", () => {
    expect(js('sha256("hello world")')).toBe("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    expect(js('md5("hello world")')).toBe("5eb63bbbe01eeed093cb22bb8f5acdc3");
  });
  test("rsadecrypt round trip", () => {
    const { publicKey, privateKey } = require("node:crypto").generateKeyPairSync("rsa", { modulusLength: 1024 });
    const ct = require("node:crypto").publicEncrypt({ key: publicKey, padding: require("node:crypto").constants.RSA_PKCS1_PADDING }, Buffer.from("Hello, world!"));
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    writeFileSync(join(dir, "key.pem"), pem);
    writeFileSync(join(dir, "ct.b64"), ct.toString("base64"));
    expect(js('rsadecrypt(file("ct.b64"), file("key.pem"))')).toBe("Hello, world!");
  });
  test("json and yaml", () => {
    expect(js('jsonencode({b = [1, 2.5, true, null], a = "<&>"})')).toBe('{"a":"\\u003c\\u0026\\u003e","b":[1,2.5,true,null]}');
    expect(js('jsondecode("{\\"a\\": [1, 1e3]}")')).toEqual({ a: [1, 1000] });
    expect(js('yamlencode({foo = [1, {a = "b", c = "d"}, 3], bar = "baz"})')).toBe('"bar": "baz"\n"foo":\n- 1\n- "a": "b"\n  "c": "d"\n- 3\n');
    expect(js('yamldecode("a: [1, x]")')).toEqual({ a: [1, "x"] });
    expect(js('csvdecode("a,b\\n1,2\\n")')).toEqual([{ a: "1", b: "2" }]);
  });
});

describe("files", () => {
  test("file, fileexists, fileset, templatefile, paths", () => {
    expect(js('file("hello.txt")')).toBe("Hello World");
    expect(js('fileexists("hello.txt")')).toBe(true);
    expect(js('fileexists("nope.txt")')).toBe(false);
    expect(err('file("nope.txt")')).toContain("no file exists at nope.txt");
    expect(js('fileset(".", "linux/scripts/*")')).toEqual(["linux/scripts/script-1-install.sh", "linux/scripts/script-2-setup.sh"]);
    expect(js('fileset("linux", "files/{hello,world}.txt")')).toEqual(["files/hello.txt", "files/world.txt"]);
    expect(js('fileset("./linux", "**")')).toEqual(["files/hello.txt", "files/world.txt", "scripts/script-1-install.sh", "scripts/script-2-setup.sh"]);
    expect(js('templatefile("${path.root}/backends.tmpl", { port = 8080, ip_addrs = ["10.0.0.1", "10.0.0.2"] })')).toBe(
      "backend 10.0.0.1:8080\nbackend 10.0.0.2:8080\n",
    );
    expect(js('abspath("a/../b")')).toBe(join(process.cwd(), "b"));
    expect(js('pathexpand("~/x")')).toBe(join(require("node:os").homedir(), "x"));
    expect(js('basename("/a/b/")')).toBe("b");
    expect(js('dirname("foo")')).toBe(".");
  });
});

describe("time", () => {
  test("timestamp uses the clock; formatdate, timeadd, legacy", () => {
    expect(js("timestamp()")).toBe("2021-04-19T10:11:12Z");
    expect(js('timeadd("2017-11-22T00:00:00Z", "1h30m")')).toBe("2017-11-22T01:30:00Z");
    expect(js('legacy_isotime("2006-01-02 15:04:05 MST")')).toBe("2021-04-19 10:11:12 UTC");
    expect(js('legacy_strftime("%Y-%m-%dT%H:%M:%S %a %j")')).toBe("2021-04-19T10:11:12 Mon 109");
    expect(err('formatdate("YYYY", "nope")')).toContain("RFC3339");
  });
});

describe("ip networks", () => {
  test("v4 and v6", () => {
    expect(js('cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)')).toBe("fd00:fd12:3456:7800:a200::/72");
    expect(js('cidrhost("10.12.112.0/20", -1)')).toBe("10.12.127.255");
    expect(js('cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)')).toEqual(["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]);
    expect(err('cidrnetmask("::/64")')).toContain("IPv6");
  });
});

describe("conversion, try/can, contextual", () => {
  test("try and can", () => {
    expect(js('try(local.foo.nope, "fallback")')).toBe("fallback");
    expect(js("can(local.foo.bar)")).toBe(true);
    expect(err("try(local.foo.nope, local.foo.x)")).toContain("no expression succeeded");
  });
  test("convert and to*", () => {
    expect(js('convert({a = 1}, map(string))')).toEqual({ a: "1" });
    expect(js('tolist(["a", 1])')).toEqual(["a", "1"]);
    expect(err('tonumber("x")')).toContain("Invalid function argument");
  });
  test("env and unsupported functions", () => {
    expect(js('env("HOME_TEST")')).toBe("x");
    expect(js('env("UNSET_X")')).toBe("");
    expect(err('vault("secret/x", "y")')).toContain("not supported by imgb");
    expect(err('consul_key("x")')).toContain("not supported by imgb");
    expect(err('aws_secretsmanager("x", "y")')).toContain("not supported by imgb");
  });
  test("marks survive function calls", () => {
    const c = ctx().child({ secret: V.string("pw").mark("sensitive") });
    const p = parseExpression('upper("${secret}-x")', "t.hcl");
    const r = p.expr.evaluate(c);
    expect(r.value.str).toBe("PW-X");
    expect(r.value.hasMark("sensitive")).toBe(true);
  });
  test("unknown arguments give unknown results", () => {
    const c = ctx().child({ u: V.unknown() });
    const r = parseExpression("upper(u)", "t.hcl").expr.evaluate(c);
    expect(r.diagnostics).toEqual([]);
    expect(r.value.isKnown).toBe(false);
  });
});

describe("coverage of Packer's function list", () => {
  test("every documented function exists", () => {
    const { readdirSync, readFileSync: rf } = require("node:fs") as typeof import("node:fs");
    const base = `${CORPUS}/packer-docs/website/content/docs/templates/hcl_templates/functions`;
    const names: string[] = [];
    for (const dir of readdirSync(base, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      for (const f of readdirSync(`${base}/${dir.name}`)) {
        const m = /^# `([a-z_0-9]+)` Function/m.exec(rf(`${base}/${dir.name}/${f}`, "utf8"));
        if (m) names.push(m[1]!);
      }
    }
    expect(names.length).toBeGreaterThan(85);
    const table = standardFunctions({ baseDir: "/tmp" });
    expect(names.filter((n) => !(n in table))).toEqual([]);
  });
});
