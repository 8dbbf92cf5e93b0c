// SPDX-License-Identifier: GPL-2.0

//! The device side of the configuration engine: the real configuration space behind
//! [`config::Hardware`], the engine's construction at open, configuration reads and writes
//! through the file, and the effects of writes (memory-decode changes with the mapping zap,
//! power states, trapped FLRs, INTx masking, read request size).

use crate::access::{
    in_bounds,
    index_to_offset, //
};
use crate::config::{
    self,
    Bar,
    Config,
    DeviceInfo,
    Effects, //
};
use crate::device::{
    bound_pdev,
    Memory,
    OpenState,
    RvfioDevice, //
};
use crate::regions::UserBuf;
use crate::regs::{
    IORESOURCE_IO,
    IORESOURCE_MEM_64,
    IORESOURCE_PREFETCH,
    IRQ_NOTCONNECTED, //
};
use kernel::{
    device::Bound,
    eventfd::EventFd,
    pci,
    prelude::*,
    vfio::{
        self,
        uapi, //
    },
};

/// The engine's storage: `cfg_size` bytes each for the map and the shadow.
pub(crate) type VConfig = Config<KVec<u8>>;

/// `D3hot`, the first power state in which the function decodes no memory.
pub(crate) const D3HOT: i32 = 3;

/// The function's configuration space, through the accessors that honour reset blocking.
struct Hw<'a>(&'a pci::Device<Bound>);

impl config::Hardware for Hw<'_> {
    type Error = Error;

    fn read(&mut self, pos: usize, n: usize) -> Result<u32> {
        let at = u16::try_from(pos)?;
        Ok(match n {
            4 => self.0.user_read_config_u32(at)?,
            2 => u32::from(self.0.user_read_config_u16(at)?),
            _ => u32::from(self.0.user_read_config_u8(at)?),
        })
    }

    fn write(&mut self, pos: usize, n: usize, val: u32) -> Result {
        let at = u16::try_from(pos)?;
        // CAST: the low `n` bytes of `val`.
        match n {
            4 => self.0.user_write_config_u32(at, val),
            2 => self.0.user_write_config_u16(at, val as u16),
            _ => self.0.user_write_config_u8(at, val as u8),
        }
    }

    fn vpd_read(&mut self, addr: u16) -> Option<u32> {
        self.0.read_vpd_u32(addr)
    }

    fn vpd_write(&mut self, addr: u16, data: u32) -> bool {
        self.0.write_vpd_u32(addr, data)
    }
}

/// Builds the virtual configuration space at open (`vfio_config_init()`).
pub(crate) fn build(pdev: &pci::Device<Bound>, nointx: bool) -> Result<VConfig> {
    // CAST: 256 or 4096.
    let size = pdev.cfg_size() as usize;
    let map = KVec::from_elem(0u8, size, GFP_KERNEL)?;
    let shadow = KVec::from_elem(0u8, size, GFP_KERNEL)?;
    let mut bars = [Bar::default(); 6];
    for (i, bar) in (0u32..).zip(bars.iter_mut()) {
        let flags = pdev.resource_flags(i)?;
        *bar = Bar {
            assigned: pdev.resource_start(i)? != 0,
            len: pdev.resource_len(i)?,
            io: flags & IORESOURCE_IO != 0,
            prefetch: flags & IORESOURCE_PREFETCH != 0,
            mem64: flags & IORESOURCE_MEM_64 != 0,
        };
    }
    let (rom_start, rom_len) = pdev.rom_resource();
    // CAST: `usize` fits in `u64`.
    let shadow_rom = pdev.shadow_rom_len() as u64;
    let rom_len = if rom_start != 0 {
        rom_len
    } else if shadow_rom != 0 {
        shadow_rom.next_power_of_two()
    } else {
        0
    };
    let irq = pdev.irq();
    let info = DeviceInfo {
        cfg_size: size,
        virtfn: pdev.is_virtfn(),
        vendor: pdev.vendor_id().as_raw(),
        device: pdev.device_id(),
        no_command_memory: pdev.no_command_memory(),
        hide_intx_pin: nointx || irq == 0 || irq == IRQ_NOTCONNECTED,
        nointx,
        bars,
        rom_len,
        pcie_flags: pdev.pcie_flags(),
    };
    Config::new(&mut Hw(pdev), map, shadow, info)
}

/// Removes every user mapping of the BARs; accesses fault again (and get `SIGBUS` while memory
/// is disabled). The caller holds the memory lock.
pub(crate) fn zap_bars(dev: &vfio::Device<RvfioDevice, Bound>) {
    let (start, len) = bar_range();
    dev.zap_mappings(start, len);
}

/// The file range of the BAR regions, where user mappings live: `(start, len)`.
pub(crate) fn bar_range() -> (u64, u64) {
    let start = index_to_offset(uapi::VFIO_PCI_BAR0_REGION_INDEX);
    let end = index_to_offset(uapi::VFIO_PCI_ROM_REGION_INDEX);
    (start, end - start)
}

