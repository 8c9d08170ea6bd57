// Ctrl-C / SIGTERM: the first cancels every build (cleanups run); a second stops waiting for them.
// Sandboxes and local commands are killed either way, so nothing is left running.
export interface Interrupts {
  signal: AbortSignal;
  dispose(): void;
}

export function trapInterrupts(onFirst: (name: string) => void, onSecond: () => void): Interrupts {
  const controller = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      onFirst(sig === "SIGINT" ? "interrupt" : "terminated");
      controller.abort(new Error(`received ${sig}`));
    } else {
      onSecond();
    }
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    },
  };
}
