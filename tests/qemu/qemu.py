"""Boot enso under QEMU (TCG) and talk to its serial console.

Typical use::

    from qemu import Machine

    with Machine("smoke", kernel="build/enso", smp=2, mem="1G",
                 append="console=com1") as m:
        match = m.expect(r"^enso: (\\d+) CPUs online, (\\d+) MiB free$", 120)
        print(match.group(1))

The console text is captured by a background thread (so QEMU can never block
on a full pipe), cleaned of ANSI escape sequences and carriage returns, kept
in memory (``Machine.log``) and written as it arrives to
``build/logs/<name>.log``.  Anything QEMU itself prints on stderr is kept in
``Machine.stderr`` and appended to the log file when the machine stops.

Exit codes: the machine always has ``-device isa-debug-exit,iobase=0xf4``;
a guest write of V to port 0xf4 makes QEMU exit with status ``(V << 1) | 1``.
``-no-reboot`` makes a guest reset exit QEMU with status 0.
"""

import codecs
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

__all__ = ["Machine", "MachineExited", "ConsoleError", "find_ovmf",
           "REPO_ROOT", "DEFAULT_LOG_DIR"]

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_LOG_DIR = os.environ.get("ENSO_LOG_DIR",
                                 os.path.join(REPO_ROOT, "build", "logs"))

# CSI / OSC / two-character escape sequences, plus other control characters
# that only clutter the log (keep \n and \t).
_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"
                      r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
                      r"|\x1b[^\[\]]"
                      r"|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]")
# An escape sequence possibly cut in half at the end of a chunk.
_ANSI_TAIL_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*)?$")


class MachineExited(TimeoutError):
    """QEMU exited while we were waiting for console output.

    Subclass of TimeoutError so callers that only catch TimeoutError still
    treat it as "the expected output never came"."""

    def __init__(self, message, returncode):
        super().__init__(message)
        self.returncode = returncode


class ConsoleError(Exception):
    """A 'fail' pattern given to expect() appeared on the console."""

    def __init__(self, message, match):
        super().__init__(message)
        self.match = match


def find_ovmf(directory="/usr/share/OVMF"):
    """Return (code, vars) paths of a matching OVMF firmware pair."""
    for code, vars_ in (("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"),
                        ("OVMF_CODE.fd", "OVMF_VARS.fd")):
        c = os.path.join(directory, code)
        v = os.path.join(directory, vars_)
        if os.path.isfile(c) and os.path.isfile(v):
            return c, v
    raise FileNotFoundError(
        "no OVMF_CODE*.fd / OVMF_VARS*.fd pair under %s (install package ovmf)"
        % directory)


