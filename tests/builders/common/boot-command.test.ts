// The boot_command language parsed as packer-plugin-sdk's grammar parses it (its own test cases),
// and typed as Packer's VNC driver types it, here into a recording keyboard: shift around shifted
// characters, holds and releases, waits, every special key and every printable ASCII character.
import { describe, expect, test } from "bun:test";
import {
  BootCommandError,
  charKey,
  parseBootCommand,
  SPECIAL_KEYS,
  SPECIAL_QCODES,
  typeBootCommand,
  untypable,
  type BootExpr,
} from "../../../core/builders/common/boot-command.ts";
import { parseQemuConfig } from "../../../core/builders/qemu/config.ts";

/** The SDK's String() of each expression. */
function show(e: BootExpr): string {
  const action = { press: "Press", on: "On", off: "Off" }[e.kind === "wait" ? "press" : e.action];
  if (e.kind === "wait") return `Wait<${e.ms}ms>`;
  if (e.kind === "special") return `Spec-${action}(${e.name})`;
  return `LIT-${action}(${e.char})`;
}

describe("parsing (packer-plugin-sdk bootcommand Test_parse and Test_special)", () => {
  test("waits, literals, a stray '>', character toggles, unknown <names> as literals, specials", () => {
    const got = parseBootCommand("<wait><wait20><wait3s><wait4m2ms>foo/bar > one 界<fon> b<fOff><foo><f3><f12><spacebar><leftalt><rightshift><rightsuper><menu>").map(show);
    expect(got).toEqual([
      "Wait<1000ms>", "Wait<20000ms>", "Wait<3000ms>", "Wait<240002ms>",
      ..."foo/bar > one 界".split("").map((c) => `LIT-Press(${c})`),
      "LIT-On(f)", "LIT-Press( )", "LIT-Press(b)", "LIT-Off(f)",
      "LIT-Press(<)", "LIT-Press(f)", "LIT-Press(o)", "LIT-Press(o)", "LIT-Press(>)",
      "Spec-Press(f3)", "Spec-Press(f12)", "Spec-Press(spacebar)", "Spec-Press(leftalt)", "Spec-Press(rightshift)", "Spec-Press(rightsuper)", "Spec-Press(menu)",
    ]);
  });
  test("special names are case-insensitive, with On/Off; longer names win over their prefixes", () => {
    expect(parseBootCommand("<rightShift><rightshift><RIGHTSHIFT>").map(show)).toEqual(Array(3).fill("Spec-Press(rightshift)"));
    expect(parseBootCommand("<delon><delON><deLoN><DELON>").map(show)).toEqual(Array(4).fill("Spec-On(del)"));
    expect(parseBootCommand("<enteroff><leftAltOn><leftCtrlOff><f10><f1><left><end><return>").map(show)).toEqual([
      "Spec-Off(enter)", "Spec-On(leftalt)", "Spec-Off(leftctrl)", "Spec-Press(f10)", "Spec-Press(f1)", "Spec-Press(left)", "Spec-Press(end)", "Spec-Press(return)",
    ]);
    // "<leftx>" is no special key: all literal.
    expect(parseBootCommand("<leftx>").map(show).join("")).toBe("LIT-Press(<)LIT-Press(l)LIT-Press(e)LIT-Press(f)LIT-Press(t)LIT-Press(x)LIT-Press(>)");
  });
  test("a zero wait is refused as Packer refuses it; the qemu config reports it at validate", () => {
    expect(() => parseBootCommand("<wait0s>")).toThrow(BootCommandError);
    const build = { buildName: "q", sourceName: "q", builderType: "qemu", generated: {}, placeholders: false };
    const r = parseQemuConfig({ iso_url: "x.iso", iso_checksum: "none", communicator: "none", boot_command: ["<wait0>a"] }, build);
    expect(r.diagnostics.map((d) => d.summary)).toEqual(["qemu: boot command: expecting a positive wait value, got 0 ms"]);
    const r2 = parseQemuConfig({ iso_url: "x.iso", iso_checksum: "none", communicator: "none", boot_command: ["é"] }, build);
    expect(r2.diagnostics.map((d) => d.summary)).toEqual(['qemu: boot command: no key of a US keyboard types "é"']);
  });
});

describe("typing", () => {
  test("every printable ASCII character and every special key has a key", () => {
    for (let c = 0x20; c < 0x7f; c++) expect(charKey(String.fromCharCode(c)), String.fromCharCode(c)).toBeDefined();
    for (const name of SPECIAL_KEYS) expect(SPECIAL_QCODES[name]).toMatch(/^[a-z0-9_]+$/);
    expect(untypable(parseBootCommand("ok 界"))).toEqual(["界"]);
  });
  test("shifted characters are wrapped in shift; On/Off hold and release; waits pause; the interval follows each event", async () => {
    const events: string[] = [];
    const started = performance.now();
    await typeBootCommand(
      parseBootCommand("aB:<wait0.1s><leftCtrlOn>x<leftCtrlOff><enter><AOn>"),
      { key: async (q, down) => void events.push(`${down ? "+" : "-"}${q}`) },
      2,
      new AbortController().signal,
    );
    expect(events).toEqual([
      "+a", "-a", "+shift", "+b", "-b", "-shift", "+shift", "+semicolon", "-semicolon", "-shift",
      "+ctrl", "+x", "-x", "-ctrl", "+ret", "-ret", "+shift", "+a",
    ]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100 + 18 * 2);
  });
  test("cancelling stops typing at once, also in a long wait", async () => {
    const ac = new AbortController();
    const events: string[] = [];
    const p = typeBootCommand(parseBootCommand("a<wait10m>b"), { key: async (q) => void events.push(q) }, 0, ac.signal);
    await Bun.sleep(50);
    ac.abort();
    await expect(p).rejects.toThrow("cancelled");
    expect(events).toEqual(["a", "a"]);
  });
});
