#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# PID 1 of the test guest: set up a minimal system on the read-only 9p root, run the command
# the host wrote into the run directory, record its status and the kernel log, power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /dev/shm
mount -t tmpfs run /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tmpfs tmp /var/tmp 2>/dev/null

run=$(sed -n 's/.*rvfio\.run=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 rvfio_out "$run"
. "$run/env.sh"
export RVFIO_OUT RVFIO_TOP RVFIO_CACHE RVFIO_MODULES RVFIO_KVER PATH HOME=/tmp

# A private, writable /tmp. The repo, the cache or the run directory may live under the
# host's /tmp: keep a view of it and bind them back over the new /tmp.
mkdir -p /run/host/tmp
mount --rbind /tmp /run/host/tmp
mount -t tmpfs tmp /tmp
for p in "$RVFIO_TOP" "$RVFIO_CACHE" "$run"; do
	case $p in
	/tmp/*)
		mkdir -p "$p"
		mountpoint -q "$p" || mount --rbind "/run/host$p" "$p"
		;;
	esac
done

# The modules built with this kernel: the read-only root may have no /lib/modules, so
# modprobe (ours and the kernel's request_module) gets the cache as its base directory.
mkdir -p /tmp/bin
for tool in modprobe modinfo; do
	base=-d
	[ $tool = modinfo ] && base=-b
	printf '#!/bin/sh\nexec /sbin/%s %s "%s" "$@"\n' $tool $base "$RVFIO_CACHE/modules" >/tmp/bin/$tool
	chmod +x /tmp/bin/$tool
done
export PATH=/tmp/bin:$PATH
echo /tmp/bin/modprobe >/proc/sys/kernel/modprobe
hostname rvfio-vm
# Shared anonymous memory in huge pages, for every test whatever their order: the upstream
# driver test pins a 1 GiB shared buffer, which page by page takes most of the kselftest
# harness's 30 s per test under TCG.
echo always >/sys/kernel/mm/transparent_hugepage/shmem_enabled ||
	echo "rvfio-vm: cannot enable shmem THP"

echo "rvfio-vm: running: $(tail -n 1 "$run/cmd.sh")"
bash "$run/cmd.sh" </dev/null 2>&1 | tee "$run/output.log"
status=${PIPESTATUS[0]}
dmesg >"$run/dmesg.txt"
echo "$status" >"$run/status"
sync
umount "$run" 2>/dev/null
echo "rvfio-vm: exit status $status"
# Power off from this process (reboot(2) does not return): with the asynchronous sysrq, init
# went on running while the 9p root went away, died of SIGBUS and panicked the kernel.
busybox poweroff -f
echo o >/proc/sysrq-trigger
sleep 10
