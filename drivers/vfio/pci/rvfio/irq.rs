// SPDX-License-Identifier: GPL-2.0

//! Interrupts: what the device offers (`VFIO_DEVICE_GET_IRQ_INFO`).
//!
//! Temporary: `VFIO_DEVICE_SET_IRQS` (eventfd forwarding) is not implemented yet, so the
//! interrupts described here cannot be enabled.

use crate::device::{
    bound_pdev,
    RvfioDevice, //
};
use kernel::{
    device::Bound,
    prelude::*,
    vfio::{
        self,
        uapi, //
    }, //
};

/// `PCI_INTERRUPT_PIN` register offset.
const PCI_INTERRUPT_PIN: u16 = 0x3d;
/// `PCI_MSI_FLAGS` and `PCI_MSIX_FLAGS`: message control, 2 bytes into either capability.
const PCI_MSI_FLAGS: u16 = 2;
/// `PCI_MSI_FLAGS_QMASK`: log2 of the vectors the function can request, shifted left by one.
const PCI_MSI_FLAGS_QMASK: u16 = 0x0e;
/// `PCI_MSIX_FLAGS_QSIZE`: table size minus one.
const PCI_MSIX_FLAGS_QSIZE: u16 = 0x7ff;
/// `IRQ_NOTCONNECTED`: the platform gave the function no legacy interrupt.
const IRQ_NOTCONNECTED: u32 = 1 << 31;

/// `VFIO_DEVICE_GET_IRQ_INFO`, with vfio-pci's counts and flags.
pub(crate) fn info(dev: &vfio::Device<RvfioDevice, Bound>, arg: usize) -> Result<isize> {
    let pdev = bound_pdev(dev)?;
    vfio::irq_info(arg, uapi::VFIO_PCI_NUM_IRQS, |index| {
        let count = match index {
            // As vfio-pci's virtual interrupt pin: none for VFs or without a routed IRQ.
            uapi::VFIO_PCI_INTX_IRQ_INDEX => {
                let irq = pdev.irq();
                let pin = pdev.user_read_config_u8(PCI_INTERRUPT_PIN)?;
                u32::from(pin != 0 && !pdev.is_virtfn() && irq != 0 && irq != IRQ_NOTCONNECTED)
            }
            uapi::VFIO_PCI_MSI_IRQ_INDEX => match pdev.msi_cap() {
                0 => 0,
                cap => {
                    let flags = pdev.user_read_config_u16(u16::from(cap) + PCI_MSI_FLAGS)?;
                    1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1)
                }
            },
            uapi::VFIO_PCI_MSIX_IRQ_INDEX => match pdev.msix_cap() {
                0 => 0,
                cap => {
                    let flags = pdev.user_read_config_u16(u16::from(cap) + PCI_MSI_FLAGS)?;
                    u32::from(flags & PCI_MSIX_FLAGS_QSIZE) + 1
                }
            },
            uapi::VFIO_PCI_ERR_IRQ_INDEX | uapi::VFIO_PCI_REQ_IRQ_INDEX => 1,
            _ => return Err(EINVAL),
        };
        let mut flags = uapi::VFIO_IRQ_INFO_EVENTFD;
        if index == uapi::VFIO_PCI_INTX_IRQ_INDEX {
            flags |= uapi::VFIO_IRQ_INFO_MASKABLE | uapi::VFIO_IRQ_INFO_AUTOMASKED;
        } else if index != uapi::VFIO_PCI_MSIX_IRQ_INDEX || !pdev.msix_can_alloc_dyn() {
            flags |= uapi::VFIO_IRQ_INFO_NORESIZE;
        }
        Ok((flags, count))
    })
}
