// SPDX-License-Identifier: GPL-2.0

//! Constants of the VFIO user API that bus drivers use.
//!
//! C header: [`include/uapi/linux/vfio.h`](srctree/include/uapi/linux/vfio.h)

use crate::{
    bindings,
    ioctl::_IO, //
};

const VFIO_TYPE: u32 = b';' as u32;
const VFIO_BASE: u32 = 100;

/// `VFIO_DEVICE_GET_INFO`.
pub const VFIO_DEVICE_GET_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 7);
/// `VFIO_DEVICE_GET_REGION_INFO` (answered by the core through [`super::Operations::region_info`]).
pub const VFIO_DEVICE_GET_REGION_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 8);
/// `VFIO_DEVICE_GET_IRQ_INFO`.
pub const VFIO_DEVICE_GET_IRQ_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 9);
/// `VFIO_DEVICE_SET_IRQS`.
pub const VFIO_DEVICE_SET_IRQS: u32 = _IO(VFIO_TYPE, VFIO_BASE + 10);
/// `VFIO_DEVICE_RESET`.
pub const VFIO_DEVICE_RESET: u32 = _IO(VFIO_TYPE, VFIO_BASE + 11);
/// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`.
pub const VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: u32 = _IO(VFIO_TYPE, VFIO_BASE + 12);
/// `VFIO_DEVICE_PCI_HOT_RESET`.
pub const VFIO_DEVICE_PCI_HOT_RESET: u32 = _IO(VFIO_TYPE, VFIO_BASE + 13);
/// `vfio_pci_hot_reset_info.flags`: the entries carry iommufd device ids, not group ids.
pub const VFIO_PCI_HOT_RESET_FLAG_DEV_ID: u32 = bindings::VFIO_PCI_HOT_RESET_FLAG_DEV_ID;
/// `vfio_pci_hot_reset_info.flags`: the caller owns every affected device.
pub const VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED: u32 =
    bindings::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
/// `vfio_pci_dependent_device.devid`: owned through the group, but not bound to the iommufd.
pub const VFIO_PCI_DEVID_OWNED: u32 = 0;
/// `vfio_pci_dependent_device.devid`: not owned by the caller (C's -1).
pub const VFIO_PCI_DEVID_NOT_OWNED: u32 = u32::MAX;
/// `vfio_device_feature.flags`: the feature number.
pub const VFIO_DEVICE_FEATURE_MASK: u32 = bindings::VFIO_DEVICE_FEATURE_MASK;
/// `vfio_device_feature.flags`: read the feature's data.
pub const VFIO_DEVICE_FEATURE_GET: u32 = bindings::VFIO_DEVICE_FEATURE_GET;
/// `vfio_device_feature.flags`: write the feature's data.
pub const VFIO_DEVICE_FEATURE_SET: u32 = bindings::VFIO_DEVICE_FEATURE_SET;
/// `vfio_device_feature.flags`: only ask whether the operations are supported.
pub const VFIO_DEVICE_FEATURE_PROBE: u32 = bindings::VFIO_DEVICE_FEATURE_PROBE;
/// Feature: the VF token of an SR-IOV PF (SET only, a UUID).
pub const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: u32 = bindings::VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
/// Feature: enter a low-power state (SET only, no data).
pub const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY: u32 = bindings::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
/// Feature: enter a low-power state, with an eventfd signalled on wake-up (SET only).
pub const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP: u32 =
    bindings::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
/// Feature: leave the low-power state (SET only, no data).
pub const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT: u32 = bindings::VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
/// `VFIO_DEVICE_IOEVENTFD`.
pub const VFIO_DEVICE_IOEVENTFD: u32 = _IO(VFIO_TYPE, VFIO_BASE + 16);
/// `vfio_device_ioeventfd.flags`: the access size in bytes (1, 2, 4 or 8).
pub const VFIO_DEVICE_IOEVENTFD_SIZE_MASK: u32 = bindings::VFIO_DEVICE_IOEVENTFD_SIZE_MASK;

/// `vfio_device_info.flags`: the device is a PCI device.
pub const VFIO_DEVICE_FLAGS_PCI: u32 = bindings::VFIO_DEVICE_FLAGS_PCI;
/// `vfio_device_info.flags`: the device supports `VFIO_DEVICE_RESET`.
pub const VFIO_DEVICE_FLAGS_RESET: u32 = bindings::VFIO_DEVICE_FLAGS_RESET;

/// `vfio_region_info.flags`: the region can be read.
pub const VFIO_REGION_INFO_FLAG_READ: u32 = bindings::VFIO_REGION_INFO_FLAG_READ;
/// `vfio_region_info.flags`: the region can be written.
pub const VFIO_REGION_INFO_FLAG_WRITE: u32 = bindings::VFIO_REGION_INFO_FLAG_WRITE;
/// `vfio_region_info.flags`: the region can be mmapped.
pub const VFIO_REGION_INFO_FLAG_MMAP: u32 = bindings::VFIO_REGION_INFO_FLAG_MMAP;
/// Region capability: the MSI-X table in this BAR may be mmapped.
pub const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE: u16 =
    bindings::VFIO_REGION_INFO_CAP_MSIX_MAPPABLE as u16;

