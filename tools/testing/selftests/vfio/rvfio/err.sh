#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The ERR interrupt under each driver: rvfio_err_test on the VM's virtio-rng
# device, which sits below a PCIe root port with AER so that errors can be
# injected (/dev/aer_inject). Run as root inside the test VM; reports in KTAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${RVFIO_OUT:-/tmp}/err
mkdir -p "$out"
. "$here/lib.sh"
ktap_begin 2
modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"
bdf=$(find_bdf virtio-rng) || ktap_exit_fail_msg "virtio-rng (the AER test device) not found"
for drv in vfio-pci rvfio-pci; do
	if ! bind "$bdf" "$drv"; then
		fail "bind $bdf to $drv"
		continue
	fi
	log="$out/$drv.log"
	timeout 120 "$here/rvfio_err_test" "$bdf" >"$log" 2>&1
	rc=$?
	totals=$(grep -E '^# Totals:' "$log")
	if [ "$rc" = 0 ] && [[ "$totals" == *"pass:3 fail:0 "*"skip:0 "* ]]; then
		pass "$drv: rvfio_err_test (ERR from PCI error recovery)"
	else
		fail "$drv: rvfio_err_test exit $rc, ${totals#"# "} (see $log)"
		grep -E '^(not ok|#.*(Expected|FAIL))' "$log" | head -10 | diag
	fi
	unbind "$bdf"
done
ktap_finished
