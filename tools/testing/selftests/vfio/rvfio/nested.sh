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
# Each nested guest's kernel log is checked as the test VM's is (scripts/klog-check.sh); a
# nested guest that reports a warning on purpose shows that the check fails such a run.
# Run as root inside the test VM; reports in KTAP.
#
# Usage: nested.sh [-d "DRIVERS"] [-b "BACKENDS"] [-K]
# -K leaves out the nested guest that reports a warning.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$RVFIO_TOP/scripts/guest-boot.sh"
drivers="vfio-pci rvfio-pci"
backends="container iommufd"
inject=1
while getopts "d:b:K" opt; do
	case $opt in
	d) drivers=$OPTARG ;;
	b) backends=$OPTARG ;;
	K) inject=0 ;;
	*) exit 2 ;;
	esac
done
kernel=$RVFIO_CACHE/linux/arch/x86/boot/bzImage
img=$RVFIO_OUT/nvme.img
# Where the nested guest writes, in MiB from the start of the namespace.
seek=8

# Per driver and backend: the guest's checks, the NVMe image, the TCP payload, the kernel log.
ktap_begin $(($(echo $drivers | wc -w) * $(echo $backends | wc -w) * 4 + inject))
modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"
# The nested guest runs on KVM, on the SVM that TCG's CPU model offers the test VM.
modprobe kvm_amd && [ -c /dev/kvm ] || ktap_exit_fail_msg "no /dev/kvm (kvm_amd)"
nvme=$(find_bdf nvme) && nic=$(find_bdf e1000e) && vnet=$(find_bdf virtio-net) ||
	ktap_exit_fail_msg "test devices not found"

# The test VM's end of the link.
bind "$vnet" virtio-pci || ktap_exit_fail_msg "virtio-net not bound to virtio-pci"
ifc=$(ls /sys/bus/pci/devices/"$vnet"/virtio*/net 2>/dev/null | head -1)
[ -n "$ifc" ] || ktap_exit_fail_msg "no virtio-net interface"
ip link set lo up
# Quiet until the nested guest talks to it: the hub holds back virtio-net's transmissions
# while the e1000e cannot receive (it only does once the nested guest's driver runs), and
# IPv6's unsolicited traffic would stall its queue into a TX timeout meanwhile.
echo 1 >"/proc/sys/net/ipv6/conf/$ifc/disable_ipv6"
ip link set "$ifc" up && ip addr add 192.168.77.1/24 dev "$ifc" ||
	ktap_exit_fail_msg "$ifc setup"

# fresh RUN: an empty run directory for a nested guest.
fresh() {
	rm -rf "$1"
	mkdir -p "$1"
}

# boot RUN QEMU-OPTION... -- COMMAND...: one nested guest on KVM with the run directory RUN
# running COMMAND; QEMU's exit status, or 99 if KVM stopped the guest with an internal error.
# TCG's emulation of SVM now and then makes the test VM's KVM fail an MMIO exit as taken
# during event delivery ("KVM internal error. Suberror: 3"); QEMU then pauses the guest
# instead of exiting, so QEMU's output is watched for it.
boot() {
	local run=$1 opts=() qpid
	shift
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	guest_prepare "$run" / "$@"
	guest_qemu_args "$run" "$kernel"
	timeout -k 10 900 qemu-system-x86_64 -machine q35 -accel kvm -m 384M -nodefaults \
		-display none -no-reboot -monitor none -serial "file:$run/console.log" \
		"${GUEST_ARGS[@]}" "${opts[@]}" </dev/null >"$run/qemu.out" 2>&1 &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		if grep -q '^KVM internal error' "$run/qemu.out"; then
			kill "$qpid"
			wait "$qpid"
			return 99
		fi
		sleep 1
	done
	wait "$qpid"
}

