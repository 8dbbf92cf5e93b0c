#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Device assignment end to end: QEMU, run inside the test VM, passes the NVMe controller and
# the e1000e NIC bound to vfio-pci or to rvfio-pci into a nested guest through the legacy
# container (-device vfio-pci,host=) and through iommufd (-object iommufd). The nested guest
# runs on KVM (kvm_amd on the SVM that TCG's CPU model offers), boots the same kernel, and
# its own nvme and e1000e drivers do the work:
# - a namespace region written and read back (O_DIRECT) with a checksum, and the same data
#   then found in the image file behind the emulated controller;
# - a link brought up that pings the test VM and sends it 1 MiB over TCP, checksummed on
#   arrival. The test VM's end is the virtio-net NIC, on the same QEMU hub as the e1000e.
# Run as root inside the test VM; closes with "nested: N passed, N failed".
#
# Usage: nested.sh [-d "DRIVERS"] [-b "BACKENDS"]
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
drivers="vfio-pci rvfio-pci"
backends="container iommufd"
while getopts "d:b:" opt; do
	case $opt in
	d) drivers=$OPTARG ;;
	b) backends=$OPTARG ;;
	*) exit 2 ;;
	esac
done
passed=0
failed=0
kernel=$RVFIO_CACHE/linux/arch/x86/boot/bzImage
img=$RVFIO_OUT/nvme.img
# The nested guest's root is the test VM's, over 9p; guest-init.sh runs its command.
cmdline="rootfstype=9p root=rvfio_root rootflags=trans=virtio,version=9p2000.L,msize=262144"
cmdline="$cmdline ro console=ttyS0 loglevel=5"
# Where the nested guest writes, in MiB from the start of the namespace.
seek=8

modprobe vfio-pci && modprobe rvfio_pci || { echo "FAIL: modprobe"; exit 1; }
# The nested guest runs on KVM, on the SVM that TCG's CPU model offers the test VM.
modprobe kvm_amd && [ -c /dev/kvm ] || { echo "FAIL: no /dev/kvm (kvm_amd)"; exit 1; }
nvme=$(find_bdf nvme) && nic=$(find_bdf e1000e) && vnet=$(find_bdf virtio-net) ||
	{ echo "FAIL: test devices not found"; exit 1; }

# The test VM's end of the link.
bind "$vnet" virtio-pci || { echo "FAIL: virtio-net not bound to virtio-pci"; exit 1; }
ifc=$(ls /sys/bus/pci/devices/"$vnet"/virtio*/net 2>/dev/null | head -1)
[ -n "$ifc" ] || { echo "FAIL: no virtio-net interface"; exit 1; }
ip link set lo up
# Quiet until the nested guest talks to it: the hub holds back virtio-net's transmissions
# while the e1000e cannot receive (it only does once the nested guest's driver runs), and
# IPv6's unsolicited traffic would stall its queue into a TX timeout meanwhile.
echo 1 >"/proc/sys/net/ipv6/conf/$ifc/disable_ipv6"
ip link set "$ifc" up && ip addr add 192.168.77.1/24 dev "$ifc" ||
	{ echo "FAIL: $ifc setup"; exit 1; }

# Accept one TCP connection on port 5000 and write what arrives to the file named by argv[1].
receiver='
import socket, sys
srv = socket.create_server(("192.168.77.1", 5000))
conn, _ = srv.accept()
with open(sys.argv[1], "wb") as f:
    while data := conn.recv(65536):
        f.write(data)
'

