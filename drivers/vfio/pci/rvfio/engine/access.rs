// SPDX-License-Identifier: GPL-2.0

//! Region addressing and access splitting.
//!
//! Pure logic, written against `core` only: the same file is compiled into the module and into
//! the host test crate (`tests/host`).
//!
//! Region `i` of the device file starts at offset `i << 40`, as in vfio-pci (not UAPI, but what
//! clients see).

/// Bits of the file offset that address inside a region.
pub(crate) const OFFSET_SHIFT: u32 = 40;
const OFFSET_MASK: u64 = (1 << OFFSET_SHIFT) - 1;

/// The file offset at which region `index` starts.
pub(crate) const fn index_to_offset(index: u32) -> u64 {
    (index as u64) << OFFSET_SHIFT
}

/// The region index and the offset inside the region of file offset `off`.
pub(crate) const fn split_offset(off: u64) -> (u64, u64) {
    (off >> OFFSET_SHIFT, off & OFFSET_MASK)
}

/// Whether `len` bytes at `pos` lie inside a region of `size` bytes (vfio-pci answers `EFAULT`
/// for configuration accesses that do not).
pub(crate) const fn in_bounds(pos: u64, len: usize, size: u64) -> bool {
    // CAST: `usize` fits in `u64`.
    pos < size && len as u64 <= size - pos
}

/// The size of the ROM, as the ROM BAR of configuration space and the ROM region have it: the
/// ROM BAR's size when the PCI core assigned one (`bar_start != 0`), else a platform shadow
/// copy's (`shadow_len` bytes) rounded up to a power of two, else 0 (vfio-pci).
pub(crate) const fn rom_len(bar_start: u64, bar_len: u64, shadow_len: u64) -> u64 {
    if bar_start != 0 {
        bar_len
    } else if shadow_len != 0 {
        shadow_len.next_power_of_two()
    } else {
        0
    }
}

/// A BAR mapping request decoded from a vma's page offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MapRequest {
    /// The region index.
    pub(crate) index: usize,
    /// The first page of the mapping inside the region.
    pub(crate) page: usize,
}

impl MapRequest {
    /// Decodes `vm_pgoff` (the file offset in pages) for pages of `1 << page_shift` bytes.
    pub(crate) const fn new(vm_pgoff: usize, page_shift: u32) -> Self {
        let shift = OFFSET_SHIFT - page_shift;
        Self {
            index: vm_pgoff >> shift,
            page: vm_pgoff & ((1 << shift) - 1),
        }
    }

    /// Whether `len` bytes from the request's page fit inside a region of `region_len` bytes
    /// rounded up to whole pages, as vfio-pci requires.
    pub(crate) fn fits(&self, len: usize, region_len: u64, page_shift: u32) -> bool {
        let page = 1u64 << page_shift;
        let Some(phys_len) = region_len.checked_next_multiple_of(page) else {
            return false;
        };
        // CAST: `usize` fits in `u64`.
        let start = (self.page as u64).checked_mul(page);
        match start.and_then(|s| s.checked_add(len as u64)) {
            Some(end) => end <= phys_len,
            None => false,
        }
    }
}

/// One step of a BAR access, as vfio-pci splits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BarStep {
    /// An I/O access of this many bytes (8, 4, 2 or 1), naturally aligned.
    Io(usize),
    /// This many bytes of the excluded range (the MSI-X table): reads see `0xff`, writes are
    /// dropped.
    Skip(usize),
}

/// The next step of an access at `off` with `count` (> 0) bytes to go, where
/// `[x_start, x_end)` is excluded and accesses are at most `max_width` bytes wide: the widest
/// naturally aligned access that fits before the excluded range, else a skip to its end.
pub(crate) fn bar_step(
    off: u64,
    count: usize,
    x_start: u64,
    x_end: u64,
    max_width: usize,
) -> BarStep {
    // CAST: `usize` fits in `u64`; the results are at most `count`.
    let count64 = count as u64;
    let fillable = if off < x_start {
        count64.min(x_start - off)
    } else if off >= x_end {
        count64
    } else {
        0
    };
    for width in [8u64, 4, 2] {
        if fillable >= width && off % width == 0 && max_width as u64 >= width {
            return BarStep::Io(width as usize);
        }
    }
    if fillable > 0 {
        BarStep::Io(1)
    } else {
        BarStep::Skip(count64.min(x_end - off) as usize)
    }
}
