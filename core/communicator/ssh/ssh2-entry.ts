// What loadSsh2 (ssh2.ts) loads: ssh2, and the two of its internals certificate.ts extends. The
// compiled binary carries this module bundled and compressed (scripts/compressed-assets.ts).
import * as ssh2 from "ssh2";
import Protocol from "ssh2/lib/protocol/Protocol.js";
import { sendPacket } from "ssh2/lib/protocol/utils.js";

export { Protocol, sendPacket, ssh2 };
