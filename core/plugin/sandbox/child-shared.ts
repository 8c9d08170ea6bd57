// The binary's modules that the lazily loaded sandbox child (child.ts) imports, by repository path:
// it uses these instances instead of copies (core/embedded/shared-modules.ts). The build
// (scripts/compressed-assets.ts) fails when the child imports a module this list lacks.
import * as assets from "../../embedded/compressed-assets.ts";
import * as clock from "../host/clock.ts";
import * as paths from "../host/paths.ts";
import * as table from "../host/table.ts";
import * as moduleCheck from "./module-check.ts";
import type { SharedModules } from "../../embedded/shared-modules.ts";

export const SANDBOX_CHILD_SHARED: SharedModules = {
  "core/embedded/compressed-assets.ts": assets,
  "core/plugin/host/clock.ts": clock,
  "core/plugin/host/paths.ts": paths,
  "core/plugin/host/table.ts": table,
  "core/plugin/sandbox/module-check.ts": moduleCheck,
};
