// SPDX-License-Identifier: GPL-2.0

//! The user arguments of the device ioctls, decoded and checked as vfio-pci checks them.
//!
//! Written against `core` only: the module, the host tests (`tests/host`) and the fuzz targets
//! (`tests/fuzz`) compile this file. The kernel side copies the fixed head of an argument from
//! user space as native-order `u32` words, passes them here with the facts about the device
//! the checks need, and acts on the result. Each refusal carries vfio-pci's errno, and the
//! checks run in vfio-pci's order, so that the first failing one decides the errno.

use super::access::{
    index_to_offset,
    split_offset, //
};
use super::msix::Table;

/// Why an argument is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Errno {
    /// `EINVAL`.
    Inval,
    /// `ENOTTY`: the device has no such feature.
    NoTty,
    /// `ENOSPC`: the result does not fit in the user's buffer.
    NoSpc,
    /// `ERANGE`: nothing to report.
    Range,
}

// Values from `include/uapi/linux/vfio.h` (the module checks them against the bindings).
/// `VFIO_PCI_NUM_IRQS`.
pub(crate) const NUM_IRQS: u32 = 5;
/// `VFIO_IRQ_SET_DATA_NONE`.
pub(crate) const IRQ_SET_DATA_NONE: u32 = 1 << 0;
/// `VFIO_IRQ_SET_DATA_BOOL`.
pub(crate) const IRQ_SET_DATA_BOOL: u32 = 1 << 1;
/// `VFIO_IRQ_SET_DATA_EVENTFD`.
pub(crate) const IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
/// `VFIO_IRQ_SET_DATA_TYPE_MASK`.
pub(crate) const IRQ_SET_DATA_TYPE_MASK: u32 = 0x7;
/// `VFIO_IRQ_SET_ACTION_TYPE_MASK`.
pub(crate) const IRQ_SET_ACTION_TYPE_MASK: u32 = 0x38;
/// `VFIO_DEVICE_IOEVENTFD_SIZE_MASK`.
pub(crate) const IOEVENTFD_SIZE_MASK: u32 = 0xf;
/// `VFIO_DEVICE_FEATURE_MASK`.
pub(crate) const FEATURE_MASK: u32 = 0xffff;
/// `VFIO_DEVICE_FEATURE_GET`.
pub(crate) const FEATURE_GET: u32 = 1 << 16;
/// `VFIO_DEVICE_FEATURE_SET`.
pub(crate) const FEATURE_SET: u32 = 1 << 17;
/// `VFIO_DEVICE_FEATURE_PROBE`.
pub(crate) const FEATURE_PROBE: u32 = 1 << 18;
/// `VFIO_DEVICE_FEATURE_PCI_VF_TOKEN`.
pub(crate) const FEATURE_PCI_VF_TOKEN: u32 = 0;
/// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY`.
pub(crate) const FEATURE_LOW_POWER_ENTRY: u32 = 3;
/// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP`.
pub(crate) const FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP: u32 = 4;
/// `VFIO_DEVICE_FEATURE_LOW_POWER_EXIT`.
pub(crate) const FEATURE_LOW_POWER_EXIT: u32 = 5;
/// `VFIO_REGION_INFO_FLAG_READ`.
pub(crate) const REGION_READ: u32 = 1 << 0;
/// `VFIO_REGION_INFO_FLAG_WRITE`.
pub(crate) const REGION_WRITE: u32 = 1 << 1;
/// `VFIO_REGION_INFO_FLAG_MMAP`.
pub(crate) const REGION_MMAP: u32 = 1 << 2;
/// `VFIO_PCI_BAR5_REGION_INDEX`.
pub(crate) const BAR5_REGION_INDEX: u32 = 5;
/// `VFIO_PCI_ROM_REGION_INDEX`.
pub(crate) const ROM_REGION_INDEX: u32 = 6;
/// `VFIO_PCI_CONFIG_REGION_INDEX`.
pub(crate) const CONFIG_REGION_INDEX: u32 = 7;

/// The payload type of a `VFIO_DEVICE_SET_IRQS` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IrqSetData {
    /// No payload.
    None,
    /// One byte per vector.
    Bool,
    /// One eventfd (`s32`) per vector.
    EventFd,
}

