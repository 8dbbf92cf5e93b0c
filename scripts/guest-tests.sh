#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The VM test suite, run inside the guest by scripts/vm-test.sh.
set -u
dir=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
rc=0
kmemleak=/sys/kernel/debug/kmemleak
# Boot-time reports are not ours: forget them, so that the scan at the end sees only objects
# allocated by the tests.
[ -w $kmemleak ] && echo clear >$kmemleak
echo "== lifecycle"
bash "$dir/lifecycle.sh" || rc=1
echo "== uapi (vfio-pci vs rvfio-pci)"
bash "$dir/run.sh" -o "$RVFIO_OUT/uapi" || rc=1
echo "== upstream VFIO selftests (vfio-pci vs rvfio-pci)"
bash "$dir/upstream.sh" -o "$RVFIO_OUT/upstream" || rc=1
echo "== hot reset (vfio-pci vs rvfio-pci)"
bash "$dir/hotreset.sh" || rc=1
echo "== SR-IOV VF tokens (vfio-pci vs rvfio-pci)"
bash "$dir/sriov.sh" || rc=1
# Last: the AER injector swaps the config accessors of the buses it touches for good, and its
# lockdep report (see vm.sh) switches lockdep off for whatever would run after it.
echo "== ERR from PCI error recovery (vfio-pci vs rvfio-pci)"
bash "$dir/err.sh" || rc=1
echo "== kmemleak"
bash "$RVFIO_TOP/scripts/kmemleak.sh" "$RVFIO_OUT/kmemleak.txt" || rc=1
exit $rc
