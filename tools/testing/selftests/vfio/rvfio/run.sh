#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run the VFIO PCI user-API tests on every emulated test device under each
# driver (vfio-pci, the C reference, and rvfio-pci), then compare what the
# two drivers report for the same device. Run as root inside the test VM.
#
# Usage: run.sh [-d "DRIVERS"] [-s DEVICE[+DEVICE...]] [-o OUTDIR]
# Reports in KTAP, one result per check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
drivers="vfio-pci rvfio-pci"
devices="edu nvme e1000e igb virtio-net"
out=${RVFIO_OUT:-/tmp}/uapi
while getopts "d:s:o:" opt; do
	case $opt in
	d) drivers=$OPTARG ;;
	s) devices=${OPTARG//+/ } ;;
	o) out=$OPTARG ;;
	*) exit 2 ;;
	esac
done
modes="vfio_type1_iommu vfio_type1v2_iommu iommufd_compat_type1 iommufd_compat_type1v2 iommufd"
progs="rvfio_uapi_test rvfio_irq_test rvfio_ioeventfd_test rvfio_teardown_test"
mkdir -p "$out"

. "$here/lib.sh"

# The ioeventfd test needs edu's read-back registers; elsewhere it would only skip.
runs() {
	local prog
	for prog in $progs; do
		[ "$prog" = rvfio_ioeventfd_test ] && [ "$1" != edu ] && continue
		echo "$prog"
	done
}
# Per device: for each driver, its programs, a dump per mode and the access-path comparison;
# then, with two drivers, one comparison per mode.
plan=0
set -- $drivers
for name in $devices; do
	plan=$((plan + $# * ($(runs "$name" | wc -l) + $(echo $modes | wc -w) + 1)))
	[ $# -ge 2 ] && plan=$((plan + $(echo $modes | wc -w)))
done
ktap_begin "$plan"
modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"

for name in $devices; do
	if ! bdf=$(find_bdf "$name"); then
		fail "$name: device not found"
		continue
	fi
	for drv in $drivers; do
		if ! bind "$bdf" "$drv"; then
			fail "$name $bdf: bind to $drv"
			continue
		fi
		for prog in $(runs "$name"); do
			log="$out/$name.$drv.$prog.log"
			timeout 300 "$here/$prog" "$bdf" >"$log" 2>&1
			rc=$?
			totals=$(grep -E '^# Totals:' "$log")
			p=$(echo "$totals" | sed -n 's/^# Totals: pass:\([0-9]*\) fail:.*/\1/p')
			f=$(echo "$totals" |
				sed -n 's/^# Totals: pass:[0-9]* fail:\([0-9]*\) .*/\1/p')
			if [ "$rc" = 0 ] && [ -n "$p" ] && [ "$p" -gt 0 ] && [ "${f:-1}" = 0 ]; then
				pass "$name $drv: $prog ($p cases)"
			else
				fail "$name $drv: $prog exit $rc, ${totals#\# } (see $log)"
				grep -E '^(not ok|#.*(Expected|FAIL|Assert|failed))' "$log" |
					head -10 | diag
			fi
		done
		for mode in $modes; do
			dump="$out/$name.$drv.$mode.dump"
			if "$here/rvfio_uapi_dump" "$mode" "$bdf" >"$dump" 2>&1; then
				pass "$name $drv $mode: open, dump, close"
			else
				fail "$name $drv $mode: rvfio_uapi_dump (see $dump)"
			fi
		done
		# The same device reports the same through every access path.
		for mode in $modes; do
			ref="$out/$name.$drv.iommufd.dump"
			dump="$out/$name.$drv.$mode.dump"
			if ! cmp -s "$ref" "$dump"; then
				fail "$name $drv: $mode dump differs from iommufd"
				diff "$ref" "$dump" | head -10 | diag
				continue 2
			fi
		done
		pass "$name $drv: all access paths report the same"
		unbind "$bdf"
	done
	# Differential: rvfio-pci reports exactly what vfio-pci reports.
	set -- $drivers
	if [ $# -ge 2 ]; then
		for mode in $modes; do
			a="$out/$name.$1.$mode.dump"
			b="$out/$name.$2.$mode.dump"
			if diff -u "$a" "$b" >"$out/$name.$mode.diff"; then
				pass "$name $mode: $2 matches $1"
			else
				fail "$name $mode: $2 differs from $1"
				head -20 "$out/$name.$mode.diff" | diag
			fi
		done
	fi
done

ktap_finished
