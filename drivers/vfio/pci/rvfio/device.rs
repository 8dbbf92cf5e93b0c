// SPDX-License-Identifier: GPL-2.0

//! Per-device state and the VFIO device operations.

use crate::{
    args,
    cfgspace::{
        self,
        VConfig, //
    },
    hotreset,
    ioeventfd::IoEventFds,
    irq::{
        self,
        Irqs,
        Notify, //
    },
    regions,
    regs::{
        PCI_COMMAND,
        PCI_COMMAND_INTX_DISABLE,
        PCI_PM_CTRL,
        PCI_PM_CTRL_NO_SOFT_RESET, //
    }, //
    sriov::{
        self,
        Sriov, //
    },
};
use core::sync::atomic::{
    AtomicBool,
    AtomicU8,
    Ordering, //
};
use kernel::{
    device::Bound,
    eventfd::EventFd,
    new_mutex,
    new_spinlock,
    new_spinlock_irq,
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex,
        SpinLock,
        SpinLockIrq, //
    },
    vfio::{
        self,
        uapi, //
    }, //
};

/// What exists only while user space has the device open.
#[derive(Default)]
pub(crate) struct OpenState {
    /// The function reset worked at open (`VFIO_DEVICE_FLAGS_RESET`).
    pub(crate) reset_works: bool,
    /// The device's state as it was at open, restored at close.
    saved: Option<pci::SavedState>,
    /// BARs claimed for user space and mapped into the kernel on first access or mmap,
    /// released at close.
    pub(crate) bars: [Option<Arc<pci::IoMap>>; 6],
    /// Vector counts per VFIO interrupt index, as read at open (vfio-pci reads them from its
    /// copy of configuration space).
    pub(crate) irq_counts: [u32; 5],
    /// The MSI-X table: its BAR and byte range, as read at open.
    pub(crate) msix_table: Option<(u32, u64, u64)>,
    /// The virtual configuration space.
    pub(crate) config: Option<VConfig>,
    /// INTx can be masked through COMMAND (PCI 2.3).
    pub(crate) pci_2_3: bool,
    /// INTx is hidden from user space (a device with broken INTx masking).
    pub(crate) nointx: bool,
    /// The interrupts user space set up.
    pub(crate) irqs: Irqs,
    /// BAR writes triggered by eventfds.
    pub(crate) ioeventfds: IoEventFds,
}

/// What the memory lock protects: whether BARs may be accessed (vfio-pci's
/// `__vfio_pci_memory_enabled()`).
#[derive(Default)]
pub(crate) struct Memory {
    /// The virtual COMMAND register enables memory decode (or the function has no such bit).
    pub(crate) decode: bool,
    /// The function is in D3hot or deeper.
    pub(crate) low_power: bool,
    /// The state saved on entering D3hot, for functions that lose it there.
    pub(crate) pm_save: Option<pci::SavedState>,
    /// User space asked for low power (`VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY*`): mappings stay
    /// zapped until it leaves (vfio-pci's `pm_runtime_engaged`).
    pub(crate) pm_engaged: bool,
    /// The wake-up eventfd given with the entry, kept until the exit.
    pub(crate) pm_wake: Option<EventFd>,
}

impl Memory {
    /// Whether BAR accesses and mapping faults may reach the device.
    pub(crate) fn enabled(&self) -> bool {
        self.decode && !self.low_power
    }
}

/// The memory gate's states.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Memory is disabled (or the device is closed).
    Off,
    /// Memory is enabled.
    On,
    /// The memory state is being changed under the memory lock: wait for it there.
    Changing,
}

impl Gate {
    fn from(memory: &Memory) -> Self {
        if memory.enabled() {
            Self::On
        } else {
            Self::Off
        }
    }
}

