#!/usr/bin/env bash
# Build a GRUB rescue ISO that boots enso under BIOS (SeaBIOS) and UEFI (OVMF).
#
#   scripts/mkiso.sh [-m "<file> [args...]"]... <enso-image> <out.iso> [extra enso command line...]
#
# Each -m adds a boot module: the file goes onto the ISO (as /boot/modN/<its name>) and
# the entry gets "module2 /boot/modN/<name> args", in the order given; the first is
# domain 0's kernel. The arguments are copied into grub.cfg as they are (GRUB words).
# GRUB_PRE, if set, is a GRUB command run before multiboot2 (e.g. "cutmem 64M 96M").
#
# Requires: grub-mkrescue (grub-common), grub-pc-bin, grub-efi-amd64-bin,
# xorriso and mtools.  Works offline.
set -euo pipefail

die() { echo "mkiso: error: $*" >&2; exit 1; }

usage() {
    echo "usage: $0 [-m \"<file> [args...]\"]... <enso-image> <out.iso> [extra enso command line...]" >&2
    exit 2
}

modules=()
while [ $# -gt 0 ]; do
    case $1 in
    -m|--module)
        [ $# -ge 2 ] || usage
        modules+=("$2")
        shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || usage

image=$1
out=$2
shift 2
extra="$*"

[ -f "$image" ] || die "enso image '$image' not found"
for spec in "${modules[@]}"; do
    read -r file _ <<<"$spec"
    [ -f "$file" ] || die "module '$file' not found"
done

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

# One module2 line per -m, each file in a directory of its own (two modules may be
# files of the same name). GRUB 2 passes only the arguments as the module's string.
module_lines=""
n=0
for spec in "${modules[@]}"; do
    read -r file args <<<"$spec"
    name=$(basename "$file")
    mkdir -p "$stage/boot/mod$n"
    cp "$file" "$stage/boot/mod$n/$name"
    module_lines+="    module2 /boot/mod$n/$name${args:+ $args}"$'\n'
    n=$((n + 1))
done

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
${module_lines}    boot
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
