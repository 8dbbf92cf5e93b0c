#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print where a test guest's kernel spent its timer ticks.

Usage: kprofile.py PROFILE SYSTEM_MAP [N]

PROFILE is a copy of the guest's /proc/profile (a kernel booted with profile=SHIFT, which
VM_PROFILE=1 gives; scripts/guest-run.sh saves it), SYSTEM_MAP the kernel's System.map.
Prints the N (default 40) text symbols with the most ticks. Ticks taken with interrupts
disabled land where they are enabled again: a spin_unlock_irqrestore() stands for the
section it ends.
"""
import bisect
import collections
import struct
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data = open(sys.argv[1], 'rb').read()
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    # The first word is the bytes per counter; the counters follow, one per step of text
    # from _stext, the last one also counting every tick outside the kernel's text.
    step = struct.unpack_from('<I', data)[0]
    counts = struct.unpack_from('<%dI' % (len(data) // 4 - 1), data, 4)
    stext, syms = None, []
    with open(sys.argv[2]) as f:
        for line in f:
            addr, kind, name = line.split()[:3]
            if name == '_stext':
                stext = int(addr, 16)
            if kind in 'tTwW':
                syms.append((int(addr, 16), name))
    if stext is None:
        sys.exit('kprofile: no _stext in ' + sys.argv[2])
    syms.sort()
    addrs = [a for a, _ in syms]
    ticks = collections.Counter()
    for i, n in enumerate(counts):
        if not n:
            continue
        if i == len(counts) - 1:
            ticks['(outside the kernel text, and its last bytes)'] += n
            continue
        j = bisect.bisect_right(addrs, stext + i * step) - 1
        ticks[syms[j][1] if j >= 0 else '?'] += n
    total = sum(counts)
    print('%d ticks, %d bytes per counter' % (total, step))
    for name, n in ticks.most_common(top):
        print('%6.2f%% %8d %s' % (100.0 * n / max(total, 1), n, name))


main()
