// Public API of imgb's HCL implementation. Other folders import from here only.
export type { Pos, SourceRange, Diagnostic } from "../errors/diagnostic.ts";
export { parseHcl, parseExpression, parseTemplate, type HclFile } from "./parse.ts";
export type {
  Body,
  BodySchema,
  BodyContent,
  Attribute,
  Block,
  AttributeSchema,
  BlockHeaderSchema,
  Expression,
  EvalResult,
} from "./body.ts";
export { traversalString, type Traversal, type TraverseStep } from "./ast.ts";
export { EvalContext, FunctionError, type HclFunction, type FuncParam } from "./context.ts";
export { Value, V, UNKNOWN, rawEquals, valueEquals, fromJson, toJson, toJsonLoose, toJsonWithUnknown, containsUnknown, deepMarks, unmarkDeep } from "./value.ts";
export { T, type Type, typeEquals, typeString, friendlyName, hasDynamic } from "./types.ts";
export { Num } from "./num.ts";
export { convert, tryConvert, unify, ConversionError, conversionMessage } from "./convert.ts";
export { callFunction } from "./eval.ts";
export { lexConfig, type Token, type TokenType } from "./lexer.ts";
export { parseHclJson, JsonBody, JsonExpression } from "./json.ts";
export { NativeBody, NativeExpression, bodyItems } from "./body.ts";
export { parseTypeExpr, parseTypeString } from "./typeexpr.ts";
export {
  decodeSpec,
  decodeSpecPartial,
  decodeBody,
  schemaToSpec,
  impliedSchema,
  impliedType,
  type Spec,
  type DecodeSchema,
} from "./decoder.ts";
export { standardFunctions, envFunction, UNSUPPORTED_FUNCTIONS, type FunctionOptions } from "./functions/index.ts";
export type { LazyArg } from "./context.ts";
export { formatHcl, checkAndFormat, formatTokensOf } from "./format.ts";
export { expandDynamicBlocks, dynamicBlockVariables } from "./dynblock.ts";
export { HclWriter, WriterBody, renderValue } from "./writer.ts";
export { quoteString, goQuote } from "./text.ts";
