// Generates the legacy JSON templates the spine benchmarks run through both imgb and packer.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "bench/out/spine";
mkdirSync(dir, { recursive: true });

const builders = ["one", "two", "three"].map((name) => ({ type: "null", name, communicator: "none" }));
const provisioners = Array.from({ length: 30 }, (_, i) => ({ type: "shell-local", inline: [`echo provisioner ${i}`] }));
writeFileSync(join(dir, "validate-3x30.json"), JSON.stringify({ builders, provisioners }, null, 2));

const build20 = {
  builders: [{ type: "null", communicator: "none" }],
  provisioners: Array.from({ length: 20 }, (_, i) => ({ type: "shell-local", inline: [`echo step ${i}`] })),
};
writeFileSync(join(dir, "build-20-shell-local.json"), JSON.stringify(build20, null, 2));
// The same 3 x 30 as HCL2, for the HCL parse + validate comparison.
const hcl = [
  ...["one", "two", "three"].map((n) => `source "null" "${n}" {\n  communicator = "none"\n}\n`),
  `build {\n  sources = ["source.null.one", "source.null.two", "source.null.three"]\n`,
  ...Array.from({ length: 30 }, (_, i) => `  provisioner "shell-local" {\n    inline = ["echo provisioner ${i}"]\n  }\n`),
  "}\n",
].join("\n");
writeFileSync(join(dir, "validate-3x30.pkr.hcl"), hcl);
console.log(dir);