/// The header of a `VFIO_DEVICE_SET_IRQS` request (`struct vfio_irq_set`), checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IrqSet {
    /// Exactly one data type bit, and action bits only (not necessarily one).
    pub(crate) flags: u32,
    /// Below the number of indices.
    pub(crate) index: u32,
    /// The first vector.
    pub(crate) start: u32,
    /// The number of vectors: `start + count` does not exceed the index's vectors.
    pub(crate) count: u32,
    /// The payload type.
    pub(crate) data: IrqSetData,
}

impl IrqSet {
    /// `offsetofend(struct vfio_irq_set, count)`.
    pub(crate) const MINSZ: u32 = 20;

    /// Checks the header words (argsz, flags, index, start, count) as
    /// `vfio_set_irqs_validate_and_prepare()` does, for a device with `num_irqs` indices of
    /// which index `i` has `vectors(i)` vectors (asked for any index).
    pub(crate) fn parse(
        words: [u32; 5],
        num_irqs: u32,
        vectors: impl FnOnce(u32) -> u32,
    ) -> Result<Self, Errno> {
        let [argsz, flags, index, start, count] = words;
        // The C helper takes the vector count as an `int`.
        let max = vectors(index).min(i32::MAX as u32);
        if argsz < Self::MINSZ
            || index >= num_irqs
            || count >= u32::MAX - start
            || flags & !(IRQ_SET_DATA_TYPE_MASK | IRQ_SET_ACTION_TYPE_MASK) != 0
        {
            return Err(Errno::Inval);
        }
        // `start + count` cannot overflow after the check above.
        if start >= max || start + count > max {
            return Err(Errno::Inval);
        }
        let data = match flags & IRQ_SET_DATA_TYPE_MASK {
            IRQ_SET_DATA_NONE => IrqSetData::None,
            IRQ_SET_DATA_BOOL => IrqSetData::Bool,
            IRQ_SET_DATA_EVENTFD => IrqSetData::EventFd,
            _ => return Err(Errno::Inval),
        };
        let set = Self {
            flags,
            index,
            start,
            count,
            data,
        };
        if u64::from(argsz - Self::MINSZ) < set.payload_len() {
            return Err(Errno::Inval);
        }
        Ok(set)
    }

    /// The length in bytes of the payload that follows the header.
    pub(crate) fn payload_len(&self) -> u64 {
        let each: u64 = match self.data {
            IrqSetData::None => 0,
            IrqSetData::Bool => 1,
            IrqSetData::EventFd => 4,
        };
        u64::from(self.count) * each
    }
}

/// The eventfds of an `EVENTFD` payload (native-order `s32`s; a partial one at the end is
/// ignored).
pub(crate) fn eventfds(payload: &[u8]) -> impl Iterator<Item = i32> + '_ {
    payload
        .chunks_exact(4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// The `u64` stored as the two native-order words `w0`, `w1`.
fn join(w0: u32, w1: u32) -> u64 {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&w0.to_ne_bytes());
    b[4..].copy_from_slice(&w1.to_ne_bytes());
    u64::from_ne_bytes(b)
}

/// A `VFIO_DEVICE_IOEVENTFD` request (`struct vfio_device_ioeventfd`), checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IoEventFd {
    /// The BAR (at most 5).
    pub(crate) bar: u32,
    /// The offset in the BAR (below 2^40).
    pub(crate) pos: u64,
    /// The width of the write: 1, 2, 4 or 8.
    pub(crate) count: u32,
    /// The value written.
    pub(crate) data: u64,
    /// The eventfd; -1 removes the ioeventfd that matches the rest.
    pub(crate) fd: i32,
}

impl IoEventFd {
    /// `offsetofend(struct vfio_device_ioeventfd, fd)`.
    pub(crate) const MINSZ: u32 = 28;

    /// Checks the words (argsz, flags, offset, data, fd; the 64-bit fields as two words each)
    /// as `vfio_pci_ioctl_ioeventfd()` and the start of `vfio_pci_ioeventfd()` do.
    pub(crate) fn parse(words: [u32; 7]) -> Result<Self, Errno> {
        let [argsz, flags, off0, off1, data0, data1, fd] = words;
        // CAST: the `fd` field is an `__s32`.
        let fd = fd as i32;
        if argsz < Self::MINSZ || flags & !IOEVENTFD_SIZE_MASK != 0 {
            return Err(Errno::Inval);
        }
        let count = flags & IOEVENTFD_SIZE_MASK;
        if count.count_ones() != 1 || fd < -1 {
            return Err(Errno::Inval);
        }
        let (bar, pos) = split_offset(join(off0, off1));
        if bar > u64::from(BAR5_REGION_INDEX) {
            return Err(Errno::Inval);
        }
        Ok(Self {
            // CAST: at most 5.
            bar: bar as u32,
            pos,
            count,
            data: join(data0, data1),
            fd,
        })
    }

