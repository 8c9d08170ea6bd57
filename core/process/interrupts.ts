// Ctrl-C / SIGTERM for a command: the first cancels its work (builds run their cleanups), a second
// stops waiting for them. Sandboxes, local commands and native plugins are killed either way, so
// nothing is left running. While a command has interrupts trapped, `interruptSignal()` is its abort
// signal: the native Packer plugins started deep inside validation (which ignore SIGINT, as Packer's
// do) die with it, without every caller threading a signal through.
export interface Interrupts {
  signal: AbortSignal;
  dispose(): void;
}

let current: AbortSignal | undefined;

/** An abort's reason in words ("received SIGINT"). */
export function abortReason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
}

/** The trapped command's abort signal, if a command has interrupts trapped. */
export function interruptSignal(): AbortSignal | undefined {
  return current;
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
  const previous = current;
  current = controller.signal;
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      if (current === controller.signal) current = previous;
    },
  };
}
