#!/usr/bin/env python3
"""Run the PV test kernels (build/guests/*.elf) as domain 0 of a hypervisor under QEMU.

    tests/guests/run.py --hv xen|enso [-k NAME]... [-j N] [-v] [--list]

Each kernel boots in its own QEMU: real Xen 4.17 (--hv xen, the image that
scripts/fetch-xen.sh leaves in the cache) or enso (--hv enso, build/enso). The
kernel prints one line per check (PASS/FAIL/SKIP <test>), then
"RESULT <kernel>: N passed, N failed, N skipped", and powers the domain off.
This runner prints each check prefixed with the kernel's name, and ends with

    guests-<hv>: N passed, N failed

(the format scripts/sum-results.sh adds up). A kernel that prints no RESULT line
(crash, hang, timeout), or whose RESULT disagrees with its lines, counts as one
failure more, shown with its last 20 console lines. Console logs go to
build/logs/guest-<hv>-<kernel>.log. -v also prints the kernels' INFO lines
(what they observed). ENSO_TIMEOUT_SCALE stretches the timeouts.
"""

import argparse
import glob
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from qemu import Machine, MachineExited, ConsoleError, REPO_ROOT, DEFAULT_LOG_DIR  # noqa: E402

CACHE = os.environ.get("ENSO_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "enso"))
GUEST_DIR = os.path.join(REPO_ROOT, "build", "guests")
DOM0_PAGES = 16384  # dom0_mem=64M

# Per hypervisor: image, its command line, and what it prints when dom0 dies or
# powers off. Xen halts (noreboot) and QEMU keeps running, so QEMU is stopped here.
HVS = {
    "xen": {
        "kernel": os.path.join(CACHE, "xen-4.17-amd64"),
        "append": "console=com1 com1=115200,8n1 dom0_mem=64M,max:64M dom0_max_vcpus=1 "
                  "noreboot loglvl=all guest_loglvl=all",
        "crash": r"Hardware Dom0 crashed|Domain 0 crashed|Panic on CPU|FATAL TRAP",
        "poweroff": r"Hardware Dom0 halted",
        # Xen 4.17's PV dom0 crashes under this QEMU with SMEP/SMAP on (qemu-notes.md).
        "cpu": "max,-smap,-smep",
        "missing": "run scripts/fetch-xen.sh (or make fetch-xen)",
    },
    "enso": {
        "kernel": os.path.join(REPO_ROOT, "build", "enso"),
        "append": "console=com1 noreboot dom0_mem=64M,max:64M dom0_max_vcpus=1",
        "crash": r"PANIC|FATAL TRAP|domain 0 \(\S+\) crashed",
        "poweroff": r"domain 0 \(\S+\): shut down, reason poweroff",
        "cpu": "max",  # enso runs with SMEP and SMAP on
        "missing": "run make",
    },
}

# Kernels that wait for typed input; tests/qemu/domain_tests.py drives them.
INTERACTIVE = {"console_in"}

# Kernels that need a machine of their own: QEMU CPUs (smp) and domain 0's vCPUs
# (dom0_max_vcpus, put into either hypervisor's command line). The rest get 1 and 1.
KERNEL_MACHINE = {
    "vcpus": {"smp": 2, "dom0_max_vcpus": 4},
    "bench": {"smp": 2, "dom0_max_vcpus": 2},  # its vCPU round trips need vCPU 1
}


def kernel_append(append, name):
    """The hypervisor command line for kernel `name`: its dom0_max_vcpus in place."""
    want = KERNEL_MACHINE.get(name, {}).get("dom0_max_vcpus")
    if want is None:
        return append
    opt = "dom0_max_vcpus=%d" % want
    if re.search(r"(^|\s)dom0_max_vcpus=\S+", append):
        return re.sub(r"(^|\s)dom0_max_vcpus=\S+", lambda m: m.group(1) + opt, append)
    return append + " " + opt

LINE_RE = re.compile(r"^(PASS|FAIL|SKIP|INFO) (\S+?)(?:: (.*))?$")
RESULT_RE = r"^RESULT (\S+): (\d+) passed, (\d+) failed, (\d+) skipped$"


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def guest_cmdline(name, extra=""):
    """The kernel's command line: facts it checks (and any extra options), then a
    checksum of all that precedes it, so the kernel can tell its command line
    arrived intact."""
    body = "pages=%d kernel=%s tag=enso-guest-test " % (DOM0_PAGES, name)
    if extra:
        body += extra.strip() + " "
    return body + "cksum=%08x" % fnv1a32(body)


class Outcome:
    def __init__(self, name):
        self.name = name
        self.lines = []      # (kind, test, reason)
        self.harness = None  # failure of the kernel as a whole
        self.tail = ""
        self.elapsed = 0.0

    def counts(self):
        p = sum(1 for k, _, _ in self.lines if k == "PASS")
        f = sum(1 for k, _, _ in self.lines if k == "FAIL")
        s = sum(1 for k, _, _ in self.lines if k == "SKIP")
        return p, f + (1 if self.harness else 0), s


def parse_lines(text, upto):
    out = []
    for line in text[:upto].splitlines():
        m = LINE_RE.match(line.strip())
        if m:
            out.append((m.group(1), m.group(2), m.group(3) or ""))
    return out


def run_kernel(name, args, hv):
    o = Outcome(name)
    elf = os.path.join(args.guests, name + ".elf")
    timeout = args.timeout * args.timeout_scale
    m = Machine("guest-%s-%s" % (args.hv, name), kernel=args.kernel, mem="256M",
                cpu=hv["cpu"], append=kernel_append(args.append, name), qemu=args.qemu,
                smp=KERNEL_MACHINE.get(name, {}).get("smp", 1),
                extra=["-initrd", "%s %s" % (elf, guest_cmdline(name, args.guest_args))])
    start = time.monotonic()
    try:
        m.start()
        try:
            mr = m.wait_for(RESULT_RE, timeout, fail=hv["crash"])
        except ConsoleError:
            time.sleep(2)  # let the hypervisor finish its report
            o.harness = "the domain crashed before its RESULT line"
            mr = None
        except MachineExited as e:
            o.harness = "QEMU exited (status %s) before the RESULT line" % e.returncode
            mr = None
        except TimeoutError:
            o.harness = "no RESULT line within %ds" % timeout
            mr = None
        text = m.log
        o.lines = parse_lines(text, mr.end() if mr else len(text))
        if mr:
            if mr.group(1) != name:
                o.harness = "RESULT line names %s" % mr.group(1)
            want = tuple(int(mr.group(i)) for i in (2, 3, 4))
            got = tuple(sum(1 for k, _, _ in o.lines if k == kind)
                        for kind in ("PASS", "FAIL", "SKIP"))
            if want != got and not o.harness:
                o.harness = ("RESULT says %d/%d/%d passed/failed/skipped but %d/%d/%d "
                             "lines were seen" % (want + got))
            if hv["poweroff"] and not o.harness:
                try:
                    m.wait_for(hv["poweroff"], 20 * args.timeout_scale, fail=hv["crash"])
                except (TimeoutError, ConsoleError):
                    o.harness = "the domain did not power off after its RESULT line"
            else:
                time.sleep(0.5)
    except Exception as e:  # harness trouble counts against the kernel
        o.harness = "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0]
                                if str(e).strip() else "")
    finally:
        m.kill()
        o.elapsed = time.monotonic() - start
    if o.harness or any(k == "FAIL" for k, _, _ in o.lines):
        o.tail = m.tail(20)
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hv", choices=sorted(HVS), default="xen")
    ap.add_argument("-k", dest="select", action="append", default=[],
                    help="run kernels whose name contains SUBSTR (repeatable)")
    ap.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 2,
                    help="QEMU instances in parallel (default: CPUs)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print INFO lines and console tails of failures")
    ap.add_argument("--list", action="store_true", help="list the kernels")
    ap.add_argument("--guests", default=GUEST_DIR, help="directory of <name>.elf")
    ap.add_argument("--kernel", help="hypervisor image (default per --hv)")
    ap.add_argument("--append", help="hypervisor command line (default per --hv)")
    ap.add_argument("--guest-args", default="",
                    help="extra kernel options, e.g. hc=syscall (no hypercall page)")
    ap.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-x86_64"))
    ap.add_argument("--timeout", type=float, default=150,
                    help="seconds from QEMU start to the RESULT line (default 150)")
    ap.add_argument("--timeout-scale", type=float,
                    default=float(os.environ.get("ENSO_TIMEOUT_SCALE", "1")))
    args = ap.parse_args()
    hv = HVS[args.hv]
    args.kernel = args.kernel or hv["kernel"]
    args.append = args.append if args.append is not None else hv["append"]
    tag = "guests-%s" % args.hv

    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(args.guests, "*.elf")))
    names = [n for n in names if n not in INTERACTIVE]
    names = [n for n in names if not args.select or any(k in n for k in args.select)]
    if args.list:
        print("\n".join(names))
        return 0
    if not names:
        print("%s: no kernel in %s matches (run make guests)" % (tag, args.guests))
        print("%s: 0 passed, 1 failed" % tag)
        return 1
    if not os.path.isfile(args.kernel):
        print("%s: no hypervisor image %s (%s)" % (tag, args.kernel, hv["missing"]))
        print("%s: 0 passed, %d failed" % (tag, len(names)))
        return 1

    lock = threading.Lock()
    total = [0, 0, 0]
    start = time.monotonic()

    def report(o):
        with lock:
            for kind, test, reason in o.lines:
                if kind == "INFO" and not args.verbose:
                    continue
                print("%s: %s %s%s" % (o.name, kind, test, (": " + reason) if reason else ""))
            if o.harness:
                print("%s: FAIL %s: %s" % (o.name, o.name, o.harness))
            if o.tail and (o.harness or args.verbose):
                print("---- %s: last console lines ----\n%s\n----" % (o.name, o.tail))
            p, f, s = o.counts()
            total[0] += p
            total[1] += f
            total[2] += s
            print("%s: done in %.0fs: %d passed, %d failed, %d skipped"
                  % (o.name, o.elapsed, p, f, s))
            sys.stdout.flush()

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_kernel, n, args, hv): n for n in names}
        for fut in as_completed(futs):
            try:
                o = fut.result()
            except Exception as e:
                o = Outcome(futs[fut])
                o.harness = "harness error: %s" % e
            report(o)

    print("%s: elapsed %.0fs, %d skipped, logs in %s" % (
        tag, time.monotonic() - start, total[2], os.path.relpath(DEFAULT_LOG_DIR)))
    print("%s: %d passed, %d failed" % (tag, total[0], total[1]))
    return 1 if total[1] else 0


if __name__ == "__main__":
    sys.exit(main())
