// SPDX-License-Identifier: GPL-2.0

//! Interrupt lines handled on behalf of user space.
//!
//! A VFIO bus driver requests the interrupts of the device it hands to user space and forwards
//! them, typically by signalling an [`EventFd`](crate::eventfd::EventFd). The lines are requested
//! while the device is open, so an [`IrqLine`] lives in the driver's
//! [`Operations::Open`](super::Operations::Open) data rather than in the device's binding as
//! [`kernel::irq::Registration`](crate::irq::Registration) does, and it exposes the controls
//! such drivers need: masking a legacy line at the interrupt controller from its handler, and
//! unmasking it later.
//!
//! C header: [`include/linux/interrupt.h`](srctree/include/linux/interrupt.h)

use crate::{
    bindings,
    error::to_result,
    irq::IrqReturn,
    prelude::*,
    str::CString, //
};
use core::marker::PhantomPinned;

// CAST: a bit mask that fits in 32 bits.
const DISABLE_UNLAZY: c_ulong = bindings::IRQ_DISABLE_UNLAZY as c_ulong;

/// How an interrupt line is requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqKind {
    /// An MSI or MSI-X vector: never shared.
    Msi,
    /// A legacy line other devices may share: the handler must find out whether its device
    /// interrupted (for PCI, with `pci::Device::check_and_mask_intx`).
    Shared,
    /// A legacy line the driver owns alone and masks at the interrupt controller with
    /// [`IrqControl::disable_nosync`]. `disabled` requests it masked. Disabling is made
    /// immediate (not lazy), so a level-triggered line stops firing at once.
    Exclusive {
        /// Request the line masked; [`IrqControl::enable`] unmasks it.
        disabled: bool,
    },
}

/// Masking control over a requested line, for the handler and the driver.
///
/// Enables and disables nest: the driver keeps them balanced (the kernel warns otherwise).
///
/// # Invariants
///
/// `irq` is requested by the [`IrqLine`] that contains this object.
pub struct IrqControl {
    irq: u32,
}

impl IrqControl {
    /// Returns the Linux interrupt number.
    pub fn irq(&self) -> u32 {
        self.irq
    }

    /// Masks the line without waiting for running handlers (callable from the handler).
    pub fn disable_nosync(&self) {
        // SAFETY: By the type invariant `irq` is requested by us.
        unsafe { bindings::disable_irq_nosync(self.irq) };
    }

    /// Undoes one [`Self::disable_nosync`] (or the masked request of [`IrqKind::Exclusive`]).
    pub fn enable(&self) {
        // SAFETY: By the type invariant `irq` is requested by us.
        unsafe { bindings::enable_irq(self.irq) };
    }
}

/// The hard interrupt handler of an [`IrqLine`].
pub trait IrqHandler: Sync + 'static {
    /// Handles an interrupt, in hard interrupt context.
    fn handle(&self, line: &IrqControl) -> IrqReturn;
}

/// A requested interrupt line whose handler is `T`; dropping it frees the line, waiting for
/// running handlers.
///
/// # Invariants
///
/// `ctl.irq` is requested with a pointer to `self` as the cookie and `name` as the name.
#[pin_data(PinnedDrop)]
pub struct IrqLine<T: IrqHandler> {
    ctl: IrqControl,
    kind: IrqKind,
    /// The name in `/proc/interrupts`; the C side keeps a pointer to it.
    name: CString,
    #[pin]
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

impl<T: IrqHandler> IrqLine<T> {
    /// Requests interrupt `irq` with `handler`, named `name`.
    ///
    /// # Safety
    ///
    /// `irq` is an interrupt of a device bound to the calling driver, and the returned line is
    /// dropped before that driver unbinds from the device.
    pub unsafe fn new(
        irq: u32,
        kind: IrqKind,
        name: CString,
        handler: impl PinInit<T, Error>,
    ) -> impl PinInit<Self, Error> {
        let flags: u32 = match kind {
            IrqKind::Msi => 0,
            IrqKind::Shared => bindings::IRQF_SHARED,
            IrqKind::Exclusive { disabled: true } => bindings::IRQF_NO_AUTOEN,
            IrqKind::Exclusive { disabled: false } => 0,
        };
        try_pin_init!(&this in Self {
            ctl: IrqControl { irq },
            kind,
            name,
            handler <- handler,
            _pin: PhantomPinned,
            _: {
                let ptr = this.as_ptr();
                // SAFETY: `ptr` points to the initialised fields of the object being built.
                let name = unsafe { (*ptr).name.as_char_ptr() };
                if matches!(kind, IrqKind::Exclusive { .. }) {
                    // SAFETY: `irq` is a valid interrupt, by the safety requirement.
                    unsafe { bindings::irq_modify_status(irq, 0, DISABLE_UNLAZY) };
                }
                // SAFETY: The callback matches the cookie, a pinned object whose drop frees the
                // line before the memory goes; all fields the callback reads are initialised.
                let ret = to_result(unsafe {
                    bindings::request_threaded_irq(
                        irq,
                        Some(handle_irq::<T>),
                        None,
                        // CAST: `IRQF_*` bits fit in 32 bits.
                        flags as c_ulong,
                        name,
                        ptr.cast(),
                    )
                });
                if ret.is_err() && matches!(kind, IrqKind::Exclusive { .. }) {
                    // SAFETY: As above.
                    unsafe { bindings::irq_modify_status(irq, DISABLE_UNLAZY, 0) };
                }
                ret?;
            },
        })
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// Returns the masking controls of the line.
    pub fn control(&self) -> &IrqControl {
        &self.ctl
    }
}

#[pinned_drop]
impl<T: IrqHandler> PinnedDrop for IrqLine<T> {
    fn drop(self: Pin<&mut Self>) {
        let irq = self.ctl.irq;
        let cookie = core::ptr::from_ref::<Self>(&self)
            .cast_mut()
            .cast::<c_void>();
        // SAFETY: By the type invariant the line is requested with `cookie`; `free_irq` waits
        // for running handlers, so none uses `self` once it returns.
        unsafe { bindings::free_irq(irq, cookie) };
        if matches!(self.kind, IrqKind::Exclusive { .. }) {
            // SAFETY: `irq` is a valid interrupt.
            unsafe { bindings::irq_modify_status(irq, DISABLE_UNLAZY, 0) };
        }
    }
}

/// # Safety
///
/// Only the interrupt core calls this, with the cookie `IrqLine::new` registered.
unsafe extern "C" fn handle_irq<T: IrqHandler>(
    _irq: c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: The cookie is a pinned `IrqLine<T>` that outlives its registration.
    let line = unsafe { &*ptr.cast_const().cast::<IrqLine<T>>() };
    let ret = T::handle(&line.handler, &line.ctl);
    // CAST: `IrqReturn` is `repr(u32)` with the C values.
    bindings::irqreturn_t(ret as c_uint)
}
