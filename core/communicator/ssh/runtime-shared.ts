// The binary's modules that the lazily loaded SSH runtime (runtime.ts) imports, by repository path:
// it uses these instances instead of copies (core/embedded/shared-modules.ts). The build
// (scripts/compressed-assets.ts) fails when the runtime imports a module this list lacks.
import * as communicatorTypes from "../types.ts";
import * as partialUpload from "../partial-upload.ts";
import * as terminal from "../../ui/terminal.ts";
import * as duration from "./duration.ts";
import * as hostkey from "./hostkey.ts";
import * as paths from "./paths.ts";
import * as ssh2 from "./ssh2.ts";
import * as tunnels from "./tunnels.ts";
import type { SharedModules } from "../../embedded/shared-modules.ts";

export const SSH_RUNTIME_SHARED: SharedModules = {
  "core/communicator/types.ts": communicatorTypes,
  "core/communicator/partial-upload.ts": partialUpload,
  "core/ui/terminal.ts": terminal,
  "core/communicator/ssh/duration.ts": duration,
  "core/communicator/ssh/hostkey.ts": hostkey,
  "core/communicator/ssh/paths.ts": paths,
  "core/communicator/ssh/ssh2.ts": ssh2,
  "core/communicator/ssh/tunnels.ts": tunnels,
};
