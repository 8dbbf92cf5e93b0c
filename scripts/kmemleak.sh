#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Leak check at the end of the VM tests (run inside the guest): scans kernel memory with
# kmemleak and fails on any unreferenced object whose allocation backtrace passes through
# VFIO (the core, vfio-pci or rvfio-pci). Other reports are counted and kept in the report
# file, not judged: the lean test kernel has its own (9p, virtio) to answer for.
# Usage: kmemleak.sh REPORT_FILE. Reports in KTAP (one check).
set -u
. "$RVFIO_CACHE/linux/tools/testing/selftests/kselftest/ktap_helpers.sh"
report=$1
kl=/sys/kernel/debug/kmemleak
ktap_print_header
ktap_set_plan 1
[ -w $kl ] || ktap_exit_fail_msg "$kl missing (CONFIG_DEBUG_KMEMLEAK, debugfs)"
# Objects freed through RCU or still referenced from a stack may look unreferenced for one
# scan; kmemleak only reports what stays so over consecutive scans, so scan more than once.
for _ in 1 2 3; do
	echo scan >$kl
	sleep 1
done
cat $kl >"$report"
total=$(grep -c '^unreferenced object' "$report")
# One record per object: its header line and the indented lines after it.
ours=$(awk '/^unreferenced object/ { if (rec ~ /vfio/) n++; rec = "" } { rec = rec $0 "\n" }
	END { if (rec ~ /vfio/) n++; print n + 0 }' "$report")
if [ "$ours" = 0 ]; then
	ktap_test_pass "kmemleak: no VFIO object leaked ($total unrelated report(s) in $report)"
else
	ktap_test_fail "kmemleak: $ours leaked object(s) allocated through VFIO (see $report)"
	awk '/^unreferenced object/ { if (rec ~ /vfio/) printf "%s", rec; rec = "" }
		{ rec = rec $0 "\n" } END { if (rec ~ /vfio/) printf "%s", rec }' "$report" |
		head -60 | sed 's/^/# /'
fi
ktap_finished