/// One PCI function owned by rvfio-pci.
#[pin_data]
pub(crate) struct RvfioDevice {
    /// The function; the VFIO device's parent.
    pub(crate) pdev: ARef<pci::Device>,
    /// Open-time state. The VFIO core serialises open and close (device-set lock); this lock
    /// orders them against the other callbacks.
    #[pin]
    pub(crate) open: Mutex<OpenState>,
    /// vfio-pci's memory lock: serialises BAR accesses and mapping faults against everything
    /// that turns memory off (COMMAND writes, power states, resets) and the zap that precedes
    /// it. Taken after `open` when both are held; never held across a user copy.
    #[pin]
    pub(crate) memory: Mutex<Memory>,
    /// The memory gate: what atomic contexts (ioeventfds) may know of the memory state. Set to
    /// `Changing` under the memory lock before anything that may turn memory off runs, and to
    /// the new state after; a write made under this lock while it reads `On` never reaches a
    /// BAR whose decode is off. Held only for a store or one MMIO write.
    #[pin]
    pub(crate) mmio: SpinLockIrq<Gate>,
    /// The ERR and REQ eventfds.
    #[pin]
    pub(crate) notify: SpinLock<Notify>,
    /// log2 of the MSI vectors last enabled: kept across opens, as vfio-pci's `msi_qmax`.
    pub(crate) msi_qmax: AtomicU8,
    /// The function loses its state in D3hot (no `PCI_PM_CTRL_NO_SOFT_RESET`), probed at bind.
    pub(crate) needs_pm_restore: bool,
    /// The function was closed without a function reset: a slot or bus reset is due once no
    /// function of the device set is open (vfio-pci's `needs_reset`). Changed under the device
    /// set's lock.
    pub(crate) needs_reset: AtomicBool,
    /// The function's part in SR-IOV: a PF's VF token, a VF's PF token.
    pub(crate) sriov: Sriov,
    /// A PF has SR-IOV enabled: it must stay in D0 (vfio-pci's `sriov_active`).
    pub(crate) sriov_active: AtomicBool,
}

impl RvfioDevice {
    /// Runs `f`, which may turn memory off or on, with the memory gate closed; reopens it if
    /// memory is enabled afterwards. The caller holds the memory lock (`memory`).
    pub(crate) fn memory_change<R>(
        &self,
        memory: &mut Memory,
        f: impl FnOnce(&mut Memory) -> R,
    ) -> R {
        self.gate_close();
        let r = f(memory);
        self.gate_open(memory);
        r
    }

    /// Closes the memory gate, waiting for an ioeventfd write in flight. The caller holds the
    /// memory lock and calls [`RvfioDevice::gate_open`] before releasing it.
    pub(crate) fn gate_close(&self) {
        *self.mmio.lock() = Gate::Changing;
    }

    /// Reopens the memory gate on `memory`'s state. The caller holds the memory lock.
    pub(crate) fn gate_open(&self, memory: &Memory) {
        *self.mmio.lock() = Gate::from(memory);
    }

    pub(crate) fn new(pdev: &pci::Device<Bound>, sriov: Sriov) -> impl PinInit<Self, Error> + '_ {
        let pm_restore = needs_pm_restore(pdev);
        try_pin_init!(Self {
            pdev: pdev.into(),
            open <- new_mutex!(OpenState::default()),
            memory <- new_mutex!(Memory::default()),
            mmio <- new_spinlock_irq!(Gate::Off),
            notify <- new_spinlock!(Notify::default()),
            msi_qmax: AtomicU8::new(0),
            needs_pm_restore: pm_restore,
            needs_reset: AtomicBool::new(false),
            sriov,
            sriov_active: AtomicBool::new(false),
        })
    }
}

/// Whether the function loses its state in D3hot (`vfio_pci_probe_power_state()`).
fn needs_pm_restore(pdev: &pci::Device<Bound>) -> bool {
    match pdev.pm_cap() {
        0 => false,
        cap => pdev
            .user_read_config_u16(u16::from(cap) + PCI_PM_CTRL)
            .is_ok_and(|ctrl| ctrl & PCI_PM_CTRL_NO_SOFT_RESET == 0),
    }
}

