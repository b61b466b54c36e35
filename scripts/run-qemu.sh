#!/usr/bin/env bash
# Boot build/enso interactively under QEMU (TCG), serial console on this terminal.
#
#   scripts/run-qemu.sh [extra qemu args...]
#
# Environment: SMP (default 4), MEM (default 2G), APPEND (default console=com1),
# KERNEL (default build/enso).  QEMU's escape key is Ctrl-T (so Ctrl-A reaches enso,
# which switches serial input with it): quit QEMU with Ctrl-T X.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernel=${KERNEL:-$root/build/enso}
if [ ! -f "$kernel" ]; then
    echo "run-qemu: $kernel not found (run 'make' first)" >&2
    exit 1
fi

echo "run-qemu: booting $kernel (smp ${SMP:-4}, mem ${MEM:-2G}); quit with Ctrl-T X" >&2
exec qemu-system-x86_64 -accel tcg -cpu max \
    -smp "${SMP:-4}" -m "${MEM:-2G}" \
    -nographic -echr 0x14 -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" -append "${APPEND:-console=com1}" \
    "$@"
