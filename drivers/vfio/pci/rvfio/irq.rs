// SPDX-License-Identifier: GPL-2.0

//! Interrupts: what the device offers (`VFIO_DEVICE_GET_IRQ_INFO`) and their forwarding to
//! user space through eventfds (`VFIO_DEVICE_SET_IRQS`): INTx with automasking and the three
//! ways to unmask it, MSI and MSI-X with one eventfd per vector, and the ERR and REQ
//! notifications. The semantics, errno for errno, are vfio-pci's (`vfio_pci_intrs.c`).
//!
//! Locking: the interrupt state lives in the open device's state, whose lock serialises
//! `SET_IRQS`, configuration writes (the INTx-disable bit) and close. What the hard interrupt
//! handler and the unmask eventfd touch is under the INTx spinlock.

use crate::{
    device::{
        OpenDevice,
        OpenState, //
    },
    engine::{
        args,
        caps::PCI_INTERRUPT_PIN,
        msix,
        regs::{
            IRQ_NOTCONNECTED,
            PCI_MSI_FLAGS,
            PCI_MSI_FLAGS_QMASK, //
        }, //
    },
    function::Function,
    vconfig::VConfig, //
};
use core::sync::atomic::{
    AtomicU8,
    Ordering, //
};
use kernel::{
    device::Bound,
    eventfd::EventFd,
    irq::IrqReturn,
    new_spinlock_irq,
    pci,
    prelude::*,
    str::CString,
    sync::{
        aref::ARef,
        Arc,
        SpinLock,
        SpinLockIrq, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    }, //
    vfio::{
        self,
        irq::{
            IrqControl,
            IrqHandler,
            IrqKind,
            IrqLine, //
        },
        uapi,
        virqfd::{
            Virqfd,
            VirqfdHandler, //
        }, //
    },
};

/// The payload of a `VFIO_DEVICE_SET_IRQS` request.
enum IrqData {
    /// No data.
    None,
    /// One boolean per vector.
    Bool(KVec<u8>),
    /// One eventfd file descriptor per vector (-1: none).
    EventFd(KVec<i32>),
}

/// A `VFIO_DEVICE_SET_IRQS` request: the header checked by [`args::IrqSet::parse`] and the
/// payload.
struct SetIrqs {
    /// `VFIO_IRQ_SET_*` data and action flags (exactly one data type).
    flags: u32,
    /// The interrupt index.
    index: u32,
    /// The first vector.
    start: u32,
    /// The number of vectors (`start + count` does not exceed the index's count).
    count: u32,
    /// The payload: `count` entries for `BOOL` and `EVENTFD`.
    data: IrqData,
}

impl SetIrqs {
    /// Reads and checks the request at `arg` for a device with the vector `counts` of each
    /// index, then copies the payload.
    fn read(arg: usize, counts: &[u32; 5]) -> Result<Self> {
        let hdr = args::IrqSet::parse(vfio::read_words::<5>(arg)?, args::NUM_IRQS, |index| {
            // CAST: `u32` fits in `usize`.
            counts.get(index as usize).copied().unwrap_or(0)
        })?;
        let len = usize::try_from(hdr.payload_len())?;
        let mut bytes = KVec::new();
        if len > 0 {
            // CAST: the payload follows the header.
            let at = arg.wrapping_add(args::IrqSet::MINSZ as usize);
            UserSlice::new(UserPtr::from_addr(at), len).read_all(&mut bytes, GFP_KERNEL)?;
        }
        let data = match hdr.data {
            args::IrqSetData::None => IrqData::None,
            args::IrqSetData::Bool => IrqData::Bool(bytes),
            args::IrqSetData::EventFd => {
                let mut fds = KVec::with_capacity(bytes.len() / 4, GFP_KERNEL)?;
                for fd in args::eventfds(&bytes) {
                    fds.push(fd, GFP_KERNEL)?;
                }
                IrqData::EventFd(fds)
            }
        };
        Ok(Self {
            flags: hdr.flags,
            index: hdr.index,
            start: hdr.start,
            count: hdr.count,
            data,
        })
    }

