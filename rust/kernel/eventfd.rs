// SPDX-License-Identifier: GPL-2.0

//! Event file descriptors, as the kernel signals them.
//!
//! User space creates an eventfd with `eventfd(2)` and hands its file descriptor to a driver,
//! which keeps a reference to the eventfd's context and signals it from any context, including
//! hard interrupt handlers.
//!
//! C header: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h)

use crate::{
    bindings,
    error::from_err_ptr,
    prelude::*, //
};
use core::ptr::NonNull;

/// A reference to the context of an eventfd.
///
/// # Invariants
///
/// `ctx` is a valid eventfd context on which this object owns a reference.
pub struct EventFd {
    ctx: NonNull<bindings::eventfd_ctx>,
}

// SAFETY: An eventfd context may be signalled and released from any thread.
unsafe impl Send for EventFd {}
// SAFETY: `signal` takes `&self` and is safe to call concurrently; the C side locks.
unsafe impl Sync for EventFd {}

impl EventFd {
    /// Takes a reference to the eventfd behind file descriptor `fd` of the current task.
    ///
    /// Fails with `EBADF` when `fd` is not open and `EINVAL` when it is not an eventfd.
    pub fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: `eventfd_ctx_fdget` accepts any value and returns a referenced context or an
        // error pointer.
        let ctx = from_err_ptr(unsafe { bindings::eventfd_ctx_fdget(fd) })?;
        // INVARIANT: `eventfd_ctx_fdget` returned a context with a reference for us.
        NonNull::new(ctx).map(|ctx| Self { ctx }).ok_or(EBADF)
    }

    /// Adds one to the eventfd's counter and wakes up its waiters. Callable from any context.
    pub fn signal(&self) {
        // SAFETY: By the type invariant, `ctx` is a valid context.
        unsafe { bindings::eventfd_signal_mask(self.ctx.as_ptr(), 0) };
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own a reference on `ctx`.
        unsafe { bindings::eventfd_ctx_put(self.ctx.as_ptr()) };
    }
}
