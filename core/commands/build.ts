// `imgb build`: load, validate everything before anything starts, then run the builds.
import type { OnErrorMode } from "../builders/types.ts";
import { DiagnosticsError, hasErrors } from "../errors/diagnostic.ts";
import { loadTemplate } from "../template/load.ts";
import { validateTemplate } from "../build/validate.ts";
import { runBuilds } from "../build/run.ts";
import { renderDiagnostic } from "../ui/diagnostics.ts";
import { openCatalog } from "./catalog.ts";
import { makeOutput, type UiFlags } from "./output-options.ts";
import { trapInterrupts } from "./signals.ts";

export interface BuildCommandOptions extends UiFlags {
  template: string;
  vars: Array<[string, string]>;
  varFiles: string[];
  only: string[];
  except: string[];
  parallelBuilds: number;
  onError: OnErrorMode;
  force: boolean;
}

export async function buildCommand(opts: BuildCommandOptions): Promise<number> {
  const write = (s: string) => void process.stdout.write(s);
  const template = await loadTemplate(opts.template, { vars: opts.vars, varFiles: opts.varFiles, env: process.env });
  const out = makeOutput(opts, template.sensitiveValues, write);
  const catalog = await openCatalog(template.dir);
  try {
    const diags = await validateTemplate(template, catalog, opts);
    for (const d of diags.filter((d) => d.severity === "warning")) process.stderr.write(renderDiagnostic(d, (s) => out.mask(s)));
    if (hasErrors(diags)) throw new DiagnosticsError(diags.filter((d) => d.severity === "error"));

    const interrupts = trapInterrupts(
      (why) => out.plain(`Cancelling build after receiving ${why}`),
      () => {
        // Second interrupt: stop waiting for cleanups, but still kill every sandbox and local process.
        void catalog.closeAll().finally(() => process.exit(1));
      },
    );
    try {
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
        signal: interrupts.signal,
      });
      return result.exitCode;
    } finally {
      interrupts.dispose();
    }
  } finally {
    await catalog.closeAll();
  }
}
