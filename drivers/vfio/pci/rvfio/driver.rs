// SPDX-License-Identifier: GPL-2.0

//! The PCI driver: binds through `driver_override` and registers a VFIO device per function.

use crate::device::RvfioDevice;
use kernel::{
    device::Core,
    pci,
    prelude::*,
    vfio, //
};

/// The rvfio-pci PCI driver.
pub(crate) struct RvfioPci;

kernel::pci_device_table!(
    PCI_TABLE,
    <RvfioPci as pci::Driver>::IdInfo,
    [(pci::DeviceId::any_vfio_driver_override(), ())]
);

/// `PCI_HEADER_TYPE_NORMAL`: only endpoints (type 0 headers) can be assigned.
const PCI_HEADER_TYPE_NORMAL: u8 = 0;

impl pci::Driver for RvfioPci {
    type IdInfo = ();
    type Data<'bound> = vfio::Registration<'bound, RvfioDevice>;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;
    // User space programs the IOMMU domain: the DMA API must not claim it at probe.
    const DRIVER_MANAGED_DMA: bool = true;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        _id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        // As vfio-pci: bridges and other header types are not assignable.
        if pdev.header_type() != PCI_HEADER_TYPE_NORMAL {
            return Err(EINVAL);
        }
        let reg = vfio::Registration::new_physical(pdev.as_ref(), RvfioDevice::new(pdev))
            .inspect_err(|e| dev_err!(pdev, "cannot register the VFIO device: {:?}\n", e))?;
        dev_dbg!(pdev, "registered with VFIO\n");
        Ok(reg)
    }
}
