// SPDX-License-Identifier: GPL-2.0

//! Regions of the device file: region info, access and mmap (the addressing is in
//! [`crate::access`]).
//!
//! Temporary, until the configuration engine and the memory-disable zap exist:
//! - configuration space reads pass straight through to the hardware (with the accessors that
//!   honour reset blocking) and configuration writes are refused;
//! - BARs are mapped whole at `mmap()` time (`io_remap_pfn_range()`), not page by page on
//!   fault. This is safe only because nothing can turn memory decode off or reset the device
//!   while a mapping exists: config writes and `VFIO_DEVICE_RESET` are refused, and close
//!   cannot run while a mapping holds the file.

use crate::access::{
    in_bounds,
    index_to_offset,
    piece,
    split_offset,
    MapRequest, //
};
use crate::device::{
    bound_pdev,
    RvfioDevice,
    PCI_COMMAND,
    PCI_COMMAND_MEMORY, //
};
use kernel::{
    device::Bound,
    mm::virt::VmaNew,
    page::{
        PAGE_SHIFT,
        PAGE_SIZE, //
    },
    pci,
    prelude::*,
    uaccess::UserSliceWriter,
    vfio::{
        self,
        uapi, //
    },
};

/// `IORESOURCE_MEM`: the resource is memory space.
const IORESOURCE_MEM: u64 = 0x200;
/// `IORESOURCE_UNSET`: no address assigned.
const IORESOURCE_UNSET: u64 = 0x2000_0000;

const RW: u32 = uapi::VFIO_REGION_INFO_FLAG_READ | uapi::VFIO_REGION_INFO_FLAG_WRITE;

/// `VFIO_DEVICE_GET_REGION_INFO`.
pub(crate) fn info(
    dev: &vfio::Device<RvfioDevice, Bound>,
    index: u32,
    caps: &mut vfio::InfoCaps<'_>,
) -> Result<vfio::RegionInfo> {
    let pdev = bound_pdev(dev)?;
    let offset = index_to_offset(index);
    match index {
        uapi::VFIO_PCI_CONFIG_REGION_INDEX => Ok(vfio::RegionInfo {
            offset,
            // CAST: 256 or 4096.
            size: pdev.cfg_size() as u64,
            flags: RW,
        }),
        uapi::VFIO_PCI_BAR0_REGION_INDEX..=uapi::VFIO_PCI_BAR5_REGION_INDEX => {
            let size = pdev.resource_len(index)?;
            let mut flags = if size == 0 { 0 } else { RW };
            if size != 0 && bar_mmap_supported(pdev, index) {
                flags |= uapi::VFIO_REGION_INFO_FLAG_MMAP;
                // The MSI-X table is not hidden from mmap (as in vfio-pci since 5.x).
                if msix_bar(pdev) == Some(index) {
                    caps.add(uapi::VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, &[])?;
                }
            }
            Ok(vfio::RegionInfo {
                offset,
                size,
                flags,
            })
        }
        uapi::VFIO_PCI_ROM_REGION_INDEX => {
            let size = rom_size(dev, pdev);
            let flags = if size != 0 {
                uapi::VFIO_REGION_INFO_FLAG_READ
            } else {
                0
            };
            Ok(vfio::RegionInfo {
                offset,
                size,
                flags,
            })
        }
        // No VGA support and no device-specific regions (yet): vfio-pci answers EINVAL too
        // for a device without them.
        _ => Err(EINVAL),
    }
}

/// Whether BAR `bar` can be mmapped: a memory BAR of at least a page.
///
/// vfio-pci also maps sub-page BARs that start on a page boundary, after reserving the rest of
/// the page; rvfio-pci does not do that yet.
fn bar_mmap_supported(pdev: &pci::Device<Bound>, bar: u32) -> bool {
    let mem = pdev
        .resource_flags(bar)
        .is_ok_and(|f| f & IORESOURCE_MEM != 0);
    // CAST: `usize` fits in `u64`.
    mem && pdev
        .resource_len(bar)
        .is_ok_and(|len| len >= PAGE_SIZE as u64)
}

/// The BAR holding the MSI-X table, if the device has MSI-X.
fn msix_bar(pdev: &pci::Device<Bound>) -> Option<u32> {
    let cap = pdev.msix_cap();
    if cap == 0 {
        return None;
    }
    let table = pdev
        .user_read_config_u32(u16::from(cap) + PCI_MSIX_TABLE)
        .ok()?;
    Some(table & PCI_MSIX_TABLE_BIR)
}

/// `PCI_MSIX_TABLE`: offset of the table offset/BIR register in the MSI-X capability.
const PCI_MSIX_TABLE: u16 = 4;
/// `PCI_MSIX_TABLE_BIR`: the BAR indicator bits.
const PCI_MSIX_TABLE_BIR: u32 = 0x7;

