#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host tests of the driver's kernel-independent logic (the driver's own files, built with the
# host toolchain). Prints "host: N passed, N failed".
. "$(dirname "$0")/lib.sh"
mkdir -p "$CACHE"
cd "$TOP/tests/host"
set +e
cargo test --locked 2>&1 | tee "$CACHE/host-test.log"
rc=${PIPESTATUS[0]}
set -e
p=0 f=0
while read -r a b; do
	p=$((p + a)); f=$((f + b))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$CACHE/host-test.log")
[ "$rc" = 0 ] || [ "$f" -gt 0 ] || f=1
[ "$p" -gt 0 ] || f=$((f + 1))
echo "host: $p passed, $f failed"
[ "$f" = 0 ]
