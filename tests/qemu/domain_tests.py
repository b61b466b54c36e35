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


def console_input(tmp):
    """Serial input: to dom0 first, Ctrl-A x3 moves it to the domU, to enso, to dom0."""
    ci = os.path.join(GUESTS, "console_in.elf")
    switch = "\x01\x01\x01"
    focus = r"^\(enso\) .*\*\*\* Serial input to %s \(type 'CTRL-a' three times to switch input\)$"
    with boot("console-input", [ci, ci + " enso.privileged=0 enso.mem=32M"]) as m:
        m.expect(focus % "DOM0", 60, fail=CRASH)
        m.wait_for(r"^console_in: reading console_io$", 60, fail=CRASH)
        m.wait_for(r"^\(d1\) console_in: reading the console ring$", 60, fail=CRASH)
        if len(m.findall(r"\*\*\* Serial input to")) != 1:
            raise AssertionError("the initial focus message is not printed exactly once")
        m.send("hello dom0\r")
        m.expect(r"^ECHO hello dom0$", 30, fail=CRASH)
        # Fewer than three Ctrl-A before another key are passed on, as on Xen.
        m.send("\x01x\x01\x01y\r")
        m.expect(r"^ECHO \^Ax\^A\^Ay$", 30, fail=CRASH)
        # CONSOLEIO_read into a bad buffer: -EFAULT (-14), and the input stays.
        m.send("fault\r")
        m.expect(r"^FAULT waiting$", 30, fail=CRASH)
        m.send("kept\r")
        m.expect(r"^FAULT -14$", 30, fail=CRASH)
        m.expect(r"^ECHO kept$", 30, fail=CRASH)
        m.send(switch)
        m.expect(focus % "DOM1", 30, fail=CRASH)
        m.send("hello domU\r")
        m.expect(r"^\(d1\) ECHO hello domU$", 30, fail=CRASH)
        m.send(switch)
        m.expect(focus % "enso", 30, fail=CRASH)
        m.send("h")
        m.expect(r"'h' pressed -> showing the debug keys", 30, fail=CRASH)
        m.send(switch)
        m.expect(focus % "DOM0", 30, fail=CRASH)
        m.send("back\rquit\r")
        m.expect(r"^ECHO back$", 30, fail=CRASH)
        m.expect(r"domain 0 \(console_in\): shut down, reason poweroff", 30, fail=CRASH)
        # A domain that dies gives the focus back to enso; the next switch skips it.
        m.expect(focus % "enso", 30, fail=CRASH)
        m.send(switch)
        m.expect(focus % "DOM1", 30, fail=CRASH)
        m.send("quit\r")
        m.wait_for(r"^\(d1\) RESULT console_in: 1 passed, 0 failed", 30, fail=CRASH)
        m.expect(focus % "enso", 30, fail=CRASH)
        for stray in (r"^\(d1\) ECHO (hello dom0|back|h)$", r"^ECHO (hello domU|h)$"):
            if m.search(stray):
                raise AssertionError("input reached the wrong reader: %r" % stray)


SCENARIOS.append(("console-input", console_input))


def xsave_switching(tmp):
    """Two domains on one CPU: their yields switch from one to the other, and after
    every round each finds its own XCR0 and YMM registers (guests/tests/xsave.c)."""
    xs = os.path.join(GUESTS, "xsave.elf")
    loop = " xsave_loop=300 xsave_seed=%d"
    fail = CRASH + r"|^(\(d1\) )?FAIL "
    with boot("xsave", [xs + loop % 1, xs + " enso.privileged=0 enso.mem=32M" + loop % 2],
              smp=1) as m:
        first = m.wait_for(r"^enso-test xsave: ", 60, fail=fail)
        for prefix in ("", r"\(d1\) "):
            m.wait_for(r"^%sPASS switch_loop$" % prefix, 300, fail=fail)
            m.wait_for(r"^%sRESULT xsave: \d+ passed, 0 failed" % prefix, 300, fail=fail)
            info = m.search(r"^%sINFO switch_loop: 300 rounds, seed \d+, runnable for (\d+) ns"
                            % prefix)
            # Time spent runnable: the other domain ran in between.
            if not info or int(info.group(1)) == 0:
                raise AssertionError("%sswitch_loop never waited for the other domain"
                                     % ("domain 1: " if prefix else "domain 0: "))
        interleaved(m, first, r"^RESULT xsave: ")


