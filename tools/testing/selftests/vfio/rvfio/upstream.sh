#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run upstream VFIO selftests on each test device under vfio-pci and under
# rvfio-pci and report them side by side. A check passes when rvfio-pci's
# totals (pass/fail/skip) equal vfio-pci's and vfio-pci itself fails nothing.
# Run as root inside the test VM; closes with "N passed, N failed".
#
# Usage: upstream.sh [-t "NAMES"] [-s "DEVICES"] [-o OUTDIR]
# NAMES picks entries of the table below by their first field.
set -u
here=$(cd "$(dirname "$0")" && pwd)
up=$(cd "$here/.." && pwd)
# name | binary | harness arguments | devices ("" = all). The driver test (DMA memcpy and MSI
# through the selftest library's drivers) runs in every IOMMU mode on edu (its driver is
# lib/drivers/edu, patch 0007) and in one on igb, whose memcpy storm alone takes a minute per
# mode under TCG. The SR-IOV test creates a VF of QEMU's igb.
table=(
	"config_space|vfio_pci_device_test|-t config_space_read_write|"
	"validate_bars|vfio_pci_device_test|-t validate_bars|"
	"msi_trigger|vfio_pci_device_test|-t enable_trigger_disable|"
	"reset|vfio_pci_device_test|-t reset|"
	"dma_mapping|vfio_dma_mapping_test||"
	"dma_mapping_mmio|vfio_dma_mapping_mmio_test||"
	"iommufd_setup|vfio_iommufd_setup_test||"
	"init_perf|vfio_pci_device_init_perf_test||"
	"igb_driver|vfio_pci_driver_test|-v iommufd|igb"
	"edu_driver|vfio_pci_driver_test||edu"
	"sriov_uapi|vfio_pci_sriov_uapi_test||igb"
)
names=""
devices="edu nvme e1000e igb virtio-net"
out=${RVFIO_OUT:-/tmp}/upstream
while getopts "t:s:o:" opt; do
	case $opt in
	t) names=$OPTARG ;;
	s) devices=$OPTARG ;;
	o) out=$OPTARG ;;
	*) exit 2 ;;
	esac
done
mkdir -p "$out"
. "$here/lib.sh"
passed=0
failed=0
modprobe vfio-pci && modprobe rvfio_pci || { echo "FAIL: modprobe"; exit 1; }
# Both drivers refuse sriov_numvfs unless told otherwise; rvfio-pci's parameter is only read
# at load time (Rust module parameters are not in sysfs).
echo 1 >/sys/module/vfio_pci/parameters/enable_sriov
modprobe -r rvfio_pci && modprobe rvfio_pci enable_sriov=1 ||
	{ echo "FAIL: reload rvfio_pci"; exit 1; }

# Shared anonymous memory (the driver test's 1 GiB memcpy buffer) in huge pages: pinning it
# page by page takes most of the harness's 30 s per test under TCG.
thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
echo always >"$thp" || { echo "FAIL: cannot enable shmem THP ($thp)"; exit 1; }

# A log's "# Totals: pass:P fail:F ... skip:S ..." line as "Pp/Ff/Ss".
totals_sed='s/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) .*/\1p\/\2f\/\3s/p'
printf '%-12s %-20s %-12s %-12s\n' device test vfio-pci rvfio-pci
for name in $devices; do
	bdf=$(find_bdf "$name") || {
		failed=$((failed + 1))
		echo "FAIL: $name not found"
		continue
	}
	for entry in "${table[@]}"; do
		IFS='|' read -r t bin args only <<<"$entry"
		[ -n "$names" ] && [[ " $names " != *" $t "* ]] && continue
		[ -n "$only" ] && [[ " $only " != *" $name "* ]] && continue
		res=()
		for drv in vfio-pci rvfio-pci; do
			bind "$bdf" "$drv" || { res+=("bind-failed"); continue; }
			log="$out/$name.$t.$drv.log"
			# The driver's name, for tests that check what VFs bind to (patched in).
			# shellcheck disable=SC2086
			VFIO_SELFTESTS_DRIVER=$drv timeout 300 "$up/$bin" $args "$bdf" >"$log" 2>&1
			res+=("$(sed -n "$totals_sed" "$log" | tail -1)")
			unbind "$bdf"
		done
		printf '%-12s %-20s %-12s %-12s\n' "$name" "$t" "${res[0]:-none}" "${res[1]:-none}"
		if [ -n "${res[0]}" ] && [ "${res[0]}" = "${res[1]}" ] &&
		   [[ "${res[0]}" == *p/0f/* ]]; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			echo "FAIL: $name $t: vfio-pci ${res[0]:-none}," \
				"rvfio-pci ${res[1]:-none} (logs in $out)"
		fi
	done
done
echo "upstream: $passed passed, $failed failed"
[ "$failed" = 0 ]
