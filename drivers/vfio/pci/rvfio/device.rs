// SPDX-License-Identifier: GPL-2.0

//! Per-device state and the VFIO device operations.

use crate::{
    engine::{
        args,
        msix,
        regs::{
            PCI_COMMAND,
            PCI_COMMAND_INTX_DISABLE, //
        }, //
    },
    function::Function,
    hotreset,
    ioeventfd::IoEventFds,
    irq::{
        self,
        Irqs,
        Notify, //
    },
    memory::{
        Memory,
        MemoryLock, //
    },
    personality::Personality,
    power::Power,
    regions,
    sriov::{
        self,
        Sriov, //
    },
    vconfig::{
        self,
        VConfig, //
    }, //
};
use core::sync::atomic::{
    AtomicBool,
    AtomicU8,
    Ordering, //
};
use kernel::{
    device::{
        Bound,
        DeviceContext, //
    },
    eventfd::EventFd,
    new_mutex,
    new_spinlock,
    pci,
    prelude::*,
    sync::{
        Arc,
        Mutex,
        SpinLock, //
    },
    vfio::{
        self,
        uapi, //
    }, //
};

/// What exists only while user space has the device open: made by `open_device`, dropped by
/// `close_device` once it has put the function back.
#[pin_data]
pub(crate) struct OpenDevice {
    /// The function reset worked at open (`VFIO_DEVICE_FLAGS_RESET`).
    pub(crate) reset_works: bool,
    /// Vector counts per VFIO interrupt index, as read at open (vfio-pci reads them from its
    /// copy of configuration space).
    pub(crate) irq_counts: [u32; 5],
    /// The MSI-X table, as read at open.
    pub(crate) msix_table: Option<msix::Table>,
    /// INTx can be masked through COMMAND (PCI 2.3).
    pub(crate) pci_2_3: bool,
    /// INTx is hidden from user space (a device with broken INTx masking).
    pub(crate) nointx: bool,
    /// What changes while the device is open. Its lock serialises `SET_IRQS`, configuration
    /// accesses, ioeventfd changes, BAR claims and close (vfio-pci's `igate` and more).
    #[pin]
    pub(crate) state: Mutex<OpenState>,
}

/// The changing part of [`OpenDevice`].
pub(crate) struct OpenState {
    /// The device's state as it was at open, restored at close.
    saved: Option<pci::SavedState>,
    /// BARs claimed for user space and mapped into the kernel on first access or mmap,
    /// released at close.
    pub(crate) bars: [Option<Arc<pci::IoMap>>; 6],
    /// The virtual configuration space.
    pub(crate) config: VConfig,
    /// The interrupts user space set up.
    pub(crate) irqs: Irqs,
    /// BAR writes triggered by eventfds.
    pub(crate) ioeventfds: IoEventFds,
}

/// One PCI function owned by rvfio-pci.
#[pin_data]
pub(crate) struct RvfioDevice {
    /// The memory lock and gate.
    #[pin]
    pub(crate) memory: MemoryLock,
    /// Power management facts: state lost in D3hot, SR-IOV keeping a PF in D0.
    pub(crate) power: Power,
    /// The ERR and REQ eventfds.
    #[pin]
    pub(crate) notify: SpinLock<Notify>,
    /// log2 of the MSI vectors last enabled: kept across opens, as vfio-pci's `msi_qmax`.
    pub(crate) msi_qmax: AtomicU8,
    /// The function was closed without a function reset: a slot or bus reset is due once no
    /// function of the device set is open (vfio-pci's `needs_reset`). Changed under the device
    /// set's lock.
    pub(crate) needs_reset: AtomicBool,
    /// The function's part in SR-IOV: a PF's VF token, a VF's PF token.
    pub(crate) sriov: Sriov,
    /// What this device does differently, chosen at probe.
    pub(crate) personality: &'static dyn Personality,
}

impl RvfioDevice {
    pub(crate) fn new<'a>(
        pdev: &'a pci::Device<Bound>,
        sriov: Sriov,
        personality: &'static dyn Personality,
    ) -> impl PinInit<Self, Error> + 'a {
        try_pin_init!(Self {
            memory <- MemoryLock::new(),
            power: Power::probe(pdev),
            notify <- new_spinlock!(Notify::default()),
            msi_qmax: AtomicU8::new(0),
            needs_reset: AtomicBool::new(false),
            sriov,
            personality,
        })
    }
}

/// Lends the function to a feature module (see [`Function`]).
pub(crate) fn function(dev: &vfio::Device<RvfioDevice, Bound>) -> Function<'_> {
    Function {
        pdev: dev.parent(),
        memory: &dev.memory,
        power: &dev.power,
        mappings: dev.mappings(),
    }
}

