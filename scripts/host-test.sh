#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host tests of the driver's kernel-independent logic (the driver's own files, built with the
# host toolchain): cargo test, reported in KTAP with one result per test (cargo's own output
# in $CACHE/host-test.log).
. "$(dirname "$0")/lib.sh"
. "$(ktap_helpers)"
mkdir -p "$CACHE"
cd "$TOP/tests/host"
set +e
cargo test --locked >"$CACHE/host-test.log" 2>&1
rc=$?
set -e
ktap_print_header
# The plan is what cargo announced ("running N tests" per test binary).
ktap_set_plan "$(sed -n 's/^running \([0-9]*\) tests\?$/\1/p' "$CACHE/host-test.log" |
	awk '{ n += $1 } END { print n + 0 }')"
while read -r name result; do
	case $result in
	ok) ktap_test_pass "$name" ;;
	ignored) ktap_test_skip "$name" ;;
	*) ktap_test_fail "$name" ;;
	esac
done < <(sed -n 's/^test \(.*\) \.\.\. \([a-zA-Z]*\)$/\1 \2/p' "$CACHE/host-test.log")
if [ "$rc" != 0 ]; then
	grep -E -A10 '^(failures:|error)' "$CACHE/host-test.log" | head -40 | sed 's/^/# /'
	ktap_exit_fail_msg "cargo test exit status $rc (log: $CACHE/host-test.log)"
fi
ktap_finished
