// The parts of a legacy JSON template the upgrader rewrites, read the way Packer's template parser
// reads them: builder names default to their type, special keys are taken out of component
// configs, post-processors become chains, durations are parsed (and printed back Go-style).
import { isJsonObject, type JsonObject, type JsonValue } from "../../../values/json.ts";
import { formatGoDuration, parseGoDuration } from "../../../values/go-duration.ts";

export interface UpgradeVariable {
  key: string;
  default: string;
  required: boolean;
}

export interface UpgradeBuilder {
  type: string;
  name: string;
  config: JsonObject;
}

export interface UpgradeProvisioner {
  type: string;
  config: JsonObject;
  only: string[];
  except: string[];
  maxRetries: string;
  timeout?: string;
  pauseBefore?: string;
}

export interface UpgradePostProcessor {
  type: string;
  name: string;
  keepInputArtifact?: boolean;
  only: string[];
  except: string[];
  config: JsonObject;
}

export interface UpgradeTemplate {
  raw: string;
  description: string;
  minVersion: string;
  variables: Map<string, UpgradeVariable>;
  sensitive: Set<string>;
  builders: UpgradeBuilder[];
  provisioners: UpgradeProvisioner[];
  cleanupProvisioner?: UpgradeProvisioner;
  postProcessors: UpgradePostProcessor[][];
}

export class UpgradeParseError extends Error {}

export function readUpgradeTemplate(raw: string): UpgradeTemplate {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new UpgradeParseError(`Failed to parse template: ${(e as Error).message}`);
  }
  if (!isJsonObject(json)) throw new UpgradeParseError("Failed to parse template: the template must be a JSON object");
  const t: UpgradeTemplate = {
    raw,
    description: str(json.description),
    minVersion: str(json.min_packer_version),
    variables: new Map(),
    sensitive: new Set(strings(json["sensitive-variables"])),
    builders: [],
    provisioners: [],
    postProcessors: [],
  };
  if (isJsonObject(json.variables)) {
    for (const [key, v] of Object.entries(json.variables)) {
      t.variables.set(key, { key, default: v === null ? "" : weakString(v), required: v === null });
    }
  }
  const names = new Set<string>();
  for (const b of array(json.builders)) {
    if (!isJsonObject(b)) throw new UpgradeParseError("builder must be an object");
    const type = str(b.type);
    if (!type) throw new UpgradeParseError("builder: missing 'type'");
    const name = str(b.name) || type;
    if (names.has(name)) throw new UpgradeParseError(`builder: duplicate name ${JSON.stringify(name)}`);
    names.add(name);
    t.builders.push({ type, name, config: without(b, ["type", "name"]) });
  }
  for (const p of array(json.provisioners)) t.provisioners.push(provisioner(p));
  if (json["error-cleanup-provisioner"] !== undefined) t.cleanupProvisioner = provisioner(json["error-cleanup-provisioner"]);
  for (const chain of array(json["post-processors"])) {
    const list = Array.isArray(chain) ? chain : [chain];
    t.postProcessors.push(list.map(postProcessor));
  }
  return t;
}

function provisioner(p: JsonValue | undefined): UpgradeProvisioner {
  if (!isJsonObject(p)) throw new UpgradeParseError("provisioner must be an object");
  const type = str(p.type);
  if (!type) throw new UpgradeParseError("provisioner: missing 'type'");
  const out: UpgradeProvisioner = {
    type,
    config: without(p, ["except", "only", "override", "pause_before", "max_retries", "type", "timeout"]),
    only: strings(p.only),
    except: strings(p.except),
    maxRetries: p.max_retries === undefined ? "" : weakString(p.max_retries),
  };
  const timeout = duration(p.timeout, "timeout");
  if (timeout) out.timeout = timeout;
  const pause = duration(p.pause_before, "pause_before");
  if (pause) out.pauseBefore = pause;
  return out;
}

function postProcessor(p: JsonValue): UpgradePostProcessor {
  if (typeof p === "string") return { type: p, name: "", only: [], except: [], config: {} };
  if (!isJsonObject(p)) throw new UpgradeParseError("post-processor must be a string or an object");
  const type = str(p.type);
  if (!type) throw new UpgradeParseError("post-processor: missing 'type'");
  const out: UpgradePostProcessor = {
    type,
    name: str(p.name),
    only: strings(p.only),
    except: strings(p.except),
    config: without(p, ["except", "only", "keep_input_artifact", "type", "name"]),
  };
  if (typeof p.keep_input_artifact === "boolean") out.keepInputArtifact = p.keep_input_artifact;
  return out;
}

/** Go's Duration.String() of a positive duration, or undefined for none/zero. */
function duration(v: JsonValue | undefined, what: string): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const d = parseGoDuration(String(v));
  if (!d.ok) throw new UpgradeParseError(`${what}: ${d.error}`);
  return d.ms > 0 ? formatGoDuration(d.ms) : undefined;
}

function without(o: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (!keys.includes(k)) out[k] = v;
  return out;
}

const str = (v: JsonValue | undefined): string => (typeof v === "string" ? v : "");
const array = (v: JsonValue | undefined): JsonValue[] => (Array.isArray(v) ? v : []);
const strings = (v: JsonValue | undefined): string[] => array(v).map((x) => weakString(x));

/** mapstructure's weak string decoding: numbers as Go prints them, bools as 1/0. */
function weakString(v: JsonValue): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "number") return String(v);
  return JSON.stringify(v);
}
