#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check a kernel log against scripts/kernel-problems.txt: drop the known upstream reports it
# lists, then look for the problems it lists in what remains.
#
# Usage: klog-check.sh [-o CHECKED] LOG...
# Writes the log without the known reports to CHECKED (when given), prints a line for each
# known report dropped and the first problem lines with some context, and exits 1 if a
# problem is left, 0 if not, 2 if it cannot read its input. Plain bash and awk: it runs on the
# host and inside the test guests.
set -u
spec=$(dirname "${BASH_SOURCE[0]}")/kernel-problems.txt
checked=
if [ "${1:-}" = -o ]; then
	checked=$2
	shift 2
fi
[ $# -gt 0 ] || { echo "usage: klog-check.sh [-o CHECKED] LOG..." >&2; exit 2; }
[ -r "$spec" ] || { echo "klog-check: cannot read $spec" >&2; exit 2; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
cat "$@" >"$tmp" || exit 2
awk -v spec="$spec" -v checked="${checked:-/dev/null}" '
	function rest(n,   i, s) {	# the fields from $n on, as written
		s = $0
		for (i = 1; i < n; i++) sub(/^[ \t]*[^ \t]+[ \t]+/, "", s)
		return s
	}
	BEGIN {
		while ((getline < spec) > 0) {
			if ($1 == "problem") problems[np++] = rest(2)
			else if ($1 == "known" && $3 == "open") { opens[$2] = rest(4); names[nk++] = $2 }
			else if ($1 == "known" && $3 == "has") { has[$2, nhas[$2]++] = rest(4) }
			else if ($1 == "known" && $3 == "lacks") { lacks[$2, nlacks[$2]++] = rest(4) }
		}
		if (np == 0) { print "klog-check: no problem patterns in " spec; bad = 2; exit 2 }
	}
	function flush(   i, ok) {
		ok = 1
		for (i = 0; i < nhas[kind]; i++) ok = ok && seen[i]
		if (ok && !unwanted) {
			print "klog-check: ignored a known upstream report (" kind ")"
			print "klog-check: ignored a known upstream report (" kind ")" > checked
		} else
			for (i = 0; i < n; i++) check(blk[i])
		inblk = 0; unwanted = 0; n = 0; delete seen
	}
	function check(line,   i) {
		print line > checked
		for (i = 0; i < np; i++)
			if (line ~ problems[i]) {
				if (shown < 40) print line
				shown++; bad = 1
				after = 3
				return
			}
		if (after > 0 && shown < 40) { print line; shown++ }
		if (after > 0) after--
	}
	!inblk { for (i = 0; i < nk; i++) if ($0 ~ opens[names[i]]) { inblk = 1; kind = names[i]; break } }
	inblk {
		blk[n++] = $0
		for (i = 0; i < nhas[kind]; i++) if ($0 ~ has[kind, i]) seen[i] = 1
		for (i = 0; i < nlacks[kind]; i++) if ($0 ~ lacks[kind, i]) unwanted = 1
		if ($0 ~ /<\/TASK>/) flush()
		next
	}
	{ check($0) }
	END {
		if (bad == 2) exit 2
		if (inblk) { unwanted = 1; flush() }
		exit bad
	}
' "$tmp"