/// Configuration read or write through the file: aligned pieces of at most 4 bytes that never
/// cross a capability. User copies happen with no lock held.
pub(crate) fn rw(
    dev: &vfio::Device<RvfioDevice, Bound>,
    mut buf: UserBuf<'_>,
    mut pos: u64,
) -> Result<usize> {
    let pdev = bound_pdev(dev)?;
    // CAST: 256 or 4096.
    let size = pdev.cfg_size() as u64;
    let mut left = buf.len();
    let mut done = 0;
    while left > 0 {
        if !in_bounds(pos, left, size) {
            return Err(EFAULT);
        }
        // CAST: `pos` < 4096.
        let at = pos as usize;
        let (n, drops) = config_of(&mut dev.open.lock(), |c| {
            Ok((c.piece(at, left), c.drops_writes(at)))
        })?;
        match &mut buf {
            UserBuf::Read(w) => {
                let v = config_of(&mut dev.open.lock(), |c| c.read(&mut Hw(pdev), at, n))?;
                w.write_slice(&v.to_le_bytes()[..n])?;
            }
            UserBuf::Write(r) => {
                if drops {
                    // Read-only capability: as vfio-pci, the data is not even read.
                    r.skip(n)?;
                } else {
                    let mut b = [0u8; 4];
                    r.read_slice(&mut b[..n])?;
                    write_piece(dev, pdev, at, n, u32::from_le_bytes(b))?;
                }
            }
        }
        pos += n as u64;
        left -= n;
        done += n;
    }
    Ok(done)
}

/// Runs `f` on the open device's engine (`EINVAL` when the device is not open).
fn config_of<R>(open: &mut OpenState, f: impl FnOnce(&mut VConfig) -> Result<R>) -> Result<R> {
    f(open.config.as_mut().ok_or(EINVAL)?)
}

/// One configuration write piece and its effects.
fn write_piece(
    dev: &vfio::Device<RvfioDevice, Bound>,
    pdev: &pci::Device<Bound>,
    at: usize,
    n: usize,
    val: u32,
) -> Result {
    let mut open = dev.open.lock();
    let cfg = open.config.as_mut().ok_or(EINVAL)?;
    let fx = match cfg.command_write(at, val) {
        Some(zap) => {
            // As vfio-pci: COMMAND writes run under the memory lock, after zapping user
            // mappings when they turn memory decode off.
            let mut memory = dev.memory.lock();
            if zap {
                zap_bars(dev);
            }
            let fx = dev.memory_change(&mut memory, |m| {
                let fx = cfg.write(&mut Hw(pdev), at, n, val);
                m.decode = cfg.memory_decode();
                fx
            });
            fx?
        }
        None => cfg.write(&mut Hw(pdev), at, n, val)?,
    };
    apply(dev, pdev, &mut open, fx);
    Ok(())
}

/// Carries out what a configuration write asked for.
fn apply(
    dev: &vfio::Device<RvfioDevice, Bound>,
    pdev: &pci::Device<Bound>,
    open: &mut OpenState,
    fx: Effects,
) {
    if fx.bars_restored {
        dev_info!(pdev, "reset recovery - restoring BARs\n");
    }
    if let Some(state) = fx.power_state {
        let _ = set_power_state(dev, pdev, i32::from(state));
    }
    if fx.reset {
        let mut memory = dev.memory.lock();
        zap_bars(dev);
        dev.memory_change(&mut memory, |m| {
            // Best effort, as vfio-pci: a contended device lock skips the reset.
            let _ = pdev.try_reset_function();
            // A reset from D3hot leaves the function in D0.
            m.low_power = pdev.current_state() >= D3HOT;
        });
    }
    if let Some(rq) = fx.readrq {
        let _ = pdev.set_readrq_floored(rq);
    }
    if let Some(masked) = fx.intx_masked {
        crate::irq::config_intx(pdev, open, masked);
    }
}

/// Moves the function to power state `state` under the memory lock, zapping mappings first
/// when memory stops decoding, and saving/restoring state around D3hot for functions that lose
/// it there (`vfio_pci_set_power_state()`).
pub(crate) fn set_power_state(
    dev: &vfio::Device<RvfioDevice, Bound>,
    pdev: &pci::Device<Bound>,
    state: i32,
) -> Result {
    let mut memory = dev.memory.lock();
    if state >= D3HOT {
        zap_bars(dev);
    }
    dev.memory_change(&mut memory, |m| set_power_state_locked(dev, pdev, m, state))
}

/// `VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY[_WITH_WAKEUP]` (`vfio_pci_runtime_pm_entry()`): zaps
/// the mappings, which then refuse to fault until the exit. `EINVAL` if already in low power.
///
/// vfio-pci then lets runtime PM suspend the function, and signals `wake` when an access
/// resumes it; rvfio-pci has no runtime PM, exactly like vfio-pci in a kernel without
/// `CONFIG_PM`: the function stays powered and `wake` is only held.
pub(crate) fn low_power_entry(
    dev: &vfio::Device<RvfioDevice, Bound>,
    wake: Option<EventFd>,
) -> Result {
    let mut memory = dev.memory.lock();
    zap_bars(dev);
    if memory.pm_engaged {
        return Err(EINVAL);
    }
    memory.pm_engaged = true;
    memory.pm_wake = wake;
    Ok(())
}

/// `VFIO_DEVICE_FEATURE_LOW_POWER_EXIT` (`vfio_pci_runtime_pm_exit()`); also at close.
pub(crate) fn low_power_exit(dev: &vfio::Device<RvfioDevice, Bound>) {
    let mut memory = dev.memory.lock();
    memory.pm_engaged = false;
    memory.pm_wake = None;
}

/// The transition of [`set_power_state`], for a caller that holds the memory lock, has closed
/// the memory gate and zapped the mappings if needed.
pub(crate) fn set_power_state_locked(
    dev: &vfio::Device<RvfioDevice, Bound>,
    pdev: &pci::Device<Bound>,
    memory: &mut Memory,
    state: i32,
) -> Result {
    // A PF with VFs stays in D0.
    if state > 0 && dev.sriov_active.load(core::sync::atomic::Ordering::Relaxed) {
        return Err(EBUSY);
    }
    let current = pdev.current_state();
    let needs_save = dev.needs_pm_restore && current < D3HOT && state >= D3HOT;
    let needs_restore = dev.needs_pm_restore && current >= D3HOT && state == 0;
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