    /// Checks the write against its BAR, `bar_len` bytes long, and the MSI-X table, which
    /// no ioeventfd may reach (when the device has one).
    pub(crate) fn check_target(&self, bar_len: u64, msix: Option<Table>) -> Result<(), Errno> {
        // `pos` is below 2^40: no overflow.
        let end = self.pos + u64::from(self.count);
        if end > bar_len {
            return Err(Errno::Inval);
        }
        if msix.is_some_and(|t| t.overlaps(self.bar, self.pos, end)) {
            return Err(Errno::Inval);
        }
        Ok(())
    }
}

/// The length of the header of `struct vfio_pci_hot_reset_info` and `struct
/// vfio_pci_hot_reset` (argsz, flags, count).
pub(crate) const HOT_RESET_HEADER: usize = 12;
/// The length of one `struct vfio_pci_dependent_device`.
pub(crate) const HOT_RESET_DEPENDENT: usize = 8;

/// How many dependent devices fit in a `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` buffer of `argsz`
/// bytes; `EINVAL` when not even the header does.
pub(crate) fn hot_reset_info_room(argsz: u32) -> Result<usize, Errno> {
    // CAST: `u32` fits in `usize`.
    let argsz = argsz as usize;
    if argsz < HOT_RESET_HEADER {
        return Err(Errno::Inval);
    }
    Ok((argsz - HOT_RESET_HEADER) / HOT_RESET_DEPENDENT)
}

/// Whether `functions` dependent devices can be reported in `room` entries: `ERANGE` for none,
/// `ENOSPC` (the caller writes the count back) for too many.
pub(crate) fn hot_reset_info_fits(room: usize, functions: usize) -> Result<(), Errno> {
    if functions == 0 {
        return Err(Errno::Range);
    }
    if functions > room {
        return Err(Errno::NoSpc);
    }
    Ok(())
}

/// One `struct vfio_pci_dependent_device`: the group or device ID, then the address.
pub(crate) fn hot_reset_dependent(id: u32, segment: u16, bus: u8, devfn: u8) -> [u8; 8] {
    let mut out = [0u8; HOT_RESET_DEPENDENT];
    out[..4].copy_from_slice(&id.to_ne_bytes());
    out[4..6].copy_from_slice(&segment.to_ne_bytes());
    out[6] = bus;
    out[7] = devfn;
    out
}

/// What a `VFIO_DEVICE_PCI_HOT_RESET` request offers as proof of ownership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HotResetProof {
    /// The caller's iommufd (a device opened through its cdev, with no group fds).
    Iommufd,
    /// This many group fds follow the header.
    Groups(usize),
}

impl HotResetProof {
    /// Checks the header words (argsz, flags, count) of a request; `cdev` tells, once the
    /// header is sound, whether the device was opened through its cdev or its group (the
    /// kernel side asks under a lock, which a malformed request need not take).
    pub(crate) fn parse(words: [u32; 3], cdev: impl FnOnce() -> bool) -> Result<Self, Errno> {
        let [argsz, flags, count] = words;
        // CAST: `u32` fits in `usize`.
        if (argsz as usize) < HOT_RESET_HEADER || flags != 0 {
            return Err(Errno::Inval);
        }
        // Group fds exactly when the device was opened through its group.
        match (count, cdev()) {
            (0, true) => Ok(Self::Iommufd),
            // CAST: `u32` fits in `usize`.
            (n, false) if n != 0 => Ok(Self::Groups(n as usize)),
            _ => Err(Errno::Inval),
        }
    }

    /// Checks the number of group fds against the `functions` that the reset affects: no
    /// more fds than functions.
    pub(crate) fn check_count(self, functions: usize) -> Result<(), Errno> {
        match self {
            Self::Groups(n) if n > functions => Err(Errno::Inval),
            _ => Ok(()),
        }
    }
}

/// A device feature the driver offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feature {
    /// `VFIO_DEVICE_FEATURE_PCI_VF_TOKEN` (SET): a 16-byte UUID follows.
    VfToken,
    /// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY` (SET).
    LowPowerEntry,
    /// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP` (SET): an eventfd and a reserved
    /// word follow.
    LowPowerEntryWithWakeup,
    /// `VFIO_DEVICE_FEATURE_LOW_POWER_EXIT` (SET).
    LowPowerExit,
}

