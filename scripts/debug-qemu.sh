#!/usr/bin/env bash
# Like scripts/run-qemu.sh, but QEMU waits for a debugger: gdbstub on
# tcp::1234 (-s) and the CPUs stopped at reset (-S).
#
#   scripts/debug-qemu.sh [extra qemu args...]
#
# Environment: SMP (default 4), MEM (default 2G), APPEND (default console=com1),
# KERNEL (default build/enso).  Quit QEMU with Ctrl-A X.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kernel=${KERNEL:-$root/build/enso}
if [ ! -f "$kernel" ]; then
    echo "debug-qemu: $kernel not found (run 'make' first)" >&2
    exit 1
fi
syms=$root/build/enso-syms
[ -f "$syms" ] || syms=$kernel
rel_syms=${syms#"$PWD"/}

cat >&2 <<MSG
debug-qemu: QEMU is stopped waiting for gdb on localhost:1234. In another terminal:

    gdb $rel_syms -ex 'target remote :1234'

  (then e.g. 'break <function>' and 'continue'; quit QEMU here with Ctrl-A X)
MSG

exec qemu-system-x86_64 -accel tcg -cpu max \
    -smp "${SMP:-4}" -m "${MEM:-2G}" \
    -nographic -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" -append "${APPEND:-console=com1}" \
    -s -S \
    "$@"
