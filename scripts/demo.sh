#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The `make run` demo, run inside the VM: bind QEMU's edu device to rvfio-pci and use it from
# user space through the VFIO API. Short on purpose: the full VFIO_DEVICE_* dump goes to a
# file in the run directory, named in the output.
set -eu
st=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
. "$st/lib.sh"
edu=$(find_bdf edu) || { echo "no edu device"; exit 1; }
dev=/sys/bus/pci/devices/$edu

echo "== 1. load rvfio_pci, bind QEMU's edu device ($edu) through driver_override"
modprobe rvfio_pci
modinfo rvfio_pci | grep -E '^(description|alias):'
bind "$edu" rvfio-pci
echo "driver: $(current_driver "$edu")"
echo "VFIO device: /dev/vfio/devices/$(ls "$dev/vfio-dev") (iommufd)," \
	"group /dev/vfio/$(basename "$(readlink "$dev/iommu_group")") (legacy container)"

echo "== 2. what user space sees: VFIO_DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO"
dump=$RVFIO_OUT/uapi-dump.txt
"$st/rvfio_uapi_dump" iommufd "$edu" >"$dump"
# The device, its config region (7), BAR0 (0) and its interrupt kinds.
grep -E '^(device_info|region (0|7)|irq [0-4]):' "$dump" | cut -c1-100
echo "(the whole dump, $(wc -l <"$dump") lines of every ioctl and its errno: $dump)"

echo "== 3. BAR0 mapped into user space, edu's registers, DMA mapping (the C tests, through"
echo "   the group in a type1 container and through the iommufd cdev)"
runs=()
for mode in vfio_type1v2_iommu iommufd; do
	runs+=(-r "rvfio_uapi.$mode.edu_mmio" -r "rvfio_uapi.$mode.dma_map")
done
"$st/rvfio_uapi_test" "${runs[@]}" "$edu" | grep -E '^(ok|not ok|# Totals)'

echo "== 4. a user-level driver in Rust (samples/rvfio/rvfio_edu.rs): factorial, DMA, MSI"
"$RVFIO_CACHE/samples/rvfio_edu" "$edu"

echo "== 5. unbind, rmmod; the kernel's log of it"
unbind "$edu"
rmmod rvfio_pci
dmesg | grep -i 'vfio' | grep -v -i 'command line' | tail -4