def interleaved(m, first, last):
    """Both domains ran at once: a domU line lies between domain 0's first line (the
    match first) and its line matching last."""
    end = m.wait_for(last, 30, fail=CRASH)
    if not re.search(r"^\(d1\) ", m.log[first.end():end.start()], re.M):
        raise AssertionError("no (d1) line between domain 0's first line and %r: the "
                             "domains did not run at the same time" % last)


SCENARIOS.append(("xsave-switching", xsave_switching))


def teardown(tmp):
    """Domains that balloon, build page tables and descriptor tables, switching among
    themselves, die; every page they had comes back."""
    mem = os.path.join(GUESTS, "memory.elf")
    user = os.path.join(GUESTS, "user.elf")
    desc = os.path.join(GUESTS, "descriptors.elf")
    pts = os.path.join(GUESTS, "pagetables.elf")
    with boot("teardown", [mem, mem + " enso.privileged=0 enso.name=balloon enso.mem=32M",
                           user + " enso.privileged=0 enso.name=user enso.mem=32M",
                           desc + " enso.privileged=0 enso.name=desc enso.mem=32M",
                           pts + " enso.privileged=0 enso.name=pts enso.mem=32M"]) as m:
        before = m.wait_for(r"boot domains: (\d+) heap pages free", 60, fail=CRASH)
        for n in (r"0 \(memory\)", r"1 \(balloon\)", r"2 \(user\)", r"3 \(desc\)",
                  r"4 \(pts\)"):
            got = m.wait_for(r"domain %s: destroyed, (\d+) of its (\d+) pages freed" % n, 120,
                             fail=CRASH)
            if got.group(1) != got.group(2):
                raise AssertionError("pages left behind: " + got.group(0))
        after = m.wait_for(r"no domains left: (\d+) heap pages free", 30, fail=CRASH)
        if before.group(1) != after.group(1):
            raise AssertionError("free pages before %s, after %s" % (before.group(1),
                                                                    after.group(1)))
        # Every domain's results, the domUs' printed from their rings as they died.
        for k in (r"^RESULT memory", r"^\(d1\) RESULT memory", r"^\(d2\) RESULT user",
                  r"^\(d3\) RESULT descriptors", r"^\(d4\) RESULT pagetables"):
            if not m.search(k + r": \d+ passed, 0 failed"):
                raise AssertionError("no clean %s line" % k)


SCENARIOS.append(("teardown", teardown))


def foreign_rules(tmp):
    """An unprivileged domain naming a live domain 0 in mmu_update & co gets -EPERM.
    Domain 0 here waits for typed input, so it is certainly alive meanwhile."""
    cin = os.path.join(GUESTS, "console_in.elf")
    pts = os.path.join(GUESTS, "pagetables.elf")
    with boot("foreign", [cin, pts + " enso.privileged=0 enso.mem=32M"]) as m:
        m.wait_for(r"^console_in: reading console_io$", 60, fail=CRASH)
        m.wait_for(r"^\(d1\) RESULT pagetables: \d+ passed, 0 failed", 120, fail=CRASH)
        if not m.search(r"^\(d1\) PASS foreign_domain_needs_privilege$"):
            raise AssertionError("foreign_domain_needs_privilege did not pass")
        m.send("quit\r")
        m.wait_for(r"domain 0 \(console_in\): shut down", 30, fail=CRASH)


SCENARIOS.append(("foreign-rules", foreign_rules))


def switch_focus(m, to, tries=4):
    """Ctrl-A three times until the serial input goes to `to` (DOM0, DOM1, enso)."""
    start = len(m.log)
    for _ in range(tries):
        m.send("\x01\x01\x01")
        try:
            return m.wait_from(start, r"\*\*\* Serial input to %s " % to, 5, fail=CRASH)
        except TimeoutError:
            start = len(m.log)
    raise AssertionError("the serial input never went to %s" % to)


# The domU's checks of what an unprivileged domain is refused (guests/tests/hostile.c).
HOSTILE_DOMU_TESTS = ("privilege_as_told", "domu_maps_no_foreign_frame", "port_io",
                      "foreign_owners", "console_write_bad_ptr", "xen_version_bad_ptr",
                      "xen_version_commandline", "sched_remote_shutdown",
                      "pin_override_and_get_physid", "platform_op",
                      "memory_op_other_domain", "still_alive")


