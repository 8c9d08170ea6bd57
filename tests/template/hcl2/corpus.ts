// Shared helpers for the HCL2 loader tests: where Packer's fixtures live and a stub component set
// like the one upstream's hcl2template tests register.
import { join } from "node:path";
import type { ConfigSchema } from "../../../core/config/schema.ts";
import type { Template } from "../../../core/template/model.ts";
import type { Diagnostic } from "../../../core/errors/diagnostic.ts";

export const FIXTURES = "/work/shared/corpus/packer-fixtures";
export const EXPECTATIONS = join(FIXTURES, "EXPECTATIONS");

/** Component types upstream's harness registers (hcl2template/common_test.go). */
export const STUBS = {
  // amazon-v3-ebs: init/imports names the ebs builder through a required_plugins alias.
  builders: new Set(["amazon-ebs", "virtualbox-iso", "null", "amazon-v3-ebs"]),
  provisioners: new Set(["shell", "file"]),
  postProcessors: new Set(["amazon-import", "manifest"]),
};

/** The stubs accept anything; the point is that every body evaluates for a build. */
export const PERMISSIVE: ConfigSchema = { fields: [], allowUnknown: true };

/**
 * What `packer validate` would add on top of the loader for the stub set: unknown component types,
 * and every body decoded for every build (with placeholders for build.*).
 */
export function checkAgainstStubs(t: Template): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const b of t.builds) {
    const ctx = { buildName: b.name, sourceName: b.sourceName, builderType: b.builderType, generated: {}, placeholders: true };
    if (!STUBS.builders.has(b.builderType)) out.push({ severity: "error", summary: `Unknown builder ${b.builderType}` });
    out.push(...b.builder.decode(ctx, PERMISSIVE).diagnostics);
    for (const p of [...b.provisioners, ...(b.errorCleanupProvisioner ? [b.errorCleanupProvisioner] : [])]) {
      if (!STUBS.provisioners.has(p.type)) out.push({ severity: "error", summary: `Unknown provisioner ${p.type}` });
      out.push(...p.config.decode(ctx, PERMISSIVE).diagnostics);
    }
    for (const pp of b.postProcessors.flat()) {
      if (!STUBS.postProcessors.has(pp.type)) out.push({ severity: "error", summary: `Unknown post-processor ${pp.type}` });
      out.push(...pp.config.decode(ctx, PERMISSIVE).diagnostics);
    }
  }
  return out.filter((d) => d.severity === "error");
}
