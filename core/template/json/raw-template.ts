// The parse stage of a legacy JSON template (packer-plugin-sdk template/parse.go): root keys, builders,
// provisioners, post-processors and variables, with Packer's messages but a position on each, and all
// problems collected instead of only the first.
import { errorDiag, type Diagnostic, type SourceRange } from "../../errors/diagnostic.ts";
import { decodeBool, decodeString, decodeStringList, goJsonType, type Decoded } from "./decode-helpers.ts";
import { parseGoDuration } from "../../values/go-duration.ts";
import {
  reportedDuplicates,
  type JsonMember,
  type JsonNode,
  type JsonObjectNode,
  type JsonStringNode,
} from "./positioned-json.ts";
import type { SourceFile } from "../../source/source-file.ts";

export interface RawVariable {
  name: string;
  /** Raw default ("" when required). */
  default: string;
  required: boolean;
  key: JsonStringNode;
  value: JsonNode;
}

export interface OnlyExcept {
  only: string[];
  except: string[];
  onlyNode?: JsonNode;
  exceptNode?: JsonNode;
}

export interface RawBuilder {
  /** 1-based, as in Packer's messages. */
  index: number;
  /** Uninterpolated name (defaults to the type): what only/except/override refer to. */
  name: string;
  type: string;
  node: JsonObjectNode;
  nameNode?: JsonNode;
  config: JsonMember[];
}

export interface RawProvisioner extends OnlyExcept {
  index: number;
  type: string;
  node: JsonObjectNode;
  config: JsonMember[];
  override: Map<string, JsonMember>;
  overrideNode?: JsonObjectNode;
  pauseBeforeMs?: number;
  /** Raw max_retries (interpolated per build, then parsed as an integer). */
  maxRetries?: string;
  maxRetriesNode?: JsonNode;
  timeoutMs?: number;
}

export interface RawPostProcessor extends OnlyExcept {
  chain: number;
  index: number;
  type: string;
  /** `name`, defaulting to the type (Packer's PName). */
  name: string;
  keepInputArtifact?: boolean;
  node: JsonNode;
  config: JsonMember[];
}

export interface RawTemplate {
  root: JsonObjectNode;
  description?: string;
  minVersion?: string;
  minVersionNode?: JsonNode;
  variables: RawVariable[];
  sensitiveVariables: string[];
  builders: RawBuilder[];
  provisioners: RawProvisioner[];
  cleanupProvisioner?: RawProvisioner;
  postProcessors: RawPostProcessor[][];
  comments: Record<string, string>;
}

const ROOT_KEYS = [
  "description",
  "min_packer_version",
  "variables",
  "sensitive-variables",
  "builders",
  "provisioners",
  "post-processors",
  "error-cleanup-provisioner",
  // Known to Packer's parser and ignored: Atlas `push` and the `comments` list.
  "push",
  "comments",
] as const;
type RootKey = (typeof ROOT_KEYS)[number];

const PROVISIONER_KEYS = new Set(["type", "only", "except", "override", "pause_before", "max_retries", "timeout"]);
const POST_PROCESSOR_KEYS = new Set(["type", "name", "only", "except", "keep_input_artifact"]);
const BUILDER_KEYS = new Set(["type", "name"]);