# klog_check RUN: the nested guest's kernel log (the console's, if it died before saving
# it), checked as the test VM's is; fails on a kernel problem, prints what it found.
klog_check() {
	local klog=$1/dmesg.txt
	[ -s "$klog" ] || klog=$1/console.log
	"$RVFIO_TOP/scripts/klog-check.sh" -o "$1/dmesg.checked" "$klog" >"$1/klog-check.txt"
}

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
	local drv=$1 be=$2 run obj=() opt="" rc rx0 rx1 want got status rxpid received
	run=$RVFIO_OUT/nested/$drv.$be
	received=$run.received
	bind "$nvme" "$drv" && bind "$nic" "$drv" || {
		fail "$drv $be: bind"
		return
	}
	if [ "$be" = iommufd ]; then
		obj=(-object iommufd,id=ifd0)
		opt=,iommufd=ifd0
	fi
	# A nested guest that KVM stopped with an internal error (see boot) gets one more try;
	# its run directory is kept as $run.try1.
	for try in 1 2; do
		# What the nested guest writes to the NVMe namespace and sends over TCP: it has no
		# entropy source of its own (see nested-guest.sh).
		fresh "$run"
		head -c 4M /dev/urandom >"$run/nvme.data"
		head -c 1M /dev/urandom >"$run/tcp.data"
		# The TCP payload lands here (busybox nc -l quits at its own stdin's end, hence
		# Python).
		rm -f "$received"
		python3 -c "$receiver" "$received" 2>"$run.receiver.err" &
		rxpid=$!
		rx0=$(cat "/sys/class/net/$ifc/statistics/rx_packets")
		boot "$run" "${obj[@]}" \
			-device "vfio-pci,host=$nvme$opt" -device "vfio-pci,host=$nic$opt" \
			-- bash "$here/nested-guest.sh" "$seek"
		rc=$?
		[ "$rc" = 99 ] && [ "$try" = 1 ] || break
		ktap_print_msg "$drv $be: KVM stopped the nested guest with an internal error" \
			"(TCG's SVM; see $run.try1/qemu.out): once more"
		kill "$rxpid" 2>/dev/null
		wait "$rxpid" 2>/dev/null
		rm -rf "$run.try1"
		mv "$run" "$run.try1"
	done
	rx1=$(cat "/sys/class/net/$ifc/statistics/rx_packets")
	kill "$rxpid" 2>/dev/null
	wait "$rxpid" 2>/dev/null
	status=$(cat "$run/status" 2>/dev/null || echo none)
	ktap_print_msg "$drv $be: QEMU exit $rc, nested guest status $status"
	sed 's/^/  | /' "$run/output.log" 2>/dev/null | diag
	if [ "$rc" != 0 ]; then
		fail "$drv $be: QEMU exit $rc (see $run/qemu.out, $run/console.log)"
		tail -5 "$run/qemu.out" | diag
	elif [ "$status" != 0 ]; then
		fail "$drv $be: the nested guest's checks failed"
	else
		pass "$drv $be: nested guest drove NVMe and e1000e"
	fi
	# What the nested guest wrote is in the image file of the emulated controller.
	want=$(sha256sum <"$run/nvme.data" | cut -d' ' -f1)
	[ "$(cat "$run/nvme.sum" 2>/dev/null)" = "$want" ] ||
		want="nothing (${want:0:16} not written)"
	got=$(dd if="$img" bs=1M skip="$seek" count=4 2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "$drv $be: data written in the nested guest is in the NVMe image"
	else
		fail "$drv $be: NVMe image has ${got:0:16}, nested guest wrote ${want:-nothing}"
	fi
	want=$(sha256sum <"$run/tcp.data" | cut -d' ' -f1)
	[ "$(cat "$run/tcp.sum" 2>/dev/null)" = "$want" ] ||
		want="nothing (${want:0:16} not sent)"
	got=$(sha256sum <"$received" | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ] && [ "$((rx1 - rx0))" -gt 0 ]; then
		pass "$drv $be: 1 MiB over TCP from the nested guest, intact"
	else
		fail "$drv $be: TCP payload $(stat -c %s "$received") bytes," \
			"sum ${got:0:16}, sent ${want:-nothing}"
	fi
	if klog_check "$run"; then
		pass "$drv $be: no kernel problem in the nested guest"
	else
		fail "$drv $be: kernel problem in the nested guest (see $run/dmesg.checked)"
	fi
	diag <"$run/klog-check.txt"
	unbind "$nvme"
	unbind "$nic"
}

# The check itself: a nested guest whose kernel reports a warning (written to its log by the
# guest's command, which succeeds) must fail klog_check, and for that reason only.
if [ "$inject" = 1 ]; then
	run=$RVFIO_OUT/nested/inject
	fresh "$run"
	boot "$run" -- \
		sh -c 'printf "WARN%s CPU: 0 PID: 1 at injected by nested.sh\n" ING: >/dev/kmsg'
	rc=$?
	status=$(cat "$run/status" 2>/dev/null || echo none)
	klog_check "$run"
	krc=$?
	if [ "$rc" = 0 ] && [ "$status" = 0 ] && [ "$krc" = 1 ] &&
	   grep -q 'injected by nested.sh' "$run/klog-check.txt"; then
		pass "the kernel-log check fails a nested guest that reported a warning"
	else
		fail "injected warning: QEMU exit $rc, guest status $status, check exit $krc" \
			"(see $run)"
	fi
fi

for drv in $drivers; do
	for be in $backends; do
		start=$(date +%s)
		nested "$drv" "$be"
		ktap_print_msg "$drv $be: $(($(date +%s) - start)) s"
	done
done
ktap_finished