    /// The `VFIO_IRQ_SET_ACTION_*` bits of the request.
    fn action(&self) -> u32 {
        self.flags & uapi::VFIO_IRQ_SET_ACTION_TYPE_MASK
    }
}

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
            .map_or(0, msix::Table::vectors),
    };
    // Indices: INTx, MSI, MSI-X, ERR, REQ.
    [u32::from(intx), msi, msix, 1, 1]
}

/// `VFIO_DEVICE_GET_IRQ_INFO`, with vfio-pci's counts and flags.
pub(crate) fn info(pdev: &pci::Device<Bound>, arg: usize, counts: &[u32; 5]) -> Result<isize> {
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

/// What the INTx handler and the unmask eventfd share.
struct IntxState {
    /// INTx is masked (by the handler, the ioctl or the INTx-disable bit).
    masked: bool,
    /// The virtual INTx-disable bit is set: no unmasking, no signal.
    virq_disabled: bool,
}

/// The INTx handler (`vfio_intx_handler()` and friends).
#[pin_data]
struct Intx {
    pdev: ARef<pci::Device>,
    /// Masking through COMMAND works; otherwise the line is exclusive and masked at the
    /// interrupt controller.
    pci_2_3: bool,
    #[pin]
    state: SpinLockIrq<IntxState>,
    /// Where interrupts go; `None` when user space set -1. Its own lock, never held with
    /// `state`: the unmask eventfd takes `state` under an eventfd's wait-queue lock, so
    /// `state` must not be held while signalling (which takes one).
    #[pin]
    trigger: SpinLockIrq<Option<EventFd>>,
}

impl Intx {
    fn signal(&self) {
        if let Some(trigger) = &*self.trigger.lock() {
            trigger.signal();
        }
    }

    /// Signals the trigger unless the virtual INTx-disable bit is set.
    fn send(&self) {
        let disabled = self.state.lock().virq_disabled;
        if !disabled {
            self.signal();
        }
    }

    /// Unmasks; returns whether an interrupt was pending, which leaves INTx masked and must be
    /// forwarded as a new one (`vfio_pci_intx_unmask_handler()`).
    fn unmask(&self, line: &IrqControl) -> bool {
        let mut st = self.state.lock();
        let mut pending = false;
        if st.masked && !st.virq_disabled {
            if self.pci_2_3 {
                pending = !self.pdev.check_and_unmask_intx();
            } else {
                line.enable();
            }
            st.masked = pending;
        }
        pending
    }
}

impl IrqHandler for Intx {
    fn handle(&self, line: &IrqControl) -> IrqReturn {
        let mut st = self.state.lock();
        let handled = if !self.pci_2_3 {
            // A MASK may have won the race for the lock: disables nest, keep one.
            if !st.masked {
                line.disable_nosync();
            }
            true
        } else {
            // The line may be shared: only claim what this function raised.
            !st.masked && self.pdev.check_and_mask_intx()
        };
        if !handled {
            return IrqReturn::None;
        }
        st.masked = true;
        let send = !st.virq_disabled;
        drop(st);
        if send {
            self.signal();
        }
        IrqReturn::Handled
    }
}

/// Unmasks INTx when user space signals an eventfd (`ACTION_UNMASK` with `DATA_EVENTFD`).
#[pin_data]
struct IntxUnmask {
    line: Arc<IrqLine<Intx>>,
}

impl VirqfdHandler for IntxUnmask {
    fn handle(&self) -> bool {
        // A pending interrupt is forwarded from the thread: signalling an eventfd from
        // another eventfd's wakeup could deadlock on its wait queue.
        self.line.handler().unmask(self.line.control())
    }

    fn thread(&self) {
        self.line.handler().send();
    }
}

/// An MSI or MSI-X vector's handler: forwards every interrupt.
#[pin_data]
struct MsiSignal {
    trigger: EventFd,
}

impl IrqHandler for MsiSignal {
    fn handle(&self, _line: &IrqControl) -> IrqReturn {
        self.trigger.signal();
        IrqReturn::Handled
    }
}

/// MSI or MSI-X in use.
struct Msi {
    msix: bool,
    /// The requested vectors, by index (up to the index's vector count).
    lines: KVec<Option<Pin<KBox<IrqLine<MsiSignal>>>>>,
    /// Freed after the lines (field order), and explicitly with memory on at disable.
    vectors: pci::IrqVectors,
}

/// The interrupt type user space enabled (vfio-pci's `irq_type`).
#[derive(Default)]
enum Mode {
    #[default]
    None,
    Intx {
        line: Arc<IrqLine<Intx>>,
        unmask: Option<Pin<KBox<Virqfd<IntxUnmask>>>>,
    },
    Msi(Msi),
}

/// Interrupt state of an open device.
#[derive(Default)]
pub(crate) struct Irqs {
    mode: Mode,
    /// The virtual INTx-disable bit (vfio-pci's `virq_disabled`).
    virq_disabled: bool,
}

/// The ERR and REQ eventfds; signalled from the PCI error handler and the VFIO core's request
/// callback, hence under their own lock.
#[derive(Default)]
pub(crate) struct Notify {
    pub(crate) err: Option<EventFd>,
    pub(crate) req: Option<EventFd>,
}

impl Notify {
    /// The ERR (`err == true`) or REQ eventfd.
    fn slot(&mut self, err: bool) -> &mut Option<EventFd> {
        if err {
            &mut self.err
        } else {
            &mut self.req
        }
    }
}

/// Whether a `DATA_NONE` or `DATA_BOOL` request acts on its (single) vector: always for
/// `NONE`, when the first boolean is set for `BOOL`.
fn acts(data: &IrqData) -> bool {
    match data {
        IrqData::None => true,
        IrqData::Bool(b) => b.first().is_some_and(|&b| b != 0),
        IrqData::EventFd(_) => false,
    }
}

fn first_fd(data: &IrqData) -> Result<i32> {
    match data {
        IrqData::EventFd(fds) => fds.first().copied().ok_or(EINVAL),
        _ => Err(EINVAL),
    }
}

impl Irqs {
    fn is_intx(&self) -> bool {
        matches!(self.mode, Mode::Intx { .. })
    }

    fn is_none(&self) -> bool {
        matches!(self.mode, Mode::None)
    }

    /// Whether the active type is the MSI (`msix == false`) or MSI-X one.
    fn is_msi(&self, msix: bool) -> bool {
        matches!(&self.mode, Mode::Msi(m) if m.msix == msix)
    }

    /// Masks INTx (`__vfio_pci_intx_mask()`); without INTx delivery, the physical bit follows.
    fn intx_mask(&mut self, pdev: &pci::Device<Bound>, pci_2_3: bool) {
        match &self.mode {
            Mode::Intx { line, .. } => {
                let intx = line.handler();
                let mut st = intx.state.lock();
                st.virq_disabled = self.virq_disabled;
                if !st.masked {
                    if intx.pci_2_3 {
                        pdev.intx(false);
                    } else {
                        line.control().disable_nosync();
                    }
                    st.masked = true;
                }
            }
            _ if pci_2_3 => pdev.intx(false),
            _ => {}
        }
    }

    /// Unmasks INTx and forwards an interrupt left pending (`__vfio_pci_intx_unmask()`).
    fn intx_unmask(&mut self, pdev: &pci::Device<Bound>, pci_2_3: bool) {
        match &self.mode {
            Mode::Intx { line, .. } => {
                let intx = line.handler();
                intx.state.lock().virq_disabled = self.virq_disabled;
                if intx.unmask(line.control()) {
                    intx.send();
                }
            }
            _ if pci_2_3 => pdev.intx(true),
            _ => {}
        }
    }

    /// Requests the INTx line (`vfio_intx_enable()`).
    fn intx_enable(
        &mut self,
        pdev: &pci::Device<Bound>,
        pci_2_3: bool,
        trigger: Option<EventFd>,
    ) -> Result {
        let irq = pdev.irq();
        if irq == 0 || irq == IRQ_NOTCONNECTED {
            return Err(ENODEV);
        }
        let name = CString::try_from_fmt(fmt!("vfio-intx({})", pdev.as_ref().name()))?;
        let masked = self.virq_disabled;
        let virq_disabled = self.virq_disabled;
        let kind = if pci_2_3 {
            pdev.intx(!masked);
            IrqKind::Shared
        } else {
            IrqKind::Exclusive { disabled: masked }
        };
        let handler = try_pin_init!(Intx {
            pdev: pdev.into(),
            pci_2_3,
            state <- new_spinlock_irq!(IntxState {
                masked,
                virq_disabled,
            }),
            trigger <- new_spinlock_irq!(trigger),
        });
        // SAFETY: `irq` is the function's INTx; the line lives in the open device, which
        // `close_device` drops before the VFIO core lets the driver unbind.
        let init = unsafe { IrqLine::new(irq, kind, name, handler) };
        let line = Arc::pin_init(init, GFP_KERNEL)?;
        self.mode = Mode::Intx { line, unmask: None };
        Ok(())
    }

    /// Frees whatever the active type holds (`vfio_intx_disable()`, `vfio_msi_disable()`).
    fn disable(&mut self, f: Function<'_>, config: &mut VConfig, nointx: bool) {
        match core::mem::take(&mut self.mode) {
            Mode::None => {}
            Mode::Intx { line, unmask } => {
                // The unmask eventfd holds a reference to the line: stop it first.
                drop(unmask);
                drop(line);
            }
            Mode::Msi(msi) => {
                // The lines, then the vectors (field order), all with memory on: freeing an
                // MSI-X vector masks it in the table.
                f.with_memory_on(|| drop(msi));
                // Freeing the vectors set INTx-disable back as it found it: devices whose INTx
                // is hidden keep it disabled.
                if nointx {
                    f.pdev.intx(false);
                }
                config.msi_state.enabled = false;
            }
        }
    }
}

/// What `SET_IRQS` needs besides the interrupt state.
struct Ctx<'a> {
    f: Function<'a>,
    notify: &'a SpinLock<Notify>,
    msi_qmax: &'a AtomicU8,
    open: &'a OpenDevice,
}

