#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every test: the fetch, the host unit tests, the fuzz targets (60 s each), build + lint, and the VM suite (both drivers,
# every device). With SANITIZE=1: the fetch, the sanitizer kernel's build and the VM suite on
# it. Each step reports in KTAP; make check ends with a table of the steps, their
# times and results, then the total "N passed, N failed", counted from the KTAP results.
. "$(dirname "$0")/lib.sh"
start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rc=0
rows=()
# step NAME COMMAND...: runs COMMAND, its standard output kept for counting.
step() {
	local name=$1 t0 src p f s
	shift
	log "== $name"
	t0=$(date +%s)
	set +o pipefail
	"$@" | tee "$work/$name.out"
	src=${PIPESTATUS[0]}
	set -o pipefail
	[ "$src" = 0 ] || rc=1
	read -r p f s < <(ktap_count "$work/$name.out")
	rows+=("$name|$(($(date +%s) - t0))|$src|$p|$f|$s")
}
# one_result WHAT COMMAND...: for a command with no KTAP results of its own (its output goes
# to standard error), its exit status as one result.
one_result() {
	local what=$1
	shift
	printf 'TAP version 13\n1..1\n'
	if "$@" >&2; then
		echo "ok 1 $what"
	else
		echo "not ok 1 $what"
		return 1
	fi
}
step fetch one_result fetch "$TOP/scripts/fetch.sh"
if [ "$SANITIZE" = 1 ]; then
	# The sanitizer kernel: its build, then the whole VM suite on it. The host tests and lint
	# do not depend on the kernel's flavour: make check runs them.
	step build one_result "build (sanitizer kernel)" "$TOP/scripts/build.sh"
else
	step host "$TOP/scripts/host-test.sh"
	step fuzz "$TOP/scripts/fuzz.sh"
	step lint "$TOP/scripts/lint.sh"
fi
step vm "$TOP/scripts/vm-test.sh"

total_p=0 total_f=0 total_s=0
printf '\n%-8s %8s %6s %8s %8s %8s\n' step time exit passed failed skipped
for r in "${rows[@]}"; do
	IFS='|' read -r name secs src p f s <<<"$r"
	# A step that failed without a failed result (it stopped early) counts one failure.
	[ "$src" != 0 ] && [ "$f" = 0 ] && f=1
	printf '%-8s %6d s %6s %8d %8d %8d\n' "$name" "$secs" "$src" "$p" "$f" "$s"
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
done
printf '%-8s %6d s\n\n' total "$(($(date +%s) - start))"
if [ "$total_s" = 0 ]; then
	echo "$total_p passed, $total_f failed"
else
	echo "$total_p passed, $total_f failed, $total_s skipped"
fi
[ "$rc" = 0 ] && [ "$total_f" = 0 ]
