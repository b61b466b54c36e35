#!/usr/bin/env python3
"""Debian's stock Linux kernel as a PV guest of enso: boots, shells, checks.

Fetches Debian 12's linux-image-amd64 and busybox-static (scripts/fetch-linux.sh, into
~/.cache/enso/linux), builds a busybox initramfs whose /init leaves a shell on the
console (tests/linux/init.sh) plus small static programs from tests/linux/prog, boots
enso under QEMU with the kernel as an unprivileged boot-time domain, types commands
into its console and checks what comes back. Prints PASS/FAIL per scenario and ends
with "linux: N passed, N failed". `-k NAME` runs a subset.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(REPO, "tests", "qemu"))
sys.path.insert(0, HERE)
from qemu import Machine  # noqa: E402
import initramfs  # noqa: E402

ENSO = os.path.join(REPO, "build", "enso")
CRASH = r"PANIC|FATAL TRAP|Kernel panic|crashed:"
PROGS = ("memtouch", "forkexec", "nop", "now")


class Linux:
    """One enso under QEMU with Linux domains; talks to the shell that has the input."""

    def __init__(self, name, kit, domains, smp=2, mem="1G", append=""):
        mods = []
        for d in domains:
            mods.append("%s enso.privileged=0 %s console=hvc0 %s" % (kit.vmlinuz, d, kit.cmdline))
            mods.append(kit.initrd)
        self.m = Machine("linux-" + name, kernel=ENSO, smp=smp, mem=mem,
                         append=("console=com1 noreboot " + append).strip(),
                         extra=["-initrd", ",".join(mods)])
        self.seq = 0
        self.dom = 0

    def __enter__(self):
        self.m.__enter__()
        return self

    def __exit__(self, *exc):
        return self.m.__exit__(*exc)

    def wait_init(self, dom=0, timeout=240):
        return self.m.wait_for(r"^\(d%d\) ENSO-INIT: (\S+) up, (\d+) CPUs" % dom, timeout,
                               fail=CRASH)

    def type(self, text):
        # enso reads the UART from an interrupt into a 64-byte ring: feed it in pieces.
        for i in range(0, len(text), 16):
            self.m.send(text[i:i + 16])
            time.sleep(0.02)

    def run(self, cmd, timeout=120, fail=CRASH):
        """Run cmd in the focused domain's shell; (exit status, output lines)."""
        self.seq += 1
        n, d = self.seq, self.dom
        self.type("echo @@B%d; %s; echo @@E%d $?\r" % (n, cmd, n))
        try:
            end = self.m.wait_for(r"^\(d%d\) @@E%d (\d+)\s*$" % (d, n), timeout, fail=fail)
        except TimeoutError as e:
            # A hang: enso's view of the domains (vCPUs, event channels, timers).
            start = len(self.m.log)
            self.m.enso_postmortem(keys="qea")
            raise TimeoutError("%s\n--- enso after the hang ---\n%s"
                               % (e, self.m.log[start:][-6000:])) from None
        begin = self.m.wait_for(r"^\(d%d\) @@B%d\s*$" % (d, n), 1)
        text = self.m.log[begin.end():end.start()]
        prefix = "(d%d) " % d
        lines = [ln[len(prefix):].rstrip("\r") for ln in text.splitlines()
                 if ln.startswith(prefix)]
        return int(end.group(1)), lines

    def check(self, cmd, timeout=120, fail=CRASH):
        rc, out = self.run(cmd, timeout, fail)
        if rc != 0:
            raise AssertionError("%r exited %d: %s" % (cmd, rc, " | ".join(out[-5:])))
        return out

    def focus_next(self):
        self.type("\x01\x01\x01")


class Kit:
    """The kernel (fetched), and an initramfs with busybox and the programs progs."""

    def __init__(self, tmp, progs=PROGS):
        cache = subprocess.run([os.path.join(REPO, "scripts", "fetch-linux.sh")], check=True,
                               capture_output=True, text=True).stdout.strip()
        self.vmlinuz = os.path.join(cache, "vmlinuz")
        with open(os.path.join(cache, "version")) as f:
            self.version = f.read().strip()
        extra = {}
        for p in progs:
            out = os.path.join(tmp, p)
            subprocess.run(["gcc", "-static", "-O2", "-o", out,
                            os.path.join(HERE, "prog", p + ".c")], check=True)
            extra[p] = out
        self.tmp = tmp
        self.initrd = os.path.join(tmp, "initrd.gz")
        initramfs.build(self.initrd, os.path.join(cache, "busybox"), extra)
        self.cmdline = "loglevel=4"