impl Ctx<'_> {
    fn intx_trigger(&self, st: &mut OpenState, set: &SetIrqs) -> Result<isize> {
        let irqs = &mut st.irqs;
        let none = set.flags & uapi::VFIO_IRQ_SET_DATA_NONE != 0;
        if irqs.is_intx() && set.count == 0 && none {
            irqs.disable(self.f, &mut st.config, self.open.nointx);
            return Ok(0);
        }
        if !(irqs.is_intx() || irqs.is_none()) || set.start != 0 || set.count != 1 {
            return Err(EINVAL);
        }
        if let IrqData::EventFd(_) = set.data {
            let fd = first_fd(&set.data)?;
            let trigger = if fd >= 0 {
                Some(EventFd::from_fd(fd)?)
            } else {
                None
            };
            if let Mode::Intx { line, .. } = &irqs.mode {
                // Swapped under the handler's lock: the old one is not in use once out.
                let old = core::mem::replace(&mut *line.handler().trigger.lock(), trigger);
                drop(old);
                return Ok(0);
            }
            irqs.intx_enable(self.f.pdev, self.open.pci_2_3, trigger)?;
            return Ok(0);
        }
        let Mode::Intx { line, .. } = &irqs.mode else {
            return Err(EINVAL);
        };
        if acts(&set.data) {
            line.handler().send();
        }
        Ok(0)
    }

    fn intx_unmask(&self, st: &mut OpenState, set: &SetIrqs) -> Result<isize> {
        let pci_2_3 = self.open.pci_2_3;
        let irqs = &mut st.irqs;
        if !irqs.is_intx() || set.start != 0 || set.count != 1 {
            return Err(EINVAL);
        }
        match set.data {
            IrqData::None | IrqData::Bool(_) => {
                if acts(&set.data) {
                    irqs.intx_unmask(self.f.pdev, pci_2_3);
                }
            }
            IrqData::EventFd(_) => {
                let fd = first_fd(&set.data)?;
                let Mode::Intx { line, unmask } = &mut irqs.mode else {
                    return Err(EINVAL);
                };
                if fd < 0 {
                    *unmask = None;
                    return Ok(0);
                }
                if unmask.as_ref().is_some_and(|u| u.is_active()) {
                    // As the VFIO core orders its checks: a bad descriptor first.
                    drop(EventFd::from_fd(fd)?);
                    return Err(EBUSY);
                }
                // A watch that ended (its eventfd was closed) is replaced.
                *unmask = None;
                let handler = try_pin_init!(IntxUnmask { line: line.clone() });
                *unmask = Some(KBox::pin_init(Virqfd::new(fd, handler), GFP_KERNEL)?);
            }
        }
        Ok(0)
    }

    fn intx_mask(&self, st: &mut OpenState, set: &SetIrqs) -> Result<isize> {
        let pci_2_3 = self.open.pci_2_3;
        let irqs = &mut st.irqs;
        if !irqs.is_intx() || set.start != 0 || set.count != 1 {
            return Err(EINVAL);
        }
        // Masking by eventfd is not implemented by vfio-pci either.
        if let IrqData::EventFd(_) = set.data {
            return Err(ENOTTY);
        }
        if acts(&set.data) {
            irqs.intx_mask(self.f.pdev, pci_2_3);
        }
        Ok(0)
    }

    /// Points vector `vector` at eventfd `fd`, or unsets it when `fd < 0`
    /// (`vfio_msi_set_vector_signal()`).
    fn set_vector(&self, msi: &mut Msi, vector: u32, fd: i32) -> Result {
        let msix = msi.msix;
        // CAST: vector counts are at most 2048.
        let slot = msi.lines.get_mut(vector as usize).ok_or(EINVAL)?;
        let mut irq = None;
        if let Some(line) = slot.take() {
            irq = Some(line.control().irq());
            // Freeing an MSI-X vector masks it in the table.
            self.f.with_memory_on(|| drop(line));
        }
        if fd < 0 {
            return Ok(());
        }
        let irq = match irq {
            Some(irq) => irq,
            // Vectors stay allocated until MSI or MSI-X is disabled.
            None => match msi.vectors.irq(vector) {
                Ok(irq) => irq,
                Err(_) if msix && self.f.pdev.msix_can_alloc_dyn() => {
                    self.f.with_memory_on(|| msi.vectors.alloc_at(vector))?
                }
                Err(e) => return Err(e),
            },
        };
        let name = CString::try_from_fmt(fmt!(
            "vfio-msi{}[{}]({})",
            if msix { "x" } else { "" },
            vector,
            self.f.pdev.as_ref().name()
        ))?;
        let trigger = EventFd::from_fd(fd)?;
        let vectors = &msi.vectors;
        let line = self.f.with_memory_on(|| {
            if msix {
                // The message may have been lost (a reset behind our back): write it again.
                let _ = vectors.rewrite_message(vector);
            }
            let handler = try_pin_init!(MsiSignal { trigger });
            // SAFETY: `irq` is one of the function's vectors; the line lives in the open
            // device, which `close_device` drops before the VFIO core lets the driver unbind.
            let init = unsafe { IrqLine::new(irq, IrqKind::Msi, name, handler) };
            KBox::pin_init(init, GFP_KERNEL)
        })?;
        *slot = Some(line);
        Ok(())
    }

    /// Sets vectors `start..start + count` from `fds`; on failure unsets the ones already
    /// done (`vfio_msi_set_block()`).
    fn set_block(&self, msi: &mut Msi, start: u32, fds: &[i32]) -> Result {
        let mut done = start;
        let mut ret = Ok(());
        for &fd in fds {
            ret = self.set_vector(msi, done, fd);
            if ret.is_err() {
                break;
            }
            done += 1;
        }
        if ret.is_err() {
            for v in start..done {
                let _ = self.set_vector(msi, v, -1);
            }
        }
        ret
    }

    fn msi_trigger(&self, st: &mut OpenState, set: &SetIrqs) -> Result<isize> {
        let msix = set.index == uapi::VFIO_PCI_MSIX_IRQ_INDEX;
        let irqs = &mut st.irqs;
        let none = set.flags & uapi::VFIO_IRQ_SET_DATA_NONE != 0;
        if irqs.is_msi(msix) && set.count == 0 && none {
            irqs.disable(self.f, &mut st.config, self.open.nointx);
            return Ok(0);
        }
        if !(irqs.is_msi(msix) || irqs.is_none()) {
            return Err(EINVAL);
        }
        if let IrqData::EventFd(fds) = &set.data {
            if let Mode::Msi(msi) = &mut irqs.mode {
                self.set_block(msi, set.start, fds)?;
                return Ok(0);
            }
            let nvec = set.start + set.count;
            // Before the vectors, whose release writes the MSI-X table (memory on).
            let max = self.open.irq_counts[if msix { 2 } else { 1 }].max(nvec);
            let mut lines = KVec::with_capacity(max as usize, GFP_KERNEL)?;
            for _ in 0..max {
                lines.push(None, GFP_KERNEL)?;
            }
            let pdev = self.f.pdev;
            // SAFETY: The vectors live in the open device, which `close_device` drops before
            // the VFIO core lets the driver unbind.
            let vectors = self
                .f
                .with_memory_on(|| unsafe { pdev.alloc_msi_vectors(nvec, msix) })?;
            if vectors.len() < nvec {
                // As vfio-pci: the number of vectors the platform could give.
                let got = vectors.len();
                self.f.with_memory_on(|| drop(vectors));
                return Ok(isize::try_from(got)?);
            }
            irqs.mode = Mode::Msi(Msi {
                msix,
                lines,
                vectors,
            });
            if !msix {
                let qmax = st.config.msi_state.enable(nvec);
                self.msi_qmax.store(qmax, Ordering::Relaxed);
            }
            let Mode::Msi(msi) = &mut irqs.mode else {
                return Err(EINVAL);
            };
            if let Err(e) = self.set_block(msi, set.start, fds) {
                irqs.disable(self.f, &mut st.config, self.open.nointx);
                return Err(e);
            }
            return Ok(0);
        }
        let Mode::Msi(msi) = &irqs.mode else {
            return Err(EINVAL);
        };
        for (i, v) in (set.start..set.start + set.count).enumerate() {
            // CAST: vector counts are at most 2048.
            let Some(Some(line)) = msi.lines.get(v as usize) else {
                continue;
            };
            let fire = match &set.data {
                IrqData::Bool(b) => b.get(i).is_some_and(|&b| b != 0),
                data => acts(data),
            };
            if fire {
                line.handler().trigger.signal();
            }
        }
        Ok(0)
    }

    /// ERR and REQ (`vfio_pci_set_ctx_trigger_single()`).
    fn notify_trigger(&self, set: &SetIrqs) -> Result<isize> {
        if set.start != 0 || set.count > 1 {
            return Err(EINVAL);
        }
        let err = set.index == uapi::VFIO_PCI_ERR_IRQ_INDEX;
        // The payload checks and the new eventfd first, with nothing held.
        let new = match &set.data {
            IrqData::EventFd(_) | IrqData::Bool(_) if set.count == 0 => return Err(EINVAL),
            IrqData::EventFd(_) => match first_fd(&set.data)? {
                -1 => None,
                fd if fd >= 0 => Some(EventFd::from_fd(fd)?),
                _ => return Err(EINVAL),
            },
            _ => None,
        };
        let mut notify = self.notify.lock();
        let slot = notify.slot(err);
        let old = match &set.data {
            // Loopback with count 1, clear with count 0; nothing to act on is an error.
            IrqData::None => match slot {
                None => return Err(EINVAL),
                Some(fd) if set.count != 0 => {
                    fd.signal();
                    None
                }
                Some(_) => slot.take(),
            },
            IrqData::Bool(_) => {
                if let Some(fd) = slot.as_ref().filter(|_| acts(&set.data)) {
                    fd.signal();
                }
                None
            }
            IrqData::EventFd(_) => core::mem::replace(slot, new),
        };
        drop(notify);
        drop(old);
        Ok(0)
    }
}