def hostile_domu(tmp):
    """The hostile kernel (guests/tests/hostile.c) as an unprivileged domU beside a
    domain 0 running the same kernel, which waits for typed input meanwhile: every
    domU check passes (bad pointers, the privileged operations refused with Xen's
    errnos, port I/O #GP, no frame of anyone else mappable); domain 0 is undisturbed
    and then reads the typed line through bad buffers first; the 'm' key, pressed while
    domain 0 runs, shows its pages by type. Failed checks of either domain are all
    reported, after both have finished."""
    ho = os.path.join(GUESTS, "hostile.elf")
    fail = CRASH + r"|crashed"
    errors = []
    with boot("hostile-domu", [ho + " console_read=1",
                               ho + " enso.privileged=0 enso.mem=32M domu=1"]) as m:
        first = m.wait_for(r"^enso-test hostile: start_info at \S+, 16384 pages", 60,
                           fail=fail)
        m.wait_for(r"^hostile: waiting for input$", 60, fail=fail)
        m.wait_for(r"^\(d1\) RESULT hostile: \d+ passed, \d+ failed", 300, fail=fail)
        for t in HOSTILE_DOMU_TESTS:
            if not m.search(r"^\(d1\) (PASS|FAIL) %s\b" % t):
                errors.append("domU: no result for " + t)
        errors += m.findall(r"^(\(d1\) FAIL \S+: .*)$")
        m.wait_for(r"domain 1 \(hostile\): shut down, reason poweroff", 30, fail=fail)
        if m.search(r"^(RESULT|PASS still_alive)"):
            raise AssertionError("domain 0 finished before its input was typed")
        # enso's 'm' key: each domain's pages by type (domain_dump_memory).
        at = switch_focus(m, "enso").end()
        m.send("m")
        dump = m.wait_from(at, r"domain 0 \(hostile\): (\d+) of (\d+) pages; (.*); (\d+) "
                           r"pinned, (\d+) given back but still mapped", 30, fail=fail)
        types = dict((k, int(v)) for k, v in re.findall(r"(\S+) (\d+)", dump.group(3)))
        if int(dump.group(1)) != 16384 or types.get("L4", 0) < 1 or types.get("L1", 0) < 1 \
                or int(dump.group(4)) < 1 or sum(types.values()) > int(dump.group(1)):
            raise AssertionError("'m' line for domain 0: " + dump.group(0))
        switch_focus(m, "DOM0")
        m.send("hostile-input\r")
        m.wait_for(r"^(PASS|FAIL) console_read_bad_ptr_input_waiting\b", 30, fail=fail)
        m.wait_for(r"^RESULT hostile: \d+ passed, \d+ failed", 30, fail=fail)
        m.wait_for(r"domain 0 \(hostile\): shut down, reason poweroff", 30, fail=fail)
        errors += ["dom0: " + e for e in m.findall(r"^(FAIL \S+: .*)$")]
        interleaved(m, first, r"^RESULT hostile: ")
    if errors:
        raise AssertionError("; ".join(errors))


SCENARIOS.append(("hostile-domu", hostile_domu))


def input_during_build(tmp):
    """Typing while enso is busy loses nothing: 118 characters sent while the boot CPU
    populates a 2 GiB domain (seconds, keypresses not handled meanwhile) all reach
    domain 0, more than enso's 64-byte input ring holds (the rest waits in the UART).
    Not more than domain 0's 128-byte console_io buffer, which drops what does not fit
    (as Xen's does): a burst released at once after the build would otherwise depend on
    how soon domain 0 reads."""
    ci = os.path.join(GUESTS, "console_in.elf")
    with boot("input-during-build", [ci, SEG + " enso.privileged=0 enso.mem=2G"],
              mem="3G") as m:
        m.wait_for(r"boot domains: ", 60, fail=CRASH)
        lines = ["L%02d-" % k + "x" * 54 for k in range(2)]
        m.send("".join(line + "\r" for line in lines))
        started = m.wait_for(r"domain 1 \(segments\): started", 120, fail=CRASH)
        if re.search(r"^ECHO ", m.log[:started.start()], re.M):
            raise AssertionError("input was handled during the build: nothing was tested")
        for line in lines:
            m.wait_for(r"^ECHO %s$" % line, 30, fail=CRASH + r"|typed bytes lost")


