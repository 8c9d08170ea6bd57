// One place that finds which command a command line names (following nested verbs such as
// `plugins install`) and checks its flags against what that command declares, as Go's flag package
// does for Packer: an unknown flag is an error (`flag provided but not defined: -var-flie`, exit 1),
// never silently dropped. Every verb goes through here, so none can forget it.
import type { ArgsDef, CommandDef } from "citty";
import { UserError } from "../core/errors/diagnostic.ts";

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolveValue<T>(r: Resolvable<T> | undefined): Promise<T | undefined> {
  if (r === undefined) return undefined;
  return typeof r === "function" ? await (r as () => T | Promise<T>)() : await r;
}

export interface ResolvedCommand {
  /** The innermost command the words name, and its parents from the outermost. */
  command: CommandDef;
  parents: CommandDef[];
  /** The arguments after the verb words. */
  rest: string[];
}

/** Follows leading non-flag words through nested subCommands: `plugins install x` → install, ["x"]. */
export async function resolveCommand(root: CommandDef, args: string[]): Promise<ResolvedCommand> {
  let command = root;
  const parents: CommandDef[] = [];
  let i = 0;
  for (;;) {
    const subs = await resolveValue(command.subCommands as Resolvable<Record<string, Resolvable<CommandDef>>> | undefined);
    const word = args[i];
    if (!subs || word === undefined || word.startsWith("-")) break;
    const next = await resolveValue(subs[word]);
    if (!next) break;
    parents.push(command);
    command = next;
    i++;
  }
  return { command, parents, rest: args.slice(i) };
}

/** The parent to show in usage lines: the whole verb path, so `imgb plugins install` reads as typed. */
export function usageParent(parents: CommandDef[]): CommandDef {
  const names = parents.map((p) => (p.meta as { name?: string } | undefined)?.name ?? "").filter(Boolean);
  return { meta: { name: names.join(" ") } };
}

interface FlagShape {
  /** Every name a flag may be given by (aliases and `no-` forms too), to its declared name. */
  names: Map<string, string>;
  booleans: Set<string>;
}

function flagShape(defs: ArgsDef): FlagShape {
  const names = new Map<string, string>([
    ["help", "help"],
    ["h", "help"],
  ]);
  const booleans = new Set<string>(["help", "h"]);
  for (const [key, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    // Narrowed: only named flags carry aliases.
    const alias = "alias" in def ? (def.alias as string | string[] | undefined) : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const n of [key, ...aliases]) {
      names.set(n, key);
      if (def.type === "boolean") {
        booleans.add(n);
        names.set(`no-${n}`, key);
        booleans.add(`no-${n}`);
      }
    }
  }
  return { names, booleans };
}

/**
 * A command line's flags, read once against what the command declares: every value of every flag in
 * order (citty keeps only a repeated flag's last value; `-var a=1 -var b=2` needs them all), and the
 * first flag the command does not declare, named as Go's flag package names it (`-var-flie`).
 */
export class ParsedFlags {
  constructor(
    private readonly values: Map<string, string[]>,
    readonly unknown?: string,
    /** The arguments that are not flags or flag values (`-` is one: stdin), and all after `--`. */
    readonly positionals: string[] = [],
  ) {}
  /** A boolean flag as Go's flag package reads it: the last of `-x`, `-x=false`, `-no-x`; strconv.ParseBool's words. */
  bool(name: string, fallback: boolean): boolean {
    const given = this.all(name).at(-1);
    if (given === undefined) return fallback;
    if (/^(1|t|T|TRUE|true|True)$/.test(given)) return true;
    if (/^(0|f|F|FALSE|false|False)$/.test(given)) return false;
    throw new UserError(`invalid boolean value "${given}" for -${name}: parse error`);
  }
  /** Every value given for a flag, in order: `-var a=1 -var=b=2` → ["a=1", "b=2"]. */
  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }
  /** A repeatable comma list: `-only a,b -only c` → ["a", "b", "c"]. */
  list(name: string): string[] {
    return this.all(name)
      .flatMap((v) => v.split(","))
      .map((s) => s.trim())
      .filter(Boolean);
  }
}

/**
 * Reads `rest` (Go-style flags already normalized to `--name`) once. A string flag given without `=`
 * takes the next word as its value, whatever it looks like (`-var region=-x`); `--` ends the flags.
 */
export async function parseFlags(command: CommandDef, rest: string[]): Promise<ParsedFlags> {
  return scanFlags((await resolveValue(command.args as Resolvable<ArgsDef> | undefined)) ?? {}, rest);
}

function scanFlags(defs: ArgsDef, rest: string[]): ParsedFlags {
  const shape = flagShape(defs);
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const add = (name: string, value: string) => values.set(name, [...(values.get(name) ?? []), value]);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--") {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    const m = /^--?([^=]+)(=.*)?$/s.exec(a);
    if (!m || a === "-" || /^-\d/.test(a)) {
      positionals.push(a);
      continue;
    }
    const given = m[1]!;
    const name = shape.names.get(given);
    if (name === undefined) return new ParsedFlags(values, `-${given}`, positionals);
    if (shape.booleans.has(given)) {
      add(name, given.startsWith("no-") && name !== given ? "false" : m[2] === undefined ? "true" : m[2].slice(1));
    } else if (m[2] !== undefined) {
      add(name, m[2].slice(1));
    } else if (i + 1 < rest.length) {
      add(name, rest[++i]!);
    }
  }
  return new ParsedFlags(values, undefined, positionals);
}

/** The first flag the command does not declare (`-var-flie`), or undefined. */
export async function unknownFlag(command: CommandDef, rest: string[]): Promise<string | undefined> {
  return (await parseFlags(command, rest)).unknown;
}

const readings = new WeakMap<string[], ParsedFlags>();

/**
 * The flags of a running command: those the CLI front read (passed as citty's `data`), or, when a
 * command is run without it (a test driving one verb through citty), read here once the same way.
 */
export function flagsOf(ctx: { rawArgs: string[]; cmd: { args?: unknown }; data?: unknown }): ParsedFlags {
  const given = (ctx.data as { flags?: unknown } | undefined)?.flags;
  if (given instanceof ParsedFlags) return given;
  let flags = readings.get(ctx.rawArgs);
  if (!flags) {
    // Our verbs declare their flags as plain objects; citty would resolve a lazy declaration.
    const defs = ctx.cmd.args;
    if (typeof defs === "function" || defs instanceof Promise) throw new Error("flagsOf: a verb with lazily declared flags must be run through cmd/cli.ts");
    flags = scanFlags((defs ?? {}) as ArgsDef, ctx.rawArgs);
    readings.set(ctx.rawArgs, flags);
  }
  return flags;
}
