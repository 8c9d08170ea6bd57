// `imgb inspect` as public templates and their scripts use it: Packer's layout, -machine-readable
// records, no variable needs a value, unknown component and data source types shown, not fatal.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runImgb } from "../support/binary.ts";

const dir = mkdtempSync(join(tmpdir(), "imgb-inspect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// awslabs/amazon-eks-ami (JSON era): required variables, a sensitive one, an amazon-ebs builder
// imgb does not ship, and a Makefile that greps `template-variable` from -machine-readable.
writeFileSync(
  join(dir, "eks.json"),
  JSON.stringify({
    description: "EKS node",
    variables: { region: null, instance_type: "m5.large", aws_secret: "s3cr3t", ami_name: "eks-{{user `instance_type`}}" },
    "sensitive-variables": ["aws_secret"],
    builders: [{ type: "amazon-ebs", name: "aws-{{user `region`}}" }, { type: "null", communicator: "none" }],
    provisioners: [{ type: "shell", inline: ["x"] }, { type: "ansible", playbook_file: "p.yml" }],
  }),
);

// chef/bento / HashiCorp tutorial (HCL2): a required variable, a data source of a plugin imgb does
// not have, a local built from it, a named build with a provisioner name and a post-processor chain.
mkdirSync(join(dir, "hcl"));
writeFileSync(
  join(dir, "hcl", "t.pkr.hcl"),
  `
variable "region" { type = string }
variable "size" {
  type    = number
  default = 3
}
variable "password" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
data "amazon-ami" "ubuntu" {
  region  = var.region
  filters = { name = "ubuntu/*" }
  owners  = ["099720109477"]
}
locals { ami = data.amazon-ami.ubuntu.id }
source "amazon-ebs" "u" {
  region     = var.region
  source_ami = local.ami
}
source "null" "n" { communicator = "none" }
build {
  name    = "golden"
  sources = ["source.amazon-ebs.u", "source.null.n"]
  provisioner "shell" {
    name   = "setup"
    inline = ["echo"]
  }
  post-processors {
    post-processor "manifest" {}
    post-processor "checksum" { checksum_types = ["sha256"] }
  }
}
`,
);

describe("JSON", () => {
  test("required variables listed, not demanded; unknown builder shown; Packer's layout", async () => {
    const r = await runImgb(["inspect", "eks.json"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toStartWith("Packer Inspect: JSON mode\nDescription:\n\nEKS node\n\nRequired variables:\n\n  region\n\nOptional variables and their defaults:\n\n");
    expect(r.stdout).toContain("  ami_name      = eks-{{user `instance_type`}}\n  aws_secret    = <sensitive>\n  instance_type = m5.large\n");
    expect(r.stdout).toContain("Builders:\n\n  aws-{{user `region`}} (amazon-ebs)\n  null                 \n");
    expect(r.stdout).toContain("Provisioners:\n\n  shell\n  ansible\n");
  });

  test("-machine-readable: template-variable records as amazon-eks-ami's Makefile greps them", async () => {
    const r = await runImgb(["inspect", "-machine-readable", "eks.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const records = r.stdout.trim().split("\n").map((l) => l.split(",").slice(1));
    expect(records).toContainEqual(["", "template-variable", "region", "", "1"]);
    expect(records).toContainEqual(["", "template-variable", "instance_type", "m5.large", "0"]);
    expect(records).toContainEqual(["", "template-variable", "aws_secret", "<sensitive>", "0"]);
    expect(records).toContainEqual(["", "template-builder", "aws-{{user `region`}}", "amazon-ebs"]);
    expect(records).toContainEqual(["", "template-provisioner", "ansible"]);
    expect(records).toContainEqual(["", "ui", "say", "Packer Inspect: JSON mode"]);
    expect(r.stdout).toContain("timestamp'%!(PACKER_COMMA) these are processed");
    for (const l of r.stdout.trim().split("\n")) expect(l).toMatch(/^\d+,/);
    expect(r.stdout).not.toContain("s3cr3t");
  });
});

describe("HCL2", () => {
  test("unset variables and data sources are <unknown>; unknown types shown; sensitive hidden", async () => {
    const r = await runImgb(["inspect", "hcl"], { cwd: dir, env: { PACKER_PLUGIN_PATH: dir, PACKER_CONFIG_DIR: dir } });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      [
        "Packer Inspect: HCL2 mode",
        "",
        "> input-variables:",
        "",
        'var.password: "<sensitive>"',
        'var.region: "<unknown>"',
        'var.size: "3"',
        "",
        "> local-variables:",
        "",
        'local.ami: "<unknown>"',
        "",
        "> builds:",
        "",
        "  > golden:",
        "",
        "    sources:",
        "",
        "      amazon-ebs.u",
        "",
        "      null.n",
        "",
        "    provisioners:",
        "",
        "      shell.setup",
        "",
        "    post-processors:",
        "",
        "      0:",
        "        manifest",
        "        checksum",
        "",
        "",
        // After Packer's layout: what imgb lacks, and whether a Packer plugin would run it.
        "Builders imgb does not have:",
        "",
        "  amazon-ebs: unknown builder: no imgb builder and no Packer plugin serves it",
        "",
      ].join("\n"),
    );
    const set = await runImgb(["inspect", "-var", "region=eu-west-1", "hcl"], { cwd: dir });
    expect(set.stdout).toContain('var.region: "eu-west-1"');
  });

  test("-machine-readable: ui,say records with escaped newlines, secrets never printed", async () => {
    const r = await runImgb(["inspect", "-machine-readable", "hcl"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toMatch(/^\d+,,ui,say,Packer Inspect: HCL2 mode\\n$/);
    expect(lines[1]).toContain('var.region: "<unknown>"\\nvar.size: "3"');
    expect(r.stdout).not.toContain("hunter2");
  });
});

describe("required_version", () => {
  // 5 public templates ask for Packer >= 1.10/1.11/1.15 (e.g. chef/bento's packer {} block).
  test("a newer required_version is accepted with a warning; an older-only one is refused", async () => {
    const d = join(dir, "newer");
    mkdirSync(d);
    writeFileSync(join(d, "t.pkr.hcl"), 'packer { required_version = ">= 1.11.0" }\nsource "null" "n" { communicator = "none" }\nbuild { sources = ["source.null.n"] }\n');
    const r = await runImgb(["validate", "."], { cwd: d });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("Template asks for a newer Packer");
    expect(r.stderr).toContain('required_version ">= 1.11.0" is not met by Packer 1.9.5');

    writeFileSync(join(d, "t.pkr.hcl"), 'packer { required_version = "< 1.7.0" }\nsource "null" "n" { communicator = "none" }\nbuild { sources = ["source.null.n"] }\n');
    const old = await runImgb(["validate", "."], { cwd: d });
    expect(old.exitCode).toBe(1);
    expect(old.stderr).toContain("Unsupported Packer Core version");
  });

  test("JSON min_packer_version newer than 1.9.5: a warning", async () => {
    writeFileSync(join(dir, "min.json"), JSON.stringify({ min_packer_version: "1.10.0", builders: [{ type: "null", communicator: "none" }] }));
    const r = await runImgb(["validate", "min.json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('min_packer_version "1.10.0" is not met by Packer 1.9.5');
  });
});

describe("templates only a full run can resolve", () => {
  test("sources chosen by unset variables (gusztavvargadr/packer), undeclared sources (Packer's inspect fixture), a packer-block-only file (image-builder's config.pkr.hcl)", async () => {
    const d = join(dir, "chosen");
    mkdirSync(d);
    writeFileSync(
      join(d, "t.pkr.hcl"),
      `variable "provider" { type = string }
locals { sources = { qemu = "source.qemu.core" } }
source "null" "core" { communicator = "none" }
build {
  name    = "native"
  sources = compact([lookup(local.sources, var.provider, "")])
}
build {
  name    = "elsewhere"
  sources = ["source.amazon-ebs.declared-in-another-folder"]
}
`,
    );
    const r = await runImgb(["inspect", "."], { cwd: d });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("  > native:\n\n    sources:\n\n      <unknown>\n");
    expect(r.stdout).toContain("  > elsewhere:\n\n    sources:\n\n      amazon-ebs.declared-in-another-folder\n");
    const v = await runImgb(["validate", "-var", "provider=qemu", "."], { cwd: d });
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toContain("Unknown source");

    const p = join(dir, "plugins-only");
    mkdirSync(p);
    writeFileSync(join(p, "config.pkr.hcl"), 'packer {\n  required_plugins {\n    qemu = {\n      version = ">= 1.0.0"\n      source  = "github.com/hashicorp/qemu"\n    }\n  }\n}\n');
    const only = await runImgb(["inspect", "config.pkr.hcl"], { cwd: p });
    expect(only.exitCode).toBe(0);
    expect(only.stdout).toContain("> builds:\n");
  });
});
