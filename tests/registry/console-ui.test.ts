// The registry and plugin verbs print text registries and plugins supplied (descriptions, publishers,
// errors): it reaches the terminal only through the one sanitizer, as build lines do.
import { expect, test } from "bun:test";
import { consoleUi } from "../../core/registry/console-ui.ts";

test("escape sequences and controls from a registry never reach the terminal, nor pass for imgb's own lines; text stays", () => {
  const out: string[] = [];
  const err: string[] = [];
  const ui = consoleUi((s) => out.push(s), (s) => err.push(s));
  ui.say("acme/motd \x1b]0;pwned\x07v1.0.0");
  ui.message("prints a message\x1b[2K\r==> forged line");
  ui.error("bad \x1b]52;c;ZXZpbA==\x07plugin\x9b31m");
  expect(out).toEqual(["==> acme/motd v1.0.0\n", "    prints a message\n    ==> forged line\n"]);
  expect(err).toEqual(["==> bad plugin\n"]);
  for (const s of [...out, ...err]) expect(s).not.toMatch(/[\x1b\x9b\x07\r]/);
});
