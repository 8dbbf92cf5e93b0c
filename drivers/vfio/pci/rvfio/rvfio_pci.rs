// SPDX-License-Identifier: GPL-2.0

//! rvfio-pci: a VFIO bus driver for PCI devices, written in Rust.
//!
//! Like vfio-pci, rvfio-pci gives user space (QEMU, DPDK, user-level drivers) ownership of a PCI
//! function through the VFIO API while the IOMMU protects the host. It implements the VFIO device
//! operations itself, without vfio-pci-core, on the Rust abstractions in `kernel::vfio` and
//! `kernel::pci`.
//!
//! Devices are bound only through `driver_override`:
//!
//! ```text
//! echo rvfio-pci > /sys/bus/pci/devices/$BDF/driver_override
//! echo $BDF > /sys/bus/pci/drivers_probe
//! ```
//!
//! Both VFIO access paths work: the iommufd character device (`/dev/vfio/devices/vfioN` with
//! `/dev/iommu`) and the legacy group and container (`/dev/vfio/$GROUP`).

mod access;
mod caps;
mod cfgspace;
mod config;
mod device;
mod driver;
mod hotreset;
mod ioeventfd;
mod irq;
mod regions;
mod regs;
mod sriov;

use kernel::{
    pci,
    prelude::*, //
};

module! {
    type: RvfioModule,
    name: "rvfio_pci",
    authors: ["rvfio-pci developers"],
    description: "VFIO PCI bus driver written in Rust",
    license: "GPL",
    params: {
        enable_sriov: bool {
            default: false,
            description: "Enable SR-IOV configuration (VFs need support from the PF's user)",
        },
        disable_denylist: bool {
            default: false,
            description: "Allow devices with errata exploitable by their user (as vfio-pci's)",
        },
    },
}

/// The module: registers the PCI driver.
///
/// Not `module_pci_driver!`, which names the driver after the module: like vfio-pci (module
/// `vfio_pci`, driver `vfio-pci`) the driver users write into `driver_override` is `rvfio-pci`.
#[pin_data]
struct RvfioModule {
    #[pin]
    _driver: kernel::driver::Registration<pci::Adapter<driver::RvfioPci>>,
    /// Dropped after the driver (fields drop in order), once every PF has left the list.
    _sriov: sriov::PfList,
}

impl kernel::InPlaceModule for RvfioModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // SAFETY: Once, before the driver is registered.
        unsafe { sriov::init() };
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(c"rvfio-pci", module),
            _sriov: sriov::PfList,
        })
    }
}
