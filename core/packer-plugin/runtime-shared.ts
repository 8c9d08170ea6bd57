// The binary's modules that the lazily loaded Packer plugin runtime (runtime.ts) imports, by
// repository path: it uses these instances instead of copies (core/embedded/shared-modules.ts). The
// build (scripts/compressed-assets.ts) fails when the runtime imports a module this list lacks.
import * as communicatorTypes from "../communicator/types.ts";
import * as assets from "../embedded/compressed-assets.ts";
import * as cancelled from "../errors/cancelled.ts";
import * as num from "../hcl/num.ts";
import * as types from "../hcl/types.ts";
import * as value from "../hcl/value.ts";
import * as child from "../process/child.ts";
import * as interrupts from "../process/interrupts.ts";
import * as handshake from "./handshake.ts";
import type { SharedModules } from "../embedded/shared-modules.ts";

export const PACKER_RUNTIME_SHARED: SharedModules = {
  "core/communicator/types.ts": communicatorTypes,
  "core/embedded/compressed-assets.ts": assets,
  "core/errors/cancelled.ts": cancelled,
  "core/hcl/num.ts": num,
  "core/hcl/types.ts": types,
  "core/hcl/value.ts": value,
  "core/process/child.ts": child,
  "core/process/interrupts.ts": interrupts,
  "core/packer-plugin/handshake.ts": handshake,
};