/// `VFIO_DEVICE_SET_IRQS`.
pub(crate) fn set_irqs(
    f: Function<'_>,
    notify: &SpinLock<Notify>,
    msi_qmax: &AtomicU8,
    open: &OpenDevice,
    arg: usize,
) -> Result<isize> {
    let set = SetIrqs::read(arg, &open.irq_counts)?;
    let ctx = Ctx {
        f,
        notify,
        msi_qmax,
        open,
    };
    // vfio-pci's `igate`: one request at a time, serialised with config writes and close.
    let mut st = open.state.lock();
    match (set.index, set.action()) {
        (uapi::VFIO_PCI_INTX_IRQ_INDEX, uapi::VFIO_IRQ_SET_ACTION_MASK) => {
            ctx.intx_mask(&mut st, &set)
        }
        (uapi::VFIO_PCI_INTX_IRQ_INDEX, uapi::VFIO_IRQ_SET_ACTION_UNMASK) => {
            ctx.intx_unmask(&mut st, &set)
        }
        (uapi::VFIO_PCI_INTX_IRQ_INDEX, uapi::VFIO_IRQ_SET_ACTION_TRIGGER) => {
            ctx.intx_trigger(&mut st, &set)
        }
        (
            uapi::VFIO_PCI_MSI_IRQ_INDEX | uapi::VFIO_PCI_MSIX_IRQ_INDEX,
            uapi::VFIO_IRQ_SET_ACTION_TRIGGER,
        ) => ctx.msi_trigger(&mut st, &set),
        (
            uapi::VFIO_PCI_ERR_IRQ_INDEX | uapi::VFIO_PCI_REQ_IRQ_INDEX,
            uapi::VFIO_IRQ_SET_ACTION_TRIGGER,
        ) => ctx.notify_trigger(&set),
        _ => Err(ENOTTY),
    }
}

