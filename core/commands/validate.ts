// `imgb validate`: the same checks `build` makes before starting, and nothing more.
import { DiagnosticsError, UserError, hasErrors } from "../errors/diagnostic.ts";
import { trapInterrupts } from "../process/interrupts.ts";
import { loadTemplate } from "../template/load.ts";
import { pluginDataSources } from "../packer-plugin/lazy-runtime.ts";
import { validateTemplate } from "../engine/validate.ts";
import { renderDiagnostics } from "../ui/diagnostics.ts";
import { maskSecrets } from "../ui/secrets.ts";
import { openCatalog, reportPrepareCount } from "./catalog.ts";
import { allowedPathsLine, resolveAllowedPaths } from "./allow-paths.ts";

export interface ValidateOptions {
  template: string;
  vars: Array<[string, string]>;
  varFiles: string[];
  only: string[];
  except: string[];
  syntaxOnly: boolean;
  /** -evaluate-datasources: run data sources (by default, as in Packer 1.9, they are configured but not run). */
  evaluateDatasources?: boolean;
  /** -allow-path folders, as typed. */
  allowPaths: string[];
}

/**
 * Ctrl-C ends validation at once: the native plugins being started or asked are killed (they ignore
 * SIGINT), the sandboxes too, and the command says it was cancelled.
 */
export async function validateCommand(opts: ValidateOptions): Promise<number> {
  let cancelledBy: string | undefined;
  let catalog: { closeAll(): Promise<void> } | undefined;
  const interrupts = trapInterrupts(
    (why) => {
      cancelledBy = why;
      process.stderr.write(`Cancelling validation after receiving ${why}\n`);
      void catalog?.closeAll();
    },
    () => process.exit(1),
  );
  try {
    return await validateTrapped(opts, (c) => (catalog = c), () => cancelledBy);
  } finally {
    interrupts.dispose();
  }
}

async function validateTrapped(opts: ValidateOptions, opened: (catalog: { closeAll(): Promise<void> }) => void, cancelled: () => string | undefined): Promise<number> {
  const template = await loadTemplate(opts.template, { vars: opts.vars, varFiles: opts.varFiles, env: process.env, syntaxOnly: opts.syntaxOnly, externalDataSources: pluginDataSources(opts.evaluateDatasources === true) });
  if (opts.syntaxOnly) {
    process.stdout.write("Syntax-only check passed. Everything looks okay.\n");
    return 0;
  }
  const allowed = resolveAllowedPaths(opts.allowPaths);
  if (allowed.length) process.stderr.write(`${allowedPathsLine(allowed)}\n`);
  const catalog = await openCatalog(template.dir, allowed);
  opened(catalog);
  try {
    const { diagnostics: diags } = await validateTemplate(template, catalog, opts);
    // What failed because it was killed is not worth listing: the user stopped it.
    const why = cancelled();
    if (why) throw new UserError(`validation cancelled: received ${why}`);
    process.stderr.write(renderDiagnostics(diags.filter((d) => d.severity === "warning"), maskSecrets));
    if (hasErrors(diags)) throw new DiagnosticsError(diags.filter((d) => d.severity === "error"));
    process.stdout.write("The configuration is valid.\n");
    return 0;
  } finally {
    await catalog.closeAll();
    reportPrepareCount();
  }
}
