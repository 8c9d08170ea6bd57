#!/usr/bin/env bash
# Spine benchmarks: dist/imgb against packer 1.6.6 on the same templates, in one hyperfine run each.
# Needs: dist/imgb (npm run build), packer and hyperfine (apt-get install packer hyperfine).
# Results: bench/out/*.json; `bun run bench/summarize.ts` prints medians and ratios for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v packer >/dev/null && command -v hyperfine >/dev/null || { echo "bench: needs packer and hyperfine (apt-get install packer hyperfine)"; exit 1; }
[ -x dist/imgb ] || { echo "bench: build dist/imgb first (npm run build)"; exit 1; }
out=bench/out; mkdir -p "$out"
node_modules/.bin/bun run bench/spine/make-templates.ts "$out/spine" >/dev/null
export CHECKPOINT_DISABLE=1 PACKER_LOG=
ROOT=$PWD
IMGB=$ROOT/dist/imgb
cd "$out/spine"
hyperfine -N --warmup 3 --runs 20 --export-json ../version.json \
  -n imgb "$IMGB version" -n packer "packer version"
hyperfine -N --warmup 2 --runs 10 --export-json ../validate-3x30.json \
  -n imgb "$IMGB validate validate-3x30.json" -n packer "packer validate validate-3x30.json"
hyperfine -N --warmup 2 --runs 10 --export-json ../validate-hcl-3x30.json \
  -n imgb "$IMGB validate validate-3x30.pkr.hcl" -n packer "packer validate validate-3x30.pkr.hcl"
hyperfine -N --warmup 1 --runs 5 --export-json ../build-20-shell-local.json \
  -n imgb "$IMGB build -color=false build-20-shell-local.json" -n packer "packer build -color=false build-20-shell-local.json"
"$ROOT/node_modules/.bin/bun" run "$ROOT/bench/summarize.ts" "$ROOT/bench/out"