SCENARIOS.append(("input-during-build", input_during_build))


def event_channels(tmp):
    """Two domains running the events kernel (guests/tests/events.c): both pass every
    check (the domU as an unprivileged domain); typed input reaches each through an
    event (dom0: VIRQ_CONSOLE, the domU: its console ring's channel); then they
    exchange events over an interdomain channel, dom0 polling and the domU blocking.
    On two CPUs (wake-ups by IPI) and on one (both domains on one run queue)."""
    for smp in (2, 1):
        event_channels_on(smp)


PP_ROUNDS = 50000


def event_channels_on(smp):
    ev = os.path.join(GUESTS, "events.elf")
    # 50,000 rounds: 100,000 events, each answered before the next is sent.
    opts = " console_event=1 pp_rounds=%d pingpong=" % PP_ROUNDS
    with boot("events-smp%d" % smp, [ev + opts + "serve pp_peer=1",
                                     ev + " enso.privileged=0 enso.mem=32M" + opts +
                                     "join pp_peer=0"], smp=smp) as m:
        try:
            event_channels_drive(m)
        except TimeoutError:
            m.enso_postmortem()  # a hang: the log gets enso's view of it
            raise


def event_channels_drive(m):
    fail = CRASH + r"|^(\(d1\) )?FAIL |crashed"
    m.wait_for(r"^console_event: waiting on port \d+$", 60, fail=fail)
    m.wait_for(r"^\(d1\) console_event: waiting on port \d+$", 60, fail=fail)
    m.send("to dom0\r")
    m.wait_for(r"^console_event: got 'to dom0' after \d+ events$", 30, fail=fail)
    m.send("\x01\x01\x01")
    m.wait_for(r"Serial input to DOM1", 30, fail=fail)
    m.send("to domU\r")
    m.wait_for(r"^\(d1\) console_event: got 'to domU' after \d+ events$", 30, fail=fail)
    m.wait_for(r"^INFO pingpong: %d rounds served$" % PP_ROUNDS, 300, fail=fail)
    m.wait_for(r"^\(d1\) INFO pingpong: %d rounds, \d+ upcalls$" % PP_ROUNDS, 60, fail=fail)
    for prefix in ("", r"\(d1\) "):
        m.wait_for(r"^%sPASS pingpong$" % prefix, 300, fail=fail)
        m.wait_for(r"^%sRESULT events: \d+ passed, 0 failed" % prefix, 60,
                   fail=fail)
    m.wait_for(r"domain 1 \(events\): shut down, reason poweroff", 30, fail=fail)
    m.wait_for(r"domain 0 \(events\): shut down, reason poweroff", 30, fail=fail)
    if not m.search(r"^\(d1\) PASS other_domains$"):
        raise AssertionError("the domU's privilege checks did not pass")


SCENARIOS.append(("event-channels", event_channels))


def affinity(tmp):
    """enso.cpus= keeps a domain's vCPUs on the CPUs listed: domain 0 on CPU 0, a
    2-vCPU domU on CPU 1, as the 'q' key shows while both wait for input; a list with no
    online CPU is refused by name and the others start."""
    ev = os.path.join(GUESTS, "events.elf")
    with boot("affinity", [ev + " console_event=1 enso.cpus=0",
                           ev + " enso.privileged=0 enso.mem=32M enso.vcpus=2 enso.cpus=1 "
                           "console_event=1",
                           SEG + " enso.privileged=0 enso.mem=32M enso.cpus=5-7"]) as m:
        m.wait_for(r"boot module 2 \(\S*segments.elf\): cannot start a domain: enso.cpus= "
                   r"names no online CPU", 60, fail=CRASH)
        m.wait_for(r"^console_event: waiting on port \d+$", 60, fail=CRASH)
        m.wait_for(r"^\(d1\) console_event: waiting on port \d+$", 60, fail=CRASH)
        start = len(m.log)
        m.enso_postmortem(keys="q")
        dump = m.wait_from(start, r"domain 1 \(events\).*\n.*vcpu 0: (.*)\n.*vcpu 1: (.*)",
                           30, fail=CRASH)
        d0 = m.wait_from(start, r"domain 0 \(events\).*\n.*vcpu 0: (.*)", 30, fail=CRASH)
        if not d0.group(1).startswith("CPU 0, affinity 0x1,"):
            raise AssertionError("domain 0: " + d0.group(1))
        for v in (1, 2):
            if not dump.group(v).startswith("CPU 1, affinity 0x2,"):
                raise AssertionError("domain 1 vCPU %d: %s" % (v - 1, dump.group(v)))


