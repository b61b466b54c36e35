#!/usr/bin/env python3
"""Boot-time domain scenarios: several domains from boot modules, and bad modules.

Each scenario boots enso under QEMU with test kernels from build/guests as modules and
checks the console: domains start with the settings their module strings give, domU
output arrives through the console ring with a "(dN) " prefix, and a module that cannot
become a domain is reported by number and reason while the other domains still run.
Prints PASS/FAIL lines and ends with "domains: N passed, N failed".
"""
import os
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Machine  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ENSO = os.path.join(REPO, "build", "enso")
GUESTS = os.path.join(REPO, "build", "guests")
CRASH = r"PANIC|FATAL TRAP"
SEG = os.path.join(GUESTS, "segments.elf")


def boot(name, modules, smp=2, mem="512M"):
    return Machine("domains-" + name, kernel=ENSO, smp=smp, mem=mem,
                   append="console=com1 noreboot dom0_mem=64M",
                   extra=["-initrd", ",".join(modules)])


def two_domains():
    """dom0 and an unprivileged, named, sized domU side by side."""
    with boot("two", [SEG, SEG + " enso.privileged=0 enso.name=second enso.mem=32M "
                      "enso.vcpus=2 root=/dev/xvda1"]) as m:
        m.wait_for(r"domain 0 \(segments\): started, privileged, 1 vCPU", 60, fail=CRASH)
        m.wait_for(r"domain 1 \(second\): started, 2 vCPUs, command line "
                   r"'root=/dev/xvda1'", 60, fail=CRASH)
        m.wait_for(r"^RESULT segments: 12 passed, 0 failed", 60, fail=CRASH)
        m.wait_for(r"^\(d1\) RESULT segments: 12 passed, 0 failed", 60, fail=CRASH)
        m.wait_for(r"domain 1 \(second\): shut down, reason poweroff", 30, fail=CRASH)
        m.wait_for(r"domain 0 \(segments\): shut down, reason poweroff", 30, fail=CRASH)
        if not m.search(r"^\(d1\) enso-test segments: start_info at \S+, 8192 pages"):
            raise AssertionError("domU did not get its 32M (8192 pages)")


def bad_kernel(tmp):
    """A module that is no kernel fails alone; the next domain still runs."""
    junk = os.path.join(tmp, "junk.bin")
    with open(junk, "wb") as f:
        f.write(b"this is not a kernel\n" * 400)
    with boot("bad-kernel", [junk, SEG]) as m:
        m.wait_for(r"boot module 0 \(\S*junk.bin\): cannot start a domain: .*ELF", 60,
                   fail=CRASH)
        m.wait_for(r"^\(d1\) RESULT segments: 12 passed, 0 failed", 60, fail=CRASH)


def truncated_kernel(tmp):
    """A kernel cut short is refused with a reason; the other domain runs."""
    cut = os.path.join(tmp, "cut.elf")
    with open(SEG, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(3000))
    with boot("truncated", [SEG, cut]) as m:
        m.wait_for(r"boot module 1 \(\S*cut.elf\): cannot start a domain: \S", 60, fail=CRASH)
        m.wait_for(r"^RESULT segments: 12 passed, 0 failed", 60, fail=CRASH)


def bad_option(tmp):
    """A bad enso.* token names itself; the domain is not started, the others are."""
    with boot("bad-option", [SEG, SEG + " enso.vcpus=lots"]) as m:
        m.wait_for(r"boot module 1 \(\S*segments.elf\): cannot start a domain: "
                   r"enso.vcpus= needs a number", 60, fail=CRASH)
        m.wait_for(r"^RESULT segments: 12 passed, 0 failed", 60, fail=CRASH)


SCENARIOS = [("two-domains", lambda tmp: two_domains()), ("bad-kernel", bad_kernel),
             ("truncated-kernel", truncated_kernel), ("bad-option", bad_option)]


def run(item, tmp):
    name, fn = item
    try:
        fn(tmp)
        return name, None
    except Exception as e:  # noqa: BLE001 - any failure is the scenario's
        return name, str(e).strip().splitlines()[0] if str(e).strip() else repr(e)


def main():
    if not os.path.exists(SEG):
        print("domains: build/guests/segments.elf missing (make guests)")
        print("domains: 0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: run(s, tmp), SCENARIOS))
    passed = 0
    for name, err in results:
        if err is None:
            passed += 1
            print("PASS domains-%s" % name)
        else:
            print("FAIL domains-%s: %s" % (name, err))
    print("domains: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
