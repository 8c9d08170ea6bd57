// Reading a local script for upload, as Packer's shell provisioner does: the whole file, with Windows
// line endings turned into Unix ones unless `binary` (Packer's UnixReader).
import { Json, base64Decode, HostCall } from "../../sdk/assembly/sdk";

/** The bytes of a file, or the host's reason it cannot be read. */
export class ReadResult {
  data: Uint8Array = new Uint8Array(0);
  error: string = "";
}

const CHUNK: i32 = 4 << 20;

/** Reads a whole local file through local_file_read (chunked; 4 MiB a call). */
export function readLocalFile(path: string): ReadResult {
  const res = new ReadResult();
  const parts = new Array<Uint8Array>();
  let total = 0;
  let offset: f64 = 0;
  for (;;) {
    const reply = HostCall.local_file_read(Json.obj().setStr("path", path).setNum("offset", offset).setNum("length", CHUNK), true);
    if (reply.has("error")) {
      res.error = stripPrefix(reply.getString("error"));
      return res;
    }
    const chunk = base64Decode(reply.getString("data_base64"));
    parts.push(chunk);
    total += chunk.length;
    offset += chunk.length;
    if (reply.getBool("eof", true) || chunk.length == 0) break;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i], at);
    at += parts[i].length;
  }
  res.data = out;
  return res;
}

/** "local_file_read: ENOENT: no such file or directory, open 'x'" → "no such file or directory". */
function stripPrefix(message: string): string {
  let m = message;
  if (m.startsWith("local_file_read: ")) m = m.substring(17);
  const colon = m.indexOf(": ");
  if (colon > 0 && colon < 8 && m.substring(0, 1) == "E") m = m.substring(colon + 2);
  const comma = m.lastIndexOf(", ");
  if (comma > 0 && (m.includes(", open '") || m.includes(", read"))) m = m.substring(0, comma);
  return m;
}

/**
 * Packer's UnixReader: every line ends in "\n", a "\r" before it is dropped, and a last line without
 * a newline gets one.
 */
export function toUnixLines(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  let n = 0;
  let lineStart = 0;
  for (let i = 0; i <= data.length; i++) {
    const atEnd = i == data.length;
    if (!atEnd && data[i] != 0x0a) continue;
    if (atEnd && i == lineStart) break;
    let end = i;
    if (end > lineStart && data[end - 1] == 0x0d) end--;
    for (let k = lineStart; k < end; k++) out[n++] = data[k];
    out[n++] = 0x0a;
    lineStart = i + 1;
  }
  return out.slice(0, n);
}
