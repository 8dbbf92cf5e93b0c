#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Module and binding lifecycle of rvfio-pci: module metadata, binding only
# through driver_override, the VFIO device nodes, unbind, rmmod and reload.
# Run as root inside the test VM; reports in KTAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# 4 metadata checks, 9 per round.
ktap_begin 22
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}

edu=$(find_bdf edu) && nvme=$(find_bdf nvme) || ktap_exit_fail_msg "edu or nvme not found"
dev=/sys/bus/pci/devices/$edu

info=$(modinfo rvfio_pci)
check "modinfo: license GPL" grep -q '^license: *GPL$' <<<"$info"
check "modinfo: description" grep -q '^description: *VFIO PCI bus driver written in Rust' <<<"$info"
check "modinfo: author" grep -q '^author: *rvfio-pci developers' <<<"$info"
check "modinfo: override-only alias" \
	grep -q '^alias: *vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\*$' <<<"$info"

for round in 1 2; do
	check "round $round: modprobe rvfio_pci" modprobe rvfio_pci
	check "round $round: driver rvfio-pci registered" test -d /sys/bus/pci/drivers/rvfio-pci
	# Without driver_override nothing binds: nvme has no driver in this guest.
	echo "$nvme" >/sys/bus/pci/drivers_probe 2>/dev/null
	check "round $round: no binding without driver_override" \
		test ! -e "/sys/bus/pci/devices/$nvme/driver"
	echo rvfio-pci >"$dev/driver_override"
	echo "$edu" >/sys/bus/pci/drivers_probe
	check "round $round: edu bound to rvfio-pci" \
		test "$(basename "$(readlink "$dev/driver")")" = rvfio-pci
	check "round $round: VFIO cdev exists" \
		sh -c "ls $dev/vfio-dev/ | grep -q '^vfio[0-9]' &&
		       test -c /dev/vfio/devices/\$(ls $dev/vfio-dev/)"
	group=$(basename "$(readlink "$dev/iommu_group")")
	check "round $round: VFIO group node exists" test -c "/dev/vfio/$group"
	echo "$edu" >"$dev/driver/unbind"
	check "round $round: unbind" test ! -e "$dev/driver"
	echo >"$dev/driver_override"
	check "round $round: rmmod rvfio_pci" rmmod rvfio_pci
	check "round $round: module gone" sh -c '! grep -q "^rvfio_pci " /proc/modules'
done

ktap_finished
