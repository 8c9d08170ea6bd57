#!/usr/bin/env bash
# The rootfs builder's bootable disk (MBR + FAT boot partition with syslinux + ext4 root written in
# place) against the bare `mkfs.ext4 -d` of the same tree at the same root size: the price of
# bootability. Needs root, syslinux, mtools, dosfstools, e2fsprogs, hyperfine, and a tree with a
# kernel: `bash bench/builders/run-disk.sh TREE` (e.g. an mmdebstrap tree with linux-image-amd64).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
tree=${1:?usage: run-disk.sh TREE}
out=$ROOT/bench/out; mkdir -p "$out"
work=$(mktemp -d /tmp/imgb-bench-disk-XXXXXX)
trap 'rm -rf "$work"' EXIT
bytes=$(node_modules/.bin/bun -e "const {autoDiskBytes}=await import('$ROOT/core/builders/rootfs/outputs.ts'); console.log(await autoDiskBytes('$tree', new AbortController().signal))")
hyperfine -N --warmup 1 --runs 5 --export-json "$out/rootfs-bootable-disk.json" --prepare "rm -f $work/disk.raw $work/fs.ext4" \
  -n imgb "$ROOT/node_modules/.bin/bun $ROOT/bench/builders/bootable-disk.ts $tree $work/disk.raw" \
  -n "mkfs.ext4 -d" "sh -c 'truncate -s $bytes $work/fs.ext4 && mkfs.ext4 -q -F -L root -d $tree $work/fs.ext4'"
