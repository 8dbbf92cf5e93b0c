#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the VM test suite and total its "N passed, N failed" lines; a kernel
# problem found by the runner counts as one more failure.
. "$(dirname "$0")/lib.sh"
set +e
"$TOP/scripts/vm.sh" --timeout "${VM_TEST_TIMEOUT:-1500}" -- bash "$TOP/scripts/guest-tests.sh"
rc=$?
set -e
out=$CACHE/vm/last/output.log
p=0 f=0
while read -r a b; do
	p=$((p + a)); f=$((f + b))
done < <(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" 2>/dev/null)
if [ "$rc" = 126 ] || [ "$rc" = 125 ] || [ "$rc" = 124 ]; then
	f=$((f + 1))   # kernel warning, crash or timeout
fi
if [ "$p" = 0 ]; then f=$((f + 1)); fi
echo "vm: $p passed, $f failed"
[ "$rc" = 0 ] && [ "$f" = 0 ]