# One nested guest: $1 driver, $2 backend.
nested() {
	local drv=$1 be=$2 run obj=() opt="" rc rx0 rx1 want got status
	run=$RVFIO_OUT/nested/$drv.$be
	rm -rf "$run"
	mkdir -p "$run"
	bind "$nvme" "$drv" && bind "$nic" "$drv" || { fail "$drv $be: bind"; return; }
	if [ "$be" = iommufd ]; then
		obj=(-object iommufd,id=ifd0)
		opt=,iommufd=ifd0
	fi
	# guest-init.sh, as in the test VM: it reads these two files from its run directory.
	cat >"$run/env.sh" <<-ENV
		RVFIO_OUT=$run
		RVFIO_TOP=$RVFIO_TOP
		RVFIO_CACHE=$RVFIO_CACHE
		RVFIO_MODULES=$RVFIO_MODULES
		RVFIO_KVER=$RVFIO_KVER
		PATH=$PATH
	ENV
	printf 'cd /\nbash %q %q\n' "$here/nested-guest.sh" "$seek" >"$run/cmd.sh"
	# The TCP payload lands here (busybox nc -l quits at its own stdin's end, hence Python).
	python3 -c "$receiver" "$run/received" 2>"$run/receiver.err" &
	local rxpid=$!
	rx0=$(cat "/sys/class/net/$ifc/statistics/rx_packets")
	timeout -k 10 900 qemu-system-x86_64 -machine q35 -accel kvm -m 384M -nodefaults \
		-display none -no-reboot -monitor none -serial "file:$run/console.log" \
		-kernel "$kernel" \
		-append "$cmdline init=$RVFIO_TOP/scripts/guest-init.sh rvfio.run=$run panic=-1" \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=rvfio_root \
		-fsdev "local,id=out,path=$run,security_model=none" \
		-device virtio-9p-pci,fsdev=out,mount_tag=rvfio_out \
		"${obj[@]}" \
		-device "vfio-pci,host=$nvme$opt" -device "vfio-pci,host=$nic$opt" \
		</dev/null >"$run/qemu.out" 2>&1
	rc=$?
	rx1=$(cat "/sys/class/net/$ifc/statistics/rx_packets")
	kill "$rxpid" 2>/dev/null
	wait "$rxpid" 2>/dev/null
	status=$(cat "$run/status" 2>/dev/null || echo none)
	echo "$drv $be: QEMU exit $rc, nested guest status $status"
	sed 's/^/  | /' "$run/output.log" 2>/dev/null
	if [ "$rc" != 0 ]; then
		fail "$drv $be: QEMU exit $rc (see $run/qemu.out, $run/console.log)"
		tail -5 "$run/qemu.out"
	elif [ "$status" != 0 ]; then
		fail "$drv $be: the nested guest's checks failed"
	else
		pass "$drv $be: nested guest drove NVMe and e1000e"
	fi
	# What the nested guest wrote is in the image file of the emulated controller.
	want=$(cat "$run/nvme.sum" 2>/dev/null)
	got=$(dd if="$img" bs=1M skip="$seek" count=4 2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "$drv $be: data written in the nested guest is in the NVMe image"
	else
		fail "$drv $be: NVMe image has ${got:0:16}, nested guest wrote ${want:-nothing}"
	fi
	want=$(cat "$run/tcp.sum" 2>/dev/null)
	got=$(sha256sum <"$run/received" | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ] && [ "$((rx1 - rx0))" -gt 0 ]; then
		pass "$drv $be: 1 MiB over TCP from the nested guest, intact"
	else
		fail "$drv $be: TCP payload $(stat -c %s "$run/received") bytes," \
			"sum ${got:0:16}, sent ${want:-nothing}"
	fi
	if grep -Eq 'WARNING:|BUG:|Oops|Call Trace:' "$run/dmesg.txt" "$run/console.log" \
		2>/dev/null; then
		fail "$drv $be: kernel problem in the nested guest (see $run/console.log)"
	fi
	unbind "$nvme"
	unbind "$nic"
}

for drv in $drivers; do
	for be in $backends; do
		start=$(date +%s)
		nested "$drv" "$be"
		echo "$drv $be: $(($(date +%s) - start)) s"
	done
done
echo "nested: $passed passed, $failed failed"
[ "$failed" = 0 ]
