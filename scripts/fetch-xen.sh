#!/usr/bin/env bash
# Fetch real Xen 4.17 (Debian 12's xen-hypervisor-4.17-amd64) for the guest tests on Xen.
# Leaves the hypervisor as an uncompressed ELF (a multiboot image QEMU boots with -kernel)
# at $ENSO_CACHE/xen-4.17-amd64 (default cache: ~/.cache/enso) and prints that path.
# Nothing is installed and nothing lands in the source tree. Needs only apt-get and
# dpkg-deb, both part of every Debian system.
set -euo pipefail

cache=${ENSO_CACHE:-$HOME/.cache/enso}
pkg=xen-hypervisor-4.17-amd64
out=$cache/xen-4.17-amd64

if [ -s "$out" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/fetch-xen.XXXXXX")
trap 'rm -rf "$work"' EXIT

# apt-get download writes into the current directory. A stale package index makes it fail
# (the pool file it names is gone): refresh the index once and retry.
if ! (cd "$work" && apt-get download "$pkg" >&2); then
    echo "fetch-xen: apt-get download failed; running apt-get update and retrying" >&2
    SUDO=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=(sudo)
    "${SUDO[@]}" apt-get update >&2
    (cd "$work" && apt-get download "$pkg" >&2)
fi

deb=$(ls "$work"/"$pkg"_*.deb)
dpkg-deb -x "$deb" "$work/root"
gz=$work/root/boot/xen-4.17-amd64.gz
[ -f "$gz" ] || { echo "fetch-xen: $deb has no boot/xen-4.17-amd64.gz" >&2; exit 1; }
gunzip -c "$gz" > "$work/xen"
cp "$work/root/boot/xen-4.17-amd64.config" "$cache/xen-4.17-amd64.config" 2>/dev/null || true
basename "$deb" .deb > "$cache/xen-4.17-amd64.version"
mv "$work/xen" "$out"
echo "$out"
