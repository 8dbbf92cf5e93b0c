#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# PCI hot reset under each driver: rvfio_hotreset_test, in every IOMMU mode, on the VM's
# virtio-rng (alone below a hotplug root port: slot reset), its two pci-testdev functions
# behind a PCIe-to-PCI bridge (one group, bus reset) and edu (root bus: no hot reset); then
# with the two testdevs split between the drivers. Also the reset of an unused device set at
# close. Run as root inside the test VM; reports in KTAP.
#
# Usage: hotreset.sh [-d "DRIVERS"]
set -u
here=$(cd "$(dirname "$0")" && pwd)
drivers="vfio-pci rvfio-pci"
while getopts "d:" opt; do
	case $opt in
	d) drivers=$OPTARG ;;
	*) exit 2 ;;
	esac
done
out=${RVFIO_OUT:-/tmp}/hotreset
mkdir -p "$out"
. "$here/lib.sh"
modes="vfio_type1_iommu vfio_type1v2_iommu iommufd_compat_type1 iommufd_compat_type1v2 iommufd"
# Test cases per IOMMU mode: slot_reset 5, bus_reset 8, no_reset 2; mixed_drivers 3.
cases=15
mixed_cases=3
# Per driver: each mode alone, then each mode with the testdevs split between the drivers.
ktap_begin $(($(echo $drivers | wc -w) * 2 * $(echo $modes | wc -w)))

# run WHAT LOG EXPECTED MODE FILTER: rvfio_hotreset_test in IOMMU mode MODE only, with
# harness filter FILTER (-f or -F mixed_drivers); EXPECTED cases must pass, none skip.
run() {
	local what=$1 log=$2 want=$3 mode=$4 filter=$5 m rc totals
	local args=()
	for m in $modes; do
		[ "$m" = "$mode" ] || args+=(-V "$m")
	done
	timeout 300 "$here/rvfio_hotreset_test" "${args[@]}" "$filter" mixed_drivers \
		"$rng" "${td[0]}" "${td[1]}" "$edu" >"$log" 2>&1
	rc=$?
	totals=$(grep -E '^# Totals:' "$log")
	if [ "$rc" = 0 ] &&
	   [ "$totals" = "# Totals: pass:$want fail:0 xfail:0 xpass:0 skip:0 error:0" ]; then
		pass "$what ($want cases)"
	else
		fail "$what: exit $rc, ${totals#"# "} (see $log)"
		grep -E '^(not ok|#.*(Expected|FAIL|Assert|failed))' "$log" | head -10 | diag
	fi
}

modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"
rng=$(find_bdf virtio-rng)
edu=$(find_bdf edu)
read -r -a td <<<"$(find_bdfs pci-testdev | tr '\n' ' ')"
if [ -z "$rng" ] || [ -z "$edu" ] || [ "${#td[@]}" != 2 ]; then
	ktap_exit_fail_msg "devices: virtio-rng '$rng', edu '$edu', pci-testdev '${td[*]}'"
fi
{
	for d in /sys/bus/pci/devices/*; do
		echo "$(basename "$d") $(cat "$d/vendor"):$(cat "$d/device")" \
			"group $(basename "$(readlink "$d/iommu_group")")" \
			"driver $(current_driver "$(basename "$d")" || echo -)"
	done
} >"$out/topology.txt"

for drv in $drivers; do
	other=vfio-pci
	[ "$drv" = vfio-pci ] && other=rvfio-pci
	bound=1
	for bdf in "$rng" "${td[0]}" "${td[1]}" "$edu"; do
		bind "$bdf" "$drv" || { fail "bind $bdf to $drv"; bound=0; }
	done
	if [ "$bound" = 1 ]; then
		for mode in $modes; do
			run "$drv $mode: hot reset" "$out/$drv.$mode.log" "$cases" "$mode" -F
		done
	fi
	# The second testdev to the other driver: $drv's reset cannot cover it.
	if bind "${td[1]}" "$other"; then
		for mode in $modes; do
			run "$drv $mode: hot reset with ${td[1]} on $other" \
				"$out/$drv.mixed.$mode.log" "$mixed_cases" "$mode" -f
		done
	else
		fail "bind ${td[1]} to $other"
	fi
	for bdf in "$rng" "${td[0]}" "${td[1]}" "$edu"; do
		unbind "$bdf"
	done
done
ktap_finished
