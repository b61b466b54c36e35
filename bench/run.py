#!/usr/bin/env python3
"""make bench: the bench test kernel (guests/tests/bench.c) on enso and on real Xen 4.17,
both as domain 0 under the same QEMU with -icount shift=0,sleep=off, so that guest time
counts emulated instructions and the figures repeat from run to run. Prints each figure
(TSC ticks per operation, median of the runs) for both and the ratio enso/Xen.

Timer figures: timer_wakeup_latency is the ticks from a single-shot timer's deadline
(50 us ahead, the vCPU blocked meanwhile) to its event callback; with sleep=off QEMU
jumps over idle time, so it is the work between the timer interrupt and the upcall.
block_wake is one round of a timer already due (VCPUOP_set_singleshot_timer) and
SCHEDOP_block returning into the upcall.
"""
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "qemu"))
from qemu import Machine  # noqa: E402

REPO = os.path.join(HERE, "..")
CACHE = os.environ.get("ENSO_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "enso"))
KERNEL = os.path.join(REPO, "build", "guests", "bench.elf")
HVS = {
    "enso": (os.path.join(REPO, "build", "enso"), "max",
             "console=com1 noreboot dom0_mem=64M,max:64M"),
    # Xen's PV dom0 crashes under this QEMU with SMEP/SMAP on (shared/docs/qemu-notes.md).
    "xen": (os.path.join(CACHE, "xen-4.17-amd64"), "max,-smap,-smep",
            "console=com1 com1=115200,8n1 dom0_mem=64M,max:64M dom0_max_vcpus=1 noreboot"),
}
RUNS = 3


def run_once(hv, i):
    image, cpu, append = HVS[hv]
    m = Machine("bench-%s-%d" % (hv, i), kernel=image, cpu=cpu, mem="256M", append=append,
                extra=["-icount", "shift=0,sleep=off", "-initrd", KERNEL + " bench"])
    with m:
        m.wait_for(r"^RESULT bench: \d+ passed, 0 failed", 300,
                   fail=r"PANIC|FATAL TRAP|crashed|FAIL ")
        return {k: int(v) for k, v in re.findall(r"^BENCH (\S+) (\d+)", m.log, re.M)}


def main():
    for hv, (image, _, _) in HVS.items():
        if not os.path.exists(image):
            print("bench: %s missing (make, make fetch-xen)" % image)
            return 1
    results = {hv: [run_once(hv, i) for i in range(RUNS)] for hv in HVS}
    names = list(results["enso"][0])
    print("%-26s %12s %12s %10s" % ("figure (TSC ticks, icount)", "enso", "xen", "enso/xen"))
    for n in names:
        e = statistics.median(r[n] for r in results["enso"])
        x = statistics.median(r[n] for r in results["xen"] if n in r)
        print("%-26s %12d %12d %10.2f" % (n, e, x, e / x if x else float("nan")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
