// SPDX-License-Identifier: GPL-2.0

//! Regions of the device file: region info, access and mmap (the addressing is in
//! [`crate::engine::access`], configuration space in [`crate::vconfig`]).
//!
//! BAR mappings are filled page by page on fault, under the memory lock: while memory is
//! disabled (COMMAND, D3hot) a fault gets `SIGBUS`, and everything that disables memory or
//! resets the function zaps the mappings first, as vfio-pci does.

use crate::device::OpenDevice;
use crate::engine::access::{
    self,
    bar_step,
    split_offset,
    BarStep,
    MapRequest, //
};
use crate::engine::args;
use crate::engine::msix;
use crate::engine::regs::{
    IORESOURCE_MEM,
    IORESOURCE_UNSET,
    PCI_MSIX_TABLE,
    PCI_MSI_FLAGS, //
};
use crate::function::Function;
use crate::memory::{
    self,
    MemoryLock, //
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
    sync::Arc,
    uaccess::{
        UserSliceReader,
        UserSliceWriter, //
    },
    vfio::{
        self,
        uapi, //
    },
};

/// `VFIO_DEVICE_GET_REGION_INFO`.
pub(crate) fn info(
    f: Function<'_>,
    open: &OpenDevice,
    index: u32,
    caps: &mut vfio::InfoCaps<'_>,
) -> Result<vfio::RegionInfo> {
    let pdev = f.pdev;
    let region = args::Region::from_index(index)?;
    let info = match region {
        // CAST: 256 or 4096.
        args::Region::Config => region.info(pdev.cfg_size().into_raw() as u64, false, false),
        args::Region::Bar(bar) => {
            let size = pdev.resource_len(bar)?;
            let mmap = bar_mmap_supported(pdev, bar);
            let msix = mmap && open.msix_table.is_some_and(|t| t.bar == bar);
            region.info(size, mmap, msix)
        }
        args::Region::Rom => region.info(rom_size(f), false, false),
    };
    if info.msix_mappable {
        caps.add(uapi::VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, &[])?;
    }
    Ok(vfio::RegionInfo {
        offset: info.offset,
        size: info.size,
        flags: info.flags,
    })
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

/// The checks vfio-pci makes on an `mmap(2)` of a BAR, and the BAR's claim; the caller then
/// sets the mapping up to be filled by [`fault`].
pub(crate) fn mmap(f: Function<'_>, open: &OpenDevice, vma: &VmaNew) -> Result {
    let pdev = f.pdev;
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
    // Claim the BAR for the user before exposing it (as vfio-pci's mmap maps it first).
    iomap(open, pdev, bar)?;
    Ok(())
}

/// A fault in a BAR mapping: maps the page while memory is enabled, `SIGBUS` otherwise.
pub(crate) fn fault(f: Function<'_>, fault: &vfio::Fault<'_>) -> vfio::VmFault {
    // CAST: `PAGE_SHIFT` is 12 to 16.
    let req = MapRequest::new(fault.vma_pgoff(), PAGE_SHIFT as u32);
    let pdev = f.pdev;
    // CAST: `mmap` accepted only BAR indices.
    let Ok(start) = pdev.resource_start(req.index as u32) else {
        return vfio::VmFault::SIGBUS;
    };
    // CAST: physical addresses fit in `usize` on 64-bit kernels.
    let pfn = (start as usize >> PAGE_SHIFT) + req.page + fault.page_in_vma();
    let memory = f.memory.lock();
    if !memory.enabled() || memory.pm_engaged {
        return vfio::VmFault::SIGBUS;
    }
    // SAFETY: `mmap` checked that the mapping lies inside memory BAR `req.index` of the function
    // bound to this driver, which the VFIO user owns; the zap runs under the memory lock held
    // here.
    unsafe { fault.insert_pfn(pfn) }
}

/// The size vfio-pci reports for the ROM region: the BAR size when the BAR holds a valid
/// image, the shadow copy rounded up to a power of two, or 0.
fn rom_size(f: Function<'_>) -> u64 {
    let pdev = f.pdev;
    let (start, len) = pdev.rom_resource();
    if start != 0 {
        // Reading the ROM needs memory decode.
        let _memory = f.memory.lock();
        if !memory::with_decode_on(pdev, || pdev.rom_is_valid()) {
            return 0;
        }
    }
    // CAST: `usize` fits in `u64`.
    access::rom_len(start, len, pdev.shadow_rom_len() as u64)
}

/// The user buffer of a `read(2)` or `write(2)`.
pub(crate) enum UserBuf<'a> {
    /// `read(2)`: data goes to user space.
    Read(&'a mut UserSliceWriter),
    /// `write(2)`: data comes from user space.
    Write(&'a mut UserSliceReader),
}

impl UserBuf<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            UserBuf::Read(w) => w.len(),
            UserBuf::Write(r) => r.len(),
        }
    }
}

