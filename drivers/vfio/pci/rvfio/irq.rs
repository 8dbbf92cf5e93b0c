// SPDX-License-Identifier: GPL-2.0

//! Interrupts: what the device offers (`VFIO_DEVICE_GET_IRQ_INFO`).
//!
//! Temporary: `VFIO_DEVICE_SET_IRQS` (eventfd forwarding) is not implemented yet, so the
//! interrupts described here cannot be enabled.

use crate::{
    caps::PCI_INTERRUPT_PIN,
    cfgspace::VConfig,
    device::{
        bound_pdev,
        RvfioDevice, //
    },
    regs::{
        PCI_MSIX_FLAGS_QSIZE,
        PCI_MSI_FLAGS,
        PCI_MSI_FLAGS_QMASK, //
    }, //
};
use kernel::{
    device::Bound,
    pci,
    prelude::*,
    vfio::{
        self,
        uapi, //
    }, //
};

/// Devices whose INTx masking is broken: vfio-pci hides their INTx (`vfio_pci_nointx()`).
pub(crate) fn nointx(pdev: &pci::Device<Bound>) -> bool {
    pdev.vendor_id() == pci::Vendor::INTEL
        && matches!(
            pdev.device_id(),
            0x1572 | 0x1574 | 0x1580..=0x1581 | 0x1583..=0x158b | 0x37d0..=0x37d2 | 0x1563
        )
}

/// The vector count of each VFIO interrupt index, read at open as vfio-pci reads them: INTx
/// from the virtual pin (which the engine zeroes for VFs, quirky devices and functions without
/// a routed IRQ), MSI from QMASK, MSI-X from the table size. Unreadable registers count as no
/// vectors.
pub(crate) fn counts(pdev: &pci::Device<Bound>, config: &VConfig) -> [u32; 5] {
    let intx = config.v(PCI_INTERRUPT_PIN, 1) != 0;
    let msi = match pdev.msi_cap() {
        0 => 0,
        cap => pdev
            .user_read_config_u16(u16::from(cap) + PCI_MSI_FLAGS)
            .map_or(0, |flags| 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1)),
    };
    let msix = match pdev.msix_cap() {
        0 => 0,
        cap => pdev
            .user_read_config_u16(u16::from(cap) + PCI_MSI_FLAGS)
            .map_or(0, |flags| u32::from(flags & PCI_MSIX_FLAGS_QSIZE) + 1),
    };
    // Indices: INTx, MSI, MSI-X, ERR, REQ.
    [u32::from(intx), msi, msix, 1, 1]
}

/// `VFIO_DEVICE_GET_IRQ_INFO`, with vfio-pci's counts and flags.
pub(crate) fn info(
    dev: &vfio::Device<RvfioDevice, Bound>,
    arg: usize,
    counts: &[u32; 5],
) -> Result<isize> {
    let pdev = bound_pdev(dev)?;
    vfio::irq_info(arg, uapi::VFIO_PCI_NUM_IRQS, |index| {
        // CAST: `index` < `VFIO_PCI_NUM_IRQS`, checked by `irq_info`.
        let count = *counts.get(index as usize).ok_or(EINVAL)?;
        let mut flags = uapi::VFIO_IRQ_INFO_EVENTFD;
        if index == uapi::VFIO_PCI_INTX_IRQ_INDEX {
            flags |= uapi::VFIO_IRQ_INFO_MASKABLE | uapi::VFIO_IRQ_INFO_AUTOMASKED;
        } else if index != uapi::VFIO_PCI_MSIX_IRQ_INDEX || !pdev.msix_can_alloc_dyn() {
            flags |= uapi::VFIO_IRQ_INFO_NORESIZE;
        }
        Ok((flags, count))
    })
}
