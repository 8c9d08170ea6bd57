// A plugin that completes Packer's handshake and then hangs: it prints a valid `5|unix|PATH` line,
// accepts the connection, acks the yamux stream imgb opens and the broker's stream id 0 (so the
// RPC connection is up), then never answers a call. imgb must give up on it (Prepare timeout) and
// kill it; like Packer plugins it ignores SIGINT and SIGTERM. Its pid goes to IMGB_TEST_PID_FILE.
import { createServer } from "node:net";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

if (process.env.IMGB_TEST_PID_FILE) writeFileSync(process.env.IMGB_TEST_PID_FILE, String(process.pid));
const path = join(mkdtempSync(join(tmpdir(), "hanging-plugin-")), "sock");

/** A yamux frame (hashicorp/yamux spec.md): version, type, flags, stream id, length. */
function frame(type: number, flags: number, stream: number, length: number, payload = new Uint8Array(0)): Uint8Array {
  const f = new Uint8Array(12 + payload.length);
  const v = new DataView(f.buffer);
  v.setUint8(1, type);
  v.setUint16(2, flags);
  v.setUint32(4, stream);
  v.setUint32(8, length);
  f.set(payload, 12);
  return f;
}

const server = createServer((socket) => {
  let acked = false;
  socket.on("data", () => {
    if (acked) return;
    acked = true;
    // ACK stream 1 (window update, flag ACK) and send back broker id 0 on it.
    socket.write(frame(1, 2, 1, 0));
    socket.write(frame(0, 0, 1, 4, new Uint8Array(4)));
  });
});
server.listen(path, () => process.stdout.write(`5|unix|${path}\n`));
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});
