#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SR-IOV under each driver, on QEMU's igb (the PF) and edu (neither PF nor VF): with the
# driver's SR-IOV support off, sriov_numvfs refuses to create VFs (ENOENT); with it on,
# rvfio_sriov_test (VF binding, VF token rules, VFIO_DEVICE_FEATURE, group device names, PF
# power state, VF removal while a VF is open). What the low-power features return on a PF
# with VFs and on a VF is compared between the drivers. Run as root inside the test VM;
# reports in KTAP.
#
# -u adds the tests that unbind the PF while a VF is open: this kernel's PCI core then warns
# (pci_stop_and_remove_bus_device() expects pci_rescan_remove_lock, which a driver unbind
# does not take) under vfio-pci and rvfio-pci alike, which fails a scripts/vm.sh run. The
# same removal through the PF's sysfs "remove", which takes the lock, always runs.
#
# SR-IOV support is vfio-pci's enable_sriov parameter, writable at any time, and rvfio-pci's
# enable_sriov module parameter, read at load only: rvfio_pci is reloaded for it, which needs
# no device bound to it. rvfio_pci stays loaded with enable_sriov=1 (as upstream.sh loads it);
# vfio-pci's parameter is restored.
#
# Usage: sriov.sh [-d "DRIVERS"] [-u]
set -u
here=$(cd "$(dirname "$0")" && pwd)
drivers="vfio-pci rvfio-pci"
unbind_tests=0
while getopts "d:u" opt; do
	case $opt in
	d) drivers=$OPTARG ;;
	u) unbind_tests=1 ;;
	*) exit 2 ;;
	esac
done
out=${RVFIO_OUT:-/tmp}/sriov
mkdir -p "$out"
. "$here/lib.sh"
# rvfio_sriov_test: 17 tests in each of 2 IOMMU paths, 3 on the group path alone; without
# -u, 2 tests fewer in each path.
cases=37
filter=()
if [ "$unbind_tests" = 0 ]; then
	cases=33
	filter=(-T unbind_pf_with_vf_open -T unbind_pf_with_pf_and_vf_open)
fi
# Per driver: SR-IOV off, the test program; with two drivers, the low-power comparison.
set -- $drivers
ktap_begin $(($# * 2 + ($# >= 2)))

# sriov_support DRIVER on|off: turns DRIVER's SR-IOV support on or off.
sriov_support() {
	local d v
	case $1 in
	vfio-pci)
		[ "$2" = on ] && v=1 || v=0
		echo "$v" >/sys/module/vfio_pci/parameters/enable_sriov
		;;
	rvfio-pci)
		for d in /sys/bus/pci/drivers/rvfio-pci/0000:*; do
			if [ -e "$d" ]; then
				echo "rvfio-pci still drives $(basename "$d")" >&2
				return 1
			fi
		done
		modprobe -r rvfio_pci || return 1
		if [ "$2" = on ]; then
			modprobe rvfio_pci enable_sriov=1
		else
			modprobe rvfio_pci
		fi
		;;
	*) return 1 ;;
	esac
}

# numvfs_write BDF N: writes N to sriov_numvfs; prints the error message on failure.
numvfs_write() {
	local err
	err=$( { echo "$2" >"/sys/bus/pci/devices/$1/sriov_numvfs"; } 2>&1) && return 0
	echo "${err##*: }"
	return 1
}

# Removes the PF's VFs (while it has a driver) and unbinds both devices.
release() {
	if [ -n "$(current_driver "$pf")" ] &&
	   [ "$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")" != 0 ]; then
		numvfs_write "$pf" 0 >/dev/null || echo "cannot remove the VFs of $pf" >&2
	fi
	unbind "$pf"
	unbind "$edu"
}

modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"
vfio_sriov=$(cat /sys/module/vfio_pci/parameters/enable_sriov)
# The igb below a root port without a hotplug slot (scripts/vm.sh): a bus reset covers it and
# its VFs, which the hot-reset tests need; the other igb is on the root bus, with no hot reset.
pf=$(find_bdfs igb | grep -v '^0000:00:' | head -n 1)
edu=$(find_bdf edu)
if [ -z "$pf" ] || [ -z "$edu" ]; then
	ktap_exit_fail_msg "devices: igb '$pf', edu '$edu'"
fi

for drv in $drivers; do
	release
	# SR-IOV support off: sriov_numvfs fails with ENOENT and creates nothing.
	if ! sriov_support "$drv" off; then
		fail "$drv: turn SR-IOV support off"
	elif ! bind "$pf" "$drv"; then
		fail "bind $pf to $drv"
	else
		msg=$(numvfs_write "$pf" 1)
		rc=$?
		if [ "$rc" != 0 ] && [ "$msg" = "No such file or directory" ] &&
		   [ "$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")" = 0 ] &&
		   [ ! -e "/sys/bus/pci/devices/$pf/virtfn0" ]; then
			pass "$drv: SR-IOV off: sriov_numvfs refused (ENOENT)"
		else
			fail "$drv: SR-IOV off: sriov_numvfs write: status $rc, '$msg'," \
				"numvfs $(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")"
		fi
		release
	fi

	if ! sriov_support "$drv" on; then
		fail "$drv: turn SR-IOV support on"
		continue
	fi
	if ! bind "$pf" "$drv" || ! bind "$edu" "$drv"; then
		fail "bind $pf and $edu to $drv"
		release
		continue
	fi
	log="$out/$drv.log"
	timeout 900 "$here/rvfio_sriov_test" "${filter[@]}" "$pf" "$edu" >"$log" 2>&1
	rc=$?
	totals=$(grep -E '^# Totals:' "$log")
	if [ "$rc" = 0 ] &&
	   [ "$totals" = "# Totals: pass:$cases fail:0 xfail:0 xpass:0 skip:0 error:0" ]; then
		pass "$drv: rvfio_sriov_test ($cases cases)"
	else
		fail "$drv: rvfio_sriov_test: exit $rc, ${totals#"# "} (see $log)"
		grep -E '^(not ok|#.*(Expected|FAIL|Assert|failed))' "$log" | head -20 | diag
	fi
	grep -E '^# record: ' "$log" >"$out/$drv.record"
	release
done

# The low-power results: the test expects vfio-pci's; any difference between the drivers.
if [ -s "$out/vfio-pci.record" ] && [ -s "$out/rvfio-pci.record" ]; then
	if diff -u "$out/vfio-pci.record" "$out/rvfio-pci.record" >"$out/record.diff"; then
		pass "low-power features: same results under both drivers"
	else
		fail "low-power features: the drivers differ (see $out/record.diff)"
		head -20 "$out/record.diff" | diag
	fi
fi

echo "$vfio_sriov" >/sys/module/vfio_pci/parameters/enable_sriov
ktap_finished