export function decodeRawTemplate(src: SourceFile, root: JsonNode): { raw?: RawTemplate; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const at = (node: JsonNode | JsonStringNode): SourceRange => src.range(node.start, node.end);
  const fail = (summary: string, node: JsonNode, detail?: string) => diags.push(errorDiag(summary, at(node), detail));
  const check = <T>(d: Decoded<T>, prefix: string): T | undefined => {
    if (d.ok) return d.value;
    fail(`${prefix}${d.error}`, d.node);
    return undefined;
  };

  const dups = reportedDuplicates(root);
  for (const dup of dups.shown) fail(`template has duplicate field: ${dup.key.value}`, dup.key);
  if (dups.more > 0) diags.push(errorDiag(`template has ${dups.more} more duplicate fields`));

  if (root.kind !== "object") {
    fail(`template must be a JSON object, got '${goJsonType(root)}'`, root);
    return { diagnostics: diags };
  }

  // Root keys: mapstructure matches field names case-insensitively; `_`-prefixed keys are comments.
  const rootMembers = new Map<RootKey, JsonMember>();
  const comments: Record<string, string> = {};
  for (const [key, member] of root.members) {
    const known = ROOT_KEYS.find((k) => k === key) ?? ROOT_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (known) {
      rootMembers.set(known, member);
      continue;
    }
    if (key.startsWith("_")) {
      if (member.value.kind === "string") comments[key] = member.value.value;
      else fail(`Failed to cast root level comment value in comment "${key}" to string.`, member.value);
      continue;
    }
    fail(`Unknown root level key in template: '${key}'`, member.key);
  }

  const raw: RawTemplate = {
    root,
    variables: [],
    sensitiveVariables: [],
    builders: [],
    provisioners: [],
    postProcessors: [],
    comments,
  };

  const push = rootMembers.get("push");
  if (push) diags.push({ severity: "warning", summary: "'push' is no longer supported and is ignored", range: at(push.key) });

  const desc = rootMembers.get("description");
  if (desc) raw.description = check(decodeString(desc.value, "description", false), "");
  const minv = rootMembers.get("min_packer_version");
  if (minv) {
    raw.minVersion = check(decodeString(minv.value, "min_packer_version", false), "");
    raw.minVersionNode = minv.value;
  }

  // variables
  const vars = rootMembers.get("variables");
  if (vars && vars.value.kind !== "null") {
    if (vars.value.kind !== "object") fail(`'variables' expected a map, got '${goJsonType(vars.value)}'`, vars.value);
    else
      for (const [name, m] of vars.value.members) {
        if (m.value.kind === "null") raw.variables.push({ name, default: "", required: true, key: m.key, value: m.value });
        else if (m.value.kind === "string") raw.variables.push({ name, default: m.value.value, required: false, key: m.key, value: m.value });
        else fail(`variable ${name}: expected type 'string', got unconvertible type '${goJsonType(m.value)}'`, m.value);
      }
  }
  const sens = rootMembers.get("sensitive-variables");
  if (sens) raw.sensitiveVariables = check(decodeStringList(sens.value, "sensitive-variables", false), "") ?? [];

  // builders
  const builders = rootMembers.get("builders");
  if (builders && builders.value.kind !== "null") {
    if (builders.value.kind !== "array") fail(`'builders': source data must be an array or slice, got ${goJsonType(builders.value)}`, builders.value);
    else {
      const seen = new Set<string>();
      builders.value.items.forEach((item, i) => {
        const prefix = `builder ${i + 1}: `;
        if (item.kind !== "object") {
          fail(`${prefix}expected a map, got '${goJsonType(item)}'`, item);
          return;
        }
        const typeM = item.members.get("type");
        const nameM = item.members.get("name");
        const type = typeM ? check(decodeString(typeM.value, "type", true), prefix) : "";
        const name = nameM ? check(decodeString(nameM.value, "name", true), prefix) : "";
        if (type === undefined || name === undefined) return;
        if (type === "") {
          fail(`${prefix}missing 'type'`, item);
          return;
        }
        const finalName = name || type;
        if (seen.has(finalName)) {
          fail(`${prefix}builder with name '${finalName}' already exists`, nameM?.value ?? typeM?.value ?? item);
          return;
        }
        seen.add(finalName);
        const b: RawBuilder = { index: i + 1, name: finalName, type, node: item, config: configMembers(item, BUILDER_KEYS) };
        if (nameM) b.nameNode = nameM.value;
        raw.builders.push(b);
      });
    }
  }

  // post-processors: a string or an object is a chain of one; a nested array is one chain.
  const pps = rootMembers.get("post-processors");
  if (pps && pps.value.kind !== "null") {
    if (pps.value.kind !== "array") fail(`'post-processors': source data must be an array or slice, got ${goJsonType(pps.value)}`, pps.value);
    else
      pps.value.items.forEach((item, i) => {
        let elems: JsonNode[];
        if (item.kind === "string" || item.kind === "object") elems = [item];
        else if (item.kind === "array") {
          elems = [];
          let bad = false;
          item.items.forEach((inner, j) => {
            if (inner.kind === "array") {
              fail(`post-processor ${i + 1}.${j + 1}: sequence not allowed to be nested in a sequence`, inner);
              bad = true;
            } else if (inner.kind !== "string" && inner.kind !== "object") {
              fail(`post-processor ${i + 1}.${j + 1}: unknown format`, inner);
              bad = true;
            } else elems.push(inner);
          });
          if (bad) return;
        } else {
          fail(`post-processor ${i + 1}: bad format`, item);
          return;
        }
        const chain: RawPostProcessor[] = [];
        elems.forEach((el, j) => {
          const pp = decodePostProcessor(el, i + 1, j + 1);
          if (pp) chain.push(pp);
        });
        raw.postProcessors.push(chain);
      });
  }

  function decodePostProcessor(el: JsonNode, chain: number, index: number): RawPostProcessor | undefined {
    const prefix = `post-processor ${chain}.${index}: `;
    if (el.kind === "string") {
      if (el.value === "") {
        fail(`${prefix}type is required`, el);
        return undefined;
      }
      return { chain, index, type: el.value, name: el.value, node: el, config: [], only: [], except: [] };
    }
    if (el.kind !== "object") return undefined;
    let ok = true;
    const str = (k: string) => {
      const m = el.members.get(k);
      if (!m) return "";
      const v = check(decodeString(m.value, k, false), prefix);
      if (v === undefined) ok = false;
      return v ?? "";
    };
    const type = str("type");
    const name = str("name");
    const oe = decodeOnlyExcept(el, prefix, false);
    let keep: boolean | undefined;
    const keepM = el.members.get("keep_input_artifact");
    if (keepM && keepM.value.kind !== "null") {
      keep = check(decodeBool(keepM.value, "keep_input_artifact", false), prefix);
      if (keep === undefined) ok = false;
    }
    if (!ok || !oe) return undefined;
    if (type === "") {
      fail(`${prefix}type is required`, el);
      return undefined;
    }
    const pp: RawPostProcessor = { chain, index, type, name: name || type, node: el, config: configMembers(el, POST_PROCESSOR_KEYS), ...oe };
    if (keep !== undefined) pp.keepInputArtifact = keep;
    return pp;
  }

  function decodeOnlyExcept(obj: JsonObjectNode, prefix: string, weak: boolean): OnlyExcept | undefined {
    const out: OnlyExcept = { only: [], except: [] };
    let ok = true;
    for (const k of ["only", "except"] as const) {
      const m = obj.members.get(k);
      if (!m) continue;
      const v = check(decodeStringList(m.value, k, weak), prefix);
      if (v === undefined) ok = false;
      else {
        out[k] = v;
        if (k === "only") out.onlyNode = m.value;
        else out.exceptNode = m.value;
      }
    }
    return ok ? out : undefined;
  }

  function decodeProvisioner(item: JsonNode, index: number, prefix: string): RawProvisioner | undefined {
    if (item.kind !== "object") {
      fail(`${prefix}Error decoding provisioner: expected a map, got '${goJsonType(item)}'`, item);
      return undefined;
    }
    let ok = true;
    const typeM = item.members.get("type");
    const type = typeM ? check(decodeString(typeM.value, "type", true), `${prefix}Error decoding provisioner: `) : "";
    if (type === undefined) ok = false;
    const oe = decodeOnlyExcept(item, `${prefix}Error decoding provisioner: `, true);
    if (!oe) ok = false;
    const p: RawProvisioner = {
      index,
      type: type ?? "",
      node: item,
      config: configMembers(item, PROVISIONER_KEYS),
      override: new Map(),
      ...(oe ?? { only: [], except: [] }),
    };
    const ov = item.members.get("override");
    if (ov && ov.value.kind !== "null") {
      if (ov.value.kind !== "object") {
        fail(`${prefix}Error decoding provisioner: 'override' expected a map, got '${goJsonType(ov.value)}'`, ov.value);
        ok = false;
      } else {
        p.overrideNode = ov.value;
        for (const [name, m] of ov.value.members) {
          if (m.value.kind !== "object" && m.value.kind !== "null") {
            fail(`${prefix}override '${name}' must be an object, got '${goJsonType(m.value)}'`, m.value);
            ok = false;
          } else p.override.set(name, m);
        }
      }
    }
    for (const k of ["pause_before", "timeout"] as const) {
      const m = item.members.get(k);
      if (!m || m.value.kind === "null") continue;
      let ms: number | undefined;
      if (m.value.kind === "number") ms = m.value.value / 1e6; // a bare number is nanoseconds in Go
      else if (m.value.kind === "string") {
        const d = parseGoDuration(m.value.value);
        if (d.ok) ms = d.ms;
        else fail(`${prefix}Error decoding provisioner: error decoding '${k}': ${d.error}`, m.value);
      } else fail(`${prefix}Error decoding provisioner: '${k}' expected type 'time.Duration', got unconvertible type '${goJsonType(m.value)}'`, m.value);
      if (ms === undefined) ok = false;
      else if (k === "pause_before") p.pauseBeforeMs = ms;
      else p.timeoutMs = ms;
    }
    const mr = item.members.get("max_retries");
    if (mr && mr.value.kind !== "null") {
      const v = check(decodeString(mr.value, "max_retries", true), `${prefix}Error decoding provisioner: `);
      if (v === undefined) ok = false;
      else {
        p.maxRetries = v;
        p.maxRetriesNode = mr.value;
      }
    }
    if (!ok) return undefined;
    if (p.type === "") {
      fail(`${prefix}Provisioner missing 'type'`, item);
      return undefined;
    }
    return p;
  }

  const provs = rootMembers.get("provisioners");
  if (provs && provs.value.kind !== "null") {
    if (provs.value.kind !== "array") fail(`'provisioners': source data must be an array or slice, got ${goJsonType(provs.value)}`, provs.value);
    else
      provs.value.items.forEach((item, i) => {
        const p = decodeProvisioner(item, i + 1, `provisioner ${i + 1}: `);
        if (p) raw.provisioners.push(p);
      });
  }
  const cleanup = rootMembers.get("error-cleanup-provisioner");
  if (cleanup && cleanup.value.kind !== "null") {
    const p = decodeProvisioner(cleanup.value, 1, "On Error Cleanup Provisioner error: ");
    if (p) raw.cleanupProvisioner = p;
  }

  return { raw, diagnostics: diags };
}

/** The members of a component object that are its plugin's configuration (special keys removed). */
function configMembers(obj: JsonObjectNode, reserved: Set<string>): JsonMember[] {
  const out: JsonMember[] = [];
  for (const [k, m] of obj.members) if (!reserved.has(k)) out.push(m);
  return out;
}
