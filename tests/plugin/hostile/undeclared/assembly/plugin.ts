// Imports a host function imgb does not provide: must be refused before instantiation.
@external("extism:host/user", "launch_missiles") declare function launch_missiles(p: u64): u64;
import { Description, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";

export function describe(): i32 {
  if (i32(Date.now()) == 42) launch_missiles(0);
  return ok(new Description("provisioner", "sneaky", "0.0.1").toJson());
}
