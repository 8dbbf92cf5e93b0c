#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs in the nested guest started by nested.sh, on the devices passed through to it: the
# nvme and e1000e drivers of this kernel do the work. Writes the checksums of what it sent to
# $RVFIO_OUT for nested.sh to compare. The data comes from nested.sh too ($RVFIO_OUT/nvme.data,
# tcp.data): this guest has no entropy source, and reading /dev/urandom would wait minutes for
# its random number generator to be initialized. Exit status 0 only if every step worked.
#
# Usage: nested-guest.sh SEEK_MIB
set -u
seek=$1
rc=0
step() { echo "nested: $*"; }
bad() { echo "nested: FAIL: $*"; rc=1; }
# Interface $1's packet counters and interrupt counts (summed over CPUs), to tell a stalled
# transfer's cause apart.
net_state() {
	local s=/sys/class/net/$1/statistics
	printf 'tx %s rx %s tx_errors %s rx_dropped %s, interrupts' "$(cat "$s/tx_packets")" \
		"$(cat "$s/rx_packets")" "$(cat "$s/tx_errors")" "$(cat "$s/rx_dropped")"
	awk -v ifc="$1" '$NF ~ ifc { n = 0; for (i = 2; $i ~ /^[0-9]+$/; i++) n += $i;
		printf " %s %d", $NF, n }' /proc/interrupts
}

modprobe nvme || bad "modprobe nvme"
modprobe e1000e || bad "modprobe e1000e"

# NVMe: 4 MiB of random data through the namespace, around the page cache.
for _ in $(seq 120); do [ -b /dev/nvme0n1 ] && break; sleep 1; done
if [ -b /dev/nvme0n1 ]; then
	sum=$(sha256sum <"$RVFIO_OUT/nvme.data" | cut -d' ' -f1)
	if dd if="$RVFIO_OUT/nvme.data" of=/dev/nvme0n1 bs=1M seek="$seek" oflag=direct conv=fsync \
		2>/dev/null; then
		back=$(dd if=/dev/nvme0n1 bs=1M skip="$seek" count=4 iflag=direct 2>/dev/null |
			sha256sum | cut -d' ' -f1)
		[ "$back" = "$sum" ] && step "nvme0n1: 4 MiB written, read back: ${sum:0:16}" ||
			bad "nvme0n1: read back ${back:0:16}, wrote ${sum:0:16}"
		echo "$sum" >"$RVFIO_OUT/nvme.sum"
	else
		bad "nvme0n1: write failed"
	fi
else
	bad "no /dev/nvme0n1"
fi

# e1000e: link up, ping the test VM, send it 1 MiB over TCP.
ifc=$(ls /sys/bus/pci/drivers/e1000e/*/net 2>/dev/null | head -1)
if [ -n "$ifc" ]; then
	ip link set "$ifc" up && ip addr add 192.168.77.2/24 dev "$ifc" || bad "$ifc setup"
	carrier=/sys/class/net/$ifc/carrier
	for _ in $(seq 60); do [ "$(cat "$carrier" 2>/dev/null)" = 1 ] && break; sleep 1; done
	[ "$(cat "$carrier" 2>/dev/null)" = 1 ] && step "$ifc: link up" ||
		bad "$ifc: no carrier"
	busybox ping -c 3 -W 10 192.168.77.1 >/tmp/ping 2>&1 &&
		step "$ifc: $(grep -o '[0-9]* packets received' /tmp/ping) from the test VM" ||
		bad "$ifc: ping: $(tail -2 /tmp/ping | tr '\n' ' ')"
	sha256sum <"$RVFIO_OUT/tcp.data" | cut -d' ' -f1 >"$RVFIO_OUT/tcp.sum"
	# Done by 750 s of uptime, so that a stalled send ends here, with the interface's state,
	# and not at QEMU's limit (900 s in nested.sh) with nothing said.
	left=$((750 - $(cut -d. -f1 /proc/uptime)))
	[ "$left" -ge 60 ] || left=60
	timeout "$left" busybox nc -w 30 192.168.77.1 5000 <"$RVFIO_OUT/tcp.data"
	case $? in
	0) step "$ifc: 1 MiB sent over TCP" ;;
	124) bad "$ifc: TCP send not done after $left s: $(net_state "$ifc")" ;;
	*) bad "$ifc: TCP send failed: $(net_state "$ifc")" ;;
	esac
else
	bad "no e1000e interface"
fi
exit $rc
