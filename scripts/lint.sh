#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Lint the project's Rust: recompile it through clippy (every build uses CLIPPY=1) and fail on
# any warning, then rustfmtcheck, clippy on the sample, cargo fmt and make patches. With --fix,
# format the project's files instead. Reports in KTAP; the build's output goes to stderr.
. "$(dirname "$0")/lib.sh"
files=()
while read -r f; do files+=("$f"); done < <(cd "$TOP" && git ls-files '*.rs' | grep -v '^tests/\(host\|fuzz\)/')
if [ "${1:-}" = --fix ]; then
	(cd "$TOP" && rustfmt --config-path "$TREE/.rustfmt.toml" --edition 2021 "${files[@]}")
	(cd "$TOP/tests/host" && cargo fmt)
	(cd "$TOP/tests/fuzz" && cargo fmt)
	log "formatted ${#files[@]} files; patched upstream files are checked by 'make lint'"
	exit 0
fi
. "$(ktap_helpers)"
ktap_print_header
ktap_set_plan 6
# A full build first (the tree may not exist yet): it must succeed.
mkdir -p "$CACHE"
marker=$CACHE/lint.start
touch "$marker"
if "$TOP/scripts/build.sh" >&2; then
	ktap_test_pass "kernel and modules build"
else
	ktap_exit_fail_msg "kernel build (log: $CACHE/build.log)"
fi
cp "$CACHE/build.log" "$CACHE/build.lint.log"
# Clippy's warnings are printed when a crate is compiled: a crate holding our Rust that this
# build did not compile (its object is older than the build) is compiled again.
stale=()
if [ ! "$TREE/rust/kernel.o" -nt "$marker" ]; then
	stale+=(rust)
	grep -h '^+++ b/.*\.rs' "$TOP"/patches/*.patch | sed 's|^+++ b/||; s|\t.*||' | sort -u |
		while read -r f; do touch "$TREE/$f"; done
fi
[ "$TREE/drivers/vfio/pci/rvfio/rvfio_pci.o" -nt "$marker" ] || stale+=(drivers)
for d in "${stale[@]}"; do
	for f in "${files[@]}"; do
		[[ $f == "$d"/* ]] && touch "$TOP/$f"
	done
done
rebuilt=yes
if [ ${#stale[@]} -gt 0 ]; then
	log "compiling again for clippy: ${stale[*]}"
	"$TOP/scripts/build.sh" >/dev/null 2>&1 || rebuilt=no
	cat "$CACHE/build.log" >>"$CACHE/build.lint.log"
fi
if [ $rebuilt = no ] || grep -Eq '^(warning|error)' "$CACHE/build.lint.log"; then
	grep -E -A6 '^(warning|error)' "$CACHE/build.lint.log" | head -60 | sed 's/^/# /'
	ktap_test_fail "clippy (CLIPPY=1)"
else
	ktap_test_pass "clippy (CLIPPY=1) warning-free"
fi
# The tree's rustfmtcheck finds regular files only (the patched upstream ones): the project's
# files, symlinks in the tree, are checked here with the same configuration.
if make -s -C "$TREE" LLVM=$LLVM_SUFFIX rustfmtcheck >"$CACHE/rustfmt.log" 2>&1 &&
	(cd "$TOP" && rustfmt --check --config-path "$TREE/.rustfmt.toml" --edition 2021 \
		"${files[@]}") >>"$CACHE/rustfmt.log" 2>&1; then
	ktap_test_pass "rustfmtcheck"
else
	head -40 "$CACHE/rustfmt.log" | sed 's/^/# /'
	ktap_test_fail "rustfmtcheck"
fi
# The user-space sample is not kernel code: plain clippy, warnings as errors.
if clippy-driver --edition 2021 -O -D warnings -W clippy::undocumented_unsafe_blocks \
	-o "$CACHE/samples/rvfio_edu.clippy" "$TOP/samples/rvfio/rvfio_edu.rs" >"$CACHE/clippy-sample.log" 2>&1; then
	ktap_test_pass "clippy (samples/rvfio)"
else
	head -40 "$CACHE/clippy-sample.log" | sed 's/^/# /'
	ktap_test_fail "clippy (samples/rvfio)"
fi
rm -f "$CACHE/samples/rvfio_edu.clippy"
if (cd "$TOP/tests/host" && cargo fmt --check >/dev/null 2>&1) &&
	(cd "$TOP/tests/fuzz" && cargo fmt --check >/dev/null 2>&1); then
	ktap_test_pass "cargo fmt (host tests, fuzz targets)"
else
	ktap_test_fail "cargo fmt --check in tests/host or tests/fuzz"
fi
# The format-patch series (make patches): reproduces the build tree, checkpatch-clean.
if "$TOP/scripts/patches.sh" >"$CACHE/patches.log" 2>&1; then
	ktap_test_pass "make patches ($(grep -c '^ok [0-9]* checkpatch' "$CACHE/patches.log") patches, checkpatch clean)"
else
	grep -E '^(not ok|# )' "$CACHE/patches.log" | head -40 | sed 's/^/# /'
	ktap_test_fail "make patches (log: $CACHE/patches.log)"
fi
ktap_finished