/// `VFIO_DEVICE_RESET` (`vfio_pci_ioctl_reset()`): back to D0, then a function reset under the
/// memory lock with user mappings zapped first. Interrupts stay set up: the PCI core restores
/// MSI/MSI-X state after the reset.
fn reset(dev: &vfio::Device<RvfioDevice, Bound>) -> Result<isize> {
    let pdev = bound_pdev(dev)?;
    if !dev.open.lock().reset_works {
        return Err(EINVAL);
    }
    // One hold of the memory lock from the zap to the end of the reset: nothing (a D3hot
    // written to configuration space) comes between the return to D0 and the reset.
    let mut memory = dev.memory.lock();
    cfgspace::zap_bars(dev);
    dev.memory_change(&mut memory, |m| {
        // A reset from a low-power state would reach D0 without restoring what D3hot lost.
        let _ = cfgspace::set_power_state_locked(dev, pdev, m, 0);
        let ret = pdev.try_reset_function();
        m.low_power = pdev.current_state() >= cfgspace::D3HOT;
        ret
    })?;
    Ok(0)
}

/// Returns the PCI function of a callback's VFIO device, bound to this driver.
pub(crate) fn bound_pdev(dev: &vfio::Device<RvfioDevice, Bound>) -> Result<&pci::Device<Bound>> {
    dev.parent().try_into()
}

#[vtable]
impl vfio::Operations for RvfioDevice {
    const NAME: &'static CStr = c"rvfio-pci";

    fn open_device(dev: &vfio::Device<Self, Bound>) -> Result {
        let pdev = bound_pdev(dev)?;
        let mut open = dev.open.lock();

        // As vfio-pci: the state saved at open must not include bus mastering.
        pdev.clear_master();
        pdev.enable_device()?;
        let reset = pdev.try_reset_function();
        if reset == Err(EAGAIN) {
            pdev.disable_device();
            return Err(EAGAIN);
        }
        open.reset_works = reset.is_ok();
        open.saved = pdev.store_saved_state();
        if open.saved.is_none() {
            dev_dbg!(pdev, "could not store the saved state\n");
        }
        let nointx = irq::nointx(pdev);
        open.nointx = nointx;
        if nointx {
            dev_info!(pdev, "Masking broken INTx support\n");
            pdev.intx(false);
        } else {
            open.pci_2_3 = pdev.intx_mask_supported();
        }
        if open.pci_2_3 {
            if let Ok(cmd) = pdev.user_read_config_u16(PCI_COMMAND) {
                if cmd & PCI_COMMAND_INTX_DISABLE != 0 {
                    let _ =
                        pdev.user_write_config_u16(PCI_COMMAND, cmd & !PCI_COMMAND_INTX_DISABLE);
                }
            }
        }
        let mut config = match cfgspace::build(pdev, nointx) {
            Ok(config) => config,
            Err(e) => {
                *open = OpenState::default();
                pdev.disable_device();
                return Err(e);
            }
        };
        config.msi_state.qmax = dev.msi_qmax.load(Ordering::Relaxed);
        {
            let mut memory = dev.memory.lock();
            dev.memory_change(&mut memory, |m| {
                *m = Memory {
                    decode: config.memory_decode(),
                    ..Memory::default()
                }
            });
        }
        open.irq_counts = irq::counts(pdev, &config);
        open.config = Some(config);
        open.msix_table = regions::msix_table(pdev);
        sriov::vf_user(dev, true);
        Ok(())
    }

