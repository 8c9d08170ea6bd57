// Imports a WASI function: must be refused before instantiation.
import { Host } from "@extism/as-pdk";
@external("wasi_snapshot_preview1", "proc_exit") declare function proc_exit(code: i32): void;
import { Description, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";

export function describe(): i32 {
  if (Host.input().length == 12345) proc_exit(1);
  return ok(new Description("provisioner", "wasi-user", "0.0.1").toJson());
}