def _clean(text):
    """Drop escape sequences and turn \\r\\n / lone \\r into \\n."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ANSI_RE.sub("", text)


def _tail(text, n=40):
    lines = text.splitlines()
    return "\n".join(lines[-n:])


class Machine:
    """One QEMU instance running enso.

    name      -- test name; the console log goes to <log_dir>/<name>.log
    kernel    -- path of a multiboot (1) image loaded with -kernel
    iso       -- path of an ISO image attached with -cdrom (boots from it)
    firmware  -- 'bios' (SeaBIOS, default) or 'uefi' (OVMF via pflash)
    smp       -- number of CPUs
    mem       -- RAM size as understood by QEMU -m ('128M', '1G', ...)
    append    -- kernel command line (only with kernel=)
    extra     -- list of extra QEMU arguments
    """

    def __init__(self, name="qemu", kernel=None, iso=None, firmware="bios",
                 smp=1, mem="128M", append=None, extra=(),
                 log_dir=None, qemu="qemu-system-x86_64", cpu="max"):
        if (kernel is None) == (iso is None):
            raise ValueError("give exactly one of kernel= or iso=")
        if firmware not in ("bios", "uefi"):
            raise ValueError("firmware must be 'bios' or 'uefi'")
        if kernel is not None and firmware == "uefi":
            raise ValueError("QEMU's -kernel multiboot loader needs firmware='bios'")
        if append is not None and kernel is None:
            raise ValueError("append= only works with kernel=; "
                             "put the command line in the ISO's grub.cfg")
        self.name = name
        self.kernel = kernel
        self.iso = iso
        self.firmware = firmware
        self.smp = smp
        self.mem = mem
        self.append = append
        self.extra = list(extra)
        self.qemu = qemu
        self.cpu = cpu
        self.log_dir = log_dir or DEFAULT_LOG_DIR
        self.log_path = os.path.join(self.log_dir, "%s.log" % name)

        self.proc = None
        self.returncode = None
        self.cmdline = None
        self._cursor = 0
        self._text = []          # cleaned console chunks
        self._text_len = 0
        self._joined = ""        # cache of "".join(self._text)
        self._stderr = []
        self._cond = threading.Condition()
        self._eof = False
        self._threads = []
        self._logf = None
        self._tmpdir = None
        self._start_time = None

    # ------------------------------------------------------------------ setup
    def _build_cmdline(self):
        args = [self.qemu,
                "-accel", "tcg",
                "-cpu", self.cpu,
                "-smp", str(self.smp),
                "-m", str(self.mem),
                "-nographic",
                "-monitor", "none",
                "-serial", "stdio",
                "-parallel", "none",
                "-no-reboot",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if self.firmware == "uefi":
            code, vars_ = find_ovmf()
            self._tmpdir = tempfile.mkdtemp(prefix="enso-qemu-")
            vars_copy = os.path.join(self._tmpdir, "OVMF_VARS.fd")
            shutil.copyfile(vars_, vars_copy)
            args += ["-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s" % code,
                     "-drive", "if=pflash,format=raw,unit=1,file=%s" % vars_copy]
        if self.kernel is not None:
            if not os.path.isfile(self.kernel):
                raise FileNotFoundError("kernel image %s not found" % self.kernel)
            args += ["-kernel", self.kernel]
            if self.append is not None:
                args += ["-append", self.append]
        else:
            if not os.path.isfile(self.iso):
                raise FileNotFoundError("ISO image %s not found" % self.iso)
            args += ["-cdrom", self.iso, "-boot", "d"]
        args += self.extra
        return args

    def start(self):
        """Launch QEMU and the console reader threads."""
        if self.proc is not None:
            raise RuntimeError("machine already started")
        self.cmdline = self._build_cmdline()
        os.makedirs(self.log_dir, exist_ok=True)
        self._logf = open(self.log_path, "w", encoding="utf-8", errors="replace")
        self._logf.write("# %s\n" % " ".join(self.cmdline))
        self._logf.flush()
        self._start_time = time.monotonic()
        self.proc = subprocess.Popen(self.cmdline,
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE,
                                     bufsize=0)
        for target, stream in ((self._read_console, self.proc.stdout),
                               (self._read_stderr, self.proc.stderr)):
            t = threading.Thread(target=target, args=(stream,),
                                 name="qemu-%s-%s" % (self.name, target.__name__),
                                 daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    # ---------------------------------------------------------------- readers
    def _read_console(self, stream):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        fd = stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            final = not data
            pending += decoder.decode(data, final=final)
            keep = ""
            if not final:
                # hold back a possibly incomplete escape sequence or a
                # trailing '\r' (which may be the first half of "\r\n")
                m = _ANSI_TAIL_RE.search(pending)
                if m and len(pending) - m.start() < 64:
                    keep = pending[m.start():]
                    pending = pending[:m.start()]
                if pending.endswith("\r"):
                    keep = "\r" + keep
                    pending = pending[:-1]
            clean = _clean(pending)
            pending = keep
            if clean:
                with self._cond:
                    self._text.append(clean)
                    self._text_len += len(clean)
                    if self._logf:
                        self._logf.write(clean)
                        self._logf.flush()
                    self._cond.notify_all()
            if final:
                break
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def _read_stderr(self, stream):
        fd = stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            with self._cond:
                self._stderr.append(data.decode("utf-8", "replace"))

    # ----------------------------------------------------------------- output
    def _snapshot(self):
        """Full cleaned console text (call with self._cond held)."""
        if len(self._text) > 1:
            self._text = ["".join(self._text)]
        return self._text[0] if self._text else ""

    @property
    def log(self):
        """Full console text so far (ANSI escapes and \\r removed)."""
        with self._cond:
            return self._snapshot()

    @property
    def stderr(self):
        with self._cond:
            return "".join(self._stderr)

    @property
    def elapsed(self):
        return 0.0 if self._start_time is None else time.monotonic() - self._start_time

    def tail(self, n=40):
        return _tail(self.log, n)

    def _describe_failure(self, what, timeout):
        text = self.log
        msg = "%s (after %.0fs)\n--- last 40 console lines of %s ---\n%s" % (
            what, timeout, self.name, _tail(text))
        err = self.stderr.strip()
        if err:
            msg += "\n--- qemu stderr ---\n%s" % _tail(err, 10)
        return msg

    def _wait(self, regex, timeout, start, fail, flags):
        pat = re.compile(regex, flags) if isinstance(regex, str) else regex
        fpat = None
        if fail is not None:
            fpat = re.compile(fail, flags) if isinstance(fail, str) else fail
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._snapshot()
                m = pat.search(text, start)
                if m:
                    return m
                if fpat is not None:
                    fm = fpat.search(text, start)
                    if fm:
                        raise ConsoleError(self._describe_failure(
                            "failure pattern %r seen: %r" % (fpat.pattern, fm.group(0)),
                            self.elapsed), fm)
                if self._eof:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._describe_failure(
                        "timeout waiting for %r" % pat.pattern, timeout))
                self._cond.wait(min(remaining, 1.0))
        # console closed: QEMU is gone (or going)
        rc = self.wait_exit(10, _raise=False)
        raise MachineExited(self._describe_failure(
            "QEMU exited (status %s) while waiting for %r" % (rc, pat.pattern),
            self.elapsed), rc)

    def expect(self, regex, timeout=60, fail=None, flags=re.M):
        """Wait for regex to appear after the previous expect() match.

        Returns the match object (positions refer to the full ``log``) and
        moves the cursor past it.  The regex is compiled with re.MULTILINE,
        so ^ and $ match at line boundaries.  If ``fail`` is given and that
        pattern appears first, raises ConsoleError.  Raises TimeoutError
        (with the last 40 console lines in the message) on timeout and
        MachineExited (a TimeoutError) if QEMU exits first."""
        m = self._wait(regex, timeout, self._cursor, fail, flags)
        self._cursor = m.end()
        return m

    def wait_for(self, regex, timeout=60, fail=None, flags=re.M):
        """Like expect() but searches the whole log and leaves the cursor."""
        return self._wait(regex, timeout, 0, fail, flags)

    def wait_from(self, pos, regex, timeout=60, fail=None, flags=re.M):
        """Like wait_for() but only console text from position pos on counts."""
        return self._wait(regex, timeout, pos, fail, flags)

    def search(self, regex, flags=re.M):
        """Search the console text received so far (no waiting)."""
        return re.search(regex, self.log, flags)

    def findall(self, regex, flags=re.M):
        return re.findall(regex, self.log, flags)

    # ------------------------------------------------------------------ input
    def send(self, text):
        """Write text to the guest's serial port (COM1)."""
        if isinstance(text, str):
            text = text.encode("utf-8")
        try:
            self.proc.stdin.write(text)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise MachineExited("cannot send to %s: QEMU has exited (%s)"
                                % (self.name, e), self.proc.poll())

    def enso_postmortem(self, keys="qeg", switches=4):
        """After a hang under enso: move the serial input focus back to enso (Ctrl-A
        three times, as often as it takes) and press debug keys, so the log shows the
        domains' vCPUs, event channels and registers. Best effort; never raises."""
        try:
            start = len(self.log)
            for _ in range(switches):
                self.send("\x01\x01\x01")
                time.sleep(1)
                if re.search(r"Serial input to enso", self.log[start:]):
                    break
            for k in keys:
                self.send(k)
                time.sleep(1)
        except Exception:
            pass

    # ------------------------------------------------------------- lifecycle
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=60, _raise=True):
        """Wait for QEMU to exit by itself; return its exit status.

        Raises TimeoutError (with console tail) if it is still running."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if not _raise:
                return None
            raise TimeoutError(self._describe_failure(
                "QEMU did not exit", timeout)) from None
        self.returncode = rc
        self._finish()
        return rc

    def kill(self):
        """Stop QEMU (if running) and release resources; idempotent."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.terminate()
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                pass
        if self.proc is not None:
            self.returncode = self.proc.poll()
        self._finish()

    def _finish(self):
        for t in self._threads:
            t.join(timeout=5)
        self._threads = []
        if self.proc is not None and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        with self._cond:
            if self._logf:
                err = "".join(self._stderr).strip()
                if err:
                    self._logf.write("\n# qemu stderr:\n%s\n" % err)
                self._logf.write("\n# qemu exit status: %s, %.1fs\n"
                                 % (self.returncode, self.elapsed))
                self._logf.close()
                self._logf = None
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __del__(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
        except Exception:
            pass
