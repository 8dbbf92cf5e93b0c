# SPDX-License-Identifier: GPL-2.0
# What every guest of the test tooling shares, sourced by scripts/vm.sh (the test VM, on the
# host) and by the nested-guest tests (a guest of the test VM): the host's root filesystem
# shared read-only over 9p, a run directory shared read-write, scripts/guest-init.sh as PID 1
# running the command written into the run directory. Plain bash; sets no shell options.
#
# The caller sets RVFIO_TOP (the repository), RVFIO_CACHE, RVFIO_MODULES and RVFIO_KVER.

# guest_prepare RUN DIR COMMAND...: the run directory's env.sh (read by guest-init.sh) and
# cmd.sh (COMMAND, run in directory DIR).
guest_prepare() {
	local run=$1 dir=$2
	shift 2
	{
		echo "cd $(printf '%q' "$dir")"
		printf '%q ' "$@"
		echo
	} >"$run/cmd.sh"
	cat >"$run/env.sh" <<-ENV
		RVFIO_OUT=$run
		RVFIO_TOP=$RVFIO_TOP
		RVFIO_CACHE=$RVFIO_CACHE
		RVFIO_MODULES=$RVFIO_MODULES
		RVFIO_KVER=$RVFIO_KVER
		PATH=$PATH
	ENV
}

# guest_qemu_args RUN KERNEL [CMDLINE...]: sets the array GUEST_ARGS to QEMU's options for the
# kernel, its command line (the words CMDLINE added) and the two 9p shares. The root is
# mounted with cache=loose: the guest keeps what it read in its page cache instead of asking
# QEMU again for every page of every program it starts (a test guest's boot and the lifecycle
# tests took 104 s uncached, 38 s cached). The host's files do not change during a run; the
# run directory, which both sides write, is mounted uncached by guest-init.sh.
guest_qemu_args() {
	local run=$1 kernel=$2
	shift 2
	GUEST_ARGS=(-kernel "$kernel"
		-append "rootfstype=9p root=rvfio_root rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro console=ttyS0 loglevel=5 init=$RVFIO_TOP/scripts/guest-init.sh rvfio.run=$run panic=-1${*:+ $*}"
		-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=root,mount_tag=rvfio_root
		-fsdev "local,id=out,path=$run,security_model=none"
		-device virtio-9p-pci,fsdev=out,mount_tag=rvfio_out)
}