/// Index of BAR 0's region; BARs 1-5 follow.
pub const VFIO_PCI_BAR0_REGION_INDEX: u32 = bindings::VFIO_PCI_BAR0_REGION_INDEX;
/// Index of BAR 5's region.
pub const VFIO_PCI_BAR5_REGION_INDEX: u32 = bindings::VFIO_PCI_BAR5_REGION_INDEX;
/// Index of the expansion ROM region.
pub const VFIO_PCI_ROM_REGION_INDEX: u32 = bindings::VFIO_PCI_ROM_REGION_INDEX;
/// Index of the configuration space region.
pub const VFIO_PCI_CONFIG_REGION_INDEX: u32 = bindings::VFIO_PCI_CONFIG_REGION_INDEX;
/// Number of fixed PCI regions.
pub const VFIO_PCI_NUM_REGIONS: u32 = bindings::VFIO_PCI_NUM_REGIONS;
/// Number of PCI interrupt indices (INTx, MSI, MSI-X, ERR, REQ).
pub const VFIO_PCI_NUM_IRQS: u32 = bindings::VFIO_PCI_NUM_IRQS;

/// `vfio_irq_info.flags`: the interrupt can be signalled through an eventfd.
pub const VFIO_IRQ_INFO_EVENTFD: u32 = bindings::VFIO_IRQ_INFO_EVENTFD;
/// `vfio_irq_info.flags`: the interrupt can be masked.
pub const VFIO_IRQ_INFO_MASKABLE: u32 = bindings::VFIO_IRQ_INFO_MASKABLE;
/// `vfio_irq_info.flags`: the interrupt is masked automatically when it fires.
pub const VFIO_IRQ_INFO_AUTOMASKED: u32 = bindings::VFIO_IRQ_INFO_AUTOMASKED;
/// `vfio_irq_info.flags`: the number of vectors cannot change while enabled.
pub const VFIO_IRQ_INFO_NORESIZE: u32 = bindings::VFIO_IRQ_INFO_NORESIZE;

/// Interrupt index of INTx.
pub const VFIO_PCI_INTX_IRQ_INDEX: u32 = bindings::VFIO_PCI_INTX_IRQ_INDEX;
/// Interrupt index of MSI.
pub const VFIO_PCI_MSI_IRQ_INDEX: u32 = bindings::VFIO_PCI_MSI_IRQ_INDEX;
/// Interrupt index of MSI-X.
pub const VFIO_PCI_MSIX_IRQ_INDEX: u32 = bindings::VFIO_PCI_MSIX_IRQ_INDEX;
/// Interrupt index of the error (AER) notification.
pub const VFIO_PCI_ERR_IRQ_INDEX: u32 = bindings::VFIO_PCI_ERR_IRQ_INDEX;
/// Interrupt index of the device request notification.
pub const VFIO_PCI_REQ_IRQ_INDEX: u32 = bindings::VFIO_PCI_REQ_IRQ_INDEX;

/// `vfio_irq_set.flags`: no data (loopback triggers, unmask, disable with count 0).
pub const VFIO_IRQ_SET_DATA_NONE: u32 = bindings::VFIO_IRQ_SET_DATA_NONE;
/// `vfio_irq_set.flags`: one `u8` boolean per vector.
pub const VFIO_IRQ_SET_DATA_BOOL: u32 = bindings::VFIO_IRQ_SET_DATA_BOOL;
/// `vfio_irq_set.flags`: one `s32` eventfd file descriptor per vector (-1: none).
pub const VFIO_IRQ_SET_DATA_EVENTFD: u32 = bindings::VFIO_IRQ_SET_DATA_EVENTFD;
/// `vfio_irq_set.flags`: the data bits.
pub const VFIO_IRQ_SET_DATA_TYPE_MASK: u32 = bindings::VFIO_IRQ_SET_DATA_TYPE_MASK;
/// `vfio_irq_set.flags`: mask the interrupt.
pub const VFIO_IRQ_SET_ACTION_MASK: u32 = bindings::VFIO_IRQ_SET_ACTION_MASK;
/// `vfio_irq_set.flags`: unmask the interrupt.
pub const VFIO_IRQ_SET_ACTION_UNMASK: u32 = bindings::VFIO_IRQ_SET_ACTION_UNMASK;
/// `vfio_irq_set.flags`: set up or fire the interrupt's signalling.
pub const VFIO_IRQ_SET_ACTION_TRIGGER: u32 = bindings::VFIO_IRQ_SET_ACTION_TRIGGER;
/// `vfio_irq_set.flags`: the action bits.
pub const VFIO_IRQ_SET_ACTION_TYPE_MASK: u32 = bindings::VFIO_IRQ_SET_ACTION_TYPE_MASK;