/// `read(2)` or `write(2)` on the device file.
pub(crate) fn rw(f: Function<'_>, open: &OpenDevice, buf: UserBuf<'_>, off: u64) -> Result<usize> {
    if buf.len() == 0 {
        return Ok(0);
    }
    let (index, pos) = split_offset(off);
    // CAST: checked against the region count first.
    match (index, buf) {
        (i, buf) if i == u64::from(uapi::VFIO_PCI_CONFIG_REGION_INDEX) => {
            crate::vconfig::rw(f, open, buf, pos)
        }
        (i, UserBuf::Read(w)) if i == u64::from(uapi::VFIO_PCI_ROM_REGION_INDEX) => {
            rom_read(f, w, pos)
        }
        (i, buf) if i <= u64::from(uapi::VFIO_PCI_BAR5_REGION_INDEX) => {
            bar_rw(f, open, buf, i as u32, pos)
        }
        // ROM writes, VGA (unsupported) and unknown regions are EINVAL, as in vfio-pci.
        _ => Err(EINVAL),
    }
}

/// Runs one device access under the memory lock, as vfio-pci does per access: `EIO` when
/// `needs_decode` and memory decode is off. No user copy may happen inside `access`.
fn with_decode<R>(
    memory: &MemoryLock,
    needs_decode: bool,
    access: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let memory = memory.lock();
    if needs_decode && !memory.enabled() {
        return Err(EIO);
    }
    access()
}

/// Returns BAR `bar`'s kernel mapping, creating it (and claiming the BAR) on first use.
pub(crate) fn iomap(
    open: &OpenDevice,
    pdev: &pci::Device<Bound>,
    bar: u32,
) -> Result<Arc<pci::IoMap>> {
    // BARs the PCI core could not assign were never inserted into the resource tree.
    if pdev.resource_flags(bar)? & IORESOURCE_UNSET != 0 {
        return Err(EBUSY);
    }
    let mut state = open.state.lock();
    // CAST: `bar` < 6.
    let slot = state.bars.get_mut(bar as usize).ok_or(EINVAL)?;
    if let Some(map) = slot {
        return Ok(map.clone());
    }
    // SAFETY: The map lives in the open device, which `close_device` drops; the VFIO core
    // closes the device before unregistration returns, and `unbind` unregisters first.
    let map = Arc::new(unsafe { pdev.iomap_bar(bar, c"rvfio-pci") }?, GFP_KERNEL)?;
    *slot = Some(map.clone());
    Ok(map)
}

/// The MSI-X table (read at open, as vfio-pci does).
pub(crate) fn msix_table(pdev: &pci::Device<Bound>) -> Option<msix::Table> {
    let cap = u16::from(pdev.msix_cap());
    if cap == 0 {
        return None;
    }
    let table = pdev.user_read_config_u32(cap + PCI_MSIX_TABLE).ok()?;
    let flags = pdev.user_read_config_u16(cap + PCI_MSI_FLAGS).ok()?;
    Some(msix::Table::new(table, flags))
}

