// SPDX-License-Identifier: GPL-2.0

//! Tests of region addressing and access splitting.

use crate::access::*;

#[test]
fn region_offsets_round_trip() {
    for index in 0..16u32 {
        let base = index_to_offset(index);
        assert_eq!(base, u64::from(index) << 40);
        assert_eq!(split_offset(base), (u64::from(index), 0));
        assert_eq!(split_offset(base + 0xfff), (u64::from(index), 0xfff));
        assert_eq!(
            split_offset(base + (1 << 40) - 1),
            (u64::from(index), (1 << 40) - 1)
        );
    }
}

#[test]
fn bounds() {
    assert!(in_bounds(0, 256, 256));
    assert!(in_bounds(252, 4, 256));
    assert!(!in_bounds(253, 4, 256));
    assert!(!in_bounds(256, 0, 256));
    assert!(!in_bounds(256, 1, 256));
    assert!(in_bounds(0, 0, 256));
    // No overflow for huge lengths or positions.
    assert!(!in_bounds(1, usize::MAX, 4096));
    assert!(!in_bounds(u64::MAX, 1, 4096));
}

/// Splits an access the way the driver does, in a function with no capabilities (where only
/// alignment shapes the pieces).
fn split(mut pos: u64, mut left: usize) -> Vec<(u64, usize)> {
    let (c, _) = crate::fakedev::Builder::new(256).open();
    let mut out = Vec::new();
    while left > 0 {
        let n = c.piece(pos as usize, left);
        out.push((pos, n));
        pos += n as u64;
        left -= n;
    }
    out
}

#[test]
fn pieces_cover_every_byte_once_naturally_aligned() {
    for pos in 0..64u64 {
        for len in 1..=32usize {
            let pieces = split(pos, len);
            let mut next = pos;
            for &(at, n) in &pieces {
                assert_eq!(at, next, "contiguous");
                assert!(matches!(n, 1 | 2 | 4));
                assert_eq!(at % n as u64, 0, "naturally aligned");
                next += n as u64;
            }
            assert_eq!(next, pos + len as u64, "covers the access");
        }
    }
}

#[test]
fn pieces_are_as_large_as_vfio_pci_makes_them() {
    // vfio-pci: 4 if >= 4 left and 4-aligned, else 2 if >= 2 left and 2-aligned, else 1.
    assert_eq!(split(0, 4), vec![(0, 4)]);
    assert_eq!(split(0, 8), vec![(0, 4), (4, 4)]);
    assert_eq!(split(1, 4), vec![(1, 1), (2, 2), (4, 1)]);
    assert_eq!(split(2, 4), vec![(2, 2), (4, 2)]);
    assert_eq!(split(3, 1), vec![(3, 1)]);
    assert_eq!(split(4, 3), vec![(4, 2), (6, 1)]);
    assert_eq!(split(6, 8), vec![(6, 2), (8, 4), (12, 2)]);
}

#[test]
fn map_request_decodes_index_and_page() {
    let shift = 12;
    let r = MapRequest::new((index_to_offset(3) >> shift) as usize + 5, shift);
    assert_eq!(r, MapRequest { index: 3, page: 5 });
    let r = MapRequest::new(0, shift);
    assert_eq!(r, MapRequest { index: 0, page: 0 });
    // 64 KiB pages.
    let r = MapRequest::new((index_to_offset(2) >> 16) as usize + 1, 16);
    assert_eq!(r, MapRequest { index: 2, page: 1 });
}

#[test]
fn map_request_fits_the_page_rounded_region() {
    let r = |page| MapRequest { index: 0, page };
    assert!(r(0).fits(0x4000, 0x4000, 12));
    assert!(!r(0).fits(0x5000, 0x4000, 12));
    assert!(r(3).fits(0x1000, 0x4000, 12));
    assert!(!r(4).fits(0x1000, 0x4000, 12));
    // A sub-page region is rounded up to one page.
    assert!(r(0).fits(0x1000, 0x100, 12));
    assert!(!r(1).fits(0x1000, 0x100, 12));
    // No overflow on hostile offsets and lengths.
    assert!(!r(usize::MAX).fits(0x1000, 0x4000, 12));
    assert!(!r(1).fits(usize::MAX, 0x4000, 12));
    assert!(!r(0).fits(0x1000, u64::MAX, 12));
}

