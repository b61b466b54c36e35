#!/usr/bin/env bash
# Fetch Debian 12's stock kernel (linux-image-amd64, the package the metapackage points
# at) and busybox-static for the Linux scenarios. Leaves, in $ENSO_CACHE/linux (default
# ~/.cache/enso/linux): vmlinuz (the bzImage as Debian ships it), busybox (static), and
# version (the kernel package's name and version). Prints the directory. Nothing is
# installed and nothing lands in the source tree; needs apt-get and dpkg-deb.
set -euo pipefail

cache=${ENSO_CACHE:-$HOME/.cache/enso}/linux
if [ -s "$cache/vmlinuz" ] && [ -s "$cache/busybox" ]; then
    echo "$cache"
    exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# apt-get download writes into the current directory; a stale index makes it fail.
download() {
    if ! (cd "$work" && apt-get download "$@" >&2); then
        echo "fetch-linux: apt-get download failed; running apt-get update and retrying" >&2
        SUDO=()
        [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=(sudo)
        "${SUDO[@]}" apt-get update >&2
        (cd "$work" && apt-get download "$@" >&2)
    fi
}

# The metapackage depends on the real image package: follow it.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
if [ -z "$kpkg" ]; then
    SUDO=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO=(sudo)
    "${SUDO[@]}" apt-get update >&2
    kpkg=$(apt-cache depends linux-image-amd64 |
           sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
fi
[ -n "$kpkg" ] || { echo "fetch-linux: cannot resolve linux-image-amd64" >&2; exit 1; }
download "$kpkg" busybox-static

dpkg-deb -x "$work/${kpkg}"_*.deb "$work/k"
dpkg-deb -x "$work"/busybox-static_*.deb "$work/b"
vmlinuz=$(ls "$work"/k/boot/vmlinuz-* | head -n1)
[ -f "$vmlinuz" ] || { echo "fetch-linux: $kpkg has no /boot/vmlinuz-*" >&2; exit 1; }
[ -f "$work/b/bin/busybox" ] || { echo "fetch-linux: busybox-static has no /bin/busybox" >&2; exit 1; }
cp "$work/b/bin/busybox" "$cache/busybox"
basename "$(ls "$work/${kpkg}"_*.deb)" .deb > "$cache/version"
mv "$vmlinuz" "$cache/vmlinuz"
echo "$cache"
