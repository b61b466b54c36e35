#!/bin/sh
# /init of the scenario initramfs: mount the usual file systems, say so, then keep an
# interactive shell on the console (hvc0) for the test to type into.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=90% tmp /tmp
echo "ENSO-INIT: $(uname -r) up, $(nproc) CPUs"
while true; do
    setsid cttyhack sh
done
