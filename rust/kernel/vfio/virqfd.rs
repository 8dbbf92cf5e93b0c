// SPDX-License-Identifier: GPL-2.0

//! Eventfds that run driver code when user space (or KVM) signals them.
//!
//! The VFIO core's virqfd watches an eventfd: each signal calls a handler in the signaller's
//! context and, when the handler asks for it, a thread function from a workqueue. VFIO bus
//! drivers use it to unmask interrupts and to perform device writes (ioeventfds) without a
//! trip through the device file.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use crate::{
    bindings,
    error::to_result,
    prelude::*,
    types::Opaque, //
};
use core::marker::PhantomPinned;

/// What a [`Virqfd`] runs when its eventfd is signalled.
pub trait VirqfdHandler: Sync + 'static {
    /// Runs in the signaller's context (with a spinlock held, interrupts off): must not sleep.
    /// Returns whether [`Self::thread`] should run too.
    fn handle(&self) -> bool {
        true
    }

    /// Runs from a workqueue, in process context, when [`Self::handle`] asked for it.
    fn thread(&self) {}
}

/// An eventfd watched by the VFIO core, running `T` on every signal until dropped.
///
/// The watch also ends when user space closes the eventfd; dropping the object then just
/// waits for the core's cleanup.
///
/// # Invariants
///
/// `slot` is the `pvirqfd` slot of a `vfio_virqfd_enable` call whose opaque pointer is `self`;
/// the core clears it when the watch ends.
#[pin_data(PinnedDrop)]
pub struct Virqfd<T: VirqfdHandler> {
    slot: Opaque<*mut bindings::virqfd>,
    #[pin]
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The slot is only touched by the C side under its lock; `T` is `Sync`.
unsafe impl<T: VirqfdHandler + Send> Send for Virqfd<T> {}
// SAFETY: As above.
unsafe impl<T: VirqfdHandler> Sync for Virqfd<T> {}

impl<T: VirqfdHandler> Virqfd<T> {
    /// Watches the eventfd of file descriptor `fd` (of the current task).
    ///
    /// Fails with `EBADF` when `fd` is not open and `EINVAL` when it is not an eventfd. A
    /// signal already pending runs the handler at once.
    pub fn new(fd: i32, handler: impl PinInit<T, Error>) -> impl PinInit<Self, Error> {
        try_pin_init!(&this in Self {
            slot: Opaque::new(core::ptr::null_mut()),
            handler <- handler,
            _pin: PhantomPinned,
            _: {
                let ptr = this.as_ptr();
                // SAFETY: `ptr` points to the object being built, whose fields are initialised
                // and pinned; its drop disables the watch before the memory goes, and the
                // callbacks match the opaque pointer.
                to_result(unsafe {
                    bindings::vfio_virqfd_enable(
                        ptr.cast(),
                        Some(virqfd_handler::<T>),
                        Some(virqfd_thread::<T>),
                        core::ptr::null_mut(),
                        (*ptr).slot.get(),
                        fd,
                    )
                })?;
            },
        })
    }

    /// Returns the handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// Returns whether the eventfd is still watched (user space has not closed it).
    pub fn is_active(&self) -> bool {
        // SAFETY: `slot` is valid; the core writes it under its lock, and a volatile read
        // (C's `READ_ONCE()`) sees either value.
        !unsafe { core::ptr::read_volatile(self.slot.get()) }.is_null()
    }
}

#[pinned_drop]
impl<T: VirqfdHandler> PinnedDrop for Virqfd<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `slot` is ours. This ends the watch and waits for the
        // handler, the thread and the core's cleanup: nothing uses `self` afterwards.
        unsafe { bindings::vfio_virqfd_disable(self.slot.get()) };
    }
}

/// # Safety
///
/// Only the virqfd core calls this, with the opaque pointer `Virqfd::new` registered.
unsafe extern "C" fn virqfd_handler<T: VirqfdHandler>(
    opaque: *mut c_void,
    _: *mut c_void,
) -> c_int {
    // SAFETY: The opaque pointer is a pinned `Virqfd<T>` that outlives the watch.
    let this = unsafe { &*opaque.cast_const().cast::<Virqfd<T>>() };
    c_int::from(this.handler.handle())
}

/// # Safety
///
/// As for [`virqfd_handler`].
unsafe extern "C" fn virqfd_thread<T: VirqfdHandler>(opaque: *mut c_void, _: *mut c_void) {
    // SAFETY: As in `virqfd_handler`.
    let this = unsafe { &*opaque.cast_const().cast::<Virqfd<T>>() };
    this.handler.thread();
}
