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
//!
//! # Modules
//!
//! - [`driver`]: the PCI driver: probe (with vfio-pci's refusals), the VFIO registration, the
//!   error and SR-IOV callbacks, unbind.
//! - [`device`]: the per-device data, the data of an open device (made at open, dropped at
//!   close) and the VFIO device operations, which hand each feature module what it needs.
//! - [`function`]: the function as the feature modules see it (PCI device, memory lock, power,
//!   file mappings): power changes and resets with the mappings zapped, MSI-X table writes
//!   with memory on; [`memory`]: the memory lock and gate; [`power`]: D0 and D3hot.
//! - [`personality`]: what rvfio-pci does differently for some devices, chosen at probe.
//! - The features: [`vconfig`] (configuration space, the engine's kernel side), [`regions`]
//!   (region info, BAR and ROM access, mmap and faults), [`irq`] (INTx, MSI, MSI-X, ERR, REQ),
//!   [`ioeventfd`], [`hotreset`] (hot reset and device sets) and [`sriov`] (VFs, VF token).
//! - [`engine`]: the kernel-independent core (`core` only), which the host tests and fuzz
//!   targets compile too.
//!
//! # Locks
//!
//! From outer to inner: a lock is taken only with locks above it held, never one below.
//!
//! 1. A PF's device lock (`sriov_configure`, unbind).
//! 2. The VFIO device set's lock (`kernel::vfio::devset`): the VFIO core holds it around open
//!    and close, hot reset takes it; the driver makes no user copy under it.
//! 3. The open device's state lock: `SET_IRQS`, configuration accesses, BAR claims, ioeventfd
//!    changes and close.
//! 4. The memory lock; a hot reset takes those of several members, with `try_lock`. A
//!    mapping fault takes it under the mmap lock, and the zap takes the file's mapping locks
//!    under it.
//! 5. Spinlocks: the memory gate and the INTx state, held for a store or one access and never
//!    while an eventfd is signalled; the INTx trigger and the ERR and REQ eventfds, held while
//!    their eventfd is signalled, whose wakeups (an ioeventfd, an INTx unmask eventfd) may
//!    take the gate or the INTx state inside them.
//!
//! The VF token's mutex and the list of PFs with SR-IOV enabled are leaves: no other lock is
//! taken while either is held.

mod device;
mod driver;
mod engine;
mod function;
mod hotreset;
mod ioeventfd;
mod irq;
mod memory;
mod personality;
mod power;
mod regions;
mod sriov;
mod vconfig;

use engine::args;
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