/// `VFIO_DEVICE_RESET` (`vfio_pci_ioctl_reset()`): back to D0, then a function reset under the
/// memory lock with user mappings zapped first. Interrupts stay set up: the PCI core restores
/// MSI/MSI-X state after the reset.
fn reset(dev: &vfio::Device<RvfioDevice, Bound>, open: &OpenDevice) -> Result<isize> {
    if !open.reset_works {
        return Err(EINVAL);
    }
    function(dev).reset(true)?;
    dev.personality.reset(function(dev));
    Ok(0)
}

/// `read(2)` or `write(2)`: the personality's, or the regions'.
fn rw(
    dev: &vfio::Device<RvfioDevice, Bound>,
    open: &OpenDevice,
    mut buf: regions::UserBuf<'_>,
    offset: u64,
) -> Result<usize> {
    if let Some(done) = dev.personality.region_rw(function(dev), &mut buf, offset) {
        return done;
    }
    regions::rw(function(dev), open, buf, offset)
}

#[vtable]
impl vfio::Operations for RvfioDevice {
    type ParentDevice<Ctx: DeviceContext> = pci::Device<Ctx>;
    type Open = Pin<KBox<OpenDevice>>;

    const NAME: &'static CStr = c"rvfio-pci";

    fn open_device(dev: &vfio::Device<Self, Bound>) -> Result<Self::Open> {
        let pdev = dev.parent();

        // As vfio-pci: the state saved at open must not include bus mastering.
        pdev.clear_master();
        pdev.enable_device()?;
        let reset = pdev.try_reset_function();
        if reset == Err(EAGAIN) {
            pdev.disable_device();
            return Err(EAGAIN);
        }
        let reset_works = reset.is_ok();
        let saved = pdev.store_saved_state();
        if saved.is_none() {
            dev_dbg!(pdev, "could not store the saved state\n");
        }
        let nointx = irq::nointx(pdev);
        let mut pci_2_3 = false;
        if nointx {
            dev_info!(pdev, "Masking broken INTx support\n");
            pdev.intx(false);
        } else {
            pci_2_3 = pdev.intx_mask_supported();
        }
        if pci_2_3 {
            if let Ok(cmd) = pdev.user_read_config_u16(PCI_COMMAND) {
                if cmd & PCI_COMMAND_INTX_DISABLE != 0 {
                    let _ =
                        pdev.user_write_config_u16(PCI_COMMAND, cmd & !PCI_COMMAND_INTX_DISABLE);
                }
            }
        }
        let mut config = match vconfig::build(pdev, nointx, dev.personality) {
            Ok(config) => config,
            Err(e) => {
                drop(saved);
                pdev.disable_device();
                return Err(e);
            }
        };
        config.msi_state.qmax = dev.msi_qmax.load(Ordering::Relaxed);
        let decode = config.memory_decode();
        let init = try_pin_init!(OpenDevice {
            reset_works,
            irq_counts: irq::counts(pdev, &config),
            msix_table: regions::msix_table(pdev),
            pci_2_3,
            nointx,
            state <- new_mutex!(OpenState {
                saved,
                bars: Default::default(),
                config,
                irqs: Irqs::default(),
                ioeventfds: IoEventFds::new(),
            }),
        });
        let open = KBox::pin_init(init, GFP_KERNEL).inspect_err(|_| pdev.disable_device())?;
        if let Err(e) = dev.personality.open(function(dev)) {
            drop(open);
            pdev.disable_device();
            return Err(e);
        }
        {
            let mut memory = dev.memory.lock();
            dev.memory.change(&mut memory, |m| {
                *m = Memory {
                    decode,
                    ..Memory::default()
                }
            });
        }
        sriov::vf_user(dev, true);
        Ok(open)
    }