def uname_of(version):
    # linux-image-6.1.0-56-amd64_6.1.192-2_amd64 -> 6.1.0-56-amd64
    m = re.match(r"linux-image-(\S+?)_", version)
    return m.group(1) if m else None


def boot_shell(kit):
    """Boot to the shell; uname, cpuinfo, dmesg clean, Xen PV detected."""
    with Linux("boot", kit, ["enso.name=linux enso.mem=256M"]) as lx:
        m = lx.wait_init()
        if m.group(1) != uname_of(kit.version):
            raise AssertionError("uname -r %s, package %s" % (m.group(1), kit.version))
        if lx.check("uname -r") != [m.group(1)]:
            raise AssertionError("uname -r in the shell disagrees")
        if not any(l.startswith("flags") and " hypervisor" in l
                   for l in lx.check("cat /proc/cpuinfo")):
            raise AssertionError("/proc/cpuinfo: no hypervisor flag")
        dmesg = lx.check("dmesg")
        if not any("Booting kernel on Xen" in l for l in dmesg) or \
                not any("Hypervisor detected: Xen PV" in l for l in dmesg):
            raise AssertionError("the kernel does not say it runs on Xen PV")
        bad = [l for l in dmesg if re.search(r"WARNING|BUG|Oops|[Xx]en.*(error|fail|err -)", l)]
        if bad:
            raise AssertionError("dmesg: " + " | ".join(bad[:5]))


def vcpus(kit, n, smp):
    with Linux("vcpus%d" % n, kit, ["enso.mem=256M enso.vcpus=%d" % n], smp=smp) as lx:
        m = lx.wait_init()
        if int(m.group(2)) != n:
            raise AssertionError("nproc %s, expected %d" % (m.group(2), n))
        if n > 1:
            # Busy loops on every CPU: each one's user time in /proc/stat must grow.
            before = [l.split() for l in lx.check("grep '^cpu[0-9]' /proc/stat")]
            lx.check("for i in $(seq %d); do (i=0; while [ $i -lt 20000 ]; do i=$((i+1)); "
                     "done) & done; wait" % (2 * n), timeout=300)
            after = [l.split() for l in lx.check("grep '^cpu[0-9]' /proc/stat")]
            idle = [a[0] for a, b in zip(after, before) if int(a[1]) - int(b[1]) < 10]
            if len(after) != n or idle:
                raise AssertionError("CPUs that did no user work: %s" % idle)


def time_scenario(kit):
    """date within 2 s of the host; sleep 5 lasts 5 s +-5% seen from outside."""
    with Linux("time", kit, ["enso.mem=256M"]) as lx:
        lx.wait_init()
        # The guest's clock, read between two host readings (serial latency included).
        before = time.time()
        out = lx.check("now")
        after = time.time()
        guest = float(out[0])
        if not before - 2 <= guest <= after + 2:
            raise AssertionError("guest date %.3f, host %.3f..%.3f" % (guest, before, after))
        # date +%s truncates: the guest's clock was somewhere in [date, date + 1). QEMU's
        # RTC also ticks its seconds from QEMU's start, not on the host's second boundary,
        # so the wall clock any guest reads (on Xen too) trails the host by up to 1 s.
        date = int(lx.check("date +%s")[0])
        if not (before - 2 < date + 1 and date <= time.time() + 2):
            raise AssertionError("date says %d, host %.3f" % (date, before))
        lx.type("echo @@T0; sleep 5; echo @@T1\r")
        lx.m.wait_for(r"^\(d0\) @@T0\s*$", 60, fail=CRASH)
        t0 = time.monotonic()
        lx.m.wait_for(r"^\(d0\) @@T1\s*$", 60, fail=CRASH)
        took = time.monotonic() - t0
        if not 4.75 <= took <= 5.25:
            raise AssertionError("sleep 5 took %.2f s" % took)


