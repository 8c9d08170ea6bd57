// `imgb build`: load, validate everything before anything starts, then run the builds.
import type { OnErrorMode } from "../builders/types.ts";
import { hasErrors, UserError } from "../errors/diagnostic.ts";
import { selectBuilds } from "../engine/plan.ts";
import { UNDECLARED_VARIABLE_SUMMARY } from "../template/hcl2/index.ts";
import { loadTemplate } from "../template/load.ts";
import { pluginDataSources } from "../packer-plugin/lazy-runtime.ts";
import { validateTemplate } from "../engine/validate.ts";
import { runBuilds } from "../engine/run.ts";
import { ComponentPipeline } from "../engine/components.ts";
import { renderDiagnostics } from "../ui/diagnostics.ts";
import { openCatalog, reportPrepareCount } from "./catalog.ts";
import { allowedPathsLine, resolveAllowedPaths } from "./allow-paths.ts";
import { makeOutput, type UiFlags } from "./output-options.ts";
import { trapInterrupts } from "../process/interrupts.ts";

export interface BuildCommandOptions extends UiFlags {
  template: string;
  vars: Array<[string, string]>;
  varFiles: string[];
  only: string[];
  except: string[];
  parallelBuilds: number;
  onError: OnErrorMode;
  force: boolean;
  /** -allow-path folders, as typed. */
  allowPaths: string[];
}

/** What the interrupt handlers reach: set as the command gets that far. */
interface Running {
  out?: { plain(line: string): void };
  catalog?: { closeAll(): Promise<void> };
  cancelledBy?: string;
}

/**
 * Ctrl-C is trapped from the start: during loading and validation it kills the native plugins being
 * started or asked (they ignore SIGINT) and ends the command with "cancelled"; during the builds it
 * cancels them, and their cleanups run; a second one stops waiting for cleanups.
 */
export async function buildCommand(opts: BuildCommandOptions): Promise<number> {
  const running: Running = {};
  const interrupts = trapInterrupts(
    (why) => {
      running.cancelledBy = why;
      const line = `Cancelling build after receiving ${why}`;
      if (running.out) running.out.plain(line);
      else process.stdout.write(`${line}\n`);
    },
    () => {
      // Second interrupt: stop waiting for cleanups, but still kill every sandbox and local process.
      void (running.catalog?.closeAll() ?? Promise.resolve()).finally(() => process.exit(1));
    },
  );
  try {
    return await buildTrapped(opts, interrupts.signal, running);
  } finally {
    interrupts.dispose();
  }
}

async function buildTrapped(opts: BuildCommandOptions, signal: AbortSignal, running: Running): Promise<number> {
  const write = (s: string) => void process.stdout.write(s);
  const template = await loadTemplate(opts.template, { vars: opts.vars, varFiles: opts.varFiles, env: process.env, externalDataSources: pluginDataSources(true) });
  const out = makeOutput(opts, template.sensitiveValues, write);
  running.out = out;
  // Packer 1.9 fails here for HCL2 (1.6.6 silently built nothing): a filter that selects nothing is a typo.
  if (opts.only.length && selectBuilds(template, opts).length === 0) {
    throw new UserError(`-only=${opts.only.join(",")} matched no build; the template's builds are: ${template.builds.map((b) => b.name).join(", ")}`);
  }
  const allowed = resolveAllowedPaths(opts.allowPaths);
  if (allowed.length) {
    out.plain(`==> ${allowedPathsLine(allowed)}`);
    out.machine("", "allow-path", allowed);
  }
  const catalog = await openCatalog(template.dir, allowed);
  running.catalog = catalog;
  // One pipeline for validation and the builds: a component validation prepared is not prepared again.
  const components = new ComponentPipeline(catalog);
  try {
    // As Packer: builds that fail validation are reported and skipped; the valid ones still run.
    const { diagnostics, invalidBuilds } = await validateTemplate(template, catalog, opts, components);
    // What failed because it was killed is not worth listing: the user stopped it.
    if (signal.aborted) throw new UserError(`build cancelled: received ${running.cancelledBy ?? "a signal"}`);
    // As Packer, values set for undeclared variables are only worth a warning in `validate`.
    const shown = diagnostics.filter((d) => !(d.severity === "warning" && d.summary === UNDECLARED_VARIABLE_SUMMARY));
    process.stderr.write(renderDiagnostics(shown, (s) => out.mask(s)));
    const runnable = selectBuilds(template, opts).filter((b) => !invalidBuilds.has(b.name));
    if (hasErrors(diagnostics) && runnable.length === 0) return 1;

    const result = await runBuilds({
      template,
      catalog,
      out,
      write,
      color: opts.color,
      parallel: opts.parallelBuilds,
      onError: opts.onError,
      force: opts.force,
      only: opts.only,
      except: opts.except,
      skip: invalidBuilds,
      signal,
      components,
    });
    return hasErrors(diagnostics) ? 1 : result.exitCode;
  } finally {
    await components.closeAll();
    await catalog.closeAll();
    reportPrepareCount();
  }
}