SCENARIOS.append(("affinity", affinity))


def fifo_teardown(tmp):
    """Two domains end with the FIFO event-channel ABI on (guests/tests/events_fifo.c):
    their control blocks and event-array pages are held by enso until each domain is
    destroyed, and then every page comes back."""
    fifo = os.path.join(GUESTS, "events_fifo.elf")
    with boot("fifo-teardown", [fifo, fifo + " enso.privileged=0 enso.mem=32M"]) as m:
        before = m.wait_for(r"boot domains: (\d+) heap pages free", 60, fail=CRASH)
        for n in (0, 1):
            got = m.wait_for(r"domain %d \(events_fifo\): destroyed, (\d+) of its (\d+) "
                             r"pages freed" % n, 120, fail=CRASH)
            if got.group(1) != got.group(2):
                raise AssertionError("pages left behind: " + got.group(0))
        after = m.wait_for(r"no domains left: (\d+) heap pages free", 30, fail=CRASH)
        if before.group(1) != after.group(1):
            raise AssertionError("free pages before %s, after %s" % (before.group(1),
                                                                    after.group(1)))
        for k in (r"^RESULT events_fifo", r"^\(d1\) RESULT events_fifo"):
            if not m.search(k + r": \d+ passed, 0 failed"):
                raise AssertionError("no clean %s line" % k)


SCENARIOS.append(("fifo-teardown", fifo_teardown))


def init_p2m_domu(tmp):
    """Kernels with an INIT_P2M note as domUs (guests/tests/p2m.c, domu=1): the p2m list
    at the note's address, laid out as Xen's toolstack does; the boot kernel as a domU
    beside them; a note in the hypervisor's range refused by name."""
    def args(name, pages):
        body = "pages=%d kernel=%s tag=enso-guest-test domu=1 " % (pages, name)
        h = 0x811C9DC5
        for b in body.encode():
            h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
        return " enso.privileged=0 enso.mem=32M " + body + "cksum=%08x" % h

    p2m = os.path.join(GUESTS, "p2m.elf")
    bad = os.path.join(tmp, "p2m-hv.elf")
    with open(p2m, "rb") as f:
        image = f.read()
    note = (b"\x04\x00\x00\x00\x08\x00\x00\x00\x0f\x00\x00\x00Xen\x00"
            b"\x00\x00\x00\x00\x80\x00\x00\x00")
    if image.count(note) != 1:
        raise AssertionError("p2m.elf has no INIT_P2M note 0x8000000000")
    with open(bad, "wb") as f:
        f.write(image.replace(note, note[:16] + (0xffff800000000000).to_bytes(8, "little")))
    fail = CRASH + r"|^\(d[12]\) FAIL "
    boot_elf = os.path.join(GUESTS, "boot.elf")
    with boot("init-p2m", [SEG, p2m + args("p2m", 8192), boot_elf + args("boot", 8192),
                           bad]) as m:
        m.wait_for(r"boot module 3 \(\S*p2m-hv.elf\): cannot start a domain: INIT_P2M: "
                   r"the p2m list overlaps the hypervisor's virtual address range", 60,
                   fail=fail)
        m.wait_for(r"domain 1 \(p2m\): p2m list 0000008000000000-0000008000010000 "
                   r"\(INIT_P2M\), pfns 0x400-0x412", 60, fail=fail)
        m.wait_for(r"^\(d1\) RESULT p2m: \d+ passed, 0 failed, 2 skipped", 120, fail=fail)
        m.wait_for(r"^\(d2\) RESULT boot: \d+ passed, 0 failed, 2 skipped", 120, fail=fail)
        m.wait_for(r"^RESULT segments: 12 passed, 0 failed", 60, fail=fail)


SCENARIOS.append(("init-p2m-domu", init_p2m_domu))


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
    # -k NAME (repeatable): only those scenarios.
    only = [sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "-k"]
    chosen = [s for s in SCENARIOS if not only or s[0] in only]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda s: run(s, tmp), chosen))
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