    fn close_device(dev: &vfio::Device<Self, Bound>, open: Self::Open) {
        let pdev = dev.parent();
        let mut state = open.state.lock();
        sriov::vf_user(dev, false);
        dev.personality.close(function(dev));

        // The function may have been left in a low-power state.
        let _ = function(dev).set_power_state(0);
        pdev.clear_master();
        irq::teardown(function(dev), &dev.notify, &mut state, open.nointx);
        // Each waits for its handler; they hold BAR mappings released below.
        state.ioeventfds.clear();
        // As vfio_pci_core_disable(): a missing saved state counts as loaded (C's
        // pci_load_and_free_saved_state(NULL) succeeds); a failed load falls back to the
        // current state when the device can be reset, and skips the reset otherwise.
        let loaded = match state.saved.take() {
            Some(saved) => pdev.load_saved_state(saved).is_ok(),
            None => true,
        };
        let mut quiesce = true;
        if !loaded {
            dev_info!(pdev, "could not reload the saved state\n");
            if open.reset_works {
                pdev.save_state();
            } else {
                quiesce = false;
            }
        }
        let mut reset_done = false;
        if quiesce {
            // INTx disabled, no decode, no DMA until the state is restored.
            let _ = pdev.user_write_config_u16(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
            if open.reset_works {
                // Best effort, as vfio-pci: skipped when a lock is contended. The state loaded
                // above is restored below, not the quiesced one of this moment.
                reset_done = pdev.try_reset_function_unsaved().is_ok();
            }
            pdev.restore_state();
        }
        dev.needs_reset.store(!reset_done, Ordering::Relaxed);
        pdev.disable_device();
        drop(state);
        // Drops the BAR claims.
        drop(open);
        {
            let mut memory = dev.memory.lock();
            dev.memory.change(&mut memory, |m| *m = Memory::default());
        }
        // SAFETY: This is `close_device`.
        hotreset::reset_unused_set(pdev, unsafe { &dev.dev_set_held() });
    }

    fn read(
        dev: &vfio::Device<Self, Bound>,
        open: Pin<&OpenDevice>,
        buf: &mut kernel::uaccess::UserSliceWriter,
        offset: u64,
    ) -> Result<usize> {
        rw(dev, &open, regions::UserBuf::Read(buf), offset)
    }

    fn write(
        dev: &vfio::Device<Self, Bound>,
        open: Pin<&OpenDevice>,
        buf: &mut kernel::uaccess::UserSliceReader,
        offset: u64,
    ) -> Result<usize> {
        rw(dev, &open, regions::UserBuf::Write(buf), offset)
    }

    fn mmap(
        dev: &vfio::Device<Self, Bound>,
        open: Pin<&OpenDevice>,
        vma: &kernel::mm::virt::VmaNew,
    ) -> Result {
        regions::mmap(function(dev), &open, vma)?;
        // SAFETY: `vma` is a new mapping of this device's file (the VFIO core's mmap handler);
        // nothing in this driver sets `VM_MIXEDMAP`.
        unsafe { dev.map_on_fault(vma) }
    }

    fn ioctl(
        dev: &vfio::Device<Self, Bound>,
        open: Pin<&OpenDevice>,
        cmd: u32,
        arg: usize,
    ) -> Result<isize> {
        match cmd {
            uapi::VFIO_DEVICE_GET_INFO => {
                let mut flags = uapi::VFIO_DEVICE_FLAGS_PCI;
                if open.reset_works {
                    flags |= uapi::VFIO_DEVICE_FLAGS_RESET;
                }
                vfio::device_info(
                    arg,
                    flags,
                    uapi::VFIO_PCI_NUM_REGIONS,
                    uapi::VFIO_PCI_NUM_IRQS,
                )
            }
            uapi::VFIO_DEVICE_GET_IRQ_INFO => irq::info(dev.parent(), arg, &open.irq_counts),
            uapi::VFIO_DEVICE_SET_IRQS => {
                irq::set_irqs(function(dev), &dev.notify, &dev.msi_qmax, &open, arg)
            }
            uapi::VFIO_DEVICE_RESET => reset(dev, &open),
            uapi::VFIO_DEVICE_GET_PCI_HOT_RESET_INFO => hotreset::info(dev, arg),
            uapi::VFIO_DEVICE_PCI_HOT_RESET => hotreset::hot_reset(dev, arg),
            uapi::VFIO_DEVICE_IOEVENTFD => crate::ioeventfd::ioctl(dev, &open, arg),
            _ => Err(ENOTTY),
        }
    }

    fn request(dev: &vfio::Device<Self, Bound>, count: u32) {
        irq::request(dev.parent(), &dev.notify, count);
    }

    fn match_token(dev: &vfio::Device<Self, Bound>, token: Option<&[u8; 16]>) -> Result {
        sriov::match_token(dev, token)
    }

    fn device_feature(
        dev: &vfio::Device<Self, Bound>,
        _open: Pin<&OpenDevice>,
        flags: u32,
        arg: usize,
        argsz: usize,
    ) -> Result {
        let vf_token = dev.sriov.vf_token.is_some();
        let Some(feature) = args::Feature::parse(flags, argsz, vf_token)? else {
            // Only a probe.
            return Ok(());
        };
        match feature {
            args::Feature::VfToken => sriov::set_vf_token(dev, arg),
            args::Feature::LowPowerEntry => function(dev).low_power_entry(None),
            args::Feature::LowPowerEntryWithWakeup => {
                let fd = args::wakeup_eventfd(vfio::read_words::<2>(arg)?)?;
                function(dev).low_power_entry(Some(EventFd::from_fd(fd)?))
            }
            args::Feature::LowPowerExit => {
                function(dev).low_power_exit();
                Ok(())
            }
        }
    }

    fn fault(
        dev: &vfio::Device<Self, Bound>,
        _open: Pin<&OpenDevice>,
        fault: &vfio::Fault<'_>,
    ) -> vfio::VmFault {
        regions::fault(function(dev), fault)
    }

    fn region_info(
        dev: &vfio::Device<Self, Bound>,
        open: Pin<&OpenDevice>,
        index: u32,
        caps: &mut vfio::InfoCaps<'_>,
    ) -> Result<vfio::RegionInfo> {
        regions::info(function(dev), &open, index, caps)
    }
}