/// The virtual INTx-disable bit changed through configuration space: mask or unmask INTx
/// accordingly. Called under the open state's lock, so it cannot race with `SET_IRQS` tearing
/// INTx down (CVE-2024-26810).
pub(crate) fn config_intx(
    pdev: &pci::Device<Bound>,
    st: &mut OpenState,
    pci_2_3: bool,
    disabled: bool,
) {
    st.irqs.virq_disabled = disabled;
    if disabled {
        st.irqs.intx_mask(pdev, pci_2_3);
    } else {
        st.irqs.intx_unmask(pdev, pci_2_3);
    }
}

/// Tears every interrupt down at close (`vfio_pci_core_disable()`).
pub(crate) fn teardown(
    f: Function<'_>,
    notify: &SpinLock<Notify>,
    st: &mut OpenState,
    nointx: bool,
) {
    let mut irqs = core::mem::take(&mut st.irqs);
    irqs.disable(f, &mut st.config, nointx);
    let mut n = notify.lock();
    let old = core::mem::take(&mut *n);
    drop(n);
    drop(old);
}

/// PCI error recovery reports an error on the function: signal ERR
/// (`vfio_pci_core_aer_err_detected()`).
pub(crate) fn error_detected(notify: &SpinLock<Notify>) {
    if let Some(err) = &notify.lock().err {
        err.signal();
    }
}

/// The VFIO core asks user space to release the device (it is being unbound): signal REQ
/// (`vfio_pci_core_request()`).
pub(crate) fn request(pdev: &pci::Device<Bound>, notify: &SpinLock<Notify>, count: u32) {
    let n = notify.lock();
    if let Some(req) = &n.req {
        if count % 10 == 0 {
            dev_notice!(pdev, "Relaying device request to user (#{})\n", count);
        }
        req.signal();
    } else if count == 0 {
        dev_warn!(
            pdev,
            "No device request channel registered, blocked until released by user\n"
        );
    }
}
