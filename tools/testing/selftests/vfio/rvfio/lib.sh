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

find_bdf() {
	local d id
	id=$(dev_id "$1") || return 1
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor"):$(cat "$d/device")" = "$id" ]; then
			basename "$d"
			return 0
		fi
	done
	return 1
}

# Every BDF with the vendor:device of test device $1 (find_bdf stops at the first).
find_bdfs() {
	local d id
	id=$(dev_id "$1") || return 1
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor"):$(cat "$d/device")" = "$id" ]; then
			basename "$d"
		fi
	done
}

# Result lines of the test scripts, counted in the caller's $passed and $failed.
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

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
