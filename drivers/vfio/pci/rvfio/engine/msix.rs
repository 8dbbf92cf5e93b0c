// SPDX-License-Identifier: GPL-2.0

//! Where a function's MSI-X table lies, from its MSI-X capability: what reads as all-ones and
//! ignores writes through the file, what no ioeventfd may write, and what the region info
//! reports as mappable.

use super::regs::{
    PCI_MSIX_FLAGS_QSIZE,
    PCI_MSIX_TABLE_BIR, //
};

/// The MSI-X table: its BAR and its byte range in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Table {
    /// The BAR that holds the table.
    pub(crate) bar: u32,
    /// The table's first byte in the BAR.
    pub(crate) start: u64,
    /// One past its last byte.
    pub(crate) end: u64,
}

/// The size of one table entry.
const ENTRY_SIZE: u64 = 16;

impl Table {
    /// The table described by the capability's table offset/BIR register (`PCI_MSIX_TABLE`)
    /// and message control (`PCI_MSIX_FLAGS`).
    pub(crate) fn new(table: u32, flags: u16) -> Self {
        let start = u64::from(table & !PCI_MSIX_TABLE_BIR);
        Self {
            bar: table & PCI_MSIX_TABLE_BIR,
            start,
            end: start + u64::from(Self::vectors(flags)) * ENTRY_SIZE,
        }
    }

    /// The number of vectors message control gives the table (`QSIZE + 1`).
    pub(crate) fn vectors(flags: u16) -> u32 {
        u32::from(flags & PCI_MSIX_FLAGS_QSIZE) + 1
    }

    /// Whether bytes `start..end` of BAR `bar` reach the table.
    pub(crate) fn overlaps(&self, bar: u32, start: u64, end: u64) -> bool {
        bar == self.bar && end > self.start && start < self.end
    }

    /// The table's byte range in BAR `bar`: `(start, end)`, empty (`(0, 0)`) for another BAR.
    pub(crate) fn range_in(&self, bar: u32) -> (u64, u64) {
        if bar == self.bar {
            (self.start, self.end)
        } else {
            (0, 0)
        }
    }
}
