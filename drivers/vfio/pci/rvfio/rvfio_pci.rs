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
mod args;
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
    prelude::*,
    vfio::uapi, //
};

impl From<args::Errno> for Error {
    fn from(e: args::Errno) -> Self {
        match e {
            args::Errno::Inval => EINVAL,
            args::Errno::NoTty => ENOTTY,
            args::Errno::NoSpc => ENOSPC,
            args::Errno::Range => ERANGE,
        }
    }
}

// The argument checks' own copy of the UAPI values (they build without the kernel) agrees with
// the kernel's.
const _: () = {
    assert!(args::NUM_IRQS == uapi::VFIO_PCI_NUM_IRQS);
    assert!(args::IRQ_SET_DATA_NONE == uapi::VFIO_IRQ_SET_DATA_NONE);
    assert!(args::IRQ_SET_DATA_BOOL == uapi::VFIO_IRQ_SET_DATA_BOOL);
    assert!(args::IRQ_SET_DATA_EVENTFD == uapi::VFIO_IRQ_SET_DATA_EVENTFD);
    assert!(args::IRQ_SET_DATA_TYPE_MASK == uapi::VFIO_IRQ_SET_DATA_TYPE_MASK);
    assert!(args::IRQ_SET_ACTION_TYPE_MASK == uapi::VFIO_IRQ_SET_ACTION_TYPE_MASK);
    assert!(args::IOEVENTFD_SIZE_MASK == uapi::VFIO_DEVICE_IOEVENTFD_SIZE_MASK);
    assert!(args::FEATURE_MASK == uapi::VFIO_DEVICE_FEATURE_MASK);
    assert!(args::FEATURE_GET == uapi::VFIO_DEVICE_FEATURE_GET);
    assert!(args::FEATURE_SET == uapi::VFIO_DEVICE_FEATURE_SET);
    assert!(args::FEATURE_PROBE == uapi::VFIO_DEVICE_FEATURE_PROBE);
    assert!(args::FEATURE_PCI_VF_TOKEN == uapi::VFIO_DEVICE_FEATURE_PCI_VF_TOKEN);
    assert!(args::FEATURE_LOW_POWER_ENTRY == uapi::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
    assert!(
        args::FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP
            == uapi::VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP
    );
    assert!(args::FEATURE_LOW_POWER_EXIT == uapi::VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
    assert!(args::REGION_READ == uapi::VFIO_REGION_INFO_FLAG_READ);
    assert!(args::REGION_WRITE == uapi::VFIO_REGION_INFO_FLAG_WRITE);
    assert!(args::REGION_MMAP == uapi::VFIO_REGION_INFO_FLAG_MMAP);
    assert!(args::BAR5_REGION_INDEX == uapi::VFIO_PCI_BAR5_REGION_INDEX);
    assert!(args::ROM_REGION_INDEX == uapi::VFIO_PCI_ROM_REGION_INDEX);
    assert!(args::CONFIG_REGION_INDEX == uapi::VFIO_PCI_CONFIG_REGION_INDEX);
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
