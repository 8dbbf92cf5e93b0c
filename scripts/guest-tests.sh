#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The VM test suite, run inside the guest by scripts/vm-test.sh.
set -u
dir=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
rc=0
echo "== lifecycle"
bash "$dir/lifecycle.sh" || rc=1
echo "== uapi (vfio-pci vs rvfio-pci)"
bash "$dir/run.sh" -o "$RVFIO_OUT/uapi" || rc=1
echo "== upstream VFIO selftests (vfio-pci vs rvfio-pci)"
bash "$dir/upstream.sh" -o "$RVFIO_OUT/upstream" || rc=1
exit $rc