/// BAR read or write through the file, split as vfio-pci splits it; the MSI-X table reads as
/// all-ones and ignores writes. Accesses past the end are cut short.
fn bar_rw(
    f: Function<'_>,
    open: &OpenDevice,
    mut buf: UserBuf<'_>,
    bar: u32,
    pos: u64,
) -> Result<usize> {
    let pdev = f.pdev;
    if pdev.resource_start(bar)? == 0 {
        return Err(EINVAL);
    }
    let end = pdev.resource_len(bar)?;
    if pos >= end {
        return Err(EINVAL);
    }
    let count = buf
        .len()
        .min(usize::try_from(end - pos).unwrap_or(usize::MAX));
    let io = iomap(open, pdev, bar)?;
    let mem = pdev.resource_flags(bar)? & IORESOURCE_MEM != 0;
    let (xs, xe) = open.msix_table.map_or((0, 0), |t| t.range_in(bar));
    let mut off = pos;
    let mut done = 0;
    while done < count {
        let step = bar_step(off, count - done, xs, xe, MAX_WIDTH);
        let at = usize::try_from(off)?;
        let n = match (step, &mut buf) {
            (BarStep::Io(n), UserBuf::Read(w)) => {
                let v = with_decode(f.memory, mem, || io_read(&io, at, n))?;
                w.write_slice(&v.to_le_bytes()[..n])?;
                n
            }
            (BarStep::Io(n), UserBuf::Write(r)) => {
                let mut b = [0u8; 8];
                r.read_slice(&mut b[..n])?;
                with_decode(f.memory, mem, || {
                    io_write(&io, at, n, u64::from_le_bytes(b))
                })?;
                n
            }
            (BarStep::Skip(n), UserBuf::Read(w)) => {
                fill_ones(w, n)?;
                n
            }
            (BarStep::Skip(n), UserBuf::Write(r)) => {
                r.skip(n)?;
                n
            }
        };
        off += n as u64;
        done += n;
    }
    Ok(done)
}

/// The widest BAR access: 8 bytes where the `lo_hi` accessors exist, as in vfio-pci.
const MAX_WIDTH: usize = 8;

/// One naturally aligned BAR read of `n` (8, 4, 2 or 1) bytes.
fn io_read(io: &pci::IoMap, at: usize, n: usize) -> Result<u64> {
    Ok(match n {
        8 => io.read64(at)?,
        4 => u64::from(io.read32(at)?),
        2 => u64::from(io.read16(at)?),
        _ => u64::from(io.read8(at)?),
    })
}

/// One naturally aligned BAR write of the low `n` (8, 4, 2 or 1) bytes of `v`.
fn io_write(io: &pci::IoMap, at: usize, n: usize, v: u64) -> Result {
    // CAST: `v` holds `n` bytes.
    match n {
        8 => io.write64(at, v),
        4 => io.write32(at, v as u32),
        2 => io.write16(at, v as u16),
        _ => io.write8(at, v as u8),
    }
}

/// Writes `n` bytes of `0xff`.
fn fill_ones(w: &mut UserSliceWriter, mut n: usize) -> Result {
    const ONES: [u8; 64] = [0xff; 64];
    while n > 0 {
        let k = n.min(ONES.len());
        w.write_slice(&ONES[..k])?;
        n -= k;
    }
    Ok(())
}

/// ROM read through the file: the image in accesses of at most 4 bytes, then all-ones up to
/// the BAR size, as vfio-pci. Only ROM BARs: a platform shadow copy is not supported yet.
///
/// The ROM is mapped and read under the memory lock in chunks through a kernel buffer, so no
/// user copy happens with the lock held.
fn rom_read(f: Function<'_>, w: &mut UserSliceWriter, pos: u64) -> Result<usize> {
    const CHUNK: usize = 4096;
    let pdev = f.pdev;
    let (start, end) = pdev.rom_resource();
    if start == 0 || pos >= end {
        return Err(EINVAL);
    }
    let count = w
        .len()
        .min(usize::try_from(end - pos).unwrap_or(usize::MAX));
    let mut bounce = KVec::from_elem(0u8, count.min(CHUNK), GFP_KERNEL)?;
    let mut off = pos;
    let mut done = 0;
    while done < count {
        let len = (count - done).min(CHUNK);
        {
            let memory = f.memory.lock();
            // As vfio-pci: the mapping comes first (ENOMEM without a readable image).
            let rom = pdev.map_rom().ok_or(ENOMEM)?;
            let (xs, xe) = (rom.len() as u64, end);
            let mut filled = 0;
            while filled < len {
                let at = off + filled as u64;
                match bar_step(at, len - filled, xs, xe, 4) {
                    BarStep::Io(n) => {
                        if !memory.enabled() {
                            return Err(EIO);
                        }
                        rom.read(usize::try_from(at)?, &mut bounce[filled..filled + n])?;
                        filled += n;
                    }
                    BarStep::Skip(n) => {
                        bounce[filled..filled + n].fill(0xff);
                        filled += n;
                    }
                }
            }
        }
        w.write_slice(&bounce[..len])?;
        off += len as u64;
        done += len;
    }
    Ok(done)
}
