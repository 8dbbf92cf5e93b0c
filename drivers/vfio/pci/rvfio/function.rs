// SPDX-License-Identifier: GPL-2.0

//! The function as the feature modules see it: the PCI device bound to rvfio-pci, its memory
//! lock, its power state and the mappings of its device file, with the operations that need
//! them together (a power change or a reset with the mappings zapped first, MSI-X table writes
//! with memory on). `device.rs` lends one to each callback; the modules take it, not the
//! whole device.

use crate::{
    memory::{
        self,
        MemoryLock, //
    },
    power::{
        Power,
        D3HOT, //
    }, //
};
use kernel::{
    device::Bound,
    eventfd::EventFd,
    pci,
    prelude::*,
    vfio, //
};

/// A function bound to rvfio-pci and what guards its memory; see the module documentation.
#[derive(Clone, Copy)]
pub(crate) struct Function<'a> {
    /// The PCI function.
    pub(crate) pdev: &'a pci::Device<Bound>,
    /// Its memory lock and gate.
    pub(crate) memory: &'a MemoryLock,
    /// Its power management facts.
    pub(crate) power: &'a Power,
    /// The user mappings of its VFIO device file.
    pub(crate) mappings: vfio::Mappings<'a>,
}

impl Function<'_> {
    /// Removes every user mapping of the BARs; accesses fault again (and get `SIGBUS` while
    /// memory is disabled). The caller holds the memory lock.
    pub(crate) fn zap_bars(&self) {
        let (start, len) = memory::bar_range();
        self.mappings.zap(start, len);
    }

    /// Moves the function to power state `state` under the memory lock, zapping mappings
    /// first when memory stops decoding (`vfio_pci_set_power_state()`).
    pub(crate) fn set_power_state(&self, state: i32) -> Result {
        let mut m = self.memory.lock();
        if state >= D3HOT {
            self.zap_bars();
        }
        self.memory
            .change(&mut m, |m| self.power.set_locked(self.pdev, m, state))
    }

    /// A function reset under the memory lock with the user mappings zapped first, as
    /// `VFIO_DEVICE_RESET` (`to_d0`: from D0, restoring what D3hot lost) and a trapped FLR
    /// (as it is) make it. One hold of the memory lock from the zap to the end of the reset:
    /// nothing (a D3hot written to configuration space) comes between the return to D0 and
    /// the reset. Best effort, as vfio-pci: a contended device lock skips the reset.
    pub(crate) fn reset(&self, to_d0: bool) -> Result {
        let mut m = self.memory.lock();
        self.zap_bars();
        self.memory.change(&mut m, |m| {
            if to_d0 {
                // A reset from a low-power state would reach D0 without restoring what D3hot
                // lost.
                let _ = self.power.set_locked(self.pdev, m, 0);
            }
            let ret = self.pdev.try_reset_function();
            // A reset from D3hot leaves the function in D0.
            m.low_power = self.pdev.current_state() >= D3HOT;
            ret
        })
    }

    /// Runs `f` with memory decode forced on, under the memory lock
    /// (`vfio_pci_memory_lock_and_enable()`): vector allocation and MSI-X table updates write
    /// the BAR that holds the table.
    ///
    /// A function the user has put in D3hot decodes no memory either, whatever its COMMAND
    /// register says, and would drop those writes: a vector freed there stays unmasked in the
    /// table, one set up there stays masked. So, unlike vfio-pci, `f` then runs with the
    /// function back in D0 for the while, with the memory gate closed, and it returns to D3hot
    /// afterwards.
    pub(crate) fn with_memory_on<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut m = self.memory.lock();
        if self.pdev.current_state() < D3HOT {
            return memory::with_decode_on(self.pdev, f);
        }
        self.memory.change(&mut m, |m| {
            let _ = self.power.set_locked(self.pdev, m, 0);
            let r = memory::with_decode_on(self.pdev, f);
            let _ = self.power.set_locked(self.pdev, m, D3HOT);
            r
        })
    }

    /// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY[_WITH_WAKEUP]` (`vfio_pci_runtime_pm_entry()`):
    /// zaps the mappings, which then refuse to fault until the exit. `EINVAL` if already in
    /// low power.
    ///
    /// vfio-pci then lets runtime PM suspend the function, and signals `wake` when an access
    /// resumes it; rvfio-pci has no runtime PM, exactly like vfio-pci in a kernel without
    /// `CONFIG_PM`: the function stays powered and `wake` is only held.
    pub(crate) fn low_power_entry(&self, wake: Option<EventFd>) -> Result {
        let mut m = self.memory.lock();
        self.zap_bars();
        if m.pm_engaged {
            return Err(EINVAL);
        }
        m.pm_engaged = true;
        m.pm_wake = wake;
        Ok(())
    }

    /// `VFIO_DEVICE_FEATURE_LOW_POWER_EXIT` (`vfio_pci_runtime_pm_exit()`); also at close.
    pub(crate) fn low_power_exit(&self) {
        let mut m = self.memory.lock();
        m.pm_engaged = false;
        m.pm_wake = None;
    }
}
