// The one cancellation error: the build, or one operation in it, stopped because its signal was
// aborted (Ctrl-C, a second interrupt, a component's timeout). The engine tells a cancelled build
// from a failed one by this class, never by the wording.

export class Cancelled extends Error {
  constructor(message = "build was cancelled") {
    super(message);
    this.name = "Cancelled";
  }
}

export function throwIfCancelled(signal: AbortSignal, message?: string): void {
  if (signal.aborted) throw new Cancelled(message);
}
