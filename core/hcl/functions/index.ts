// Packer's HCL2 function library. standardFunctions() returns the table to put in an EvalContext;
// file functions resolve relative paths against `baseDir`.
import type { HclFunction } from "../context.ts";
import { T } from "../types.ts";
import { V } from "../value.ts";
import { collectionFunctions } from "./collection.ts";
import { conversionFunctions } from "./conversion.ts";
import { dateTimeFunctions } from "./datetime.ts";
import { encodingFunctions } from "./encoding.ts";
import { fileFunctions } from "./file.ts";
import { FunctionError, fn, p } from "./helpers.ts";
import { ipnetFunctions } from "./ipnet.ts";
import { numericFunctions } from "./numeric.ts";
import { stringFunctions } from "./string.ts";

export interface FunctionOptions {
  /** Folder relative paths in file functions resolve against (the template's folder). */
  baseDir: string;
  /** Environment for env(); default process.env. */
  env?: Record<string, string | undefined>;
  /** Clock for timestamp() and the legacy time functions; default the real clock. */
  now?: () => Date;
}

/** Functions Packer has that need services imgb does not talk to. */
export const UNSUPPORTED_FUNCTIONS = ["aws_secretsmanager", "aws_secretsmanager_raw", "consul_key", "vault"];

function unsupported(name: string): HclFunction {
  return fn(
    [],
    () => {
      throw new FunctionError(`the ${name} function is not supported by imgb`);
    },
    { varParam: p("args", T.dynamic, { allowNull: true }) },
  );
}

/** env(name): the variable's value, or "" when unset (Packer allows it only in variable defaults). */
export function envFunction(env: Record<string, string | undefined>): HclFunction {
  return fn([p("key", T.string)], ([k]) => V.string(env[k!.str] ?? ""));
}

export function standardFunctions(opts: FunctionOptions): Record<string, HclFunction> {
  const table: Record<string, HclFunction> = {
    ...stringFunctions,
    ...collectionFunctions,
    ...numericFunctions,
    ...encodingFunctions,
    ...ipnetFunctions,
    ...conversionFunctions,
    ...dateTimeFunctions(opts.now ?? (() => new Date())),
  };
  Object.assign(
    table,
    fileFunctions({
      baseDir: opts.baseDir,
      templateFunctions: () => table,
    }),
  );
  table.env = envFunction(opts.env ?? process.env);
  for (const n of UNSUPPORTED_FUNCTIONS) table[n] = unsupported(n);
  return table;
}

export { FunctionError };
