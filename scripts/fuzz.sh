#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# libFuzzer targets (tests/fuzz) on the host with AddressSanitizer, through cargo-fuzz on the
# stable toolchain (RUSTC_BOOTSTRAP=1 lets it take the sanitizer flags).
#
#   scripts/fuzz.sh [-t SECONDS] [-j JOBS] [TARGET...]   (default: 60 s each, every target)
#
# Each target starts from its seed corpus in the repo (tests/fuzz/corpus/TARGET, read only)
# and the corpus it grew in earlier runs ($CACHE/fuzz/corpus/TARGET). A crash leaves its input
# in $CACHE/fuzz/artifacts/TARGET; the report says how to replay it. KTAP, one result per
# target.
. "$(dirname "$0")/lib.sh"
. "$(ktap_helpers)"
secs=60 jobs=1
while getopts t:j: o; do
	case $o in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) die "usage: $0 [-t SECONDS] [-j JOBS] [TARGET...]" ;;
	esac
done
shift $((OPTIND - 1))
FUZZ=$TOP/tests/fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config args)
export RUSTC_BOOTSTRAP=1
# The build directory lives in the cache: a fresh clone reuses it.
# Debug assertions on: integer overflow panics, as with the kernel's CONFIG_RUST_OVERFLOW_CHECKS.
opts=(--fuzz-dir "$FUZZ" --target-dir "$CACHE/fuzz/target" --debug-assertions)
[ "$jobs" = 1 ] || opts+=(--jobs "$jobs")
ktap_print_header
ktap_set_plan ${#targets[@]}
log "building the fuzz targets"
if ! cargo fuzz build "${opts[@]}" >"$CACHE/fuzz-build.log" 2>&1; then
	tail -20 "$CACHE/fuzz-build.log" | sed 's/^/# /'
	for t in "${targets[@]}"; do ktap_test_fail "fuzz $t (build failed)"; done
	ktap_finished
	exit 1
fi
for t in "${targets[@]}"; do
	mkdir -p "$CACHE/fuzz/corpus/$t" "$CACHE/fuzz/artifacts/$t"
	out=$CACHE/fuzz/$t.log
	log "fuzz $t for $secs s"
	set +e
	cargo fuzz run "${opts[@]}" "$t" "$CACHE/fuzz/corpus/$t" "$FUZZ/corpus/$t" -- \
		-max_total_time="$secs" -artifact_prefix="$CACHE/fuzz/artifacts/$t/" \
		-print_final_stats=1 >"$out" 2>&1
	st=$?
	set -e
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | awk '{ n += $1 } END { print n + 0 }')
	cov=$(grep -ao 'cov: [0-9]*' "$out" | tail -1)
	if [ $st = 0 ] && ! grep -aq '^==[0-9]*==ERROR\|panicked at' "$out"; then
		ktap_test_pass "fuzz $t: $runs runs in $secs s, $cov"
	else
		grep -aE -m5 -A4 'panicked at|==ERROR|SUMMARY|Test unit written' "$out" | sed 's/^/# /'
		echo "# replay: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz $t FILE (RVFIO_FUZZ_DEBUG=1 for config; log: $out)"
		ktap_test_fail "fuzz $t"
	fi
done
ktap_finished
