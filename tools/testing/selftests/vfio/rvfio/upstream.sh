#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run upstream VFIO selftests on each test device under vfio-pci and under
# rvfio-pci and report them side by side. A check passes when rvfio-pci's
# totals (pass/fail/skip) equal vfio-pci's and vfio-pci itself fails nothing; it
# is reported as skipped when the test skipped every case under both drivers.
# Run as root inside the test VM; reports in KTAP, one result per device and test.
#
# Usage: upstream.sh [-t "NAMES"] [-s "DEVICES"] [-o OUTDIR]
# NAMES picks entries of the table below by their first field.
set -u
here=$(cd "$(dirname "$0")" && pwd)
up=$(cd "$here/.." && pwd)
# name | binary | harness arguments | devices ("" = all). The driver test (DMA memcpy and MSI
# through the selftest library's drivers) runs on edu (its driver is lib/drivers/edu, patch
# 0007) in one IOMMU mode for each way the VFIO driver is reached: the group in a type1
# container, the group in iommufd's compatibility container (which binds the device to
# iommufd) and the iommufd cdev. The type1 and type1v2 variants of the first two differ only
# inside the IOMMU driver, which the DMA mapping tests cover on every device. On igb, whose
# memcpy storm alone takes a minute per mode under TCG, it runs through the cdev only. The
# SR-IOV test creates a VF of QEMU's igb.
edu_modes="-v vfio_type1v2_iommu -v iommufd_compat_type1v2 -v iommufd"
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
	"edu_driver|vfio_pci_driver_test|$edu_modes|edu"
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

# selected NAME DEVICE: whether the table entry NAME runs on DEVICE; sets bin, args.
selected() {
	local entry t only
	for entry in "${table[@]}"; do
		IFS='|' read -r t bin args only <<<"$entry"
		[ "$t" = "$1" ] || continue
		[ -n "$names" ] && [[ " $names " != *" $t "* ]] && return 1
		[ -n "$only" ] && [[ " $only " != *" $2 "* ]] && return 1
		return 0
	done
	return 1
}
plan=0
for name in $devices; do
	for entry in "${table[@]}"; do
		selected "${entry%%|*}" "$name" && plan=$((plan + 1))
	done
done
ktap_begin "$plan"
modprobe vfio-pci && modprobe rvfio_pci || ktap_exit_fail_msg "modprobe vfio-pci rvfio_pci"
# Both drivers refuse sriov_numvfs unless told otherwise; rvfio-pci's parameter is only read
# at load time (Rust module parameters are not in sysfs).
echo 1 >/sys/module/vfio_pci/parameters/enable_sriov
modprobe -r rvfio_pci && modprobe rvfio_pci enable_sriov=1 ||
	ktap_exit_fail_msg "reload rvfio_pci enable_sriov=1"
# The driver test's 1 GiB memcpy buffer is shared anonymous memory: guest-init.sh gives it
# huge pages (shmem THP), without which pinning it page by page takes most of the harness's
# 30 s per test under TCG.

# A log's "# Totals: pass:P fail:F ... skip:S ..." line as "Pp/Ff/Ss".
totals_sed='s/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) .*/\1p\/\2f\/\3s/p'
for name in $devices; do
	bdf=$(find_bdf "$name") || bdf=""
	for entry in "${table[@]}"; do
		t=${entry%%|*}
		selected "$t" "$name" || continue
		if [ -z "$bdf" ]; then
			fail "$name $t: $name not found"
			continue
		fi
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
		what="$name $t: vfio-pci ${res[0]:-none}, rvfio-pci ${res[1]:-none}"
		if [ -n "${res[0]}" ] && [ "${res[0]}" = "${res[1]}" ] &&
		   [[ "${res[0]}" == 0p/0f/* ]]; then
			# Nothing ran under either driver (edu has no reset method, for one).
			ktap_test_skip "$what"
		elif [ -n "${res[0]}" ] && [ "${res[0]}" = "${res[1]}" ] &&
		   [[ "${res[0]}" == *p/0f/* ]]; then
			pass "$what"
		else
			fail "$what (logs in $out)"
		fi
	done
done
ktap_finished
