#!/usr/bin/env python3
"""Boot scenarios for enso under QEMU (TCG).

    tests/qemu/boot_tests.py [-k SUBSTR]... [-j N] [--list] [-v]
                             [--kernel build/enso] [--iso build/enso.iso]

Prints one line per scenario, "PASS <name>" or "FAIL <name>: <reason>", then
"qemu: N passed, N failed"; exits 1 if anything failed.  Console logs go to
build/logs/<boot-name>.log.

Several named scenarios may share one QEMU boot (e.g. the two ISO scenarios
don't, but the 'smpN-memX' matrix entries each have their own boot).  -k
selects scenarios by substring of their name; only the boots that carry a
selected scenario are run.  Set ENSO_TIMEOUT_SCALE (or --timeout-scale) to
stretch every timeout on slow machines.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import (Machine, MachineExited, ConsoleError,  # noqa: E402
                  REPO_ROOT, DEFAULT_LOG_DIR)

ENSO_LINE = r"^enso: (\d+) CPUs online, (\d+) MiB free$"
# printk lines start with "(enso) " and, once time runs, a "[seconds] " stamp.
PREFIX = r"^(?:\(enso\) (?:\[[ \d.]+\] )?)?"
PANIC_RE = r"PANIC"
MIB = {"M": 1, "G": 1024, "T": 1024 * 1024}


class Failure(Exception):
    pass


def mib(size):
    """'128M' -> 128, '8G' -> 8192."""
    m = re.fullmatch(r"(\d+)([MGT])", size)
    if not m:
        raise ValueError(size)
    return int(m.group(1)) * MIB[m.group(2)]


def first_line(text):
    """Short one-line reason from a (possibly multi-line) exception text."""
    return text.strip().splitlines()[0] if text.strip() else "(no message)"


class Boot:
    """One QEMU run carrying one or more named scenarios.

    run(machine, ctx) performs the checks; it gets a Results helper to record
    per-scenario outcomes.  Scenarios not recorded by the time run() returns
    or raises are failed with the raised reason."""

    def __init__(self, name, scenarios, run, smp=1, mem="128M", append="",
                 iso=False, firmware="bios", timeout=120, cost=1.0, prepare=None):
        self.name = name
        self.scenarios = list(scenarios)
        self.run = run
        self.smp = smp
        self.mem = mem
        self.append = append
        self.iso = iso
        self.firmware = firmware
        self.timeout = timeout
        self.cost = cost
        self.prepare = prepare  # prepare(args): builds what the boot needs, or Failure


class Results:
    def __init__(self, boot, selected):
        self.boot = boot
        self.selected = selected
        self.outcome = {}   # scenario -> None (pass) or reason

    def passed(self, name):
        self.outcome.setdefault(name, None)

    def failed(self, name, reason):
        self.outcome.setdefault(name, reason)

    def check(self, name, fn):
        """Run fn(); record PASS, or FAIL with the Failure/timeout reason."""
        try:
            fn()
        except Failure as e:
            self.failed(name, str(e))
        except (TimeoutError, ConsoleError) as e:
            self.failed(name, first_line(str(e)))
        else:
            self.passed(name)


# --------------------------------------------------------------------------
# Check helpers

def wait_enso(m, timeout, smp=None):
    """Wait for the end-of-boot line; fail fast on PANIC. Returns (N, M)."""
    try:
        mt = m.wait_for(ENSO_LINE, timeout, fail=PANIC_RE)
    except ConsoleError as e:
        raise Failure("panic during boot: %s" % panic_context(m)) from e
    except MachineExited as e:
        raise Failure("QEMU exited (status %s) before the enso: line%s"
                      % (e.returncode, stderr_hint(m))) from e
    except TimeoutError as e:
        raise Failure("no enso: line within %ds (last line: %r)"
                      % (timeout, last_line(m))) from e
    n, free = int(mt.group(1)), int(mt.group(2))
    if smp is not None and n != smp:
        raise Failure("%d CPUs online, expected %d" % (n, smp))
    return n, free


def check_free(free, size_mib):
    lo = 0.8 * size_mib - 16
    if not (lo < free < size_mib):
        raise Failure("%d MiB free, expected between %.0f and %d for -m %dM"
                      % (free, lo, size_mib, size_mib))


def check_single_enso(m):
    count = len(m.findall(ENSO_LINE))
    if count != 1:
        raise Failure("%d enso: lines, expected exactly one" % count)


def last_line(m):
    lines = [l for l in m.log.splitlines() if l.strip()]
    return lines[-1][:120] if lines else ""


def panic_context(m):
    for line in m.log.splitlines():
        if "PANIC" in line:
            return line.strip()[:160]
    return "PANIC"


def stderr_hint(m):
    err = m.stderr.strip()
    if not err:
        return ""
    return ": " + err.splitlines()[-1][:160]


# --------------------------------------------------------------------------
# Scenario bodies

def run_matrix(name, smp, mem):
    def run(m, r, boot):
        def body():
            _, free = wait_enso(m, boot.timeout, smp)
            check_free(free, mib(mem))
            check_single_enso(m)
        r.check(name, body)
    return run


def run_selftests(names):
    """selftest=<a>,<b>: each 'selftest-<x>' scenario needs its PASS line and
    the boot must still complete (enso: line), in whatever order."""
    def run(m, r, boot):
        deadline = time.monotonic() + boot.timeout
        for t in names:
            scen = "selftest-" + t

            def body(t=t):
                left = max(1, deadline - time.monotonic())
                try:
                    mt = m.wait_for(PREFIX + r"selftest %s: (PASS|FAIL.*)$" % re.escape(t),
                                    left, fail=PANIC_RE)
                except ConsoleError as e:
                    raise Failure("panic: %s" % panic_context(m)) from e
                except MachineExited as e:
                    raise Failure("QEMU exited (status %s) before 'selftest %s:' line"
                                  % (e.returncode, t)) from e
                except TimeoutError as e:
                    raise Failure("no 'selftest %s:' result line within %ds"
                                  % (t, boot.timeout)) from e
                if mt.group(1) != "PASS":
                    raise Failure(mt.group(0).strip())
                left = max(1, deadline - time.monotonic())
                wait_enso(m, left, boot.smp)
            r.check(scen, body)
    return run


def run_fault_noreboot(m, r, boot):
    name = "fault-noreboot"

    def body():
        deadline = time.monotonic() + boot.timeout
        for what, rx in (("PANIC", r"PANIC"),
                         ("RIP: line", r"RIP:"),
                         ("CR2: line", r"CR2:"),
                         ("Backtrace", r"Backtrace"),
                         ("halted", r"halted")):
            left = max(1, deadline - time.monotonic())
            try:
                m.wait_for(rx, left)
            except MachineExited as e:
                raise Failure("QEMU exited (status %s) before '%s' appeared"
                              % (e.returncode, what)) from e
            except TimeoutError as e:
                raise Failure("no '%s' within %ds (last line: %r)"
                              % (what, boot.timeout, last_line(m))) from e
        # "halted" means enso stays put: QEMU must still be running.
        time.sleep(3)
        if not m.alive():
            raise Failure("QEMU exited (status %s) after 'halted' although "
                          "noreboot was given" % m.proc.poll())
    r.check(name, body)


def run_fault_reboot(m, r, boot):
    name = "fault-reboot"

    def body():
        try:
            m.wait_exit(boot.timeout)
        except TimeoutError as e:
            raise Failure("QEMU still running %ds after boot (no reboot after "
                          "panic; last line: %r)" % (boot.timeout, last_line(m))) from e
        if not m.search(r"PANIC"):
            raise Failure("QEMU exited but no PANIC line was printed")
    r.check(name, body)


def run_unknown_option(m, r, boot):
    def body():
        try:
            m.wait_for(r"cmdline: unknown option 'frobnicate(=yes)?'", boot.timeout,
                       fail=ENSO_LINE)
        except ConsoleError as e:
            raise Failure("boot finished without \"cmdline: unknown option "
                          "'frobnicate'\"") from e
        except TimeoutError as e:
            raise Failure("no \"cmdline: unknown option 'frobnicate'\" line "
                          "(last line: %r)" % last_line(m)) from e
        wait_enso(m, boot.timeout, boot.smp)
    r.check("cmdline-unknown-option", body)


def run_mem_limit(m, r, boot):
    def body():
        _, free = wait_enso(m, boot.timeout, boot.smp)
        if not (0 < free < 64):
            raise Failure("mem=64M: %d MiB free, expected 0 < free < 64" % free)
    r.check("cmdline-mem-64M", body)


def run_mem_bad(name, value):
    def run(m, r, boot):
        def body():
            _, free = wait_enso(m, boot.timeout, boot.smp)
            # A warning mentioning mem=; skip lines that merely echo the
            # whole command line (they contain console=).
            warn = [l for l in m.log.splitlines()
                    if "mem=" in l and "console=" not in l]
            if not warn:
                raise Failure("no warning line mentioning mem= for mem=%s" % value)
            check_free(free, mib(boot.mem))
        r.check(name, body)
    return run


def run_iso(name):
    def run(m, r, boot):
        def body():
            _, free = wait_enso(m, boot.timeout, boot.smp)
            if free <= 0 or free >= mib(boot.mem):
                raise Failure("%d MiB free, expected 0 < free < %d"
                              % (free, mib(boot.mem)))
        r.check(name, body)
    return run


HOLE = (64 << 20, 96 << 20)   # GRUB "cutmem 64M 96M" in build/enso-memhole.iso


def run_memhole(name):
    """The loader's map has a hole in RAM: enso keeps it a hole and boots on."""
    def run(m, r, boot):
        def body():
            _, free = wait_enso(m, boot.timeout, boot.smp)
            ram = [(int(a, 16), int(b, 16)) for a, b in re.findall(
                r"memmap: \[0x([0-9a-f]+)-0x([0-9a-f]+)\) RAM", m.log)]
            if not ram:
                raise Failure("no RAM lines in the memory map")
            for a, b in ram:
                if a < HOLE[1] and b > HOLE[0]:
                    raise Failure("RAM [%#x-%#x) overlaps the hole [%#x-%#x)"
                                  % (a, b, HOLE[0], HOLE[1]))
            limit = mib(boot.mem) - (HOLE[1] - HOLE[0]) // (1 << 20)
            if free <= 0 or free >= limit:
                raise Failure("%d MiB free, expected 0 < free < %d" % (free, limit))
        r.check(name, body)
    return run