    fn close_device(dev: &vfio::Device<Self, Bound>) {
        let Ok(pdev) = bound_pdev(dev) else {
            return;
        };
        let mut open = dev.open.lock();
        sriov::vf_user(dev, false);

        // The function may have been left in a low-power state.
        let _ = cfgspace::set_power_state(dev, pdev, 0);
        pdev.clear_master();
        irq::teardown(dev, pdev, &mut open);
        // Each waits for its handler; they hold BAR mappings released below.
        open.ioeventfds.clear();
        // As vfio_pci_core_disable(): a missing saved state counts as loaded (C's
        // pci_load_and_free_saved_state(NULL) succeeds); a failed load falls back to the
        // current state when the device can be reset, and skips the reset otherwise.
        let loaded = match open.saved.take() {
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
        // Drops the BAR claims.
        *open = OpenState::default();
        drop(open);
        {
            let mut memory = dev.memory.lock();
            dev.memory_change(&mut memory, |m| *m = Memory::default());
        }
        // SAFETY: This is `close_device`.
        hotreset::reset_unused_set(pdev, unsafe { &dev.dev_set_held() });
    }

    fn read(
        dev: &vfio::Device<Self, Bound>,
        buf: &mut kernel::uaccess::UserSliceWriter,
        offset: u64,
    ) -> Result<usize> {
        regions::rw(dev, regions::UserBuf::Read(buf), offset)
    }

    fn write(
        dev: &vfio::Device<Self, Bound>,
        buf: &mut kernel::uaccess::UserSliceReader,
        offset: u64,
    ) -> Result<usize> {
        regions::rw(dev, regions::UserBuf::Write(buf), offset)
    }

    fn mmap(dev: &vfio::Device<Self, Bound>, vma: &kernel::mm::virt::VmaNew) -> Result {
        regions::mmap(dev, vma)
    }

    fn ioctl(dev: &vfio::Device<Self, Bound>, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            uapi::VFIO_DEVICE_GET_INFO => {
                let mut flags = uapi::VFIO_DEVICE_FLAGS_PCI;
                if dev.open.lock().reset_works {
                    flags |= uapi::VFIO_DEVICE_FLAGS_RESET;
                }
                vfio::device_info(
                    arg,
                    flags,
                    uapi::VFIO_PCI_NUM_REGIONS,
                    uapi::VFIO_PCI_NUM_IRQS,
                )
            }
            uapi::VFIO_DEVICE_GET_IRQ_INFO => {
                let counts = dev.open.lock().irq_counts;
                irq::info(dev, arg, &counts)
            }
            uapi::VFIO_DEVICE_SET_IRQS => irq::set_irqs(dev, arg),
            uapi::VFIO_DEVICE_RESET => reset(dev),
            uapi::VFIO_DEVICE_GET_PCI_HOT_RESET_INFO => hotreset::info(dev, arg),
            uapi::VFIO_DEVICE_PCI_HOT_RESET => hotreset::hot_reset(dev, arg),
            uapi::VFIO_DEVICE_IOEVENTFD => crate::ioeventfd::ioctl(dev, arg),
            _ => Err(ENOTTY),
        }
    }

    fn request(dev: &vfio::Device<Self, Bound>, count: u32) {
        irq::request(dev, count);
    }

    fn match_token(dev: &vfio::Device<Self, Bound>, token: Option<&[u8; 16]>) -> Result {
        sriov::match_token(dev, token)
    }

    fn device_feature(
        dev: &vfio::Device<Self, Bound>,
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
            args::Feature::LowPowerEntry => cfgspace::low_power_entry(dev, None),
            args::Feature::LowPowerEntryWithWakeup => {
                let fd = args::wakeup_eventfd(vfio::read_words::<2>(arg)?)?;
                cfgspace::low_power_entry(dev, Some(EventFd::from_fd(fd)?))
            }
            args::Feature::LowPowerExit => {
                cfgspace::low_power_exit(dev);
                Ok(())
            }
        }
    }

    fn fault(dev: &vfio::Device<Self, Bound>, fault: &vfio::Fault<'_>) -> vfio::VmFault {
        regions::fault(dev, fault)
    }

    fn region_info(
        dev: &vfio::Device<Self, Bound>,
        index: u32,
        caps: &mut vfio::InfoCaps<'_>,
    ) -> Result<vfio::RegionInfo> {
        regions::info(dev, index, caps)
    }
}
