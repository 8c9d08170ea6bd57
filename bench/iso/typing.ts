// How long typing a boot command takes through QEMU's monitor (QMP input-send-event), the delivery
// the qemu builder uses, at the default 10 ms interval and with no interval, against the time
// Packer's VNC driver needs by construction (100 ms after each key event). A VM with no disk (SeaBIOS finds nothing to boot) receives
// the keys: only delivery is measured. Run: node_modules/.bin/bun bench/iso/typing.ts
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBootCommand, typeBootCommand } from "../../core/builders/common/boot-command.ts";
import { QmpClient } from "../../core/builders/qemu/qmp.ts";
import { spawnChild } from "../../core/process/child.ts";

const COMMAND = "install url=http://10.0.2.2:8123/install.sh auto=true priority=critical<enter>";
const dir = await mkdtemp(join(tmpdir(), "imgb-typing-"));
const sock = join(dir, "qmp.sock");
const vm = spawnChild(["qemu-system-x86_64", "-accel", "tcg", "-display", "none", "-nodefaults", "-machine", "pc", "-qmp", `unix:${sock},server=on,wait=off`]);
try {
  const qmp = await QmpClient.connect(sock, new AbortController().signal);
  const exprs = parseBootCommand(COMMAND);
  let events = 0;
  const counting = { key: async (q: string, d: boolean) => { events++; await qmp.key(q, d); } };
  for (const interval of [10, 0]) {
    events = 0;
    const t = performance.now();
    await typeBootCommand(exprs, counting, interval, new AbortController().signal);
    const ms = performance.now() - t;
    console.log(`QMP, ${interval} ms interval: ${events} key events in ${ms.toFixed(0)} ms (${(ms / events).toFixed(2)} ms each); Packer's VNC default needs ${(events * 100 / 1000).toFixed(1)} s`);
  }
  qmp.close();
} finally {
  await vm.stop(2000);
  await rm(dir, { recursive: true, force: true });
}
