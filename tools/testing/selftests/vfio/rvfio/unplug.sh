#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Hot-unplug of an open device under each driver: rvfio_unplug_test on the VM's
# virtio-balloon (QEMU id unplug0, alone below the hotplug root port rp2), in the legacy group
# and the iommufd cdev modes. Each test case unplugs the device with QEMU's device_del (lib.sh's
# qmp); the script plugs it back with device_add once QEMU reports DEVICE_DELETED, and checks
# the kernel log of every run. rvfio-pci runs first: lockdep switches itself off at the first
# report, and every pciehp removal in this kernel triggers a known one (reset_lock against
# pci_rescan_remove_lock in pciehp_unconfigure_device). Run as root inside the test VM; leaves
# the device plugged in and reports in KTAP.
#
# Usage: unplug.sh [-d "DRIVERS"]
#        unplug.sh --device-del LOG	(the unplug command the test runs; QEMU's reply to LOG)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
del=$unplug0_del
add=$unplug0_add

if [ "${1:-}" = --device-del ]; then
	qmp "$del" >>"$2" 2>&1
	exit
fi

drivers="rvfio-pci vfio-pci"
while getopts "d:" opt; do
	case $opt in
	d) drivers=$OPTARG ;;
	*) exit 2 ;;
	esac
done
out=${RVFIO_OUT:-/tmp}/unplug
mkdir -p "$out"
modes="vfio_type1v2_iommu iommufd"
cases="release_after_req mmap_outlives_close"
# One case per run.
totals_ok="# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
# Per driver, mode and case: the test, the plug back, the kernel log.
ktap_begin $(($(echo $drivers | wc -w) * $(echo $modes | wc -w) * $(echo $cases | wc -w) * 3))

# The balloon's BDF, once it is present (up to 30 s).
balloon() {
	local i
	for i in $(seq 150); do
		find_bdf virtio-balloon && return 0
		sleep 0.2
	done
	return 1
}

# The kernel log since line $1 into $2, checked as every kernel log of the tests is
# (scripts/klog-check.sh, which drops the known pciehp report); fails on a kernel problem.
dmesg_clean() {
	dmesg | tail -n +"$(($1 + 1))" >"$2"
	"$RVFIO_TOP/scripts/klog-check.sh" -o "$2.checked" "$2" >"$2.problems"
}

# run DRIVER MODE CASE: one unplug of the open device, then the device plugged back in.
run() {
	local what="$1 $2 $3" log="$out/$1.$2.$3.log" bdf qlog ev dm t0 t rc totals
	qlog=$log.qmp
	if ! bdf=$(balloon); then
		fail "$what: virtio-balloon (0x1af4:0x1045) not present"
		return
	fi
	if ! bind "$bdf" "$1"; then
		fail "$what: bind $bdf to $1"
		return
	fi
	rm -f "$qlog"
	ev=$(unplug0_events)
	dm=$(dmesg | wc -l)
	t0=$(date +%s)
	timeout 300 "$here/rvfio_unplug_test" -r "rvfio_unplug.$2.$3" \
		-u "bash $(printf '%q' "$here/unplug.sh") --device-del $(printf '%q' "$qlog")" \
		"$bdf" >"$log" 2>&1
	rc=$?
	t=$(($(date +%s) - t0))
	totals=$(grep -E '^# Totals:' "$log")
	if [ "$rc" = 0 ] && [ "$totals" = "$totals_ok" ]; then
		pass "$what: $bdf unplugged while open (${t} s)"
	else
		fail "$what: exit $rc, ${totals#"# "} (see $log)"
		grep -E '^(not ok|#.*(Expected|FAIL|Assert|failed|still))' "$log" | head -10 | diag
	fi
	grep -E 'REQ|gone from sysfs' "$log" | sed 's/^#.*:\([^:]*\)$/\1/' | diag

	if grep -q '"return"' "$qlog" 2>/dev/null; then
		t0=$(date +%s)
		if ! unplug0_wait_deleted "$ev"; then
			fail "$what: no DEVICE_DELETED for unplug0 within 30 s"
			[ -e "/sys/bus/pci/devices/$bdf" ] &&
				echo "# $bdf still present, driver $(current_driver "$bdf")"
		elif ! qmp "$add" >>"$out/qmp.log" 2>&1; then
			fail "$what: device_add (see $out/qmp.log)"
		elif ! bdf=$(balloon); then
			fail "$what: not back 30 s after device_add"
		else
			pass "$what: plugged back in as $bdf ($(($(date +%s) - t0)) s)"
		fi
	else
		echo "# $what: device_del was not issued (${qlog}: $(cat "$qlog" 2>/dev/null))"
		unbind "$bdf"
	fi

	if dmesg_clean "$dm" "$out/$1.$2.$3.dmesg"; then
		pass "$what: no kernel problem reported"
	else
		fail "$what: kernel problem (see $out/$1.$2.$3.dmesg)"
	fi
	head -20 "$out/$1.$2.$3.dmesg.problems" | diag
}

modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"
start=$(date +%s)
for drv in $drivers; do
	for mode in $modes; do
		for case in $cases; do
			run "$drv" "$mode" "$case"
		done
	done
done
# Leave the device plugged in, whatever happened.
if ! balloon >/dev/null; then
	qmp "$add" >>"$out/qmp.log" 2>&1
	balloon >/dev/null || fail "virtio-balloon not plugged back in at the end"
fi
ktap_print_msg "$(($(date +%s) - start)) s"
ktap_finished
