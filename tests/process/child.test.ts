// core/process/child.ts: every child is awaited and stopped on abort, including a signal that is
// already aborted when the child starts (Ctrl-C arriving while later work is being set up).
import { expect, test } from "bun:test";
import { spawnChild } from "../../core/process/child.ts";
import { processAlive } from "../support/processes.ts";

test("an already aborted signal stops the child at once, with its stop signal", async () => {
  const ac = new AbortController();
  ac.abort(new Error("received SIGINT"));
  const started = performance.now();
  // `trap '' TERM`: only the stop signal given (SIGKILL) ends it without the grace period.
  const child = spawnChild(["sh", "-c", "trap '' TERM; exec sleep 30"], { signal: ac.signal, stopSignal: "SIGKILL" });
  const r = await child.done;
  expect(r.aborted).toBe(true);
  expect(r.signalCode).toBe("SIGKILL");
  expect(processAlive(child.pid)).toBe(false);
  expect(performance.now() - started).toBeLessThan(3_000);
});

test("an abort during the run stops the child: TERM first", async () => {
  const ac = new AbortController();
  const child = spawnChild(["sleep", "30"], { signal: ac.signal });
  await Bun.sleep(100);
  ac.abort();
  const r = await child.done;
  expect(r.aborted).toBe(true);
  expect(r.signalCode).toBe("SIGTERM");
});
