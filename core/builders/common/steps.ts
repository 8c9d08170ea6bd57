// Packer's commonsteps as imgb steps, for any builder that installs a machine from media: download
// (StepDownload), HTTP server (StepHTTPServer), extra CD and floppy (StepCreateCD/StepCreateFloppy)
// and typing the boot command (each builder's StepTypeBootCommand, over a KeyEventSink it provides).
// Each takes getters/setters for what it reads and produces, so builders keep their own run state.
import type { BuildState, Step } from "../types.ts";
import type { JsonValue } from "../../values/json.ts";
import { parseGoDuration } from "../../values/go-duration.ts";
import { renderPluginTemplate } from "../../plugin/host/template-adapter.ts";
import { download, type DownloadResult } from "./download.ts";
import type { ChecksumSpec } from "./checksum.ts";
import type { HttpServerKey } from "./generated-data.ts";
import { httpWanted, startHttpServer, type HttpConfig, type RunningHttpServer } from "./http-server.ts";
import { cdWanted, createCd, createFloppy, floppyWanted, type CdConfig, type FloppyConfig } from "./cd-floppy.ts";
import { bootSteps, parseBootCommand, sleep, typeBootCommand, type KeyEventSink } from "./boot-command.ts";

export function stepDownload(
  o: {
    urls: string[];
    checksum: ChecksumSpec;
    checksumText: string;
    targetPath: string;
    extension: string;
    description: string;
  },
  done: (r: DownloadResult) => void,
): Step {
  return {
    name: "StepDownload",
    async run(state) {
      done(
        await download({
          ...o,
          ...(o.targetPath ? { targetPath: o.targetPath } : { targetPath: undefined }),
          baseDir: process.cwd(),
          ui: state.ui,
          signal: state.signal,
        }),
      );
    },
  };
}

/** Starts the HTTP server when http_directory or http_content is set; publishes PackerHTTP* values. */
export function stepHttpServer(c: HttpConfig, httpIp: () => string, done: (port: number) => void): Step {
  let server: RunningHttpServer | undefined;
  return {
    name: "StepHTTPServer",
    async run(state) {
      if (!httpWanted(c)) {
        done(0);
        return;
      }
      server = await startHttpServer(c, { baseDir: process.cwd(), ui: state.ui });
      done(server.port);
      const ip = httpIp();
      const published: Record<HttpServerKey, string> = { PackerHTTPIP: ip, PackerHTTPPort: String(server.port), PackerHTTPAddr: `${ip}:${server.port}` };
      for (const [k, v] of Object.entries(published)) state.setGenerated(k, v);
    },
    async cleanup() {
      await server?.stop();
      server = undefined;
    },
  };
}

export function stepCreateCd(c: CdConfig, workDir: () => string, done: (path: string) => void): Step {
  return stepCreateMedia("StepCreateCD", "CD", () => cdWanted(c), (o) => createCd(c, o), workDir, done);
}

export function stepCreateFloppy(c: FloppyConfig, workDir: () => string, done: (path: string) => void): Step {
  return stepCreateMedia("StepCreateFloppy", "floppy", () => floppyWanted(c), (o) => createFloppy(c, o), workDir, done);
}

/** The extra CD and floppy steps: made in the work dir only when the template asks for one. */
function stepCreateMedia(
  name: string,
  what: string,
  wanted: () => boolean,
  create: (o: { workDir: string; baseDir: string; signal: AbortSignal }) => Promise<string>,
  workDir: () => string,
  done: (path: string) => void,
): Step {
  return {
    name,
    async run(state) {
      if (!wanted()) return;
      state.ui.say(`Creating ${what} disk...`);
      done(await create({ workDir: workDir(), baseDir: process.cwd(), signal: state.signal }));
    },
  };
}

export interface BootCommandOptions {
  boot_command: string[];
  boot_steps: string[][];
  bootWaitMs: number;
  /** boot_key_interval; undefined: PACKER_KEY_INTERVAL, else `defaultIntervalMs`. */
  keyIntervalMs?: number;
  defaultIntervalMs: number;
  /** Where the keys go (named for the UI) and the dot data the commands are rendered with. */
  via: string;
  connect(state: BuildState): Promise<KeyEventSink & { close(): void }>;
  data(): Record<string, JsonValue>;
  /** Aborted when the machine stops: typing ends at once. */
  machineGone?: AbortSignal;
}

/** Waits boot_wait, then types boot_command or boot_steps (each step's description on the UI). */
export function stepTypeBootCommand(o: BootCommandOptions): Step {
  return {
    name: "StepTypeBootCommand",
    async run(state) {
      const steps = bootSteps(o.boot_command, o.boot_steps);
      const signal = o.machineGone ? AbortSignal.any([state.signal, o.machineGone]) : state.signal;
      if (o.bootWaitMs > 0) {
        state.ui.say(`Waiting ${formatSeconds(o.bootWaitMs)} for boot...`);
        await sleep(o.bootWaitMs, signal).catch(gone(o, state));
      }
      if (steps.length === 0) return;
      const envInterval = parseGoDurationMs(process.env.PACKER_KEY_INTERVAL);
      const interval = o.keyIntervalMs ?? envInterval ?? o.defaultIntervalMs;
      const sink = await o.connect(state);
      try {
        state.ui.say(`Typing the boot commands over ${o.via}...`);
        for (const step of steps) {
          if (step.description) state.ui.say(`Typing boot command for: ${step.description}`);
          const command = renderPluginTemplate(step.command, o.data(), state.build, state.templateDir);
          await typeBootCommand(parseBootCommand(command), sink, interval, signal).catch(gone(o, state));
        }
      } finally {
        sink.close();
      }
    },
  };
}

function gone(o: BootCommandOptions, state: BuildState) {
  return (err: unknown): never => {
    if (o.machineGone?.aborted && !state.signal.aborted) throw new Error("the VM stopped while the boot command was typed");
    throw err;
  };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function parseGoDurationMs(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const d = parseGoDuration(text);
  return d.ok ? d.ms : undefined;
}
