// SPDX-License-Identifier: GPL-2.0

//! A fake PCI function for the configuration engine: a configuration space with per-byte
//! hardware write masks, a write log, and a builder that lays out capability chains.

use crate::caps::*;
use crate::config::{Bar, Config, DeviceInfo, Hardware};

/// A function's configuration space as hardware would hold it.
#[derive(Clone, Debug)]
pub(crate) struct FakeHw {
    pub(crate) space: Vec<u8>,
    /// Bits of each byte that hardware lets software change.
    pub(crate) wmask: Vec<u8>,
    /// Every write the engine made: (pos, size, value).
    pub(crate) writes: Vec<(usize, usize, u32)>,
    pub(crate) vpd: Vec<u32>,
    /// The BAR lengths the function was built with.
    pub(crate) bar_lens: [u64; 6],
}

impl Hardware for FakeHw {
    type Error = i32;

    fn read(&mut self, pos: usize, n: usize) -> Result<u32, i32> {
        if pos % n != 0 || pos + n > self.space.len() {
            return Err(-22);
        }
        Ok((0..n).fold(0, |v, i| v | u32::from(self.space[pos + i]) << (8 * i)))
    }

    fn write(&mut self, pos: usize, n: usize, val: u32) -> Result<(), i32> {
        if pos % n != 0 || pos + n > self.space.len() {
            return Err(-22);
        }
        self.writes.push((pos, n, val));
        for i in 0..n {
            let b = (val >> (8 * i)) as u8;
            let m = self.wmask[pos + i];
            self.space[pos + i] = (self.space[pos + i] & !m) | (b & m);
        }
        Ok(())
    }

    fn vpd_read(&mut self, addr: u16) -> Option<u32> {
        self.vpd.get(usize::from(addr) / 4).copied()
    }

    fn vpd_write(&mut self, addr: u16, data: u32) -> bool {
        match self.vpd.get_mut(usize::from(addr) / 4) {
            Some(d) => {
                *d = data;
                true
            }
            None => false,
        }
    }
}

/// A capability to place in a chain: ID, length, and bytes to preset (offset, size, value).
#[derive(Clone, Debug)]
pub(crate) struct CapSpec {
    pub(crate) id: u16,
    pub(crate) len: usize,
    pub(crate) regs: Vec<(usize, usize, u32)>,
}

impl CapSpec {
    pub(crate) fn new(id: u16, len: usize) -> Self {
        Self {
            id,
            len,
            regs: Vec::new(),
        }
    }

    pub(crate) fn reg(mut self, off: usize, n: usize, v: u32) -> Self {
        self.regs.push((off, n, v));
        self
    }
}

/// Builds a function: header, BARs, standard and extended chains.
#[derive(Clone, Debug)]
pub(crate) struct Builder {
    pub(crate) hw: FakeHw,
    pub(crate) info: DeviceInfo,
    /// Where each capability landed: (std?, id, pos).
    pub(crate) placed: Vec<(bool, u16, usize)>,
}

impl Builder {
    pub(crate) fn new(cfg_size: usize) -> Self {
        let mut hw = FakeHw {
            space: vec![0; cfg_size],
            wmask: vec![0xff; cfg_size],
            writes: Vec::new(),
            vpd: (0..64).map(|i| 0x5650_0000 | i).collect(),
            bar_lens: [0; 6],
        };
        let le = |hw: &mut FakeHw, pos: usize, n: usize, v: u32| {
            for i in 0..n {
                hw.space[pos + i] = (v >> (8 * i)) as u8;
            }
        };
        le(&mut hw, PCI_VENDOR_ID, 2, 0x1234);
        le(&mut hw, PCI_DEVICE_ID, 2, 0x11e8);
        le(&mut hw, PCI_COMMAND, 2, 0x0002);
        le(&mut hw, 0x08, 4, 0x00ff_0010);
        le(&mut hw, PCI_INTERRUPT_PIN, 1, 1);
        // Read-only in hardware: IDs, revision/class, header type, status, pin.
        for p in [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 0x0e, 0x3d, 0x34] {
            hw.wmask[p] = 0;
        }
        Self {
            hw,
            info: DeviceInfo {
                cfg_size,
                vendor: 0x1234,
                device: 0x11e8,
                ..DeviceInfo::default()
            },
            placed: Vec::new(),
        }
    }

    fn set(&mut self, pos: usize, n: usize, v: u32) {
        for i in 0..n {
            if pos + i < self.hw.space.len() {
                self.hw.space[pos + i] = (v >> (8 * i)) as u8;
            }
        }
    }

    /// Adds BAR `i` with the given properties; its hardware address is `addr`.
    pub(crate) fn bar(mut self, i: usize, bar: Bar, addr: u64) -> Self {
        let flags = if bar.io {
            1
        } else {
            (if bar.prefetch { 8 } else { 0 }) | (if bar.mem64 { 4 } else { 0 })
        };
        self.set(0x10 + 4 * i, 4, addr as u32 | flags);
        if bar.mem64 {
            self.set(0x14 + 4 * i, 4, (addr >> 32) as u32);
        }
        self.info.bars[i] = bar;
        self.hw.bar_lens[i] = bar.len;
        self
    }

