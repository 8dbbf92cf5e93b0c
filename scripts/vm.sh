#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel under QEMU (TCG) with the host's root filesystem shared read-only over
# 9p, an emulated IOMMU and the test devices, run one command in the guest, and return its exit
# status. Usage: vm.sh [--timeout S] [--cpus N] [--keep] -- COMMAND...
#
# The command runs as root in the caller's working directory. $RVFIO_OUT in the guest is a
# directory shared read-write with the host; the run directory keeps console.log, dmesg.txt,
# output.log and status. The run fails on a kernel problem (scripts/kernel-problems.txt) even
# when the command succeeds.
. "$(dirname "$0")/lib.sh"

timeout=${VM_TIMEOUT:-900}
cpus=${VM_CPUS:-1}
mem=${VM_MEM:-2G}
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || die "usage: vm.sh [--timeout S] [--cpus N] -- COMMAND..."

kv=$(cat "$CACHE/kernelrelease" 2>/dev/null) || die "no built kernel: run 'make build'"
kernel=$TREE/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no bzImage: run 'make build'"

mkdir -p "$CACHE/vm"
# Keep the newest run directories only.
find "$CACHE/vm" -maxdepth 1 -name 'run.*' -printf '%T@ %p\n' | sort -rn | tail -n +20 |
	cut -d' ' -f2- | xargs -r rm -rf
run=$(mktemp -d "$CACHE/vm/run.XXXXXX")
ln -sfn "$run" "$CACHE/vm/last"
# "last" is shared by concurrent runs: callers that read the run directory afterwards get
# their own through $VM_RUN_FILE.
[ -n "${VM_RUN_FILE:-}" ] && echo "$run" >"$VM_RUN_FILE"
# The guest's scratch disk for the NVMe controller, one per run so that VMs can run side by
# side (QEMU locks its image files).
truncate -s 64M "$run/nvme.img"

RVFIO_TOP=$TOP RVFIO_CACHE=$CACHE RVFIO_MODULES=$CACHE/modules/lib/modules/$kv RVFIO_KVER=$kv
. "$TOP/scripts/guest-boot.sh"
guest_prepare "$run" "$PWD" "$@"
# VM_PROFILE=1: the kernel counts its timer ticks per 4 bytes of text (/proc/profile); the
# guest saves the counts and the run directory gets the top symbols in profile.txt.
prof=()
[ "${VM_PROFILE:-0}" = 1 ] && prof=(profile=2)
guest_qemu_args "$run" "$kernel" intel_iommu=on hugepagesz=2M hugepages=64 "${prof[@]}"

accel=(-accel tcg)
[ "$cpus" -gt 1 ] && accel=(-accel tcg,thread=single)

# SVM with nested paging: the nested-guest test runs its QEMU on KVM (kvm_amd) in the guest.
qemu=(qemu-system-x86_64 -machine q35,kernel-irqchip=split "${accel[@]}" -smp "$cpus" -m "$mem"
	-cpu qemu64,+svm,+npt
	-nodefaults -display none -no-reboot -serial stdio -monitor none
	-qmp "unix:$run/qmp.sock,server=on,wait=off"
	"${GUEST_ARGS[@]}"
	-device intel-iommu,intremap=on,caching-mode=on
	-device edu,dma_mask=0xffffffffffffffff
	-drive "file=$run/nvme.img,if=none,id=nvm,format=raw"
	-device nvme,serial=rvfio0,drive=nvm
	# e1000e and virtio-net share a hub: the nested-guest test's link.
	-netdev hubport,id=hub0a,hubid=0 -netdev hubport,id=hub0b,hubid=0
	-device e1000e,netdev=hub0a -device igb
	-device virtio-net-pci,disable-legacy=on,netdev=hub0b
	# Native PCIe hotplug (pciehp) on the root ports, for slot resets and device_del.
	-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
	-device pcie-root-port,id=rp0,chassis=1,slot=1
	-device virtio-rng-pci,bus=rp0,disable-legacy=on,aer=on
	# Two functions sharing a bus reset (and an IOMMU group) below a PCIe-to-PCI bridge.
	-device pcie-root-port,id=rp1,chassis=2,slot=2
	-device pcie-pci-bridge,id=br1,bus=rp1
	-device pci-testdev,bus=br1,addr=1
	-device pci-testdev,bus=br1,addr=2
	# Unplugged (device_del) and plugged back by the hot-unplug test.
	-device pcie-root-port,id=rp2,chassis=3,slot=3
	-device virtio-balloon-pci,id=unplug0,bus=rp2,disable-legacy=on
	# An SR-IOV PF alone below a root port without a hotplug slot: a bus reset covers it and
	# its VFs (the SR-IOV hot-reset tests).
	-device pcie-root-port,id=rp3,chassis=4,slot=4,hotplug=off
	-device igb,bus=rp3
	${VM_QEMU_EXTRA:-})

log "booting $kv (TCG, $cpus vCPU, timeout ${timeout}s); run dir $run"
# The guest's way to QEMU's monitor (hot-unplug tests): see qmp-relay.py.
python3 "$TOP/scripts/qmp-relay.py" "$run" </dev/null >"$run/qmp-relay.log" 2>&1 &
relay=$!
set +e
timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null 2>"$run/qemu.err" | tee "$run/console.log"
qrc=${PIPESTATUS[0]}
set -e
kill "$relay" 2>/dev/null || true
wait "$relay" 2>/dev/null || true
[ "$qrc" = 124 ] && log "timeout after ${timeout}s"
[ -s "$run/qemu.err" ] && grep -v -e 'no peer' -e 'not connected to host network' "$run/qemu.err" >&2 || true

status=$(cat "$run/status" 2>/dev/null || echo "")
if [ -z "$status" ]; then
	log "the guest did not report a status (crash, panic or timeout; qemu exit $qrc)"
	status=125
fi
# Kernel problems fail the run whatever the command said (scripts/kernel-problems.txt). The
# guest saves the whole kernel log; the console (which also echoes the command) is only read
# when the guest died before saving it.
klog=$run/dmesg.txt
[ -s "$klog" ] || klog=$run/console.log
if "$TOP/scripts/klog-check.sh" -o "$run/dmesg.checked" "$klog" >"$run/klog-check.txt"; then
	echo clean >"$run/klog.status"
else
	echo problem >"$run/klog.status"
	log "kernel reported a problem:"
	cat "$run/klog-check.txt" >&2
	[ "$status" = 0 ] && status=126
fi
sed -n '/ignored a known/p' "$run/klog-check.txt" >&2
if [ -s "$run/profile.bin" ]; then
	"$TOP/scripts/kprofile.py" "$run/profile.bin" "$TREE/System.map" 60 >"$run/profile.txt" &&
		log "kernel profile: $run/profile.txt"
fi
log "guest command exit status: $status"
exit "$status"
