// SPDX-License-Identifier: GPL-2.0

//! Runs one input through `crate::args` and through the model of vfio-pci's checks
//! (`crate::args_model`) and panics when they differ: acceptance, errno, or what an accepted
//! argument decodes to. The host tests drive these with random inputs, the fuzz target
//! `args` with libFuzzer's.

use crate::args::*;
use crate::args_model as model;
use crate::msix::Table;

fn errno(e: Errno) -> i32 {
    match e {
        Errno::Inval => model::EINVAL,
        Errno::NoTty => model::ENOTTY,
        Errno::NoSpc => model::ENOSPC,
        Errno::Range => model::ERANGE,
    }
}

/// `VFIO_DEVICE_SET_IRQS` on a device whose indices have `vectors` vectors each (index `i`
/// beyond the array has none), with `payload` following the header.
pub(crate) fn set_irqs(words: [u32; 5], vectors: &[u32], payload: &[u8]) {
    let count_of = |i: u32| vectors.get(i as usize).copied().unwrap_or(0);
    let ours = IrqSet::parse(words, NUM_IRQS, count_of);
    let max = i32::try_from(count_of(words[2])).unwrap_or(i32::MAX);
    let theirs = model::set_irqs(words, max, NUM_IRQS as i32);
    match (ours, theirs) {
        (Ok(set), Ok(size)) => {
            assert_eq!(set.payload_len(), size, "{words:x?}");
            assert_eq!(
                (set.flags, set.index, set.start, set.count),
                (words[1], words[2], words[3], words[4])
            );
            assert!(set.index < NUM_IRQS);
            assert!(u64::from(set.start) + u64::from(set.count) <= u64::from(count_of(set.index)));
            assert!(set.payload_len() <= u64::from(words[0] - IrqSet::MINSZ));
            let want = match words[1] & IRQ_SET_DATA_TYPE_MASK {
                IRQ_SET_DATA_NONE => IrqSetData::None,
                IRQ_SET_DATA_BOOL => IrqSetData::Bool,
                _ => IrqSetData::EventFd,
            };
            assert_eq!(set.data, want);
            if set.data == IrqSetData::EventFd {
                let n = (set.payload_len() as usize).min(payload.len());
                let fds: Vec<i32> = eventfds(&payload[..n]).collect();
                assert_eq!(fds.len(), n / 4);
                for (i, fd) in fds.iter().enumerate() {
                    let b = &payload[4 * i..4 * i + 4];
                    assert_eq!(*fd, i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                }
            }
        }
        (Err(e), Err(c)) => assert_eq!(errno(e), c, "{words:x?}"),
        (o, t) => panic!("SET_IRQS {words:x?} vectors {vectors:?}: args {o:?}, vfio-pci {t:?}"),
    }
}

/// `VFIO_DEVICE_IOEVENTFD` against BARs of `bar_lens` and the MSI-X table `msix`.
pub(crate) fn ioeventfd(words: [u32; 7], bar_lens: [u64; 6], msix: Option<(u32, u64, u64)>) {
    let ours = IoEventFd::parse(words).and_then(|req| {
        let table = msix.map(|(bar, start, end)| Table { bar, start, end });
        req.check_target(bar_lens[req.bar as usize], table)?;
        Ok(req)
    });
    let theirs = model::ioeventfd(words, |bar| bar_lens[bar as usize], msix);
    match (ours, theirs) {
        (Ok(req), Ok(())) => {
            let offset = u64::from(words[2]) | (u64::from(words[3]) << 32);
            assert_eq!(index_offset(req.bar, req.pos), offset);
            assert_eq!(req.data, u64::from(words[4]) | (u64::from(words[5]) << 32));
            assert_eq!(req.count, words[1]);
            assert!(matches!(req.count, 1 | 2 | 4 | 8));
            assert_eq!(req.fd, words[6] as i32);
            assert!(req.pos + u64::from(req.count) <= bar_lens[req.bar as usize]);
        }
        (Err(e), Err(c)) => assert_eq!(errno(e), c, "{words:x?}"),
        (o, t) => panic!("IOEVENTFD {words:x?}: args {o:?}, vfio-pci {t:?}"),
    }
}

fn index_offset(bar: u32, pos: u64) -> u64 {
    crate::access::index_to_offset(bar) | pos
}

/// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` with `functions` affected, and the records it writes.
pub(crate) fn hot_reset_info(argsz: u32, functions: usize, record: (u32, u16, u8, u8)) {
    let ours = hot_reset_info_room(argsz).and_then(|room| hot_reset_info_fits(room, functions));
    match (ours, model::hot_reset_info(argsz, functions)) {
        (Ok(()), Ok(())) => {
            assert!(HOT_RESET_HEADER + functions * HOT_RESET_DEPENDENT <= argsz as usize);
        }
        (Err(e), Err(c)) => assert_eq!(errno(e), c),
        (o, t) => panic!("HOT_RESET_INFO argsz {argsz} n {functions}: args {o:?}, vfio-pci {t:?}"),
    }
    let (id, segment, bus, devfn) = record;
    let r = hot_reset_dependent(id, segment, bus, devfn);
    assert_eq!(r[..4], id.to_ne_bytes());
    assert_eq!(r[4..6], segment.to_ne_bytes());
    assert_eq!((r[6], r[7]), (bus, devfn));
}

/// `VFIO_DEVICE_PCI_HOT_RESET` through the cdev or a group, with `functions` affected.
pub(crate) fn hot_reset(words: [u32; 3], cdev: bool, functions: usize) {
    let ours = HotResetProof::parse(words, || cdev).and_then(|p| {
        p.check_count(functions)?;
        Ok(p)
    });
    match (ours, model::hot_reset(words, cdev, functions)) {
        (Ok(HotResetProof::Iommufd), Ok(0)) => assert!(cdev),
        (Ok(HotResetProof::Groups(n)), Ok(m)) => {
            assert_eq!(n, m);
            assert!(!cdev && n != 0 && n <= functions);
        }
        (Err(e), Err(c)) => assert_eq!(errno(e), c),
        (o, t) => panic!("HOT_RESET {words:x?} cdev {cdev}: args {o:?}, vfio-pci {t:?}"),
    }
}

/// `VFIO_DEVICE_FEATURE` with the data length `argsz`, on a PF with a VF token or not; and the
/// wakeup eventfd words of the low-power entry.
pub(crate) fn feature(flags: u32, argsz: usize, vf_token: bool, wakeup: [u32; 2]) {
    let ours = Feature::parse(flags, argsz, vf_token);
    match (ours, model::feature(flags, argsz, vf_token)) {
        (Ok(None), Ok((_, 0))) => assert!(flags & FEATURE_PROBE != 0),
        (Ok(Some(f)), Ok((n, 1))) => {
            let want = match n {
                FEATURE_PCI_VF_TOKEN => Feature::VfToken,
                FEATURE_LOW_POWER_ENTRY => Feature::LowPowerEntry,
                FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP => Feature::LowPowerEntryWithWakeup,
                _ => Feature::LowPowerExit,
            };
            assert_eq!(f, want);
            assert!(flags & FEATURE_SET != 0 && flags & FEATURE_GET == 0);
        }
        (Err(e), Err(c)) => assert_eq!(errno(e), c),
        (o, t) => panic!("FEATURE {flags:#x} argsz {argsz}: args {o:?}, vfio-pci {t:?}"),
    }
    match wakeup_eventfd(wakeup) {
        Ok(fd) => assert!(fd >= 0 && fd == wakeup[0] as i32),
        Err(e) => assert!(e == Errno::Inval && (wakeup[0] as i32) < 0),
    }
}

/// `VFIO_DEVICE_GET_REGION_INFO` for region `index` of a device whose regions have `size` bytes
/// (`mmap`: a BAR user space may map; `msix`: it holds the MSI-X table).
pub(crate) fn region_info(index: u32, size: u64, mmap: bool, msix: bool) {
    let ours = Region::from_index(index).map(|r| {
        assert_eq!(r.index(), index);
        let info = r.info(size, mmap, msix);
        (info.offset, info.size, info.flags, info.msix_mappable)
    });
    match (ours, model::region_info(index, size, mmap, msix)) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "region {index}");
            assert_eq!(crate::access::split_offset(a.0), (u64::from(index), 0));
        }
        (Err(e), Err(c)) => assert_eq!(errno(e), c),
        (o, t) => panic!("REGION_INFO {index}: args {o:?}, vfio-pci {t:?}"),
    }
}
