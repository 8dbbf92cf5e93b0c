# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the rvfio test scripts: find QEMU's test devices, bind drivers.

# vendor:device of each test device, as QEMU emulates it.
dev_id() {
	case $1 in
	edu) echo 0x1234:0x11e8 ;;
	nvme) echo 0x1b36:0x0010 ;;
	e1000e) echo 0x8086:0x10d3 ;;
	igb) echo 0x8086:0x10c9 ;;
	virtio-net) echo 0x1af4:0x1041 ;;
	virtio-rng) echo 0x1af4:0x1044 ;;
	virtio-balloon) echo 0x1af4:0x1045 ;;
	pci-testdev) echo 0x1b36:0x0005 ;;
	*) return 1 ;;
	esac
}

# Every BDF with the vendor:device of test device $1.
find_bdfs() {
	local d id
	id=$(dev_id "$1") || return 1
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor"):$(cat "$d/device")" = "$id" ]; then
			basename "$d"
		fi
	done
}

# The first of them; fails if there is none.
find_bdf() {
	local bdf
	bdf=$(find_bdfs "$1" | head -n 1)
	[ -n "$bdf" ] && echo "$bdf"
}

# The test scripts report in KTAP through the kselftest helpers: ktap_begin with the number
# of checks the script will report, then one pass or fail per check, then ktap_finished
# (totals; exit status 0 only if every planned check passed). Diagnostics go through diag,
# as KTAP comments, so that no line a test binary wrote is taken for a result.
. "$(dirname "${BASH_SOURCE[0]}")/../../kselftest/ktap_helpers.sh"
ktap_begin() {
	ktap_print_header
	ktap_set_plan "$1"
}
pass() { ktap_test_pass "$*"; }
fail() { ktap_test_fail "$*"; }
diag() { sed 's/^/# /'; }

current_driver() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$l"
}

unbind() {
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	fi
	echo >"/sys/bus/pci/devices/$1/driver_override"
}

bind() {
	unbind "$1"
	echo "$2" >"/sys/bus/pci/devices/$1/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(current_driver "$1")" = "$2" ]
}

# QEMU's device_del and device_add of the virtio-balloon with id unplug0, alone below the
# hotplug root port rp2 (scripts/vm.sh).
unplug0_del='{"execute":"device_del","arguments":{"id":"unplug0"}}'
unplug0_add='{"execute":"device_add","arguments":{"driver":"virtio-balloon-pci","id":"unplug0",'
unplug0_add+='"bus":"rp2","disable-legacy":"on"}}'

# The number of QMP events QEMU reported so far (scripts/qmp-relay.py logs them).
unplug0_events() {
	local events=${RVFIO_OUT:-/tmp}/qmp-events.log
	if [ -f "$events" ]; then wc -l <"$events"; else echo 0; fi
}

# unplug0_wait_deleted N: waits up to 30 s for QEMU's DEVICE_DELETED of unplug0 after event
# N: only then may it be plugged back under the same id.
unplug0_wait_deleted() {
	local events=${RVFIO_OUT:-/tmp}/qmp-events.log i
	for i in $(seq 150); do
		tail -n +"$(($1 + 1))" "$events" 2>/dev/null | grep '"DEVICE_DELETED"' |
			grep -q '"device": *"unplug0"' && return 0
		sleep 0.2
	done
	return 1
}

# qmp JSON: runs one QMP command in the QEMU hosting this VM (scripts/qmp-relay.py, through
# the shared run directory $RVFIO_OUT); prints QEMU's reply line, fails if it is an error
# or none comes within 30 s.
qmp() {
	local i
	rm -f "$RVFIO_OUT/qmp.out"
	printf '%s\n' "$1" >"$RVFIO_OUT/qmp.in.tmp" &&
		mv "$RVFIO_OUT/qmp.in.tmp" "$RVFIO_OUT/qmp.in"
	for i in $(seq 300); do
		if [ -s "$RVFIO_OUT/qmp.out" ]; then
			cat "$RVFIO_OUT/qmp.out"
			! grep -q '"error"' "$RVFIO_OUT/qmp.out"
			return
		fi
		sleep 0.1
	done
	echo "qmp: no reply to $1" >&2
	return 1
}
