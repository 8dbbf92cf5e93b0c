#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The `make run` demo, run inside the VM: bind QEMU's edu device to rvfio-pci and use it from
# user space through the VFIO API.
set -eu
st=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && edu=$(basename "$d")
done
[ -n "$edu" ] || { echo "no edu device"; exit 1; }

echo "== modprobe rvfio_pci"
modprobe rvfio_pci
modinfo rvfio_pci | grep -E '^(filename|description|license|alias):'
echo "== bind $edu (edu) to rvfio-pci through driver_override"
echo rvfio-pci >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
echo "driver: $(basename "$(readlink "/sys/bus/pci/devices/$edu/driver")")"
echo "VFIO nodes: /dev/vfio/devices/$(ls "/sys/bus/pci/devices/$edu/vfio-dev") and /dev/vfio/$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")"
echo "== from user space: iommufd cdev, GET_INFO, REGION_INFO, config header"
"$st/rvfio_uapi_dump" iommufd "$edu"
echo "== from user space: BAR0 mmap, edu registers (and the legacy group path)"
"$st/rvfio_uapi_test" -t edu_mmio -t dma_map "$edu" | grep -E '^(ok|not ok|# Totals)'
echo "== a user-level driver in Rust (samples/rvfio/rvfio_edu.rs): BAR0, factorial, DMA, MSI"
"$RVFIO_CACHE/samples/rvfio_edu" "$edu"
echo "== unbind, rmmod"
echo "$edu" >"/sys/bus/pci/devices/$edu/driver/unbind"
rmmod rvfio_pci
dmesg | grep -i -E 'rvfio|vfio' | tail -5
