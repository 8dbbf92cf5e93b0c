// SPDX-License-Identifier: GPL-2.0

//! The ioctl argument checks against the model of vfio-pci's (`crate::args_diff`), on random
//! arguments biased to the values where checks change their answer, and a few fixed cases.

use crate::args::*;
use crate::args_diff;
use crate::msix::Table;
use proptest::prelude::*;

/// A `u32` near the edges the checks compare against.
fn word() -> impl Strategy<Value = u32> {
    prop_oneof![
        0u32..64,
        Just(u32::MAX),
        (0u32..8).prop_map(|d| u32::MAX - d),
        (0u32..8).prop_map(|d| (i32::MAX as u32).wrapping_add(d).wrapping_sub(4)),
        (0u32..16).prop_map(|b| 1 << b),
        any::<u32>(),
    ]
}

fn words<const N: usize>() -> impl Strategy<Value = [u32; N]> {
    prop::collection::vec(word(), N).prop_map(|v| v.try_into().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn set_irqs_as_vfio_pci(
        mut w in words::<5>(),
        vectors in prop::collection::vec(prop_oneof![0u32..40, Just(2048u32), any::<u32>()], 0..7),
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // Mostly plausible flags: one data type and one action.
        if w[1] & 1 == 0 {
            w[1] = [1, 2, 4][(w[1] as usize >> 1) % 3] | [8, 16, 32][(w[1] as usize >> 3) % 3];
        }
        args_diff::set_irqs(w, &vectors, &payload);
    }

    #[test]
    fn ioeventfd_as_vfio_pci(
        mut w in words::<7>(),
        bar in 0u32..8,
        pos in prop_oneof![0u64..0x2000, any::<u64>()],
        lens in prop::array::uniform6(prop_oneof![Just(0u64), (0u32..41).prop_map(|o| 1u64 << o)]),
        msix in prop::option::of((0u32..6, 0u64..0x1000, 0u64..0x1000)),
    ) {
        let offset = (u64::from(bar) << 40) | (pos & ((1 << 40) - 1));
        if w[2] & 1 == 0 {
            w[2] = offset as u32;
            w[3] = (offset >> 32) as u32;
        }
        if w[1] & 0x100 == 0 {
            w[1] &= 0xf;
        }
        if w[0] & 1 == 0 {
            w[0] = 32;
        }
        let msix = msix.map(|(b, s, l)| (b, s, s + l));
        args_diff::ioeventfd(w, lens, msix);
    }

    #[test]
    fn hot_reset_as_vfio_pci(
        w in words::<3>(),
        cdev in any::<bool>(),
        functions in 0usize..40,
        argsz in word(),
        record in any::<(u32, u16, u8, u8)>(),
    ) {
        args_diff::hot_reset(w, cdev, functions);
        args_diff::hot_reset([w[0], 0, w[2] % 8], cdev, functions);
        args_diff::hot_reset_info(argsz, functions, record);
    }

    #[test]
    fn feature_as_vfio_pci(
        feature in prop_oneof![0u32..8, any::<u32>()],
        ops in 0u32..8,
        argsz in prop_oneof![0usize..40, any::<usize>()],
        vf_token in any::<bool>(),
        wakeup in any::<[u32; 2]>(),
    ) {
        args_diff::feature((feature & 0xffff) | (ops << 16), argsz, vf_token, wakeup);
        args_diff::feature(feature, argsz, vf_token, wakeup);
    }

    #[test]
    fn region_info_as_vfio_pci(
        index in prop_oneof![0u32..12, any::<u32>()],
        size in prop_oneof![Just(0u64), (0u32..48).prop_map(|o| 1u64 << o)],
        mmap in any::<bool>(),
        msix in any::<bool>(),
    ) {
        args_diff::region_info(index, size, mmap, msix);
    }
}

#[test]
fn set_irqs_fixed_cases() {
    let counts = [1, 1, 2048, 1, 1];
    let vectors = |i: u32| counts.get(i as usize).copied().unwrap_or(0);
    // MSI-X: eventfds for vectors 2..6, argsz exactly covering them.
    let set = IrqSet::parse([20 + 16, 4 | 32, 2, 2, 4], NUM_IRQS, vectors).unwrap();
    assert_eq!((set.data, set.payload_len()), (IrqSetData::EventFd, 16));
    // One byte short of the payload.
    assert_eq!(
        IrqSet::parse([20 + 15, 4 | 32, 2, 2, 4], NUM_IRQS, vectors),
        Err(Errno::Inval)
    );
    // Past the index's vectors; a sixth index; two data types; count overflowing start.
    assert_eq!(
        IrqSet::parse([20, 1 | 32, 0, 1, 0], NUM_IRQS, vectors),
        Err(Errno::Inval)
    );
    assert_eq!(
        IrqSet::parse([20, 1 | 32, 5, 0, 0], NUM_IRQS, vectors),
        Err(Errno::Inval)
    );
    assert_eq!(
        IrqSet::parse([20, 3 | 32, 0, 0, 1], NUM_IRQS, vectors),
        Err(Errno::Inval)
    );
    assert_eq!(
        IrqSet::parse([20, 1 | 32, 2, 1, u32::MAX - 1], NUM_IRQS, vectors),
        Err(Errno::Inval)
    );
    // Two actions pass the checks (the dispatch answers ENOTTY), as in vfio-pci.
    assert!(IrqSet::parse([20, 1 | 8 | 16, 0, 0, 1], NUM_IRQS, vectors).is_ok());
    // count 0 is allowed.
    assert!(IrqSet::parse([20, 1 | 32, 3, 0, 0], NUM_IRQS, vectors).is_ok());
}

#[test]
fn ioeventfd_fixed_cases() {
    let w = |flags: u32, offset: u64, fd: i32| {
        [
            28,
            flags,
            offset as u32,
            (offset >> 32) as u32,
            0xaa,
            0,
            fd as u32,
        ]
    };
    let req = IoEventFd::parse(w(4, (2 << 40) | 0x10, 7)).unwrap();
    assert_eq!((req.bar, req.pos, req.count, req.fd), (2, 0x10, 4, 7));
    assert_eq!(req.check_target(0x14, None), Ok(()));
    assert_eq!(req.check_target(0x13, None), Err(Errno::Inval));
    // The MSI-X table of BAR 2 at [0x12, 0x20): reached by the write.
    let table = |bar| Table {
        bar,
        start: 0x12,
        end: 0x20,
    };
    assert_eq!(req.check_target(0x1000, Some(table(2))), Err(Errno::Inval));
    assert_eq!(req.check_target(0x1000, Some(table(3))), Ok(()));
    // Width 3, fd -2, BAR 6 (the ROM).
    assert_eq!(IoEventFd::parse(w(3, 0, 7)), Err(Errno::Inval));
    assert_eq!(IoEventFd::parse(w(4, 0, -2)), Err(Errno::Inval));
    assert_eq!(IoEventFd::parse(w(4, 6 << 40, 7)), Err(Errno::Inval));
    assert!(IoEventFd::parse(w(8, 5 << 40, -1)).is_ok());
}
