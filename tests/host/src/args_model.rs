// SPDX-License-Identifier: GPL-2.0

//! A second, independent statement of the ioctl argument checks of Linux 7.3's vfio-pci
//! (`vfio_set_irqs_validate_and_prepare()`, `vfio_pci_ioctl_ioeventfd()` and
//! `vfio_pci_ioeventfd()`, the hot-reset ioctls, `vfio_check_feature()` and the feature
//! switch, `vfio_pci_ioctl_get_region_info()`), in the C code's order and arithmetic. The host
//! tests and the fuzz targets hold `crate::args` to it: same acceptance, same errno.

/// Errno values as the C code returns them (positive here).
pub(crate) const EINVAL: i32 = 22;
pub(crate) const ENOTTY: i32 = 25;
pub(crate) const ENOSPC: i32 = 28;
pub(crate) const ERANGE: i32 = 34;

/// `VFIO_DEVICE_SET_IRQS`: the payload size, or the errno. `num_irqs` is the vector count of
/// the index (an `int` in C), `max_irq_type` the number of indices.
pub(crate) fn set_irqs(words: [u32; 5], num_irqs: i32, max_irq_type: i32) -> Result<u64, i32> {
    let [argsz, flags, index, start, count] = words;
    let minsz: u64 = 20;
    // `hdr->index >= max_irq_type`: the int is converted to unsigned.
    if u64::from(argsz) < minsz
        || index >= max_irq_type as u32
        || count >= u32::MAX.wrapping_sub(start)
        || flags & !(0x7 | 0x38) != 0
    {
        return Err(EINVAL);
    }
    let num = num_irqs as u32;
    if start >= num || start.wrapping_add(count) > num {
        return Err(EINVAL);
    }
    let size: u64 = match flags & 0x7 {
        1 => 0,
        2 => 1,
        4 => 4,
        _ => return Err(EINVAL),
    };
    if size != 0 {
        // `hdr->argsz - minsz < hdr->count * size`, in `unsigned long` and `size_t`.
        if u64::from(argsz) - minsz < u64::from(count) * size {
            return Err(EINVAL);
        }
        return Ok(u64::from(count) * size);
    }
    Ok(0)
}

/// `VFIO_DEVICE_IOEVENTFD` up to the search of the existing ioeventfds: `Ok` when the request
/// reaches it. `bar_len` gives the length of each BAR; `msix` is the MSI-X table.
pub(crate) fn ioeventfd(
    words: [u32; 7],
    bar_len: impl Fn(u32) -> u64,
    msix: Option<(u32, u64, u64)>,
) -> Result<(), i32> {
    let [argsz, flags, off_lo, off_hi, _, _, fd] = words;
    let fd = fd as i32;
    if argsz < 28 {
        return Err(EINVAL);
    }
    if flags & !0xf != 0 {
        return Err(EINVAL);
    }
    let count = flags & 0xf;
    if (count as u8).count_ones() != 1 || fd < -1 {
        return Err(EINVAL);
    }
    let offset = u64::from(off_lo) | (u64::from(off_hi) << 32);
    let bar = offset >> 40;
    let pos = offset & ((1u64 << 40) - 1);
    if bar > 5 {
        return Err(EINVAL);
    }
    if pos + u64::from(count) > bar_len(bar as u32) {
        return Err(EINVAL);
    }
    if let Some((mbar, start, end)) = msix {
        if u64::from(mbar) == bar && pos + u64::from(count) > start && pos < end {
            return Err(EINVAL);
        }
    }
    Ok(())
}

/// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` once the functions are counted (`functions`, on a
/// device whose slot or bus can be reset).
pub(crate) fn hot_reset_info(argsz: u32, functions: usize) -> Result<(), i32> {
    if argsz < 12 {
        return Err(EINVAL);
    }
    if functions == 0 {
        return Err(ERANGE);
    }
    if functions > (argsz as usize - 12) / 8 {
        return Err(ENOSPC);
    }
    Ok(())
}

/// `VFIO_DEVICE_PCI_HOT_RESET` up to the copy of the group fds: their number (0 through the
/// cdev).
pub(crate) fn hot_reset(words: [u32; 3], cdev: bool, functions: usize) -> Result<usize, i32> {
    let [argsz, flags, count] = words;
    if argsz < 12 || flags != 0 {
        return Err(EINVAL);
    }
    if (count != 0) == cdev {
        return Err(EINVAL);
    }
    if count == 0 {
        return Ok(0);
    }
    if count as usize > functions {
        return Err(EINVAL);
    }
    Ok(count as usize)
}

/// `VFIO_DEVICE_FEATURE` as vfio-pci answers a header the core passed: 0 for a probe, 1 for a
/// SET to carry out, or the errno; with the feature number.
pub(crate) fn feature(flags: u32, argsz: usize, vf_token: bool) -> Result<(u32, i32), i32> {
    let check = |minsz: usize| -> Result<i32, i32> {
        let ops = flags & ((1 << 16) | (1 << 17));
        if ops & !(1 << 17) != 0 {
            return Err(EINVAL);
        }
        if flags & (1 << 18) != 0 {
            return Ok(0);
        }
        if ops == 0 {
            return Err(EINVAL);
        }
        if argsz < minsz {
            return Err(EINVAL);
        }
        Ok(1)
    };
    let feature = flags & 0xffff;
    let r = match feature {
        3 | 5 => check(0)?,
        4 => check(8)?,
        0 if vf_token => check(16)?,
        _ => return Err(ENOTTY),
    };
    Ok((feature, r))
}

/// `VFIO_DEVICE_GET_REGION_INFO` for region `index` of `size` bytes: offset, size, flags and
/// whether the MSI-X-mappable capability is added; `mmap` and `msix` as the driver knows them
/// for a BAR.
pub(crate) fn region_info(
    index: u32,
    size: u64,
    mmap: bool,
    msix: bool,
) -> Result<(u64, u64, u32, bool), i32> {
    let offset = u64::from(index) << 40;
    match index {
        7 => Ok((offset, size, 3, false)),
        0..=5 => {
            if size == 0 {
                return Ok((offset, 0, 0, false));
            }
            if mmap {
                Ok((offset, size, 3 | 4, msix))
            } else {
                Ok((offset, size, 3, false))
            }
        }
        6 => Ok((offset, size, if size != 0 { 1 } else { 0 }, false)),
        _ => Err(EINVAL),
    }
}
