// SPDX-License-Identifier: GPL-2.0

//! The PCI driver: binds through `driver_override` and registers a VFIO device per function.

use crate::{
    device::RvfioDevice,
    engine::regs::PCI_HEADER_TYPE_NORMAL,
    personality::{
        Personality,
        Plain, //
    }, //
};
use kernel::{
    device::Core,
    pci,
    prelude::*,
    vfio, //
};

/// Device IDs (Intel) that vfio-pci refuses: known errata make them exploitable by an
/// untrusted user (QAT C3xxx, C62x and DH895xCC PFs and VFs, DSA and IAX on Sapphire Rapids).
const INTEL_DENYLIST: [u16; 8] = [
    0x19e2, 0x19e3, 0x37c8, 0x37c9, 0x0435, 0x0443, 0x0b25, 0x0cfe,
];

/// Whether probing `pdev` is refused because of the denylist (as vfio-pci decides it).
fn denylisted(pdev: &pci::Device<Core<'_>>) -> bool {
    if pdev.vendor_id() != pci::Vendor::INTEL || !INTEL_DENYLIST.contains(&pdev.device_id()) {
        return false;
    }
    if crate::module_parameters::disable_denylist.value() {
        dev_warn!(
            pdev,
            "device denylist disabled - allowing device {:04x}:{:04x}\n",
            pdev.vendor_id().as_raw(),
            pdev.device_id()
        );
        return false;
    }
    dev_warn!(
        pdev,
        "{:04x}:{:04x} is in the device denylist, driver probing disallowed\n",
        pdev.vendor_id().as_raw(),
        pdev.device_id()
    );
    true
}

/// The rvfio-pci PCI driver.
pub(crate) struct RvfioPci;

kernel::pci_device_table!(
    PCI_TABLE,
    <RvfioPci as pci::Driver>::IdInfo,
    [(pci::DeviceId::any_vfio_driver_override(), PLAIN)]
);

/// Every device's personality so far.
const PLAIN: &dyn Personality = &Plain;

impl pci::Driver for RvfioPci {
    type IdInfo = &'static dyn Personality;
    type Data<'bound> = vfio::Registration<'bound, RvfioDevice>;

    const ID_TABLE: pci::IdTable<Self::IdInfo> = &PCI_TABLE;
    // User space programs the IOMMU domain: the DMA API must not claim it at probe.
    const DRIVER_MANAGED_DMA: bool = true;

    fn probe<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        id_info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        let personality = id_info.copied().unwrap_or(PLAIN);
        // As vfio-pci: bridges and other header types are not assignable.
        if pdev.header_type() != PCI_HEADER_TYPE_NORMAL {
            return Err(EINVAL);
        }
        if denylisted(pdev) {
            return Err(EINVAL);
        }
        // As vfio-pci: a PF whose VFs already exist is in use by the host.
        if pdev.num_vf() != 0 {
            dev_warn!(pdev, "cannot bind to PF with SR-IOV enabled\n");
            return Err(EBUSY);
        }
        let sriov = crate::sriov::probe(pdev)?;
        // SAFETY: The registration is returned as the driver data, which the PCI core keeps
        // until the device is unbound, and `unbind` unregisters it first.
        let reg = unsafe {
            vfio::Registration::<RvfioDevice>::new_physical(
                pdev,
                RvfioDevice::new(pdev, sriov, personality),
                crate::hotreset::set_id(pdev),
            )
        }
        .inspect_err(|e| dev_err!(pdev, "cannot register the VFIO device: {:?}\n", e))?;
        dev_dbg!(pdev, "registered with VFIO\n");
        Ok(reg)
    }

    const HAS_ERROR_DETECTED: bool = true;

    fn error_detected<'bound>(
        _pdev: &'bound pci::Device<Core<'_>>,
        this: Pin<&Self::Data<'bound>>,
        _state: u32,
    ) -> pci::ErsResult {
        // As vfio-pci: tell user space (ERR) and let recovery go on.
        crate::irq::error_detected(&this.device().notify);
        pci::ErsResult::CanRecover
    }

    const HAS_SRIOV_CONFIGURE: bool = true;

    fn sriov_configure<'bound>(
        pdev: &'bound pci::Device<Core<'_>>,
        this: Pin<&Self::Data<'bound>>,
        nr_virtfn: u32,
    ) -> Result<u32> {
        let dev = this.bound(pdev.as_ref()).ok_or(ENODEV)?;
        crate::sriov::configure(dev, pdev, nr_virtfn)
    }

    fn unbind<'bound>(pdev: &'bound pci::Device<Core<'_>>, this: Pin<&Self::Data<'bound>>) {
        // As vfio-pci: the VFs go first (their users are asked to let go).
        if let Some(dev) = this.bound(pdev.as_ref()) {
            crate::sriov::disable(dev, pdev);
        }
        // Wait for user space to let go while the device is still bound, as vfio-pci's remove.
        this.unregister();
    }
}