GUESTS = os.path.join(REPO_ROOT, "build", "guests")
MODULES_ISO = "enso-modules.iso"
# GRUB module2 lines: domain 0's kernel, then a domU whose module string starts with a
# word of its own command line (GRUB 2 passes no file name in a module's string).
MODULES = [("hypercalls.elf", ""),
           ("segments.elf", "root=/dev/xvda1 enso.privileged=0 enso.name=second enso.mem=32M")]


def make_modules_iso(args):
    """build/enso-modules.iso: the enso image with two test kernels as GRUB modules."""
    out = os.path.join(os.path.dirname(args.iso), MODULES_ISO)
    cmd = [os.path.join(REPO_ROOT, "scripts", "mkiso.sh")]
    for elf, margs in MODULES:
        path = os.path.join(GUESTS, elf)
        if not os.path.isfile(path):
            raise Failure("no %s (make guests)" % os.path.relpath(path, REPO_ROOT))
        cmd += ["-m", ("%s %s" % (path, margs)).strip()]
    cmd += [args.kernel, out, "dom0_mem=64M noreboot"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        raise Failure("mkiso.sh failed: %s" % first_line(p.stdout[-400:]))


def run_iso_modules(m, r, boot):
    """GRUB loads enso and two kernels with module2: both domains start and finish their
    tests; the domU's own command line and enso. options arrive as given."""
    crash = PANIC_RE + r"|crashed|cannot start a domain"

    def wait(rx, what):
        try:
            return m.wait_for(rx, boot.timeout, fail=crash)
        except ConsoleError as e:
            raise Failure("%s: %s" % (what, first_line(str(e)))) from e
        except TimeoutError as e:
            raise Failure("no %s within %ds (last line: %r)"
                          % (what, boot.timeout, last_line(m))) from e

    def domains():
        wait(r"boot: multiboot2 from GRUB", "multiboot2 boot line")
        wait(r"domain 0 \(module0\): started, privileged, 1 vCPU", "domain 0 start")
        wait(r"domain 1 \(second\): started, 1 vCPU", "domain 1 (second) start")
        wait(r"^RESULT hypercalls: \d+ passed, 0 failed", "clean RESULT from domain 0")
        wait(r"^\(d1\) RESULT segments: \d+ passed, 0 failed", "clean (d1) RESULT")
        if not m.search(r"^\(d1\) enso-test segments: start_info at \S+, 8192 pages"):
            raise Failure("domain 1 did not get its enso.mem=32M (8192 pages)")

    def cmdline():
        mt = wait(r"domain 1 \(second\): started, .*command line '([^']*)'",
                  "domain 1 command line")
        if mt.group(1) != "root=/dev/xvda1":
            raise Failure("domain 1's command line is %r, module2 gave 'root=/dev/xvda1' "
                          "(GRUB 2 puts no file name first)" % mt.group(1))
    r.check("iso-modules-bios", domains)
    r.check("iso-modules-cmdline", cmdline)


# --------------------------------------------------------------------------
# Scenario table

def make_boots():
    boots = []
    for mem, timeout, cost in (("8G", 300, 3.0), ("1G", 150, 1.5),
                               ("128M", 120, 1.0)):
        for smp in (1, 2, 4):
            name = "smp%d-mem%s" % (smp, mem)
            boots.append(Boot(name, [name], run_matrix(name, smp, mem),
                              smp=smp, mem=mem, timeout=timeout,
                              cost=cost * (1 + 0.25 * smp)))
    boots += [
        Boot("selftest-alloc", ["selftest-alloc"], run_selftests(["alloc"]),
             smp=2, mem="1G", append="selftest=alloc", timeout=240, cost=3),
        Boot("selftest-timer-fixup", ["selftest-timer", "selftest-fixup"],
             run_selftests(["timer", "fixup"]),
             smp=2, mem="256M", append="selftest=timer,fixup", timeout=180, cost=2),
        Boot("selftest-ipi", ["selftest-ipi"], run_selftests(["ipi"]),
             smp=4, mem="256M", append="selftest=ipi", timeout=180, cost=2),
        Boot("fault-noreboot", ["fault-noreboot"], run_fault_noreboot,
             smp=1, mem="128M", append="selftest=fault noreboot", timeout=120),
        Boot("fault-reboot", ["fault-reboot"], run_fault_reboot,
             smp=1, mem="128M", append="selftest=fault", timeout=120),
        Boot("cmdline-unknown-option", ["cmdline-unknown-option"], run_unknown_option,
             smp=1, mem="128M", append="frobnicate=yes", timeout=120),
        Boot("cmdline-mem-64M", ["cmdline-mem-64M"], run_mem_limit,
             smp=1, mem="1G", append="mem=64M", timeout=120),
        Boot("cmdline-mem-1T", ["cmdline-mem-1T"], run_mem_bad("cmdline-mem-1T", "1T"),
             smp=1, mem="1G", append="mem=1T", timeout=150, cost=1.5),
        Boot("cmdline-mem-junk", ["cmdline-mem-junk"],
             run_mem_bad("cmdline-mem-junk", "junk"),
             smp=1, mem="1G", append="mem=junk", timeout=150, cost=1.5),
        Boot("iso-bios", ["iso-bios"], run_iso("iso-bios"),
             smp=2, mem="512M", iso=True, firmware="bios", timeout=180, cost=2),
        Boot("iso-uefi", ["iso-uefi"], run_iso("iso-uefi"),
             smp=2, mem="512M", iso=True, firmware="uefi", timeout=240, cost=3),
        Boot("memmap-hole", ["memmap-hole"], run_memhole("memmap-hole"),
             smp=1, mem="512M", iso="enso-memhole.iso", firmware="bios", timeout=180, cost=2),
        Boot("iso-modules-bios", ["iso-modules-bios", "iso-modules-cmdline"], run_iso_modules,
             smp=2, mem="512M", iso=MODULES_ISO, firmware="bios", timeout=120, cost=2,
             prepare=make_modules_iso),
    ]
    return boots


# --------------------------------------------------------------------------
# Runner

def run_boot(boot, selected, args):
    r = Results(boot, selected)
    scale = args.timeout_scale
    boot.timeout = int(boot.timeout * scale)
    if boot.prepare:
        try:
            boot.prepare(args)
        except Failure as e:
            for s in boot.scenarios:
                r.failed(s, str(e))
            return r
    if boot.iso:
        iso = args.iso if boot.iso is True else os.path.join(os.path.dirname(args.iso), boot.iso)
        if not os.path.isfile(iso):
            for s in boot.scenarios:
                r.failed(s, "no iso %s" % iso)
            return r
        m = Machine(boot.name, iso=iso, firmware=boot.firmware,
                    smp=boot.smp, mem=boot.mem, qemu=args.qemu)
    else:
        if not os.path.isfile(args.kernel):
            for s in boot.scenarios:
                r.failed(s, "no kernel image %s" % args.kernel)
            return r
        append = ("console=com1 " + boot.append).strip()
        m = Machine(boot.name, kernel=args.kernel, smp=boot.smp, mem=boot.mem,
                    append=append, qemu=args.qemu)
    try:
        m.start()
        boot.run(m, r, boot)
    except Exception as e:  # harness trouble: fail whatever is left
        reason = "%s: %s" % (type(e).__name__, first_line(str(e)))
        for s in boot.scenarios:
            r.failed(s, reason)
    finally:
        m.kill()
    for s in boot.scenarios:
        if s not in r.outcome:
            r.failed(s, "not checked")
    if args.verbose and any(v is not None for v in r.outcome.values()):
        r.log_tail = m.tail(40)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="select", action="append", default=[],
                    help="run scenarios whose name contains SUBSTR (repeatable)")
    ap.add_argument("-j", dest="jobs", type=int, default=2,
                    help="QEMU instances in parallel (default 2)")
    ap.add_argument("--kernel", default=os.path.join(REPO_ROOT, "build", "enso"))
    ap.add_argument("--iso", default=os.path.join(REPO_ROOT, "build", "enso.iso"))
    ap.add_argument("--qemu", default=os.environ.get("QEMU", "qemu-system-x86_64"),
                    help="QEMU binary (default qemu-system-x86_64, or $QEMU)")
    ap.add_argument("--list", action="store_true", help="list scenario names")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print the console tail of failing boots")
    ap.add_argument("--timeout-scale", type=float,
                    default=float(os.environ.get("ENSO_TIMEOUT_SCALE", "1")))
    args = ap.parse_args()

    boots = make_boots()
    plan = []
    for b in boots:
        sel = [s for s in b.scenarios
               if not args.select or any(k in s for k in args.select)]
        if sel:
            plan.append((b, sel))
    if args.list:
        for b, sel in plan:
            for s in sel:
                print(s)
        return 0
    if not plan:
        print("qemu: no scenario matches %s" % " ".join(args.select))
        return 1

    # Longest boots first so the parallel slots stay busy.
    plan.sort(key=lambda p: -p[0].cost)
    lock = threading.Lock()
    npass = nfail = 0
    start = time.monotonic()

    def report(r, sel):
        nonlocal npass, nfail
        with lock:
            for s in sel:
                reason = r.outcome.get(s, "not checked")
                if reason is None:
                    npass += 1
                    print("PASS %s" % s)
                else:
                    nfail += 1
                    print("FAIL %s: %s" % (s, reason))
            tail = getattr(r, "log_tail", None)
            if tail:
                print("---- %s: last console lines ----\n%s\n----"
                      % (r.boot.name, tail))
            sys.stdout.flush()

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_boot, b, sel, args): (b, sel) for b, sel in plan}
        try:
            for f in as_completed(futs):
                b, sel = futs[f]
                try:
                    r = f.result()
                except Exception as e:
                    r = Results(b, sel)
                    for s in sel:
                        r.failed(s, "harness error: %s" % e)
                report(r, sel)
        except KeyboardInterrupt:
            for f in futs:
                f.cancel()
            raise

    print("qemu: elapsed %.0fs, logs in %s" % (time.monotonic() - start,
                                                 os.path.relpath(DEFAULT_LOG_DIR)))
    print("qemu: %d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
