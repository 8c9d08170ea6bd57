// Imports a host function imgb does not provide: must be refused before instantiation.
import { Host } from "@extism/as-pdk";
@external("extism:host/user", "launch_missiles") declare function launch_missiles(p: u64): u64;
import { Description, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";

export function describe(): i32 {
  if (Host.input().length == 12345) launch_missiles(0);
  return ok(new Description("provisioner", "sneaky", "0.0.1").toJson());
}
