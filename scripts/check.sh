#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every test: host unit tests, build + lint, and the VM suite (both drivers, every device).
# Closes with the total "N passed, N failed".
. "$(dirname "$0")/lib.sh"
start=$(date +%s)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
step() {
	log "== $1"
	shift
	"$@" 2>&1 | tee -a "$out" || rc=1
}
step "host tests" "$TOP/scripts/host-test.sh"
step "fetch" "$TOP/scripts/fetch.sh"
step "lint (builds the kernel)" "$TOP/scripts/lint.sh"
step "VM tests" "$TOP/scripts/vm-test.sh"
p=0 f=0
while read -r a b; do
	p=$((p + a)); f=$((f + b))
done < <(sed -n 's/^\(host\|lint\|vm\): \([0-9]*\) passed, \([0-9]*\) failed$/\2 \3/p' "$out")
for s in host lint vm; do
	grep -q "^$s: [0-9]* passed" "$out" || { log "step '$s' reported no result"; f=$((f + 1)); }
done
log "make check took $(($(date +%s) - start)) s"
echo "$p passed, $f failed"
[ "$rc" = 0 ] && [ "$f" = 0 ]
