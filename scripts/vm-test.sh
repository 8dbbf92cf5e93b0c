#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the VM test suite and total its "N passed, N failed" lines; a kernel
# problem found by the runner counts as one more failure.
. "$(dirname "$0")/lib.sh"
# The runner itself: it must return the guest command's status and catch kernel warnings.
selfp=0 selff=0
set +e
"$TOP/scripts/vm.sh" --timeout 120 -- sh -c 'exit 3' >/dev/null 2>&1
if [ $? = 3 ]; then selfp=$((selfp + 1)); echo "ok: runner returns the guest's exit status"
else selff=$((selff + 1)); echo "FAIL: runner exit status"; fi
"$TOP/scripts/vm.sh" --timeout 120 -- sh -c 'printf "WARN%s CPU: 0 PID: 1 at injected by vm-test\n" ING: >/dev/kmsg' >/dev/null 2>&1
if [ $? = 126 ]; then selfp=$((selfp + 1)); echo "ok: runner fails a run with a kernel warning"
else selff=$((selff + 1)); echo "FAIL: runner missed an injected kernel warning"; fi
echo "runner: $selfp passed, $selff failed"

runfile=$(mktemp)
trap 'rm -f "$runfile"' EXIT
p=$selfp f=$selff
ok=1
# Three boots: the main suite, the hot-unplug tests (see guest-unplug.sh) and the
# nested-guest tests (guest-nested.sh).
for suite in "guest-tests.sh ${VM_TEST_TIMEOUT:-2700}" "guest-unplug.sh 900" \
	"guest-nested.sh 1800"; do
	read -r script limit <<<"$suite"
	VM_RUN_FILE=$runfile "$TOP/scripts/vm.sh" --timeout "$limit" -- bash "$TOP/scripts/$script"
	rc=$?
	out=$(cat "$runfile")/output.log
	n=0
	while read -r a b; do
		p=$((p + a)); f=$((f + b)); n=$((n + a))
	done < <(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" 2>/dev/null)
	if [ "$rc" = 126 ] || [ "$rc" = 125 ] || [ "$rc" = 124 ]; then
		f=$((f + 1))   # kernel warning, crash or timeout
	fi
	if [ "$n" = 0 ]; then f=$((f + 1)); fi
	[ "$rc" = 0 ] || ok=0
done
set -e
echo "vm: $p passed, $f failed"
[ "$ok" = 1 ] && [ "$f" = 0 ]
