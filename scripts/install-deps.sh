#!/usr/bin/env bash
# Ensure the Debian packages needed to build and test enso are installed.
# Cheap when everything is present: one dpkg-query per package, no output.
set -euo pipefail

PACKAGES=(
    gcc libc6-dev make binutils python3
    qemu-system-x86
    grub-pc-bin grub-efi-amd64-bin grub-common
    xorriso mtools ovmf gdb
    gzip xz-utils
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    case "$status" in
        ii*) ;;
        *) missing+=("$pkg") ;;
    esac
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing missing packages: ${missing[*]}" >&2

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: not root and sudo not available; please install: ${missing[*]}" >&2
        exit 1
    fi
fi

"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
