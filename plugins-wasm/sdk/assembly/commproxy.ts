// Capability comm_proxy (docs/plugin-abi.md §3): an SSH server on 127.0.0.1 that reaches the
// build's machine through its communicator, for a local program the plugin runs with local_exec
// (ansible-playbook). The host generates the keys; the plugin gets the port and two temp files.
// Its own module, so that only plugins using it import these host functions.
//   import { CommProxy } from "../../sdk/assembly/commproxy";
import { Json } from "./json";
import { HostCall } from "./calls";

export class CommProxy {
  id: i32 = 0;
  host: string = "127.0.0.1";
  port: i32 = 0;
  /** OpenSSH private key the adapter accepts (a temp file, removed when the call ends). */
  privateKeyFile: string = "";
  /** A known_hosts file naming the adapter's host key for [127.0.0.1]:port. */
  knownHostsFile: string = "";

  /** Opens an adapter on `port` (0 = any free port). */
  static open(port: i32 = 0): CommProxy {
    const r = HostCall.comm_proxy_open(Json.obj().setNum("port", f64(port)));
    const p = new CommProxy();
    p.id = i32(r.getNumber("id"));
    p.host = r.getString("host", "127.0.0.1");
    p.port = i32(r.getNumber("port"));
    p.privateKeyFile = r.getString("private_key_file");
    p.knownHostsFile = r.getString("known_hosts_file");
    return p;
  }

  /** Ends every connection and stops every forwarded command. */
  close(): void {
    HostCall.comm_proxy_close(Json.obj().setNum("id", f64(this.id)));
  }
}
