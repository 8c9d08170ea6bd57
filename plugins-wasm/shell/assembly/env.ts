// The environment Packer's shell provisioner gives a script: PACKER_BUILD_NAME, PACKER_BUILDER_TYPE,
// the builder's HTTP server address when it has one, then environment_vars, then env (env wins on a
// duplicate key), sorted by key and each printed with env_var_format.
import { Build, Json, JsonKind, sortedStrings, sprintf2 } from "../../sdk/assembly/sdk";

/** Packer replaces ' with '"'"' so a value survives the '%s' of the default format. */
function escapeValue(v: string): string {
  return v.replaceAll("'", "'\"'\"'");
}

class EnvVars {
  keys: Array<string> = new Array<string>();
  values: Map<string, string> = new Map<string, string>();
  put(k: string, v: string): void {
    if (!this.values.has(k)) this.keys.push(k);
    this.values.set(k, escapeValue(v));
  }
}

/** generated values the builder marks as "not implemented" (Packer's HttpAddrNotImplemented etc.). */
function httpValue(generated: Json, key: string): string | null {
  const v = generated.get(key);
  if (v === null || v.kind != JsonKind.String) return null;
  if (v.s.length == 0 || v.s.startsWith("ERR_HTTP_")) return null;
  return v.s;
}

export function flattenEnvVars(c: Json, build: Build): string {
  const env = new EnvVars();
  // Packer 1.6.6 sets PACKER_BUILD_NAME to the source name (`a`, not `mybuild.null.a`).
  env.put("PACKER_BUILD_NAME", build.sourceName);
  env.put("PACKER_BUILDER_TYPE", build.builderType);
  const generated = build.generated;
  const addr = httpValue(generated, "PackerHTTPAddr");
  if (addr !== null) env.put("PACKER_HTTP_ADDR", addr);
  const ip = httpValue(generated, "PackerHTTPIP");
  if (ip !== null) env.put("PACKER_HTTP_IP", ip);
  const port = httpValue(generated, "PackerHTTPPort");
  if (port !== null) env.put("PACKER_HTTP_PORT", port);

  const vars = c.getStringList("environment_vars");
  if (vars !== null) {
    for (let i = 0; i < vars.length; i++) {
      const eq = vars[i].indexOf("=");
      if (eq <= 0) continue;
      env.put(vars[i].substring(0, eq), vars[i].substring(eq + 1));
    }
  }
  const map = c.getObject("env");
  if (map !== null) {
    for (let i = 0; i < map.keys.length; i++) {
      const k = map.keys[i];
      const v = map.values.get(k);
      env.put(k, v.kind == JsonKind.String ? v.s : v.stringify());
    }
  }
  const sorted = sortedStrings(env.keys);
  const format = c.getString("env_var_format", "%s='%s' ");
  const parts = new Array<string>();
  for (let i = 0; i < sorted.length; i++) parts.push(sprintf2(format, sorted[i], env.values.get(sorted[i])));
  return parts.join("");
}