    /// Lays out a standard chain from 0x40 and an extended chain from 0x100.
    pub(crate) fn caps(mut self, std: &[CapSpec], ext: &[CapSpec]) -> Self {
        let mut pos = 0x40;
        let mut prev = PCI_CAPABILITY_LIST;
        for c in std {
            let len = c.len.max(2).next_multiple_of(4);
            if pos + len > CFG_SPACE_SIZE {
                break;
            }
            self.set(prev, 1, pos as u32);
            self.set(pos, 1, u32::from(c.id));
            self.set(pos + 1, 1, 0);
            for &(o, n, v) in &c.regs {
                self.set(pos + o, n, v);
            }
            self.hw.wmask[pos] = 0;
            self.hw.wmask[pos + 1] = 0;
            // The PCI core caches the first PCI Express capability's flags.
            if c.id == 0x10 && self.info.pcie_flags == 0 {
                self.info.pcie_flags = (self.read32(pos) >> 16) as u16;
            }
            self.placed.push((true, c.id, pos));
            prev = pos + 1;
            pos += len;
        }
        if !std.is_empty() {
            let s = self.hw.space[PCI_STATUS] | PCI_STATUS_CAP_LIST as u8;
            self.hw.space[PCI_STATUS] = s;
        }
        if self.hw.space.len() > CFG_SPACE_SIZE {
            let mut epos = CFG_SPACE_SIZE;
            let mut prev: Option<usize> = None;
            for c in ext {
                let len = c.len.max(4).next_multiple_of(4);
                if epos + len > self.hw.space.len() {
                    break;
                }
                if let Some(p) = prev {
                    let h = self.read32(p) & 0x000f_ffff | ((epos as u32) << 20);
                    self.set(p, 4, h);
                }
                self.set(epos, 4, u32::from(c.id) | (1 << 16));
                for &(o, n, v) in &c.regs {
                    self.set(epos + o, n, v);
                }
                for i in 0..4 {
                    self.hw.wmask[epos + i] = 0;
                }
                self.placed.push((false, c.id, epos));
                prev = Some(epos);
                epos += len;
            }
        }
        self
    }

    pub(crate) fn read32(&self, p: usize) -> u32 {
        u32::from_le_bytes(self.hw.space[p..p + 4].try_into().unwrap())
    }

    pub(crate) fn pos_of(&self, std: bool, id: u16) -> usize {
        self.placed
            .iter()
            .find(|&&(s, i, _)| s == std && i == id)
            .map(|&(_, _, p)| p)
            .unwrap()
    }

    /// (offset, mask) pairs of device bits the engine must never change on a user write.
    pub(crate) fn protected(&self) -> Vec<(usize, u8)> {
        let mut p: Vec<(usize, u8)> = Vec::new();
        let all = |start: usize, len: usize, p: &mut Vec<(usize, u8)>| {
            for i in start..start + len {
                p.push((i, 0xff));
            }
        };
        all(0x10, 0x18, &mut p); // BARs
        all(PCI_ROM_ADDRESS, 4, &mut p);
        all(PCI_INTERRUPT_LINE, 1, &mut p);
        p.push((PCI_COMMAND + 1, 0x04)); // INTx disable is virtual
        for &(std, id, pos) in &self.placed {
            match (std, id) {
                (true, 0x11) => all(pos, 12, &mut p),
                (true, 0x10) => {
                    p.push((pos + PCI_EXP_DEVCTL + 1, 0x02 | 0x80 | 0x70)); // phantom, FLR, MRRS
                    p.push((pos + PCI_EXP_DEVCTL, 0xe0)); // MPS
                                                          // Version 1 capabilities (as the PCI core cached them) end before DEVCTL2
                                                          // (the bytes there are raw).
                    if self.info.pcie_flags & 0xf != 1 {
                        p.push((pos + PCI_EXP_DEVCTL2, 0x20)); // ARI
                    }
                }
                (true, 5) => p.push((pos + 2, 0x01)), // MSI enable
                (true, 1) => {
                    p.push((pos + PCI_PM_CTRL, 0x03)); // power state
                    p.push((pos + PCI_PM_CTRL + 1, 0x81)); // PME status/enable
                }
                (true, 0x13) => p.push((pos + PCI_AF_CTRL, 0x01)),
                (true, 3) => all(pos + 2, 6, &mut p), // VPD address/data
                (false, 1) | (false, 4) => all(pos, 4, &mut p),
                _ => {}
            }
        }
        p
    }

    pub(crate) fn open(mut self) -> (Config<Vec<u8>>, FakeHw) {
        let n = self.hw.space.len();
        let c = Config::new(&mut self.hw, vec![0; n], vec![0; n], self.info).unwrap();
        self.hw.writes.clear();
        (c, self.hw)
    }
}

/// A user access through the engine, split as the device layer splits it.
pub(crate) fn user_read(
    c: &mut Config<Vec<u8>>,
    hw: &mut FakeHw,
    pos: usize,
    len: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut p = pos;
    while p < pos + len {
        let n = c.piece(p, pos + len - p);
        let v = c.read(hw, p, n).unwrap();
        out.extend_from_slice(&v.to_le_bytes()[..n]);
        p += n;
    }
    out
}

pub(crate) fn read_n(c: &mut Config<Vec<u8>>, hw: &mut FakeHw, pos: usize, len: usize) -> u32 {
    user_read(c, hw, pos, len)
        .iter()
        .rev()
        .fold(0, |v, &b| (v << 8) | u32::from(b))
}

pub(crate) fn user_write(
    c: &mut Config<Vec<u8>>,
    hw: &mut FakeHw,
    pos: usize,
    bytes: &[u8],
) -> Vec<crate::config::Effects> {
    let mut fx = Vec::new();
    let mut p = pos;
    while p < pos + bytes.len() {
        let n = c.piece(p, pos + bytes.len() - p);
        let v = (0..n).fold(0, |v, i| v | u32::from(bytes[p - pos + i]) << (8 * i));
        fx.push(c.write(hw, p, n, v).unwrap());
        p += n;
    }
    fx
}

pub(crate) fn write_n(c: &mut Config<Vec<u8>>, hw: &mut FakeHw, pos: usize, len: usize, v: u32) {
    user_write(c, hw, pos, &v.to_le_bytes()[..len]);
}
