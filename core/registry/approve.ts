// Showing a plugin's capabilities and getting the user's consent: on a terminal through Ui.ask, in
// CI through -accept-capabilities; with neither, refuse and say how to proceed.
import type { Ui } from "../ui/types.ts";
import { explainCapability } from "./capabilities.ts";
import { RegistryError } from "./errors.ts";
import type { Vetting } from "./schema.ts";

export interface ApprovalRequest {
  plugin: string;
  version: string;
  /** The version currently locked, when this is an upgrade. */
  from?: string;
  /** Everything the plugin asks for. */
  wanted: string[];
  /** The part of `wanted` not granted before (all of it for a new plugin). */
  added: string[];
  /** Granted before, no longer asked for (shown for information). */
  dropped: string[];
  unsigned?: boolean;
  /** Signed plugins: the publisher's key id and the registry's vetting record, shown with the prompt. */
  publisher?: string;
  vetting?: Vetting;
}

export function describeRequest(r: ApprovalRequest): string[] {
  const lines: string[] = [];
  const head = r.from !== undefined ? `${r.plugin} ${r.from} -> ${r.version}` : `${r.plugin} ${r.version}`;
  if (r.unsigned) lines.push(`${head} is UNSIGNED: nobody vetted it; it runs only because you allowed unsigned plugins.`);
  if (r.publisher !== undefined) lines.push(`${head} is signed by publisher key ${r.publisher.slice(0, 16)}…`);
  if (r.vetting !== undefined) {
    const v = r.vetting;
    lines.push(`  vetted by ${v.reviewer} on ${v.date}: ${v.repository} at ${v.commit}${v.checks ? `; checks passed: ${v.checks.join(", ")}` : "; no automated checks recorded"}`);
    if (v.note) lines.push(`  reviewer's note: ${v.note}`);
  }
  if (r.from !== undefined) lines.push(`${head} asks for more capabilities than you granted to ${r.from}:`);
  else lines.push(`${head} asks for these capabilities:`);
  if (r.wanted.length === 0) lines.push("  (none)");
  for (const c of r.wanted) lines.push(`  ${r.added.includes(c) ? "+ " : "  "}${c}: ${explainCapability(c)}`);
  for (const c of r.dropped) lines.push(`  - ${c}: no longer requested`);
  return lines;
}

export async function approveCapabilities(r: ApprovalRequest, ui: Ui, acceptAll: boolean): Promise<void> {
  for (const line of describeRequest(r)) ui.message(line);
  if (r.added.length === 0) return; // nothing new to grant
  if (acceptAll) {
    ui.message(`capabilities of ${r.plugin} ${r.version} accepted (-accept-capabilities)`);
    return;
  }
  let answer: string;
  try {
    answer = await ui.ask(`Grant ${r.added.join(", ")} to ${r.plugin} ${r.version}? [y/N]`);
  } catch {
    throw new RegistryError(
      "capabilities",
      `needs your approval for capabilities ${r.added.join(", ")}, but there is no terminal to ask on; re-run with -accept-capabilities after reviewing them`,
      { plugin: `${r.plugin} ${r.version}` },
    );
  }
  if (!/^\s*y(es)?\s*$/i.test(answer)) {
    throw new RegistryError("capabilities", `capabilities ${r.added.join(", ")} not granted; nothing was changed`, { plugin: `${r.plugin} ${r.version}` });
  }
}
