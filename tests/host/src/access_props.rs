// SPDX-License-Identifier: GPL-2.0

//! Property tests of region addressing and access splitting, against reference definitions
//! computed in wide arithmetic.

use crate::access::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn in_bounds_is_interval_containment(pos in any::<u64>(), len in any::<usize>(), size in 0u64..=8192) {
        let reference = (pos as u128) < size as u128 && pos as u128 + len as u128 <= size as u128;
        prop_assert_eq!(in_bounds(pos, len, size), reference);
    }

    #[test]
    fn bar_steps_follow_the_c_rule(
        off in 0u64..(1 << 20),
        count in 1usize..4096,
        xs in 0u64..(1 << 20),
        xlen in 0u64..4096,
        max in prop::sample::select(vec![1usize, 2, 4, 8]),
    ) {
        let xe = xs + xlen;
        let (mut at, mut left) = (off, count);
        while left > 0 {
            let step = bar_step(at, left, xs, xe, max);
            let in_exclusion = at >= xs && at < xe;
            match step {
                BarStep::Io(n) => {
                    prop_assert!(!in_exclusion);
                    prop_assert!(n <= max && n <= left && at % n as u64 == 0);
                    // Never reaches into the excluded range.
                    prop_assert!(at + n as u64 <= xs || at >= xe);
                    // The widest width the C code would pick.
                    let fillable = if at < xs { (left as u64).min(xs - at) } else { left as u64 };
                    for w in [8u64, 4, 2] {
                        if w > n as u64 && w <= max as u64 && fillable >= w && at % w == 0 {
                            prop_assert!(false, "width {} was possible at {:#x}", w, at);
                        }
                    }
                    at += n as u64;
                    left -= n;
                }
                BarStep::Skip(n) => {
                    prop_assert!(in_exclusion && n > 0 && n <= left);
                    prop_assert_eq!(n as u64, (left as u64).min(xe - at));
                    at += n as u64;
                    left -= n;
                }
            }
        }
        prop_assert_eq!(at, off + count as u64);
    }

    #[test]
    fn map_request_fits_matches_reference(
        page in any::<usize>(),
        len in any::<usize>(),
        region in any::<u64>(),
        shift in prop::sample::select(vec![12u32, 14, 16]),
    ) {
        let p = 1u128 << shift;
        let phys = (region as u128).div_ceil(p) * p;
        let reference = phys <= u64::MAX as u128 && page as u128 * p + len as u128 <= phys;
        prop_assert_eq!(MapRequest { index: 0, page }.fits(len, region, shift), reference);
    }

    #[test]
    fn map_request_round_trips(index in 0usize..16, page in 0usize..(1 << 28)) {
        let pgoff = (index << 28) | page;
        prop_assert_eq!(MapRequest::new(pgoff, 12), MapRequest { index, page });
    }
}
