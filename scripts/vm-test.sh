#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM test suite: test guests (scripts/vm.sh running scripts/guest-run.sh), side by side,
# one per core (each is a single-threaded TCG guest). Prints each guest's KTAP documents and
# then its own: the runner's self-checks and one check per guest (it finished, its kernel log
# is clean, its exit status agrees with its results). Exit status 0 only if nothing failed.
#
# Usage: vm-test.sh [SUITE...]   (default: every boot below; T=... from make vm-test)
# With suites named, they run in one guest of their own, in that order (see guest-run.sh).
. "$(dirname "$0")/lib.sh"
. "$(ktap_helpers)"

# The boots: name, time limit (s), suites. Suites that cannot share a guest get their own:
# - err last in its guest: the AER injector swaps the config accessors of the buses it
#   touches for good, and its lockdep report switches lockdep off for what would follow;
# - unplug, and the stress that unplugs (stress -p), apart: every pciehp removal in this kernel
#   makes lockdep report;
# - the nested guests load KVM and boot kernels of their own.
# The rest is split for balance. Longest first (measured, two guests side by side: uapi
# ~12 min, nested ~11, upstream ~11, main ~5, unplug ~3): they start in this order as cores
# come free.
# The stress: 10000 operations per device and driver (100000 in all). On the sanitizer kernel
# 100000 each, a million in all, on two vCPUs (which TCG runs on one host thread), in two
# guests that share the devices out.
# A boot: name, time limit (s), suites, and optionally its vCPUs (default 1).
if [ "$SANITIZE" = 1 ]; then
	stress=("stress-a|3000|stress:-n,100000,-s,edu+nvme+e1000e|2"
		"stress-b|3000|stress:-n,100000,-s,igb+virtio-net|2")
else
	stress=("stress|1800|stress")
fi
boots=(
	"uapi|1800|uapi"
	"nested|1800|nested"
	"${stress[@]}"
	"upstream|1800|upstream"
	"main|1200|lifecycle hotreset sriov err"
	"unplug|900|unplug stress:-p"
)
if [ $# -gt 0 ]; then
	boots=("$(echo "$*" | tr ' ' '+')|${VM_TEST_TIMEOUT:-2700}|$*")
fi
jobs=${VM_JOBS:-$(nproc)}
# The sanitizer kernel runs everything slower: its guests get longer limits.
slow=1
[ "$SANITIZE" = 1 ] && slow=4

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# boot NAME LIMIT SUITES [CPUS]: one guest; its run directory, exit status and time in $work.
boot() {
	local name=$1 limit=$(($2 * slow)) cpus=${4:-${VM_CPUS:-1}} t0 rc
	local -a suites
	read -r -a suites <<<"$3"
	t0=$(date +%s)
	log "boot $name: started (${suites[*]})"
	# One guest alone shows its console as it goes (make vm-test T=...).
	VM_RUN_FILE=$work/$name.run "$TOP/scripts/vm.sh" --timeout "$limit" --cpus "$cpus" -- \
		bash "$TOP/scripts/guest-run.sh" "${suites[@]}" 2>&1 |
		if [ "${#boots[@]}" = 1 ]; then tee "$work/$name.console" >&2; else cat >"$work/$name.console"; fi
	rc=${PIPESTATUS[0]}
	echo "$rc $(($(date +%s) - t0))" >"$work/$name.rc"
	log "boot $name: exit status $rc after $(($(date +%s) - t0)) s (run dir $(cat "$work/$name.run" 2>/dev/null))"
}

set +e
# The runner itself: it must return the guest command's status and catch kernel warnings.
"$TOP/scripts/vm.sh" --timeout 120 -- sh -c 'exit 3' >"$work/self1.log" 2>&1 &
pid1=$!
"$TOP/scripts/vm.sh" --timeout 120 -- \
	sh -c 'printf "WARN%s CPU: 0 PID: 1 at injected by vm-test\n" ING: >/dev/kmsg' \
	>"$work/self2.log" 2>&1 &
pid2=$!
wait "$pid1"
self1=$?
wait "$pid2"
self2=$?

running=0
for b in "${boots[@]}"; do
	IFS='|' read -r name limit suites cpus <<<"$b"
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	boot "$name" "$limit" "$suites" "$cpus" &
	running=$((running + 1))
done
wait
set -e

# Each guest's KTAP documents, then this runner's own.
results=$work/results.ktap
declare -A verdict
for b in "${boots[@]}"; do
	IFS='|' read -r name limit suites _ <<<"$b"
	read -r rc secs <"$work/$name.rc" || { rc=none; secs=0; }
	run=$(cat "$work/$name.run" 2>/dev/null)
	echo "# ==== boot $name ($suites): exit status $rc, $secs s, run dir $run"
	out=$run/output.log
	if [ -s "$out" ]; then cat "$out"; else echo "# no output from the guest"; fi
	read -r p f _ < <(ktap_count "$out" 2>/dev/null || echo "0 1 0")
	if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		verdict[$name]="exit status $rc (124 timeout, 125 no status: crash or panic, 126 kernel problem)"
		sed -n '/kernel reported a problem/,$p' "$work/$name.console" | head -40 | sed 's/^/# /'
		tail -5 "$work/$name.console" | sed 's/^/# /'
	elif [ "$(cat "$run/klog.status" 2>/dev/null)" != clean ]; then
		verdict[$name]="kernel problem (see $run/klog-check.txt)"
		head -40 "$run/klog-check.txt" | sed 's/^/# /'
	elif [ "$((p + f))" = 0 ]; then
		verdict[$name]="no KTAP results"
	elif { [ "$rc" = 0 ] && [ "$f" != 0 ]; } || { [ "$rc" = 1 ] && [ "$f" = 0 ]; }; then
		verdict[$name]="exit status $rc with $f failed results"
	else
		verdict[$name]=ok
	fi
done >"$results"

{
	ktap_print_header
	ktap_set_plan $((2 + ${#boots[@]}))
	if [ "$self1" = 3 ]; then ktap_test_pass "runner: returns the guest's exit status"
	else ktap_test_fail "runner: returned $self1 for a guest command that exited 3"; fi
	if [ "$self2" = 126 ]; then ktap_test_pass "runner: fails a run with a kernel warning"
	else ktap_test_fail "runner: returned $self2 for a guest that reported a warning"; fi
	for b in "${boots[@]}"; do
		IFS='|' read -r name limit suites _ <<<"$b"
		read -r rc secs <"$work/$name.rc" || secs=0
		if [ "${verdict[$name]}" = ok ]; then
			ktap_test_pass "boot $name: finished in $secs s, kernel log clean, exit status agrees with its results"
		else
			ktap_test_fail "boot $name: ${verdict[$name]}"
		fi
	done
	ktap_print_totals
} >>"$results"
cat "$results"
read -r p f s < <(ktap_count "$results")
echo "# vm: $p passed, $f failed, $s skipped"
[ "$f" = 0 ]
