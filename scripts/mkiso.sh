#!/usr/bin/env bash
# Build a GRUB rescue ISO that boots enso under BIOS (SeaBIOS) and UEFI (OVMF).
#
#   scripts/mkiso.sh <enso-image> <out.iso> [extra enso command line...]
#
# Requires: grub-mkrescue (grub-common), grub-pc-bin, grub-efi-amd64-bin,
# xorriso and mtools.  Works offline.
set -euo pipefail

die() { echo "mkiso: error: $*" >&2; exit 1; }

if [ $# -lt 2 ]; then
    echo "usage: $0 <enso-image> <out.iso> [extra enso command line...]" >&2
    exit 2
fi

image=$1
out=$2
shift 2
extra="$*"

[ -f "$image" ] || die "enso image '$image' not found"

need_tool() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found (install package: $2; try scripts/install-deps.sh)"
}
need_tool grub-mkrescue grub-common
need_tool xorriso xorriso
need_tool mformat mtools
need_tool mcopy mtools

grub_lib=/usr/lib/grub
[ -f "$grub_lib/i386-pc/multiboot2.mod" ] ||
    die "GRUB BIOS modules missing in $grub_lib/i386-pc (install package: grub-pc-bin)"
[ -f "$grub_lib/x86_64-efi/multiboot2.mod" ] ||
    die "GRUB UEFI modules missing in $grub_lib/x86_64-efi (install package: grub-efi-amd64-bin)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/enso-iso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/root

mkdir -p "$stage/boot/grub"
cp "$image" "$stage/boot/enso"

cmdline="console=com1"
[ -n "$extra" ] && cmdline="$cmdline $extra"

cat > "$stage/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
insmod all_video
insmod multiboot2

menuentry "enso" {
    ${GRUB_PRE:-}
    multiboot2 /boot/enso $cmdline
    boot
}
CFG

mkdir -p "$(dirname "$out")"
rm -f "$out"
log="$tmp/grub-mkrescue.log"
if ! grub-mkrescue -o "$out" "$stage" >"$log" 2>&1; then
    cat "$log" >&2
    die "grub-mkrescue failed"
fi
[ -s "$out" ] || { cat "$log" >&2; die "grub-mkrescue produced no output"; }
echo "mkiso: wrote $out"
