#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The nested-guest tests (QEMU in the guest passing devices through to a guest of its own),
# run inside a guest of their own by scripts/vm-test.sh: they load KVM, and each nested guest
# boots a kernel, so they stay out of the main suite's boot.
set -u
dir=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
rc=0
kmemleak=/sys/kernel/debug/kmemleak
[ -w $kmemleak ] && echo clear >$kmemleak
echo "== QEMU passthrough into a nested guest (vfio-pci vs rvfio-pci, container and iommufd)"
bash "$dir/nested.sh" || rc=1
echo "== kmemleak"
bash "$RVFIO_TOP/scripts/kmemleak.sh" "$RVFIO_OUT/kmemleak.txt" || rc=1
exit $rc
