// SPDX-License-Identifier: GPL-2.0

//! vfio-pci's memory lock and what it guards: whether the function's BARs may be accessed
//! (memory decode on, not in D3hot), the gate that tells atomic contexts the same, the file
//! range of the BAR mappings that everything turning memory off zaps first, and memory decode
//! forced on for an access the driver itself makes.
//!
//! A leaf: it knows the PCI function and nothing of the rest of the driver.

use crate::engine::{
    access::index_to_offset,
    regs::{
        PCI_COMMAND,
        PCI_COMMAND_MEMORY, //
    }, //
};
use kernel::{
    device::Bound,
    eventfd::EventFd,
    new_mutex,
    new_spinlock_irq,
    pci,
    prelude::*,
    sync::{
        Mutex,
        MutexGuard,
        SpinLockIrq, //
    },
    vfio::uapi, //
};

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

/// The memory lock and the memory gate of one function.
#[pin_data]
pub(crate) struct MemoryLock {
    /// vfio-pci's memory lock: serialises BAR accesses and mapping faults against everything
    /// that turns memory off (COMMAND writes, power states, resets) and the zap that precedes
    /// it. Taken after the open state's lock when both are held; never held across a user
    /// copy.
    #[pin]
    memory: Mutex<Memory>,
    /// The memory gate: what atomic contexts (ioeventfds) may know of the memory state. Set to
    /// `Changing` under the memory lock before anything that may turn memory off runs, and to
    /// the new state after; a write made under this lock while it reads `On` never reaches a
    /// BAR whose decode is off. Held only for a store or one MMIO write.
    #[pin]
    gate: SpinLockIrq<Gate>,
}

impl MemoryLock {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            memory <- new_mutex!(Memory::default()),
            gate <- new_spinlock_irq!(Gate::Off),
        })
    }

    /// Takes the memory lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock()
    }

    /// Takes the memory lock if it is free.
    pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, Memory>> {
        self.memory.try_lock()
    }

    /// Runs `f`, which may turn memory off or on, with the memory gate closed; reopens it if
    /// memory is enabled afterwards. The caller holds the memory lock (`memory`).
    pub(crate) fn change<R>(&self, memory: &mut Memory, f: impl FnOnce(&mut Memory) -> R) -> R {
        self.gate_close();
        let r = f(memory);
        self.gate_open(memory);
        r
    }

    /// Closes the memory gate, waiting for an ioeventfd write in flight. The caller holds the
    /// memory lock and calls [`MemoryLock::gate_open`] before releasing it.
    pub(crate) fn gate_close(&self) {
        *self.gate.lock() = Gate::Changing;
    }

    /// Reopens the memory gate on `memory`'s state. The caller holds the memory lock.
    pub(crate) fn gate_open(&self, memory: &Memory) {
        *self.gate.lock() = Gate::from(memory);
    }

    /// Runs `f` on the gate's state with the gate held: in any context, for a store or one
    /// MMIO write at most.
    pub(crate) fn with_gate<R>(&self, f: impl FnOnce(Gate) -> R) -> R {
        let gate = self.gate.lock();
        f(*gate)
    }
}

/// The file range of the BAR regions, where user mappings live: `(start, len)`.
pub(crate) fn bar_range() -> (u64, u64) {
    let start = index_to_offset(uapi::VFIO_PCI_BAR0_REGION_INDEX);
    let end = index_to_offset(uapi::VFIO_PCI_ROM_REGION_INDEX);
    (start, end - start)
}

/// Runs `f` with memory decode forced on in the function's COMMAND register, as the driver's
/// own BAR accesses need, then writes COMMAND back as it was (vfio-pci's
/// `vfio_pci_memory_lock_and_enable()` and `vfio_pci_memory_unlock_and_restore()`). The caller
/// holds the memory lock.
pub(crate) fn with_decode_on<R>(pdev: &pci::Device<Bound>, f: impl FnOnce() -> R) -> R {
    let cmd = pdev.user_read_config_u16(PCI_COMMAND).ok();
    if let Some(cmd) = cmd {
        if cmd & PCI_COMMAND_MEMORY == 0 {
            let _ = pdev.user_write_config_u16(PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
        }
    }
    let r = f();
    if let Some(cmd) = cmd {
        let _ = pdev.user_write_config_u16(PCI_COMMAND, cmd);
    }
    r
}
