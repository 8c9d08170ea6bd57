#!/usr/bin/env bash
# The main job from a fresh clone: install, build the binary, and run `imgb build` on examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node_modules/.bin/bun run plugins-wasm/build.ts
node_modules/.bin/bun run scripts/compile.ts
cd examples/hello
exec ../../dist/imgb build "$@" hello.json
