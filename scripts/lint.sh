#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Lint the project's Rust: recompile it through clippy (every build uses CLIPPY=1) and fail on
# any warning, then rustfmtcheck. With --fix, format the project's files instead.
# Prints "lint: N passed, N failed".
. "$(dirname "$0")/lib.sh"
files=()
while read -r f; do files+=("$f"); done < <(cd "$TOP" && git ls-files '*.rs' | grep -v '^tests/host/')
if [ "${1:-}" = --fix ]; then
	(cd "$TOP" && rustfmt --config-path "$TREE/.rustfmt.toml" --edition 2021 "${files[@]}")
	(cd "$TOP/tests/host" && cargo fmt)
	log "formatted ${#files[@]} files; patched upstream files are checked by 'make lint'"
	exit 0
fi
p=0 f=0
# A full build first (the tree may not exist yet): it must succeed.
if "$TOP/scripts/build.sh"; then
	echo "ok: kernel and modules build"; p=$((p + 1))
else
	echo "FAIL: kernel build (log: $CACHE/build.log)"
	echo "lint: $p passed, 1 failed"
	exit 1
fi
# Force our Rust to be recompiled, so its warnings are printed again.
(cd "$TOP" && touch "${files[@]}")
grep -h '^+++ b/.*\.rs' "$TOP"/patches/*.patch | sed 's|^+++ b/||; s|\t.*||' | sort -u |
	while read -r f; do touch "$TREE/$f"; done
rebuilt=yes
"$TOP/scripts/build.sh" >/dev/null 2>&1 || rebuilt=no
if [ $rebuilt = no ] || grep -Eq '^(warning|error)' "$CACHE/build.log"; then
	grep -E -A6 '^(warning|error)' "$CACHE/build.log" | head -60
	echo "FAIL: clippy"; f=$((f + 1))
else
	echo "ok: clippy (CLIPPY=1) warning-free"; p=$((p + 1))
fi
if make -s -C "$TREE" LLVM=$LLVM_SUFFIX rustfmtcheck >"$CACHE/rustfmt.log" 2>&1; then
	echo "ok: rustfmtcheck"; p=$((p + 1))
else
	head -40 "$CACHE/rustfmt.log"
	echo "FAIL: rustfmtcheck"; f=$((f + 1))
fi
# The user-space sample is not kernel code: plain clippy, warnings as errors.
if clippy-driver --edition 2021 -O -D warnings -W clippy::undocumented_unsafe_blocks \
	-o "$CACHE/samples/rvfio_edu.clippy" "$TOP/samples/rvfio/rvfio_edu.rs" >"$CACHE/clippy-sample.log" 2>&1; then
	echo "ok: clippy (samples/rvfio)"; p=$((p + 1))
else
	head -40 "$CACHE/clippy-sample.log"
	echo "FAIL: clippy (samples/rvfio)"; f=$((f + 1))
fi
rm -f "$CACHE/samples/rvfio_edu.clippy"
if (cd "$TOP/tests/host" && cargo fmt --check >/dev/null 2>&1); then
	echo "ok: cargo fmt (host tests)"; p=$((p + 1))
else
	echo "FAIL: cargo fmt --check in tests/host"; f=$((f + 1))
fi
# The format-patch series (make patches): reproduces the build tree, checkpatch-clean.
if "$TOP/scripts/patches.sh" >"$CACHE/patches.log" 2>&1; then
	echo "ok: make patches ($(grep -c '^ok: checkpatch' "$CACHE/patches.log") patches, checkpatch clean)"
	p=$((p + 1))
else
	grep -E '^(FAIL|differs|not in|\S+\.patch:)' "$CACHE/patches.log" | head -40
	echo "FAIL: make patches (log: $CACHE/patches.log)"; f=$((f + 1))
fi
echo "lint: $p passed, $f failed"
[ "$f" = 0 ]
