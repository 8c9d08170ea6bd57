// Packer's boot_command language (packer-plugin-sdk bootcommand/boot_command.pigeon), parsed the
// way its PEG grammar does, by ordered choice at each position:
//   <wait> <wait5> <wait1m30s>            a pause (an integer means seconds, default 1 s)
//   <aOn> <aOff>                          hold / release one character key
//   <enter> <leftShiftOn> <f10> ...       a special key, pressed, held (On) or released (Off)
//   anything else                         that one character, typed (with shift when it needs it)
// A `<` that starts none of these is the character `<`. Parsing is pure, so validate checks it.
import { parseGoDuration } from "../../values/go-duration.ts";
import { Cancelled } from "../../errors/cancelled.ts";

export type KeyAction = "press" | "on" | "off";
export type BootExpr =
  | { kind: "wait"; ms: number }
  | { kind: "special"; name: SpecialKey; action: KeyAction }
  | { kind: "char"; char: string; action: KeyAction };

// In the grammar's order: a longer name before its prefix ("f10" before "f1", "leftAlt" before "left").
export const SPECIAL_KEYS = [
  "bs", "del", "enter", "esc", "f10", "f11", "f12", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9",
  "return", "tab", "up", "down", "spacebar", "insert", "home", "end", "pageup", "pagedown",
  "leftalt", "leftctrl", "leftshift", "rightalt", "rightctrl", "rightshift", "leftsuper", "rightsuper",
  "leftcommand", "rightcommand", "leftoption", "rightoption", "left", "right", "menu",
] as const;
export type SpecialKey = (typeof SPECIAL_KEYS)[number];

export class BootCommandError extends Error {
  override name = "BootCommandError";
}

export function parseBootCommand(text: string): BootExpr[] {
  const out: BootExpr[] = [];
  const chars = Array.from(text); // by code point, as Go decodes runes
  let i = 0;
  while (i < chars.length) {
    if (chars[i] === "<") {
      const m = matchWait(chars, i) ?? matchCharToggle(chars, i) ?? matchSpecial(chars, i);
      if (m) {
        out.push(m.expr);
        i = m.next;
        continue;
      }
    }
    out.push({ kind: "char", char: chars[i]!, action: "press" });
    i++;
  }
  for (const e of out) {
    if (e.kind === "wait" && !(e.ms > 0)) throw new BootCommandError(`boot command: expecting a positive wait value, got ${e.ms} ms`);
  }
  return out;
}

type Match = { expr: BootExpr; next: number } | undefined;

function matchWait(chars: string[], at: number): Match {
  const rest = chars.slice(at).join("");
  const m = /^<wait([^>]*)>/.exec(rest);
  if (!m) return undefined;
  const arg = m[1]!;
  let ms: number;
  if (arg === "") ms = 1000;
  else if (/^(0|[1-9][0-9]*)$/.test(arg)) ms = Number(arg) * 1000;
  else if (/^((-?(0|[1-9][0-9]*)(\.[0-9]+)?)(ns|us|µs|ms|s|m|h))+$/.test(arg)) {
    const d = parseGoDuration(arg);
    if (!d.ok) return undefined;
    ms = d.ms;
  } else return undefined;
  return { expr: { kind: "wait", ms }, next: at + Array.from(m[0]).length };
}

function matchToggle(chars: string[], at: number): { action: "on" | "off"; next: number } | undefined {
  const two = chars.slice(at, at + 3).join("").toLowerCase();
  if (two === "on>") return { action: "on", next: at + 3 };
  const three = chars.slice(at, at + 4).join("").toLowerCase();
  if (three === "off>") return { action: "off", next: at + 4 };
  return undefined;
}

function matchCharToggle(chars: string[], at: number): Match {
  const ch = chars[at + 1];
  if (ch === undefined) return undefined;
  const t = matchToggle(chars, at + 2);
  return t ? { expr: { kind: "char", char: ch, action: t.action }, next: t.next } : undefined;
}

function matchSpecial(chars: string[], at: number): Match {
  const rest = chars.slice(at + 1, at + 16).join("").toLowerCase();
  for (const name of SPECIAL_KEYS) {
    if (!rest.startsWith(name)) continue;
    // The grammar commits to the first name that matches, then needs [On|Off] and ">".
    const after = at + 1 + name.length;
    if (chars[after] === ">") return { expr: { kind: "special", name, action: "press" }, next: after + 1 };
    const t = matchToggle(chars, after);
    return t ? { expr: { kind: "special", name, action: t.action }, next: t.next } : undefined;
  }
  return undefined;
}

