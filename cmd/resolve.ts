// One place that finds which command a command line names (following nested verbs such as
// `plugins install`) and checks its flags against what that command declares, as Go's flag package
// does for Packer: an unknown flag is an error (`flag provided but not defined: -var-flie`, exit 1),
// never silently dropped. Every verb goes through here, so none can forget it.
import type { ArgsDef, CommandDef } from "citty";

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
  names: Set<string>;
  booleans: Set<string>;
}

async function flagShape(command: CommandDef): Promise<FlagShape> {
  const defs = (await resolveValue(command.args as Resolvable<ArgsDef> | undefined)) ?? {};
  const names = new Set<string>(["help", "h"]);
  const booleans = new Set<string>(["help", "h"]);
  for (const [key, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    // Narrowed: only named flags carry aliases.
    const alias = "alias" in def ? (def.alias as string | string[] | undefined) : undefined;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const n of [key, ...aliases]) {
      names.add(n);
      if (def.type === "boolean") {
        booleans.add(n);
        names.add(`no-${n}`);
        booleans.add(`no-${n}`);
      }
    }
  }
  return { names, booleans };
}

/**
 * The first flag the command does not declare, named as Go's flag package names it (`-var-flie`),
 * or undefined. A string flag given without `=` takes the next word as its value, which is not checked.
 */
export async function unknownFlag(command: CommandDef, rest: string[]): Promise<string | undefined> {
  const shape = await flagShape(command);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--") break;
    const m = /^--?([^=]+)(=.*)?$/s.exec(a);
    if (!m || a === "-" || /^-\d/.test(a)) continue;
    const name = m[1]!;
    if (!shape.names.has(name)) return `-${name}`;
    if (m[2] === undefined && !shape.booleans.has(name)) i++;
  }
  return undefined;
}
