import { describe, expect, test } from "bun:test";
import { Output, machineEscape } from "../../core/ui/output.ts";
import { goDurationString, humanDuration } from "../../core/ui/duration.ts";
import { BuildUi } from "../../core/ui/build-ui.ts";

function capture(mode: "human" | "machine" | "json", color = false, sensitive: string[] = []) {
  let text = "";
  const write = (s: string) => void (text += s);
  const out = new Output({ mode, color, timestamp: false, sensitive, write, now: () => new Date("2026-11-23T10:58:41.123Z") });
  return { out, write, text: () => text };
}

describe("Output", () => {
  test("Packer's plain layout: say, message, error", () => {
    const c = capture("human");
    const ui = new BuildUi(c.out, "null.example", 0, c.write);
    ui.say("Running local shell script: /tmp/x");
    ui.message("hello");
    ui.error("boom");
    expect(c.text()).toBe("==> null.example: Running local shell script: /tmp/x\n    null.example: hello\n==> null.example: boom\n");
  });

  test("colours rotate per build; messages are not bold; errors are red", () => {
    const c = capture("human", true);
    new BuildUi(c.out, "a", 0, c.write).say("x");
    new BuildUi(c.out, "b", 1, c.write).message("y");
    new BuildUi(c.out, "c", 2, c.write).error("z");
    expect(c.text()).toBe("\x1b[1;32m==> a: x\x1b[0m\n\x1b[0;36m    b: y\x1b[0m\n\x1b[1;31m==> c: z\x1b[0m\n");
  });

  test("sensitive values are masked everywhere, longest first", () => {
    const c = capture("human", false, ["secret", "secret-longer"]);
    new BuildUi(c.out, "a", 0, c.write).message("pw=secret-longer and secret");
    c.out.plain("--> a: secret");
    expect(c.text()).toBe("    a: pw=<sensitive> and <sensitive>\n--> a: <sensitive>\n");
  });

  test("machine-readable lines escape commas and newlines", () => {
    const c = capture("machine");
    new BuildUi(c.out, "null", 0, c.write).say("a, b");
    c.out.machine("null", "artifact", ["0", "id", "Null"]);
    const unix = Math.floor(new Date("2026-11-23T10:58:41Z").getTime() / 1000);
    expect(c.text()).toBe(`${unix},,ui,say,==> null: a%!(PACKER_COMMA) b\n${unix},null,artifact,0,id,Null\n`);
    expect(machineEscape("x\ny")).toBe("x\\ny");
  });

  test("json events are one object per line", () => {
    const c = capture("json");
    new BuildUi(c.out, "b", 0, c.write).say("hi");
    const events = c.text().trim().split("\n").map((l) => JSON.parse(l));
    expect(events).toEqual([{ time: "2026-11-23T10:58:41.123Z", type: "say", build: "b", message: "hi" }]);
  });

  test("timestamp prefix is RFC3339 UTC seconds", () => {
    let text = "";
    const out = new Output({ mode: "human", color: false, timestamp: true, sensitive: [], write: (s) => void (text += s), now: () => new Date("2026-11-23T10:58:41.900Z") });
    out.line("say", { name: "a", colorIndex: 0 }, "x");
    expect(text).toBe("2026-11-23T10:58:41Z: ==> a: x\n");
  });
});

describe("durations", () => {
  test("spelled out like Packer, two units", () => {
    expect(humanDuration(13.388)).toBe("13 milliseconds 388 microseconds");
    expect(humanDuration(2061)).toBe("2 seconds 61 milliseconds");
    expect(humanDuration(2000)).toBe("2 seconds");
    expect(humanDuration(0)).toBe("0 seconds");
  });
  test("Go duration strings", () => {
    expect(goDurationString(2000)).toBe("2s");
    expect(goDurationString(90000)).toBe("1m30s");
    expect(goDurationString(500)).toBe("500ms");
    expect(goDurationString(3600000)).toBe("1h0m0s");
  });
});
