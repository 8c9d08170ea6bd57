// Imports ui_say with the wrong wasm type ((i32) -> i32): must be refused at load, naming the import.
import { Description, Plugin, ok } from "../../../../../plugins-wasm/sdk/assembly/sdk";
@external("extism:host/user", "ui_say") declare function ui_say(p: i32): i32;

export function describe(): i32 {
  if (Plugin.input().has("never")) ui_say(0);
  return ok(new Description("provisioner", "wrongtype", "0.0.1").toJson());
}
export function prepare(): i32 {
  return 0;
}
export function provision(): i32 {
  return 0;
}
