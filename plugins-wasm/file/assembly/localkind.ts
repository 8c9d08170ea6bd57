// What a local path is, for the file provisioner's "is the source a folder?" question. The ABI has no
// stat call, so this reads at most one byte through local_file_read: a folder answers EISDIR, a
// missing path ENOENT. (A `local_stat` host function would replace this; see the report.)
import { Json, HostCall } from "../../sdk/assembly/sdk";

export enum Kind {
  File,
  Dir,
  Missing,
}

export class Probe {
  kind: Kind = Kind.Missing;
  /** Why the path cannot be used ("no such file or directory"), when kind is Missing. */
  reason: string = "";
}

export function probeLocal(path: string): Probe {
  const p = new Probe();
  const reply = HostCall.local_file_read(Json.obj().setStr("path", path).setNum("offset", 0).setNum("length", 1), true);
  if (!reply.has("error")) {
    p.kind = Kind.File;
    return p;
  }
  const error = reply.getString("error");
  if (error.includes("EISDIR")) {
    p.kind = Kind.Dir;
    return p;
  }
  p.reason = plainReason(error);
  return p;
}

/** "local_file_read: ENOENT: no such file or directory, open '/x'" → "no such file or directory". */
function plainReason(message: string): string {
  let m = message;
  if (m.startsWith("local_file_read: ")) m = m.substring(17);
  const colon = m.indexOf(": ");
  if (colon > 0 && colon < 8 && m.substring(0, 1) == "E") m = m.substring(colon + 2);
  const comma = m.lastIndexOf(", open '");
  if (comma > 0) m = m.substring(0, comma);
  return m;
}