/** boot_command (a list joined as Packer's FlatBootCommand) or boot_steps, as [command, description] steps. */
export function bootSteps(bootCommand: string[], steps: string[][]): Array<{ command: string; description: string }> {
  if (bootCommand.length > 0) return [{ command: bootCommand.join(""), description: "" }];
  return steps.filter((s) => s.length > 0).map((s) => ({ command: s[0]!, description: s[1] ?? "" }));
}

/** What a keyboard driver needs: press or release one key, named as QEMU's QKeyCode. */
export interface KeyEventSink {
  key(qcode: string, down: boolean): Promise<void>;
}

// QEMU QKeyCodes (qapi/ui.json) for Packer's special names; Packer's VNC keysyms map to the same keys
// (leftCommand/rightCommand are Alt there, leftOption/rightOption Meta).
export const SPECIAL_QCODES: Record<SpecialKey, string> = {
  bs: "backspace", del: "delete", enter: "ret", return: "ret", esc: "esc", tab: "tab", spacebar: "spc",
  f1: "f1", f2: "f2", f3: "f3", f4: "f4", f5: "f5", f6: "f6", f7: "f7", f8: "f8", f9: "f9", f10: "f10", f11: "f11", f12: "f12",
  up: "up", down: "down", left: "left", right: "right", insert: "insert", home: "home", end: "end",
  pageup: "pgup", pagedown: "pgdn", menu: "menu",
  leftalt: "alt", rightalt: "alt_r", leftctrl: "ctrl", rightctrl: "ctrl_r", leftshift: "shift", rightshift: "shift_r",
  leftsuper: "meta_l", rightsuper: "meta_r", leftcommand: "alt", rightcommand: "alt_r", leftoption: "meta_l", rightoption: "meta_r",
};

// A US keyboard: each printable ASCII character as a key and whether it needs shift.
const UNSHIFTED: Record<string, string> = {
  " ": "spc", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right", "\\": "backslash",
  ";": "semicolon", "'": "apostrophe", "`": "grave_accent", ",": "comma", ".": "dot", "/": "slash",
  "\n": "ret", "\t": "tab",
};
const SHIFTED: Record<string, string> = {
  "~": "grave_accent", "!": "1", "@": "2", "#": "3", $: "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0",
  _: "minus", "+": "equal", "{": "bracket_left", "}": "bracket_right", "|": "backslash", ":": "semicolon", '"': "apostrophe",
  "<": "comma", ">": "dot", "?": "slash",
};

export function charKey(ch: string): { qcode: string; shift: boolean } | undefined {
  if (/^[a-z0-9]$/.test(ch)) return { qcode: ch, shift: false };
  if (/^[A-Z]$/.test(ch)) return { qcode: ch.toLowerCase(), shift: true };
  if (UNSHIFTED[ch]) return { qcode: UNSHIFTED[ch]!, shift: false };
  if (SHIFTED[ch]) return { qcode: SHIFTED[ch]!, shift: true };
  return undefined;
}

/** Characters of `text` no key of a US keyboard types (checked before the VM starts). */
export function untypable(exprs: BootExpr[]): string[] {
  return [...new Set(exprs.flatMap((e) => (e.kind === "char" && !charKey(e.char) ? [e.char] : [])))];
}

/**
 * Types the expressions as Packer's VNC driver does: every key event is followed by `intervalMs`, a
 * shifted character is wrapped in left shift, and waits are cancellable.
 */
export async function typeBootCommand(exprs: BootExpr[], sink: KeyEventSink, intervalMs: number, signal: AbortSignal): Promise<void> {
  const event = async (qcode: string, down: boolean) => {
    if (signal.aborted) throw new Cancelled("cancelled");
    await sink.key(qcode, down);
    if (intervalMs > 0) await sleep(intervalMs, signal);
  };
  const send = async (qcode: string, shift: boolean, action: KeyAction) => {
    if (action !== "off" && shift) await event("shift", true);
    if (action !== "off") await event(qcode, true);
    if (action !== "on") await event(qcode, false);
    if (action !== "on" && shift) await event("shift", false);
  };
  for (const e of exprs) {
    if (e.kind === "wait") await sleep(e.ms, signal);
    else if (e.kind === "special") await send(SPECIAL_QCODES[e.name], false, e.action);
    else {
      const k = charKey(e.char);
      if (!k) throw new BootCommandError(`boot command: no key types ${JSON.stringify(e.char)}`);
      await send(k.qcode, k.shift, e.action);
    }
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal.aborted) return fail(new Cancelled("cancelled"));
    const onAbort = () => {
      clearTimeout(t);
      fail(new Cancelled("cancelled"));
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      done();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