/// Splits a BAR access the way the driver does.
fn bar_split(mut off: u64, mut count: usize, xs: u64, xe: u64, max: usize) -> Vec<BarStep> {
    let mut out = Vec::new();
    while count > 0 {
        let step = bar_step(off, count, xs, xe, max);
        let n = match step {
            BarStep::Io(n) | BarStep::Skip(n) => n,
        };
        assert!(n > 0 && n <= count);
        out.push(step);
        off += n as u64;
        count -= n;
    }
    out
}

#[test]
fn bar_steps_without_exclusion() {
    use BarStep::*;
    assert_eq!(bar_split(0, 16, 0, 0, 8), vec![Io(8), Io(8)]);
    assert_eq!(bar_split(4, 12, 0, 0, 8), vec![Io(4), Io(8)]);
    assert_eq!(bar_split(1, 8, 0, 0, 8), vec![Io(1), Io(2), Io(4), Io(1)]);
    // ROM accesses are at most 4 bytes wide.
    assert_eq!(bar_split(0, 8, 0, 0, 4), vec![Io(4), Io(4)]);
}

#[test]
fn bar_steps_skip_the_msix_table() {
    use BarStep::*;
    // Table at [0x10, 0x30): accesses stop at it, skip it whole, resume after.
    assert_eq!(
        bar_split(0x8, 0x30, 0x10, 0x30, 8),
        vec![Io(8), Skip(0x20), Io(8)]
    );
    assert_eq!(bar_split(0x12, 4, 0x10, 0x30, 8), vec![Skip(4)]);
    assert_eq!(bar_split(0xe, 4, 0x10, 0x30, 8), vec![Io(2), Skip(2)]);
}

#[test]
fn bar_steps_never_touch_the_excluded_range() {
    for xs in [0u64, 4, 6, 16] {
        for len in [0u64, 2, 8, 12] {
            let xe = xs + len;
            for off in 0..40u64 {
                for count in 1..24usize {
                    let mut at = off;
                    for step in bar_split(off, count, xs, xe, 8) {
                        match step {
                            BarStep::Io(n) => {
                                let end = at + n as u64;
                                assert!(end <= xs || at >= xe, "I/O inside the exclusion");
                                assert_eq!(at % n as u64, 0);
                                at = end;
                            }
                            BarStep::Skip(n) => {
                                assert!(at >= xs && at + n as u64 <= xe, "skip outside it");
                                at += n as u64;
                            }
                        }
                    }
                    assert_eq!(at, off + count as u64);
                }
            }
        }
    }
}

#[test]
fn rom_len_is_the_bar_or_the_shadow_copy() {
    // An assigned ROM BAR gives its size, whatever a shadow copy holds.
    assert_eq!(rom_len(0xfeb0_0000, 0x4_0000, 0), 0x4_0000);
    assert_eq!(rom_len(0xfeb0_0000, 0x4_0000, 0x1_2000), 0x4_0000);
    // Without one, the shadow copy rounded up to a power of two.
    assert_eq!(rom_len(0, 0, 0x1_2000), 0x2_0000);
    assert_eq!(rom_len(0, 0, 0x1_0000), 0x1_0000);
    assert_eq!(rom_len(0, 0, 0), 0);
}

#[test]
fn msix_table_from_the_capability() {
    use crate::msix::Table;
    // BIR 2, table at 0x3000, QSIZE 4 (5 vectors of 16 bytes).
    let t = Table::new(0x3000 | 2, 4);
    assert_eq!(
        t,
        Table {
            bar: 2,
            start: 0x3000,
            end: 0x3050
        }
    );
    assert_eq!(Table::vectors(0x7ff), 2048);
    // Function mask and enable bits are not part of the size.
    assert_eq!(Table::vectors(0xc000 | 4), 5);
    assert_eq!(t.range_in(2), (0x3000, 0x3050));
    assert_eq!(t.range_in(0), (0, 0));
    assert!(t.overlaps(2, 0x304c, 0x3054));
    assert!(t.overlaps(2, 0x2ffc, 0x3001));
    assert!(!t.overlaps(2, 0x2ffc, 0x3000));
    assert!(!t.overlaps(2, 0x3050, 0x3058));
    assert!(!t.overlaps(3, 0x3000, 0x3008));
}
