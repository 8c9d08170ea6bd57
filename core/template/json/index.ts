// Legacy JSON templates (Packer's format): the loader and the pieces other parts reuse.
export { loadJsonTemplate, loadJsonTemplateText, type JsonLoaderOverrides } from "./loader.ts";
export { JsonConfigBody, TemplateEnv } from "./config-body.ts";
export { parseGoDuration, formatGoDuration, type DurationResult } from "../../values/go-duration.ts";
export {
  parseJson,
  toJsonValue,
  collectDuplicates,
  stringValueOffset,
  type JsonNode,
  type JsonObjectNode,
  type JsonArrayNode,
  type JsonStringNode,
  type JsonMember,
  type JsonSyntaxError,
  type JsonParseResult,
} from "./positioned-json.ts";
export { SourceFile } from "../../source/source-file.ts";
export { jsonSyntaxDiagnostic, packerErrorLocation, goSyntaxOffset } from "./syntax-error.ts";
export { parseVersion, compareVersions, skipFor } from "./validate.ts";
export { decodeRawTemplate, type RawTemplate } from "./raw-template.ts";
export { parseVarFile, readVarFile } from "./var-file.ts";
