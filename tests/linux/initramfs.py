"""A busybox initramfs for the Linux scenarios, written as a gzip'd newc cpio.

Python writes the archive itself (no cpio tool needed). The image holds a static
busybox, its applet links are made by /init at boot, /init itself (tests/linux/init.sh)
and any extra files given (small static test programs).
"""
import gzip
import io
import os
import stat

HERE = os.path.dirname(os.path.abspath(__file__))


class _Cpio:
    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1

    def _pad(self):
        self.out.write(b"\0" * ((4 - self.out.tell() % 4) % 4))

    def add(self, name, mode, data=b""):
        self.ino += 1
        nb = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        self.out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + nb)
        self._pad()
        self.out.write(data)
        self._pad()

    def finish(self):
        self.add("TRAILER!!!", 0)
        self.out.write(b"\0" * ((512 - self.out.tell() % 512) % 512))
        return self.out.getvalue()


def build(path, busybox, extra=None):
    """Write the initramfs to path. extra: {name in /bin: host file}."""
    c = _Cpio()
    for d in ("bin", "dev", "proc", "sys", "tmp", "root"):
        c.add(d, stat.S_IFDIR | 0o755)
    with open(busybox, "rb") as f:
        c.add("bin/busybox", stat.S_IFREG | 0o755, f.read())
    c.add("bin/sh", stat.S_IFLNK | 0o777, b"busybox")
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        c.add("init", stat.S_IFREG | 0o755, f.read())
    for name, src in sorted((extra or {}).items()):
        with open(src, "rb") as f:
            c.add("bin/" + name, stat.S_IFREG | 0o755, f.read())
    with open(path, "wb") as f:
        f.write(gzip.compress(c.finish(), 6))
