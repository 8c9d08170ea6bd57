#!/usr/bin/env bash
# ISO install and download benchmarks: dist/imgb against its peers in one hyperfine run each.
#   install:  the test installer ISO (tests/support/installer-iso.ts) installed under TCG as the e2e
#             test does it — boot_command typed at isolinux, install.sh and root's key from the
#             build's HTTP server (http_directory), reboot from disk, shell over SSH, shutdown,
#             qcow2 — by imgb and by packer 1.6.6 from the same JSON template (bench/iso/install.json)
#   download: a 1 GiB file from a loopback HTTP server (Bun.serve, sendfile) into the download
#             cache with its sha256 checked while streaming (imgb: the qemu builder's download step,
#             the build then stops at its missing qemu binary), against `curl -o` and against
#             `curl -o` followed by `sha256sum` (what a download with a checksum costs without streaming)
# Needs root, dist/imgb, packer, hyperfine, curl, and the installer ISO (made by the test suite:
# `bun test tests/e2e/qemu-iso.test.ts`, cached in $IMGB_TEST_CACHE or /tmp/imgb-test-cache). The guest
# has sftp-server but no scp: the template asks both tools for sftp (packer 1.6.6 defaults to scp).
# Results: bench/out/iso-*.json; `bun run bench/summarize.ts bench/out` prints the table.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
for t in packer hyperfine curl; do command -v $t >/dev/null || { echo "bench: needs $t"; exit 1; }; done
IMGB=${IMGB:-$ROOT/dist/imgb}
[ -x "$IMGB" ] || { echo "bench: build dist/imgb first (npm run build)"; exit 1; }
CACHE=${IMGB_TEST_CACHE:-${TMPDIR:-/tmp}/imgb-test-cache}
ISO=$(ls -t "$CACHE"/installer-iso-*/installer.iso 2>/dev/null | head -1)
[ -n "$ISO" ] || { echo "bench: make the installer ISO first: node_modules/.bin/bun test tests/e2e/qemu-iso.test.ts"; exit 1; }
export CHECKPOINT_DISABLE=1 PACKER_LOG=
out=$ROOT/bench/out; mkdir -p "$out"
work=$(mktemp -d /tmp/imgb-bench-iso-XXXXXX)
server=""
trap '[ -n "$server" ] && kill $server; rm -rf "$work"' EXIT
cp bench/iso/install.json "$work/"
mkdir "$work/http" && cp tests/e2e/fixtures/qemu-iso/http/install.sh "$work/http/"
cd "$work"
ssh-keygen -q -t ed25519 -N '' -f key && cp key.pub http/authorized_keys
SUM=sha256:$(sha256sum "$ISO" | cut -d' ' -f1)
hyperfine -N --show-output --runs "${RUNS:-3}" --export-json "$out/iso-install.json" --prepare "rm -rf out-qemu" \
  -n imgb "$IMGB build -color=false -var iso=$ISO -var iso_checksum=$SUM -var key=key install.json" \
  -n packer "packer build -color=false -var iso=$ISO -var iso_checksum=$SUM -var key=key install.json"

# 1 GiB download from loopback.
mkdir serve && head -c 1073741824 /dev/urandom > serve/big.img
BIGSUM=$(sha256sum serve/big.img | cut -d' ' -f1)
cat > serve.ts <<'TS'
const dir = process.argv[2]!;
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(Bun.file(dir + new URL(req.url).pathname)) });
console.log(server.port);
TS
"$ROOT/node_modules/.bin/bun" run serve.ts "$work/serve" > port.txt & server=$!
for i in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat port.txt)/big.img
cat > download.json <<JSON
{ "builders": [{ "type": "qemu", "iso_url": "$URL", "iso_checksum": "sha256:$BIGSUM", "qemu_binary": "/nonexistent/qemu",
  "accelerator": "tcg", "communicator": "none", "output_directory": "out-dl" }] }
JSON
hyperfine -N -i --warmup 1 --runs "${DL_RUNS:-5}" --export-json "$out/iso-download.json" --prepare "rm -rf cache out-dl big.img" \
  -n imgb "env PACKER_CACHE_DIR=$work/cache $IMGB build -color=false download.json" \
  -n curl "curl -s -o big.img $URL" \
  -n "curl + sha256sum" "sh -c 'curl -s -o big.img $URL && sha256sum big.img'"
"$ROOT/node_modules/.bin/bun" run "$ROOT/bench/summarize.ts" "$out"