def processes(kit):
    """1000 fork+exec of a small program; a pipeline of 8 processes."""
    with Linux("processes", kit, ["enso.mem=256M"]) as lx:
        lx.wait_init()
        if lx.check("forkexec 1000 /bin/nop", timeout=600) != ["forkexec: 1000 ok"]:
            raise AssertionError("forkexec did not finish cleanly")
        out = lx.check("seq 1 20000 | cat | cat | cat | cat | cat | cat | wc -l")
        if out != ["20000"]:
            raise AssertionError("pipeline of 8 gave %r" % out)


def memory(kit):
    """Allocate and touch 80% of the domain's RAM, twice."""
    with Linux("memory", kit, ["enso.mem=256M"]) as lx:
        lx.wait_init()
        total_kb = int(lx.check("sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo")[0])
        mib = total_kb * 8 // 10 // 1024
        if lx.check("memtouch %d 2" % mib, timeout=600) != ["memtouch: %d MiB x 2 ok" % mib]:
            raise AssertionError("memtouch failed")


def shutdown(kit):
    """poweroff ends the domain with reason poweroff."""
    with Linux("poweroff", kit, ["enso.name=off enso.mem=256M"]) as lx:
        lx.wait_init()
        lx.type("poweroff -f\r")
        lx.m.wait_for(r"domain 0 \(off\): shut down, reason poweroff", 60, fail=CRASH)
        lx.m.wait_for(r"domain 0 \(off\): destroyed, (\d+) of its \1 pages freed", 60,
                      fail=CRASH)


def reboot(kit):
    """reboot ends a domain with reason reboot. With enso.on_reboot=restart enso builds
    it again from its module, in idle time: the other domain keeps running meanwhile, and
    the new boot has a fresh shell. Without it (the default) the domain stays gone."""
    with Linux("reboot", kit, ["enso.name=rb enso.mem=256M enso.on_reboot=restart",
                               "enso.name=gone enso.mem=192M"]) as lx:
        lx.wait_init(0)
        lx.wait_init(1)
        lx.check("echo first-boot > /tmp/mark")
        # The other domain prints ticks in the background the whole time.
        lx.focus_next()
        lx.m.wait_for(r"\*\*\* Serial input to DOM1", 30)
        lx.type("(while :; do echo tick; sleep 0.2; done) &\r")
        lx.m.wait_for(r"^\(d1\) tick", 30, fail=CRASH)
        pos = len(lx.m.log)
        lx.focus_next()  # enso
        lx.focus_next()  # dom0
        lx.m.wait_from(pos, r"\*\*\* Serial input to DOM0", 30)
        lx.type("reboot -f\r")
        lx.m.wait_from(pos, r"domain 0 \(rb\): shut down, reason reboot", 60, fail=CRASH)
        lx.m.wait_from(pos, r"domain 0 \(rb\): destroyed, (\d+) of its \1 pages freed", 60)
        begin = lx.m.wait_from(pos, r"domain 0 \(rb\): restarting", 30, fail=CRASH)
        end = lx.m.wait_from(pos, r"domain 0 \(rb\): started, 1 vCPU", 120, fail=CRASH)
        ticks = lx.m.log[begin.end():end.start()].count("(d1) tick")
        if ticks < 2:
            raise AssertionError("the other domain printed %d ticks during the rebuild" % ticks)
        lx.m.wait_from(end.end(), r"^\(d0\) ENSO-INIT: \S+ up", 240, fail=CRASH)
        # The input went back to enso when dom0 died; the new dom0 takes it.
        pos = len(lx.m.log)
        lx.focus_next()
        lx.m.wait_from(pos, r"\*\*\* Serial input to DOM0", 30)
        lx.dom = 0
        rc, _ = lx.run("cat /tmp/mark")
        if rc == 0:
            raise AssertionError("/tmp/mark survived: not a fresh boot")
        # The default: a reboot destroys the domain and nothing starts again.
        lx.focus_next()
        lx.m.wait_from(pos, r"\*\*\* Serial input to DOM1", 30)
        lx.type("reboot -f\r")
        gone = lx.m.wait_for(r"domain 1 \(gone\): destroyed", 60, fail=CRASH)
        time.sleep(3)
        if re.search(r"domain 1 \(gone\): (restarting|started)", lx.m.log[gone.end():]):
            raise AssertionError("a domain without enso.on_reboot=restart came back")