/// `mmap(2)` of a BAR, with the checks vfio-pci makes.
pub(crate) fn mmap(dev: &vfio::Device<RvfioDevice, Bound>, vma: &VmaNew) -> Result {
    let pdev = bound_pdev(dev)?;
    // CAST: `PAGE_SHIFT` is 12 to 16.
    let page_shift = PAGE_SHIFT as u32;
    let req = MapRequest::new(vma.pgoff(), page_shift);
    // CAST: `u32` fits in `usize`.
    if req.index >= uapi::VFIO_PCI_NUM_REGIONS as usize || !vma.shared() {
        return Err(EINVAL);
    }
    // CAST: `req.index` < 9.
    let bar = req.index as u32;
    if bar > uapi::VFIO_PCI_BAR5_REGION_INDEX || !bar_mmap_supported(pdev, bar) {
        return Err(EINVAL);
    }
    if !req.fits(vma.end() - vma.start(), pdev.resource_len(bar)?, page_shift) {
        return Err(EINVAL);
    }
    // Claim the BAR for the user before exposing it; this also refuses BARs the PCI core
    // could not assign (and so never inserted into the resource tree).
    if pdev.resource_flags(bar)? & IORESOURCE_UNSET != 0 {
        return Err(EBUSY);
    }
    {
        let mut open = dev.open.lock();
        // CAST: `bar` < 6.
        let slot = &mut open.bars[bar as usize];
        if slot.is_none() {
            *slot = Some(pdev.request_bar(bar, c"rvfio-pci")?);
        }
    }
    // CAST: physical addresses fit in `usize` on 64-bit kernels.
    let pfn = (pdev.resource_start(bar)? as usize >> PAGE_SHIFT) + req.page;
    // SAFETY: The vma's pages from `pfn` on lie inside memory BAR `bar` of the function bound
    // to this driver, which the VFIO user owns; nothing else sets VM_MIXEDMAP on the vma.
    unsafe { vma.io_remap_pfn_range_noncached(pfn) }
}

/// The size vfio-pci reports for the ROM region: the BAR size when the BAR holds a valid
/// image, the shadow copy rounded up to a power of two, or 0.
fn rom_size(dev: &vfio::Device<RvfioDevice, Bound>, pdev: &pci::Device<Bound>) -> u64 {
    let (start, len) = pdev.rom_resource();
    if start != 0 {
        let _memory = dev.memory.lock();
        // Reading the ROM needs memory decode, as in vfio_pci_memory_lock_and_enable().
        let Ok(cmd) = pdev.user_read_config_u16(PCI_COMMAND) else {
            return 0;
        };
        if cmd & PCI_COMMAND_MEMORY == 0 {
            let _ = pdev.user_write_config_u16(PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
        }
        let valid = pdev.rom_is_valid();
        if cmd & PCI_COMMAND_MEMORY == 0 {
            let _ = pdev.user_write_config_u16(PCI_COMMAND, cmd);
        }
        if valid {
            len
        } else {
            0
        }
    } else {
        // CAST: `usize` fits in `u64`.
        let shadow = pdev.shadow_rom_len() as u64;
        if shadow == 0 {
            0
        } else {
            shadow.next_power_of_two()
        }
    }
}

/// `read(2)` on the device file.
pub(crate) fn read(
    dev: &vfio::Device<RvfioDevice, Bound>,
    buf: &mut UserSliceWriter,
    off: u64,
) -> Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let (index, pos) = split_offset(off);
    match index {
        i if i == u64::from(uapi::VFIO_PCI_CONFIG_REGION_INDEX) => config_read(dev, buf, pos),
        // BAR and ROM access come with the region engine.
        i if i < u64::from(uapi::VFIO_PCI_NUM_REGIONS) => Err(EINVAL),
        _ => Err(EINVAL),
    }
}

/// Reads configuration space in naturally aligned 1, 2 or 4-byte pieces, as vfio-pci does.
fn config_read(
    dev: &vfio::Device<RvfioDevice, Bound>,
    buf: &mut UserSliceWriter,
    mut pos: u64,
) -> Result<usize> {
    let pdev = bound_pdev(dev)?;
    // CAST: 256 or 4096.
    let size = pdev.cfg_size() as u64;
    let mut left = buf.len();
    let mut done = 0;
    while left > 0 {
        if !in_bounds(pos, left, size) {
            return Err(EFAULT);
        }
        // CAST: `pos` < 4096.
        let at = pos as u16;
        let n = piece(pos, left);
        match n {
            4 => buf.write_slice(&pdev.user_read_config_u32(at)?.to_le_bytes())?,
            2 => buf.write_slice(&pdev.user_read_config_u16(at)?.to_le_bytes())?,
            _ => buf.write_slice(&[pdev.user_read_config_u8(at)?])?,
        }
        pos += n as u64;
        left -= n;
        done += n;
    }
    Ok(done)
}
