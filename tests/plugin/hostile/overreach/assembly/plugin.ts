// Imports local_exec without declaring the local_exec capability: refused when registered.
import { Description, HostCall, Json, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";

export function describe(): i32 {
  return ok(new Description("provisioner", "overreach", "0.0.1").capability("temp_file").toJson());
}
export function prepare(): i32 {
  return 0;
}
export function provision(): i32 {
  HostCall.local_exec(Json.obj().set("argv", Json.strings(["/bin/true"])));
  return 0;
}