def crash_isolation(kit):
    """A Linux domain that panics dies alone: enso shows its state, the other one runs on."""
    with Linux("crash", kit, ["enso.name=victim enso.mem=256M",
                              "enso.name=survivor enso.mem=256M"]) as lx:
        lx.wait_init(0)
        lx.wait_init(1)
        lx.type("echo c > /proc/sysrq-trigger\r")
        lx.m.wait_for(r"^\(d0\) .*Kernel panic", 120)
        lx.m.wait_for(r"domain 0 \(victim\): shut down, reason crash", 60)
        if not lx.m.search(r"^\(enso\) .*d0 v0 rip e033:"):
            raise AssertionError("enso did not show the crashed domain's registers")
        lx.m.wait_for(r"domain 0 \(victim\): destroyed, (\d+) of its \1 pages freed", 60)
        lx.focus_next()
        lx.m.wait_for(r"\*\*\* Serial input to DOM1", 30)
        lx.dom = 1
        if lx.check("echo still-here", fail=r"PANIC|FATAL TRAP") != ["still-here"]:
            raise AssertionError("the other domain stopped answering")


def truncated_kernel(kit, tmp):
    """A cut-short bzImage is refused with a reason; the other Linux domain boots."""
    cut = os.path.join(tmp, "vmlinuz-cut")
    with open(kit.vmlinuz, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(3 * 1024 * 1024))
    mods = ["%s enso.privileged=0 enso.name=cut" % cut,
            "%s enso.privileged=0 enso.name=whole enso.mem=256M console=hvc0 %s"
            % (kit.vmlinuz, kit.cmdline), kit.initrd]
    with Machine("linux-truncated", kernel=ENSO, smp=2, mem="1G", append="console=com1 noreboot",
                 extra=["-initrd", ",".join(mods)]) as m:
        m.wait_for(r"boot module 0 \(\S*vmlinuz-cut\): cannot start a domain: \S", 120,
                   fail=CRASH)
        m.wait_for(r"^\(d\d\) ENSO-INIT: \S+ up", 240, fail=CRASH)


def two_domains(kit):
    """Two Linux domains at once, each with its own prefix, both answering."""
    with Linux("two", kit, ["enso.name=alpha enso.mem=256M",
                            "enso.name=beta enso.mem=192M enso.vcpus=2"], smp=2) as lx:
        lx.wait_init(0)
        lx.wait_init(1)
        if lx.check("echo hello-from-alpha") != ["hello-from-alpha"]:
            raise AssertionError("alpha did not answer")
        lx.focus_next()
        lx.m.wait_for(r"\*\*\* Serial input to DOM1", 30)
        lx.dom = 1
        if lx.check("echo hello-from-beta; nproc") != ["hello-from-beta", "2"]:
            raise AssertionError("beta did not answer")


SCENARIOS = [
    ("boot-shell", boot_shell),
    ("vcpus-1-smp1", lambda k: vcpus(k, 1, 1)),
    ("vcpus-2-smp2", lambda k: vcpus(k, 2, 2)),
    ("time", time_scenario),
    ("processes", processes),
    ("memory", memory),
    ("poweroff", shutdown),
    ("reboot", reboot),
    ("two-domains", two_domains),
    ("crash-isolation", crash_isolation),
    ("truncated-kernel", lambda k: truncated_kernel(k, k.tmp)),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", dest="select", action="append", default=[])
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    ap.add_argument("--kit", metavar="DIR",
                    help="only build the kit into DIR and print the kernel and initrd paths "
                         "(for make run)")
    args = ap.parse_args()
    if args.kit:
        os.makedirs(args.kit, exist_ok=True)
        kit = Kit(args.kit)
        print(kit.vmlinuz, kit.initrd)
        return 0
    chosen = [s for s in SCENARIOS if not args.select or any(k in s[0] for k in args.select)]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            kit = Kit(tmp)
        except (subprocess.CalledProcessError, OSError) as e:
            print("FAIL linux-kit: %s" % e)
            print("linux: 0 passed, 1 failed")
            return 1

        def run(s):
            try:
                s[1](kit)
                return s[0], None
            except Exception as e:  # noqa: BLE001 - reported, not hidden
                return s[0], str(e)

        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(run, chosen))
    passed = 0
    for name, err in results:
        print(("PASS linux-%s" % name) if err is None else ("FAIL linux-%s: %s" % (name, err)))
        passed += err is None
    print("linux: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
