#!/usr/bin/env bash
# Builder benchmarks: dist/imgb against packer 1.6.6 on the same builds, in one hyperfine run each.
#   docker: commit a container after a shell provisioner (imgb drives podman; packer drives a
#           `docker` that is podman, as Debian's podman-docker installs it: the docker 28 CLI against
#           podman 4.3's API socket fails to commit, "Decode(): EOF")
#   qemu:   boot the BIOS-bootable test guest under TCG, shell over SSH, shut down, write a qcow2
# Needs root, dist/imgb, packer, hyperfine, podman, qemu, and the test images (made by the test suite:
# `bun test tests/builders/qemu` builds the guest once into $IMGB_TEST_CACHE or /tmp/imgb-test-cache).
# Results: bench/out/builders-*.json; `bun run bench/summarize.ts bench/out` prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
command -v packer >/dev/null && command -v hyperfine >/dev/null || { echo "bench: needs packer and hyperfine (apt-get install packer hyperfine)"; exit 1; }
[ -x dist/imgb ] || { echo "bench: build dist/imgb first (npm run build)"; exit 1; }
CACHE=${IMGB_TEST_CACHE:-${TMPDIR:-/tmp}/imgb-test-cache}
GUEST=$(ls -td "$CACHE"/qemu-guest-* 2>/dev/null | head -1)
IMAGE=localhost/imgb-test/debian:bookworm-v1
[ -n "$GUEST" ] && [ -f "$GUEST/output-guest/guest.qcow2" ] && podman image exists "$IMAGE" || {
  echo "bench: make the test images first: node_modules/.bin/bun test tests/builders/qemu tests/builders/docker"; exit 1; }
export CHECKPOINT_DISABLE=1 PACKER_LOG=
out=$ROOT/bench/out; mkdir -p "$out"
work=$(mktemp -d /tmp/imgb-bench-builders-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" && printf '#!/bin/sh\nexec podman "$@"\n' > "$work/bin/docker" && chmod +x "$work/bin/docker"
export PATH=$work/bin:$PATH
cp bench/builders/*.json "$work/"
cd "$work"
# Committed images are removed after each run so storage does not grow.
untag='podman image prune -f >/dev/null; podman images -q --filter dangling=true | xargs -r podman rmi -f >/dev/null'
hyperfine -N --warmup 1 --runs 10 --export-json "$out/builders-docker.json" --cleanup "sh -c '$untag'" \
  -n imgb "$ROOT/dist/imgb build -color=false -var image=$IMAGE docker.imgb.json" \
  -n packer "packer build -color=false -var image=$IMAGE docker.packer.json"
hyperfine -N --runs 3 --export-json "$out/builders-qemu.json" --prepare "rm -rf out-imgb out-packer" \
  -n imgb "$ROOT/dist/imgb build -color=false -var disk=$GUEST/output-guest/guest.qcow2 -var key=$GUEST/key qemu.imgb.json" \
  -n packer "packer build -color=false -var disk=$GUEST/output-guest/guest.qcow2 -var key=$GUEST/key qemu.packer.json"
"$ROOT/node_modules/.bin/bun" run "$ROOT/bench/summarize.ts" "$out"
