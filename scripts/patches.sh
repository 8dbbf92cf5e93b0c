#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make patches`: emit the project as a `git format-patch` series against the pristine 7.3 tree,
# check that the series rebuilds exactly the tree that was built and tested, and run
# checkpatch.pl on it. Reports in KTAP: the reproduction, then checkpatch on each patch.
#
# The series is the small patches to upstream files (patches/) with the project's new files
# folded into the commit that makes them part of the build. The project's own tooling
# (scripts/, tests/host/, the root Makefile) is not part of it.
. "$(dirname "$0")/lib.sh"

out=${PATCHES_OUT:-$TOP/out/patches}
[ -f "$SRC/.rvfio-unpacked" ] || die "no kernel source: run 'make fetch'"
[ -f "$TREE/.rvfio-copied" ] || die "no build tree: run 'make build'"

# One commit per entry: "patch file (or -)|subject|new files (paths or directories)". An entry
# with a patch takes its subject and message from the patch. Order matters: new files come
# with (or before) the change that builds them.
series=(
	"0004-rust-mm-pfnmap.patch||"
	"0005-rust-helpers-pci-upstream-bridge.patch||"
	"0003-rust-pci-passthrough.patch||rust/kernel/pci/passthrough.rs"
	"0001-rust-vfio-bindings-and-gate.patch||rust/kernel/eventfd.rs rust/kernel/vfio.rs rust/kernel/vfio"
	"-|vfio/pci: add rvfio-pci, a VFIO PCI driver in Rust|drivers/vfio/pci/rvfio"
	"0002-vfio-pci-wire-in-rvfio.patch||"
	"0008-docs-rvfio-pci.patch||Documentation/driver-api/rvfio-pci.rst"
	"0006-selftests-vfio-sriov-uapi-driver-name.patch||"
	"0007-selftests-vfio-lib-edu-driver.patch||tools/testing/selftests/vfio/lib/drivers/edu"
	"-|selftests/vfio: add rvfio-pci's own tests|tools/testing/selftests/vfio/rvfio"
	"-|samples: add a user-space Rust driver for QEMU's edu device over VFIO|samples/rvfio"
)
declare -A body
body["vfio/pci: add rvfio-pci, a VFIO PCI driver in Rust"]="rvfio-pci implements struct vfio_device_ops for PCI devices on the Rust
abstractions, without vfio_pci_core: a table-driven config space
virtualization engine, BAR access and mmap with the memory-disable and
reset zap rules, INTx/MSI/MSI-X/ERR/REQ eventfds, ioeventfds, reset and
hot reset on its own device sets, SR-IOV VF tokens and low-power
features. Not yet built: the next patch wires it into drivers/vfio/pci."
body["selftests/vfio: add rvfio-pci's own tests"]="UAPI, interrupt, ioeventfd, teardown, error, hot reset, hot-unplug and
SR-IOV tests that run against both vfio-pci and rvfio-pci on QEMU's
emulated devices, and a runner that reports the upstream VFIO selftests
side by side for the two drivers."
body["samples: add a user-space Rust driver for QEMU's edu device over VFIO"]="A std-only Rust program that opens QEMU's edu device through iommufd and
the VFIO device cdev, maps a buffer, runs edu's factorial and a DMA round
trip, and waits for the completion MSI on an eventfd."

rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
work=$tmp/series
msg=$tmp/msg
mkdir "$work"
g() { git -C "$work" -c user.name="rvfio-pci developers" -c user.email="rvfio-pci@localhost" "$@"; }

# The base: the pristine version of every upstream file a patch touches.
g init -q
for p in "$TOP"/patches/*.patch; do
	grep -E '^--- a/' "$p" | sed 's|^--- a/||; s|\t.*||'
done | sort -u | while read -r f; do
	mkdir -p "$work/$(dirname "$f")"
	cp -p "$SRC/$f" "$work/$f"
done
g add -A && g commit -q -m "base: Linux $(cat "$BASE/kver" 2>/dev/null || echo 7.3) (pristine files only)"
base=$(g rev-parse HEAD)

used=()
for entry in "${series[@]}"; do
	IFS='|' read -r patch subject files <<<"$entry"
	[ "$patch" = - ] || [ -f "$TOP/patches/$patch" ] || die "series: no patches/$patch"
	if [ "$patch" != - ]; then
		used+=("$patch")
		g apply --whitespace=nowarn "$TOP/patches/$patch" || die "$patch does not apply"
		sed -n 's/^Subject: //p' "$TOP/patches/$patch" | head -1 >"$msg"
		echo >>"$msg"
		sed -n '/^Subject: /,/^---$/p' "$TOP/patches/$patch" | sed '1d;$d' | sed '/./,$!d' >>"$msg"
	else
		printf '%s\n\n%s\n' "$subject" "${body[$subject]}" >"$msg"
	fi
	for f in $files; do
		[ -e "$TOP/$f" ] || continue
		(cd "$TOP" && git ls-files "$f") | while read -r x; do
			mkdir -p "$work/$(dirname "$x")"
			cp "$TOP/$x" "$work/$x"
		done
	done
	printf '\nSigned-off-by: rvfio-pci developers <rvfio-pci@localhost>\n' >>"$msg"
	g add -A
	g diff --cached --quiet && die "series: '$entry' changes nothing"
	g commit -q -F "$msg"
done
for p in "$TOP"/patches/*.patch; do
	[[ " ${used[*]} " == *" $(basename "$p") "* ]] || die "patches/$(basename "$p") is not in the series"
done
g format-patch -q -o "$out" "$base"..HEAD
log "$(find "$out" -name '*.patch' | wc -l) patches in $out"

. "$(ktap_helpers)"
ktap_print_header
ktap_set_plan $((1 + $(find "$out" -name '*.patch' | wc -l)))
# The series must rebuild exactly the tree that was built and tested.
bad=0
while read -r x; do
	cmp -s "$work/$x" "$TREE/$x" || { echo "# differs from the build tree: $x"; bad=1; }
done < <(g diff --name-only "$base" HEAD)
while read -r x; do
	[ -e "$work/$x" ] || { echo "# not in the series: $x"; bad=1; }
done < <(cd "$TOP" && git ls-files drivers rust Documentation samples tools)
if [ $bad = 0 ]; then
	ktap_test_pass "the series reproduces the build tree"
else
	ktap_test_fail "the series does not reproduce the build tree"
fi
# checkpatch.pl from the pristine tree, on every patch.
for x in "$out"/*.patch; do
	# FILE_PATH_CHANGES ("does MAINTAINERS need updating?") is raised for every patch that
	# adds a file; the series' MAINTAINERS entry (the docs patch) covers all of them.
	if (cd "$SRC" && perl scripts/checkpatch.pl -q --terse --ignore FILE_PATH_CHANGES "$x") \
		>"$tmp/checkpatch.log" 2>&1; then
		ktap_test_pass "checkpatch $(basename "$x")"
	else
		sed 's/^/# /' "$tmp/checkpatch.log" | head -20
		ktap_test_fail "checkpatch $(basename "$x")"
	fi
done
ktap_finished
