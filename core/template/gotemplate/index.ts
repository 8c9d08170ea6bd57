// The Go text/template interpolation engine as Packer uses it for legacy JSON templates.
export {
  renderTemplate,
  renderString,
  checkTemplate,
  parseCached,
  isPlainText,
  referencedUserVariables,
  templateErrorDiagnostic,
  textLocator,
  type TemplateData,
  type OffsetLocator,
} from "./render.ts";
export { type TemplateContext, INIT_TIME, timeOrderedUuid, goReplace, cleanResourceName } from "./packer-funcs.ts";
export { goFormatTime, RFC3339 } from "./go-time.ts";
export { TemplateError } from "./errors.ts";
export { contextForBuild, userVariableStrings, type TemplateFacts } from "./build-context.ts";