impl Feature {
    /// Checks a `VFIO_DEVICE_FEATURE` request whose header the VFIO core has checked: `flags`
    /// and `argsz` (the length of the data after the header), on a device that has a VF token
    /// (`vf_token`: an SR-IOV PF) or not. `None` when the request only probes; otherwise the
    /// feature to set, with at least its data's length in `argsz`.
    pub(crate) fn parse(flags: u32, argsz: usize, vf_token: bool) -> Result<Option<Self>, Errno> {
        let (feature, minsz) = match flags & FEATURE_MASK {
            FEATURE_PCI_VF_TOKEN if vf_token => (Self::VfToken, 16),
            FEATURE_LOW_POWER_ENTRY => (Self::LowPowerEntry, 0),
            FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP => (Self::LowPowerEntryWithWakeup, 8),
            FEATURE_LOW_POWER_EXIT => (Self::LowPowerExit, 0),
            _ => return Err(Errno::NoTty),
        };
        // `vfio_check_feature()`: every feature here is SET only (no GET of the VF token: it
        // would show the token of the PF's previous user).
        let ops = flags & (FEATURE_GET | FEATURE_SET);
        if ops & !FEATURE_SET != 0 {
            return Err(Errno::Inval);
        }
        if flags & FEATURE_PROBE != 0 {
            return Ok(None);
        }
        if ops == 0 || argsz < minsz {
            return Err(Errno::Inval);
        }
        Ok(Some(feature))
    }
}

/// The eventfd of `struct vfio_device_low_power_entry_with_wakeup` (its eventfd and reserved
/// words): `EINVAL` when negative.
pub(crate) fn wakeup_eventfd(words: [u32; 2]) -> Result<i32, Errno> {
    // CAST: the field is an `__s32`.
    let fd = words[0] as i32;
    if fd < 0 {
        return Err(Errno::Inval);
    }
    Ok(fd)
}

/// A region of the device file that `VFIO_DEVICE_GET_REGION_INFO` describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    /// BAR 0 to 5.
    Bar(u32),
    /// The expansion ROM.
    Rom,
    /// Configuration space.
    Config,
}

/// What `VFIO_DEVICE_GET_REGION_INFO` answers for one region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RegionInfo {
    /// The offset of the region in the device file.
    pub(crate) offset: u64,
    /// The size in bytes.
    pub(crate) size: u64,
    /// `VFIO_REGION_INFO_FLAG_*`.
    pub(crate) flags: u32,
    /// The region carries the `VFIO_REGION_INFO_CAP_MSIX_MAPPABLE` capability.
    pub(crate) msix_mappable: bool,
}

impl Region {
    /// The region at `index`: `EINVAL` beyond configuration space (no VGA and no
    /// device-specific regions, where vfio-pci answers `EINVAL` as well for a device without
    /// them).
    pub(crate) fn from_index(index: u32) -> Result<Self, Errno> {
        match index {
            0..=BAR5_REGION_INDEX => Ok(Self::Bar(index)),
            ROM_REGION_INDEX => Ok(Self::Rom),
            CONFIG_REGION_INDEX => Ok(Self::Config),
            _ => Err(Errno::Inval),
        }
    }

    /// The region's index.
    pub(crate) fn index(self) -> u32 {
        match self {
            Self::Bar(i) => i,
            Self::Rom => ROM_REGION_INDEX,
            Self::Config => CONFIG_REGION_INDEX,
        }
    }

    /// The answer for a region of `size` bytes; for a BAR, `mmap` tells whether user space
    /// may map it and `msix_table` whether it holds the MSI-X table.
    pub(crate) fn info(self, size: u64, mmap: bool, msix_table: bool) -> RegionInfo {
        let rw = REGION_READ | REGION_WRITE;
        let (flags, msix_mappable) = match self {
            Self::Config => (rw, false),
            Self::Bar(_) if size == 0 => (0, false),
            // The MSI-X table is not hidden from mmap (as in vfio-pci since 5.x).
            Self::Bar(_) if mmap => (rw | REGION_MMAP, msix_table),
            Self::Bar(_) => (rw, false),
            Self::Rom if size == 0 => (0, false),
            Self::Rom => (REGION_READ, false),
        };
        RegionInfo {
            offset: index_to_offset(self.index()),
            size,
            flags,
            msix_mappable,
        }
    }
}
