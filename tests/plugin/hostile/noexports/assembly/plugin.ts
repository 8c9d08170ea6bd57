// Describes itself as a provisioner but exports neither prepare nor provision.
import { Description, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";

export function describe(): i32 {
  return ok(new Description("provisioner", "lazy", "0.0.1").toJson());
}
