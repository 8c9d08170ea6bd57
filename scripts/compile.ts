// Compiles dist/imgb for this machine: one executable with the runtime, the code and the first-party
// plugins embedded.
import { hostTarget } from "../core/release/build-info.ts";
import { IMGB_VERSION } from "../core/version.ts";
import { compileBinary, sourceFacts } from "./compile-binary.ts";
import { compressedAssets } from "./compressed-assets.ts";

try {
  const assets = await compressedAssets();
  compileBinary({ outfile: "dist/imgb", info: { version: IMGB_VERSION, ...sourceFacts(), target: hostTarget() }, assets });
} catch (e) {
  console.error(`compile: ${(e as Error).message}`);
  process.exit(1);
}
