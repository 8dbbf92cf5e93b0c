#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The VM tests inside one test guest, run by scripts/vm-test.sh: the suites named on the
# command line, in that order, then the kmemleak scan. Each suite prints a KTAP document of
# its own (tools/testing/selftests/vfio/rvfio/); the exit status is 0 only if all passed.
#
# Usage: guest-run.sh SUITE...
# SUITE: lifecycle, uapi, upstream, hotreset, sriov, stress, err, unplug or nested, optionally with
# arguments for its script after a colon, separated by commas, e.g. "nested:-d,vfio-pci".
set -u
dir=$RVFIO_CACHE/linux/tools/testing/selftests/vfio/rvfio
rc=0
kmemleak=/sys/kernel/debug/kmemleak
# Boot-time reports are not ours: forget them, so that the scan at the end sees only objects
# allocated by the tests.
[ -w $kmemleak ] && echo clear >$kmemleak
# Booted with profile= (VM_PROFILE=1): count the suites' ticks only, and save them at the end.
[ -w /proc/profile ] && echo 0 >/proc/profile
for suite in "$@"; do
	name=${suite%%:*}
	args=()
	[ "$name" = "$suite" ] || IFS=, read -r -a args <<<"${suite#*:}"
	case $name in
	uapi) cmd=(bash "$dir/run.sh" -o "$RVFIO_OUT/uapi") ;;
	upstream) cmd=(bash "$dir/upstream.sh" -o "$RVFIO_OUT/upstream") ;;
	lifecycle | hotreset | sriov | stress | err | unplug | nested) cmd=(bash "$dir/$name.sh") ;;
	*)
		printf 'TAP version 13\n1..1\nnot ok 1 guest-run: no suite named %s\n' "$name"
		rc=1
		continue
		;;
	esac
	echo "# == $suite"
	start=$(date +%s)
	"${cmd[@]}" "${args[@]}" || rc=1
	echo "# == $suite: $(($(date +%s) - start)) s"
done
echo "# == kmemleak"
[ -r /proc/profile ] && cp /proc/profile "$RVFIO_OUT/profile.bin"
bash "$RVFIO_TOP/scripts/kmemleak.sh" "$RVFIO_OUT/kmemleak.txt" || rc=1
exit $rc
