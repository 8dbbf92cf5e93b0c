// SPDX-License-Identifier: GPL-2.0

//! The device side of the configuration engine: the real configuration space behind
//! [`config::Hardware`], the engine's construction at open, configuration reads and writes
//! through the file, and the effects of writes (memory-decode changes with the mapping zap,
//! power states, trapped FLRs, INTx masking, read request size).

use crate::device::{
    OpenDevice,
    OpenState, //
};
use crate::engine::access::{
    self,
    in_bounds, //
};
use crate::engine::config::{
    self,
    Bar,
    Config,
    DeviceInfo,
    Effects, //
};
use crate::engine::regs::{
    IORESOURCE_IO,
    IORESOURCE_MEM_64,
    IORESOURCE_PREFETCH,
    IRQ_NOTCONNECTED, //
};
use crate::function::Function;
use crate::personality::Personality;
use crate::regions::UserBuf;
use kernel::{
    device::Bound,
    pci,
    prelude::*, //
};

/// The engine's storage: `cfg_size` bytes each for the map and the shadow.
pub(crate) type VConfig = Config<KVec<u8>>;

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
/// `personality` may change what user space sees of the function first.
pub(crate) fn build(
    pdev: &pci::Device<Bound>,
    nointx: bool,
    personality: &dyn Personality,
) -> Result<VConfig> {
    let size = pdev.cfg_size().into_raw();
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
    let rom_len = access::rom_len(rom_start, rom_len, pdev.shadow_rom_len() as u64);
    let irq = pdev.irq();
    let mut info = DeviceInfo {
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
    personality.device_info(&mut info);
    Config::new(&mut Hw(pdev), map, shadow, info)
}

/// Configuration read or write through the file: aligned pieces of at most 4 bytes that never
/// cross a capability. User copies happen with no lock held.
pub(crate) fn rw(
    f: Function<'_>,
    open: &OpenDevice,
    mut buf: UserBuf<'_>,
    mut pos: u64,
) -> Result<usize> {
    let pdev = f.pdev;
    // CAST: 256 or 4096.
    let size = pdev.cfg_size().into_raw() as u64;
    let mut left = buf.len();
    let mut done = 0;
    while left > 0 {
        if !in_bounds(pos, left, size) {
            return Err(EFAULT);
        }
        // CAST: `pos` < 4096.
        let at = pos as usize;
        let n = match &mut buf {
            UserBuf::Read(w) => {
                // One hold of the lock for the piece and its read; the copy comes after.
                let (n, v) = {
                    let mut state = open.state.lock();
                    let n = state.config.piece(at, left);
                    (n, state.config.read(&mut Hw(pdev), at, n)?)
                };
                w.write_slice(&v.to_le_bytes()[..n])?;
                n
            }
            UserBuf::Write(r) => {
                let (n, drops) = {
                    let state = open.state.lock();
                    (state.config.piece(at, left), state.config.drops_writes(at))
                };
                if drops {
                    // Read-only capability: as vfio-pci, the data is not even read.
                    r.skip(n)?;
                } else {
                    let mut b = [0u8; 4];
                    r.read_slice(&mut b[..n])?;
                    write_piece(f, open, at, n, u32::from_le_bytes(b))?;
                }
                n
            }
        };
        pos += n as u64;
        left -= n;
        done += n;
    }
    Ok(done)
}

/// One configuration write piece and its effects.
fn write_piece(f: Function<'_>, open: &OpenDevice, at: usize, n: usize, val: u32) -> Result {
    let pdev = f.pdev;
    let mut state = open.state.lock();
    let cfg = &mut state.config;
    let fx = match cfg.command_write(at, val) {
        Some(zap) => {
            // As vfio-pci: COMMAND writes run under the memory lock, after zapping user
            // mappings when they turn memory decode off.
            let mut memory = f.memory.lock();
            if zap {
                f.zap_bars();
            }
            let fx = f.memory.change(&mut memory, |m| {
                let fx = cfg.write(&mut Hw(pdev), at, n, val);
                m.decode = cfg.memory_decode();
                fx
            });
            fx?
        }
        None => cfg.write(&mut Hw(pdev), at, n, val)?,
    };
    apply(f, open, &mut state, fx);
    Ok(())
}

/// Carries out what a configuration write asked for.
fn apply(f: Function<'_>, open: &OpenDevice, st: &mut OpenState, fx: Effects) {
    let pdev = f.pdev;
    if fx.bars_restored {
        dev_info!(pdev, "reset recovery - restoring BARs\n");
    }
    if let Some(state) = fx.power_state {
        let _ = f.set_power_state(i32::from(state));
    }
    if fx.reset {
        let _ = f.reset(false);
    }
    if let Some(rq) = fx.readrq {
        let _ = pdev.set_readrq_floored(rq);
    }
    if let Some(masked) = fx.intx_masked {
        crate::irq::config_intx(pdev, st, open.pci_2_3, masked);
    }
}
