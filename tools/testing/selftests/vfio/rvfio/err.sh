#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The ERR interrupt under each driver: rvfio_err_test on the VM's virtio-rng
# device, which sits below a PCIe root port with AER so that errors can be
# injected (/dev/aer_inject). Run as root inside the test VM; closes with
# "err: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${RVFIO_OUT:-/tmp}/err
mkdir -p "$out"
. "$here/lib.sh"
passed=0
failed=0
modprobe vfio-pci && modprobe rvfio_pci || { echo "FAIL: modprobe"; exit 1; }
if ! bdf=$(find_bdf virtio-rng); then
	echo "FAIL: virtio-rng (the AER test device) not found"
	echo "err: 0 passed, 1 failed"
	exit 1
fi
for drv in vfio-pci rvfio-pci; do
	if ! bind "$bdf" "$drv"; then
		failed=$((failed + 1)); echo "FAIL: bind $bdf to $drv"; continue
	fi
	log="$out/$drv.log"
	timeout 120 "$here/rvfio_err_test" "$bdf" >"$log" 2>&1
	rc=$?
	totals=$(grep -E '^# Totals:' "$log")
	if [ "$rc" = 0 ] && [[ "$totals" == *"pass:3 fail:0 "*"skip:0 "* ]]; then
		passed=$((passed + 1))
		echo "ok: $drv: rvfio_err_test (ERR from PCI error recovery)"
	else
		failed=$((failed + 1))
		echo "FAIL: $drv: rvfio_err_test exit $rc, $totals (see $log)"
		grep -E '^(not ok|#.*(Expected|FAIL))' "$log" | head -10
	fi
	unbind "$bdf"
done
echo "err: $passed passed, $failed failed"
[ "$failed" = 0 ]
