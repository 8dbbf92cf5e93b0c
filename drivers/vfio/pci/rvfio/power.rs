// SPDX-License-Identifier: GPL-2.0

//! Power states set through the PM capability (D0 and D3hot), with the save and restore that
//! functions losing their state in D3hot need (`vfio_pci_set_power_state()`).

use crate::{
    engine::regs::{
        PCI_PM_CTRL,
        PCI_PM_CTRL_NO_SOFT_RESET, //
    },
    memory::Memory, //
};
use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    device::Bound,
    pci,
    prelude::*, //
};

/// `D3hot`, the first power state in which the function decodes no memory.
pub(crate) const D3HOT: i32 = 3;

/// What a power transition needs to know of the function besides its memory state.
pub(crate) struct Power {
    /// The function loses its state in D3hot (no `PCI_PM_CTRL_NO_SOFT_RESET`), probed at bind.
    needs_pm_restore: bool,
    /// A PF has SR-IOV enabled: it must stay in D0 (vfio-pci's `sriov_active`).
    pub(crate) sriov_active: AtomicBool,
}

impl Power {
    /// Probes whether the function loses its state in D3hot (`vfio_pci_probe_power_state()`).
    pub(crate) fn probe(pdev: &pci::Device<Bound>) -> Self {
        let needs_pm_restore = match pdev.pm_cap() {
            0 => false,
            cap => pdev
                .user_read_config_u16(u16::from(cap) + PCI_PM_CTRL)
                .is_ok_and(|ctrl| ctrl & PCI_PM_CTRL_NO_SOFT_RESET == 0),
        };
        Self {
            needs_pm_restore,
            sriov_active: AtomicBool::new(false),
        }
    }

    /// Moves the function to power state `state`, for a caller that holds the memory lock
    /// (`memory`), has closed the memory gate and zapped the mappings if memory stops decoding.
    pub(crate) fn set_locked(
        &self,
        pdev: &pci::Device<Bound>,
        memory: &mut Memory,
        state: i32,
    ) -> Result {
        // A PF with VFs stays in D0.
        if state > 0 && self.sriov_active.load(Ordering::Relaxed) {
            return Err(EBUSY);
        }
        let current = pdev.current_state();
        let needs_save = self.needs_pm_restore && current < D3HOT && state >= D3HOT;
        let needs_restore = self.needs_pm_restore && current >= D3HOT && state == 0;
        if needs_save {
            pdev.save_state();
        }
        let ret = pdev.set_power_state(state);
        if ret.is_ok() {
            if needs_save && pdev.current_state() >= D3HOT {
                // The state saved in D0 above, not one read in D3hot.
                memory.pm_save = pdev.copy_saved_state();
            } else if needs_restore {
                if let Some(saved) = memory.pm_save.take() {
                    let _ = pdev.load_saved_state(saved);
                }
                pdev.restore_state();
            }
        }
        memory.low_power = pdev.current_state() >= D3HOT;
        ret
    }
}
