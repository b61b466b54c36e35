#!/usr/bin/env python3
"""make bench, second table: lmbench-style figures of Debian's Linux (tests/linux/prog/
lmbench.c) natively, as a PV guest of enso and as PV domain 0 of Xen 4.17, all under the
same QEMU with -icount shift=0,sleep=off (the TSC counts emulated instructions, so the
figures are instruction counts that repeat from boot to boot). Prints each figure (TSC
ticks per operation, median of the runs inside the guest) for the three and the ratios
enso/native and xen/native. Defaults: 3 boots of each setup, one QEMU at a time, 11
runs of each figure per boot (about 3 minutes in all); "spread" is the largest
boot-to-boot (max - min) / median among the three setups.

The three setups differ only where they must: native Linux has -m 256M and its console
on ttyS0; enso and Xen get -m 512M (room for the hypervisor) and give Linux 256 MiB
(dom0_mem) and one vCPU, console on hvc0. Same CPU model for all three: Xen's PV dom0
needs SMAP and SMEP off under this QEMU (shared/docs/qemu-notes.md), and LA57 is off so
that native Linux walks four-level page tables as the PV guests do. The same kernel, the
same initramfs (tests/linux/initramfs.py, built by linux_tests.Kit), the same Linux
arguments otherwise: the Kit's "loglevel=4" (a quiet console), "norandmaps" and
"nokaslr" (no randomised user or kernel layout, which would change the page-table work
from boot to boot; a PV kernel is never relocated anyway).
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(REPO, "tests", "qemu"))
sys.path.insert(0, os.path.join(REPO, "tests", "linux"))
from qemu import Machine  # noqa: E402
import linux_tests  # noqa: E402

CACHE = os.environ.get("ENSO_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "enso"))
ENSO = os.path.join(REPO, "build", "enso")
XEN = os.path.join(CACHE, "xen-4.17-amd64")
CPU = "max,-smap,-smep,-la57"
ICOUNT = ["-icount", "shift=0,sleep=off"]
LINUX_ARGS = "nokaslr norandmaps"
GUEST_MEM = "256M"
HV_ARGS = "dom0_mem=%s,max:%s dom0_max_vcpus=1 noreboot" % (GUEST_MEM, GUEST_MEM)
CRASH = r"PANIC|Panic on CPU|FATAL|Kernel panic|crashed|LMB-ERROR"
# Lines of a domain's console on enso start with "(dN) "; natively and on Xen's dom0 not.
PREFIX = r"^(?:\(d\d+\) )?"
FIGURES = [
    ("null_syscall", "null syscall (getppid)"),
    ("pipe_ctxsw", "pipe context switch"),
    ("fork_exit", "fork+exit+wait"),
    ("fork_exec", "fork+exec /bin/nop+wait"),
    ("page_fault", "page fault (anon write)"),
    ("mmap_munmap", "mmap+touch+munmap 1 MiB"),
    ("cpu_loop", "CPU loop (35M instr)"),  # 5M rounds of 7 instructions
]


def machine(setup, kit, name):
    """The QEMU of one setup, not started."""
    linux = "%s %s" % (kit.cmdline, LINUX_ARGS)
    if setup == "native":
        return Machine(name, kernel=kit.vmlinuz, cpu=CPU, smp=1, mem=GUEST_MEM,
                       append="console=ttyS0 " + linux,
                       extra=ICOUNT + ["-initrd", kit.initrd])
    if setup == "enso":
        # Domain 0 as on Xen, but unprivileged (as linux_tests.py runs it): as the
        # initial domain Linux needs XENMEM_machine_memory_map, which enso does not
        # have yet (-ENOSYS: "kernel BUG at arch/x86/xen/setup.c:754", xen_memory_setup).
        return Machine(name, kernel=ENSO, cpu=CPU, smp=1, mem="512M",
                       append="console=com1 " + HV_ARGS,
                       extra=ICOUNT + ["-initrd", "%s enso.privileged=0 console=hvc0 %s,%s"
                                       % (kit.vmlinuz, linux, kit.initrd)])
    return Machine(name, kernel=XEN, cpu=CPU, smp=1, mem="512M",
                   append="console=com1 com1=115200,8n1 " + HV_ARGS,
                   extra=ICOUNT + ["-initrd", "%s console=hvc0 %s,%s"
                                   % (kit.vmlinuz, linux, kit.initrd)])


def run_setup(setup, kit, runs, boot):
    """Boot, run lmbench in the shell, return {figure: ticks per op}."""
    with machine(setup, kit, "lmbench-%s-%d" % (setup, boot)) as m:
        # Natively the line may follow the real-mode setup's "Probing EDD... ok" unbroken.
        m.wait_for(r"ENSO-INIT: \S+ up", 600, fail=CRASH)
        # enso and Xen read the UART into a small ring: type in pieces.
        cmd = "lmbench %d\r" % runs
        for i in range(0, len(cmd), 8):
            m.send(cmd[i:i + 8])
            time.sleep(0.05)
        m.wait_for(PREFIX + r"LMB-END", 900, fail=CRASH)
        return {k: float(v) for k, v in re.findall(PREFIX + r"LMB (\S+) ([\d.]+) ", m.log, re.M)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=11, help="runs of each figure inside a boot")
    ap.add_argument("--boots", type=int, default=3, help="boots of each setup")
    ap.add_argument("--setup", action="append", choices=["native", "enso", "xen"],
                    help="only these setups (default all three)")
    args = ap.parse_args()
    setups = args.setup or ["native", "enso", "xen"]
    for image in ([ENSO] if "enso" in setups else []) + ([XEN] if "xen" in setups else []):
        if not os.path.exists(image):
            print("linux-bench: %s missing (make, make fetch-xen)" % image)
            return 1
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        kit = linux_tests.Kit(tmp, linux_tests.PROGS + ("lmbench",))
        for s in setups:
            results[s] = []
            for b in range(args.boots):
                try:
                    results[s].append(run_setup(s, kit, args.runs, b))
                except Exception as e:  # noqa: BLE001 - reported, and the table says "-"
                    print("linux-bench: %s boot %d: %s" % (s, b, str(e).splitlines()[0]))

    def fig(s, n):
        vals = [r[n] for r in results.get(s, []) if n in r]
        return statistics.median(vals) if vals else None

    def spread(n):
        """Largest boot-to-boot spread, (max - min) / median, of the three setups."""
        worst = 0.0
        for s in setups:
            vals = [r[n] for r in results.get(s, []) if n in r]
            if len(vals) > 1:
                worst = max(worst, (max(vals) - min(vals)) / statistics.median(vals))
        return worst

    def num(v):
        return "%12.1f" % v if v is not None else "%12s" % "-"

    def ratio(a, b):
        return "%9.4f" % (a / b) if a is not None and b else "%9s" % "-"

    print("Linux on QEMU -icount: TSC ticks (emulated instructions) per op; median of %d "
          "boot(s) x %d runs" % (args.boots, args.runs))
    print("%-26s %12s %12s %12s %9s %9s %7s" % ("figure", "native", "enso", "xen",
                                                "enso/nat", "xen/nat", "spread"))
    for n, label in FIGURES:
        nat, en, xe = fig("native", n), fig("enso", n), fig("xen", n)
        print("%-26s %s %s %s %s %s %6.2f%%" % (label, num(nat), num(en), num(xe),
                                                ratio(en, nat), ratio(xe, nat),
                                                100 * spread(n)))
    return 0 if all(len(results.get(s, [])) == args.boots for s in setups) else 1


if __name__ == "__main__":
    sys.exit(main())
