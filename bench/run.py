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

Event round trips: one side sends an event, the other takes it and sends one back, the
first takes the answer; ticks per round. Both sides wait with SCHEDOP_block, woken by
the upcall (event_roundtrip_*), or with SCHEDOP_poll on the port, events masked
(*_poll). Between vCPUs of domain 0 (two IPI ports) and between two domains (one
interdomain channel).

Each group of figures gets a boot of its own (bench= on the kernel's command line):
- single: all the figures above, one CPU and one dom0 vCPU as they always were taken
  (a second CPU alone moves Xen's timer_wakeup_latency by 12%);
- vcpus: two CPUs, dom0_max_vcpus=2. QEMU runs one CPU at a time here, and enso's
  single run queue lets the sender's CPU take the vCPU it woke as soon as the sender
  blocks, so on enso both vCPUs share a CPU; Xen's credit2 leaves the woken vCPU to
  the idle CPU it signalled, so its round trip crosses CPUs both ways;
- domains (enso only): the kernel as dom0 and again as an unprivileged domU, on one
  CPU (enso puts them on one CPU anyway; with two, which CPU they end up sharing
  moves the figure by 4%). Xen needs a toolstack in dom0 to build a second domain,
  so its column says n/a.
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
            "console=com1 com1=115200,8n1 dom0_mem=64M,max:64M noreboot"),
}
# Per group: the hypervisors, QEMU CPUs, domain 0's vCPUs and the boot modules.
RT = " rt_rounds=200"  # round trips timed per figure
GROUPS = [
    ("single", ("enso", "xen"), 1, 1, [KERNEL + " bench=single"]),
    ("vcpus", ("enso", "xen"), 2, 2, [KERNEL + " bench=vcpus" + RT]),
    ("domains", ("enso",), 1, 1,
     [KERNEL + " bench=domains rt_domain=ping rt_peer=1" + RT,
      KERNEL + " enso.privileged=0 enso.mem=32M bench=domains rt_domain=pong rt_peer=0" + RT]),
]
RUNS = 3
FAIL = r"PANIC|FATAL TRAP|crashed|FAIL "
NO_XEN = ("n/a: on Xen a second domain is built by a toolstack in dom0 (xl/libxl, "
          "xenstored), which this bench does not have")


def run_once(group, hv, smp, vcpus, modules, i):
    """One boot: the figures (name -> ticks) every domain's kernel printed."""
    image, cpu, append = HVS[hv]
    m = Machine("bench-%s-%s-%d" % (hv, group, i), kernel=image, cpu=cpu, mem="256M",
                smp=smp, append="%s dom0_max_vcpus=%d" % (append, vcpus),
                extra=["-icount", "shift=0,sleep=off", "-initrd", ",".join(modules)])
    with m:
        for d in range(len(modules)):
            prefix = r"\(d%d\) " % d if d else ""
            m.wait_for(r"^%sRESULT bench: \d+ passed, 0 failed" % prefix, 300, fail=FAIL)
        return {k: int(v) for k, v in re.findall(r"^BENCH (\S+) (\d+)", m.log, re.M)}


def main():
    for hv, (image, _, _) in HVS.items():
        if not os.path.exists(image):
            print("bench: %s missing (make, make fetch-xen)" % image)
            return 1
    results = {hv: [{} for _ in range(RUNS)] for hv in HVS}
    for group, hvs, smp, vcpus, modules in GROUPS:
        for hv in hvs:
            for i in range(RUNS):
                results[hv][i].update(run_once(group, hv, smp, vcpus, modules, i))
    names = list(results["enso"][0])
    print("%-30s %12s %12s %10s" % ("figure (TSC ticks, icount)", "enso", "xen", "enso/xen"))
    footnote = False
    for n in names:
        e = statistics.median(r[n] for r in results["enso"])
        if n not in results["xen"][0]:
            print("%-30s %12d %12s %10s" % (n, e, "n/a", "n/a"))
            footnote = True
            continue
        x = statistics.median(r[n] for r in results["xen"])
        print("%-30s %12d %12d %10.2f" % (n, e, x, e / x if x else float("nan")))
    if footnote:
        print(NO_XEN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
