// SPDX-License-Identifier: GPL-2.0

//! PCI configuration registers and resource flags the driver's kernel side uses
//! (`include/uapi/linux/pci_regs.h`, `include/linux/ioport.h`). Registers the configuration
//! engine also knows take their values from [`super::caps`], as the `u16` offsets the config
//! accessors take.

pub(crate) use super::caps::{
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_MEMORY,
    PCI_MSI_FLAGS_QMASK, //
};

// CAST: register offsets below 256, as the `u16` the config accessors take.
/// `PCI_COMMAND` register offset.
pub(crate) const PCI_COMMAND: u16 = super::caps::PCI_COMMAND as u16;
/// `PCI_MSI_FLAGS` and `PCI_MSIX_FLAGS`: message control, 2 bytes into either capability.
pub(crate) const PCI_MSI_FLAGS: u16 = super::caps::PCI_MSI_FLAGS as u16;
/// `PCI_PM_CTRL`: power management control/status, 4 bytes into the capability.
pub(crate) const PCI_PM_CTRL: u16 = super::caps::PCI_PM_CTRL as u16;
/// `PCI_HEADER_TYPE_NORMAL`: an endpoint (type 0 header).
pub(crate) const PCI_HEADER_TYPE_NORMAL: u8 = 0;

/// `PCI_MSIX_FLAGS_QSIZE`: table size minus one.
pub(crate) const PCI_MSIX_FLAGS_QSIZE: u16 = 0x7ff;
/// `PCI_MSIX_TABLE`: offset of the table offset/BIR register in the MSI-X capability.
pub(crate) const PCI_MSIX_TABLE: u16 = 4;
/// `PCI_MSIX_TABLE_BIR`: the BAR indicator bits.
pub(crate) const PCI_MSIX_TABLE_BIR: u32 = 0x7;

/// `IORESOURCE_MEM`: the resource is memory space.
pub(crate) const IORESOURCE_MEM: u64 = 0x200;
/// `IORESOURCE_UNSET`: no address assigned.
pub(crate) const IORESOURCE_UNSET: u64 = 0x2000_0000;
/// `IORESOURCE_IO`: the resource is I/O port space.
pub(crate) const IORESOURCE_IO: u64 = 0x100;
/// `IORESOURCE_PREFETCH`: prefetchable memory.
pub(crate) const IORESOURCE_PREFETCH: u64 = 0x2000;
/// `IORESOURCE_MEM_64`: a 64-bit memory BAR.
pub(crate) const IORESOURCE_MEM_64: u64 = 0x0010_0000;

/// `IRQ_NOTCONNECTED`: the platform gave the function no legacy interrupt.
pub(crate) const IRQ_NOTCONNECTED: u32 = 1 << 31;
/// `PCI_PM_CTRL_NO_SOFT_RESET`: the function keeps its state across D3hot.
pub(crate) const PCI_PM_CTRL_NO_SOFT_RESET: u16 = 0x8;
