// The two ways a host call fails short of a reply. A *refusal* (a capability not granted, a path
// outside its grant, a malformed or oversized request, a call outside its phase, a UI flood) is
// recorded on the export call, which then fails with it whatever the plugin does next; a *host
// failure* (a missing file, a dropped connection) is a plain {"error": ...} reply the plugin may
// handle. gate.ts turns both into replies.

export class Refusal extends Error {
  override name = "Refusal";
}

export class HostFailure extends Error {
  override name = "HostFailure";
}

/** A refusal of a capability for one path, worded the same by every handler. */
export function refuseCap(cap: string, path: string, reason: string): never {
  throw new Refusal(`capability ${cap} refused for ${JSON.stringify(path)}: ${reason}`);
}
