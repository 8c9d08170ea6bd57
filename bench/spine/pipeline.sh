#!/usr/bin/env bash
# The component-pipeline benchmark: `validate` and `build` of the 3 x 30 and the 20-provisioner
# templates, dist/imgb against packer 1.6.6 in one hyperfine run each, and how many Prepare/Configure
# calls reached a plugin (IMGB_DEBUG_PREPARE_COUNT=1). BEFORE=path/to/older/imgb adds that binary to
# every run, so an older build is compared in the same run.
# Needs: dist/imgb (npm run build), packer and hyperfine (apt-get install packer hyperfine).
# Results: bench/out/pipeline/*.json and the table printed at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v packer >/dev/null && command -v hyperfine >/dev/null || { echo "bench: needs packer and hyperfine (apt-get install packer hyperfine)"; exit 1; }
[ -x dist/imgb ] || { echo "bench: build dist/imgb first (npm run build)"; exit 1; }
ROOT=$PWD
out=$ROOT/bench/out/pipeline; mkdir -p "$out"
node_modules/.bin/bun run bench/spine/make-templates.ts "$out/templates" >/dev/null
export CHECKPOINT_DISABLE=1 PACKER_LOG=
IMGB=$ROOT/dist/imgb
cd "$out/templates"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # name, runs, imgb arguments...
  local name=$1 runs=$2; shift 2
  local cmds=(-n imgb "$IMGB $*")
  [ -n "${BEFORE:-}" ] && cmds+=(-n imgb-before "$BEFORE $*")
  cmds+=(-n packer "packer $*")
  hyperfine -N --warmup 1 --runs "$runs" --export-json "$out/$name.json" "${cmds[@]}" >/dev/null
  for bin in "$IMGB" ${BEFORE:+"$BEFORE"}; do
    local n
    n=$(IMGB_DEBUG_PREPARE_COUNT=1 "$bin" "$@" 2>&1 >/dev/null | sed -n 's/^imgb: \([0-9]*\) plugin prepare.*/\1/p')
    echo "$name $([ "$bin" = "$IMGB" ] && echo imgb || echo imgb-before) ${n:-?}" >>"$out/prepare-counts.txt"
  done
}
: >"$out/prepare-counts.txt"
run validate-3x30 10 validate validate-3x30.json
run validate-hcl-3x30 10 validate validate-3x30.pkr.hcl
run validate-20 10 validate build-20-shell-local.json
run build-3x30 5 build -color=false validate-3x30.json
run build-20 5 build -color=false build-20-shell-local.json
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
"$ROOT/node_modules/.bin/bun" run "$ROOT/bench/spine/summarize-pipeline.ts" "$out"
