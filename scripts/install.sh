#!/bin/sh
# Installs imgb from a release folder:
#   sh install.sh --base-url URL [--dir DIR]
# or with IMGB_RELEASE_URL set. Picks the binary for this OS and CPU, checks it against SHA256SUMS
# and, when this script carries the release public key (the copy published with a release does),
# checks SHA256SUMS's Ed25519 signature with openssl first. Installs to ~/.local/bin by default.
# POSIX sh only: it must run under dash, busybox ash and macOS's sh alike.
set -eu

# Filled in by scripts/release.ts with the release public key (PEM); empty in the repository's copy.
RELEASE_KEY_PEM=''

base_url="${IMGB_RELEASE_URL:-}"
dir="${HOME:-}/.local/bin"

say() { printf 'imgb install: %s\n' "$*"; }
die() { printf 'imgb install: error: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --base-url) [ $# -ge 2 ] || die "--base-url needs a URL"; base_url="$2"; shift 2 ;;
    --base-url=*) base_url="${1#--base-url=}"; shift ;;
    --dir) [ $# -ge 2 ] || die "--dir needs a folder"; dir="$2"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    -h|--help) sed -n '2,7p' "$0" 2>/dev/null || true; exit 0 ;;
    *) die "unknown argument: $1 (use --base-url URL and --dir DIR)" ;;
  esac
done
[ -n "$base_url" ] || die "no release location: give --base-url URL or set IMGB_RELEASE_URL"
case "$base_url" in */) ;; *) base_url="$base_url/" ;; esac

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW*|MSYS*|CYGWIN*) die "on Windows, download imgb-VERSION-windows-x64.exe from $base_url and check it against SHA256SUMS" ;;
  *) die "no imgb binary for $(uname -s)" ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "no imgb binary for CPU $(uname -m)" ;;
esac
target="$os-$arch"
# x64 Linux CPUs without AVX2 (before 2013) get the baseline build.
if [ "$target" = linux-x64 ] && [ -r /proc/cpuinfo ] && ! grep -qw avx2 /proc/cpuinfo; then
  target=linux-x64-baseline
fi

fetch() { # URL FILE
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --proto '=http,https' -o "$2" "$1" || die "cannot download $1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || die "cannot download $1"
  else
    die "neither curl nor wget is installed"
  fi
}

sha256_of() { # FILE
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed: cannot check the download"
  fi
}

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t imgb-install)"
trap 'rm -rf "$tmp"' EXIT INT TERM HUP

fetch "${base_url}SHA256SUMS" "$tmp/SHA256SUMS"
if [ -n "$RELEASE_KEY_PEM" ]; then
  command -v openssl >/dev/null 2>&1 || die "openssl is needed to check the release signature"
  fetch "${base_url}SHA256SUMS.sig" "$tmp/SHA256SUMS.sig"
  printf '%s\n' "$RELEASE_KEY_PEM" > "$tmp/release-key.pem"
  openssl pkeyutl -verify -pubin -inkey "$tmp/release-key.pem" -rawin -in "$tmp/SHA256SUMS" -sigfile "$tmp/SHA256SUMS.sig" >/dev/null 2>&1 \
    || die "SHA256SUMS at $base_url is not signed by the imgb release key: refusing to install"
  signature="signature checked"
else
  signature="no release key in this script: signature not checked"
fi

line="$(grep -E "^[0-9a-f]{64}  imgb-[^ ]*-$target\$" "$tmp/SHA256SUMS" | head -n 1 || true)"
[ -n "$line" ] || die "the release at $base_url has no binary for $target"
want="${line%% *}"
name="${line##* }"
fetch "$base_url$name" "$tmp/$name"
got="$(sha256_of "$tmp/$name")"
[ "$got" = "$want" ] || die "$name does not match SHA256SUMS (got $got, want $want): refusing to install"

mkdir -p "$dir" || die "cannot create $dir"
chmod 755 "$tmp/$name"
# Copy beside the destination, then rename: an interrupted install never leaves half a binary.
cp "$tmp/$name" "$dir/.imgb.install.$$" || die "cannot write to $dir"
mv -f "$dir/.imgb.install.$$" "$dir/imgb" || { rm -f "$dir/.imgb.install.$$"; die "cannot install to $dir/imgb"; }

say "installed $name to $dir/imgb (sha256 $want; $signature)"
say "$("$dir/imgb" version 2>/dev/null | head -n 1 || echo "$dir/imgb does not run on this machine")"
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "$dir is not on your PATH: add it, e.g. export PATH=\"$dir:\$PATH\"" ;;
esac
