// SPDX-License-Identifier: GPL-2.0

//! Device personalities: what rvfio-pci does differently for some devices, behind one trait
//! whose defaults are the plain behaviour. The ID table chooses a device's personality at
//! probe; [`Plain`] is the one every entry has so far.
//!
//! A personality can change the IDs and BARs user space sees (the facts the configuration
//! engine is built from), serve accesses to a region itself, and act at open, at close and
//! after a reset user space asks for. `device.rs` calls the hooks; they get the [`Function`]
//! and may take its memory lock, which none of the callers holds.

use crate::{
    engine::config::DeviceInfo,
    function::Function,
    regions::UserBuf, //
};
use kernel::prelude::*;

/// What a device personality may change; every method defaults to the plain behaviour.
pub(crate) trait Personality: Sync {
    /// Adjusts the facts the configuration engine is built from at open: the IDs and BARs
    /// that user space sees in configuration space. The region info and the accesses to the
    /// regions still describe the function itself: a personality that changes a BAR serves
    /// its region too ([`Personality::region_rw`]).
    fn device_info(&self, _info: &mut DeviceInfo) {}

    /// Serves a `read(2)` or `write(2)` at file offset `offset` itself (`Some` with the
    /// result), or leaves it to the regions (`None`, with `buf` untouched).
    fn region_rw(
        &self,
        _f: Function<'_>,
        _buf: &mut UserBuf<'_>,
        _offset: u64,
    ) -> Option<Result<usize>> {
        None
    }

    /// Runs last at open, once the function is enabled, reset and its state saved, and the
    /// configuration engine built; an error refuses the open (and [`Personality::close`]
    /// does not run).
    fn open(&self, _f: Function<'_>) -> Result {
        Ok(())
    }

    /// Runs first at close, with the open device's state locked, before the function returns
    /// to D0, its interrupts are torn down and it is put back as it was at open.
    fn close(&self, _f: Function<'_>) {}

    /// Runs after a function reset asked for with `VFIO_DEVICE_RESET` (not after a trapped
    /// FLR or a hot reset).
    fn reset(&self, _f: Function<'_>) {}
}

/// The plain personality: the device as it is.
pub(crate) struct Plain;

impl Personality for Plain {}
