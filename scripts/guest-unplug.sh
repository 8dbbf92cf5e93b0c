#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The hot-unplug tests, run inside a guest of their own by scripts/vm-test.sh: every
# pciehp removal in this kernel makes lockdep report (and then switch itself off), so they
# get a fresh boot, with rvfio-pci's removal first while lockdep still watches.
set -u
dir=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
rc=0
kmemleak=/sys/kernel/debug/kmemleak
[ -w $kmemleak ] && echo clear >$kmemleak
echo "== hot-unplug while open (rvfio-pci, then vfio-pci)"
bash "$dir/unplug.sh" || rc=1
echo "== kmemleak"
bash "$RVFIO_TOP/scripts/kmemleak.sh" "$RVFIO_OUT/kmemleak.txt" || rc=1
exit $rc
