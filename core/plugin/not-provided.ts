// Packer components templates use that imgb does not provide yet, and why: named in the "Unknown
// provisioner" error so a user learns it is a known gap, not a typo (docs/PACKER-DIFFERENCES.md).
import type { PluginKind } from "./types.ts";

const NOT_PROVIDED: Record<string, string> = {
  "provisioner goss":
    "not provided yet: it runs the goss binary, which is not packaged for Debian (install a goss plugin from a registry, or run goss with a shell provisioner)",
  "provisioner powershell": "not provided yet: it needs a Windows machine and the WinRM communicator, which imgb does not have",
  "provisioner windows-restart": "not provided yet: it needs a Windows machine and the WinRM communicator, which imgb does not have",
  "post-processor vagrant-cloud":
    "not provided yet: make the box with the vagrant post-processor and upload it with `vagrant cloud publish`",
  "provisioner windows-shell": "not provided yet: it needs a Windows machine and the WinRM communicator, which imgb does not have",
};

/** Why a Packer component is missing, or undefined for a name imgb does not know at all. */
export function notProvidedReason(kind: PluginKind, type: string): string | undefined {
  return NOT_PROVIDED[`${kind} ${type}`];
}
