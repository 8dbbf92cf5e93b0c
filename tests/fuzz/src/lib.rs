// SPDX-License-Identifier: GPL-2.0

//! The driver's kernel-independent files and the host tests' fake device and argument model,
//! compiled for the fuzz targets (`fuzz_targets/`), with a reader that turns libFuzzer's
//! bytes into values.

// Each target uses part of the items.
#![allow(dead_code)]

/// The driver's `engine/` directory (`drivers/vfio/pci/rvfio/engine.rs` lists the same files).
#[path = "../../../drivers/vfio/pci/rvfio/engine"]
pub mod engine {
    pub mod access;
    pub mod args;
    pub mod caps;
    pub mod config;
    pub mod msix;
    // Only the kernel side uses the register values.
    #[allow(unused_imports)]
    pub mod regs;
}
pub use engine::{
    access,
    args,
    caps,
    config,
    msix, //
};
#[path = "../../host/src/args_diff.rs"]
pub mod args_diff;
#[path = "../../host/src/args_model.rs"]
pub mod args_model;
#[path = "../../host/src/fakedev.rs"]
pub mod fakedev;

/// Reads values from the fuzzer's input; zeros once it runs out.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    pub fn words<const N: usize>(&mut self) -> [u32; N] {
        let mut w = [0; N];
        for x in &mut w {
            *x = self.u32();
        }
        w
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

use caps::*;
use config::{Bar, Config};
use fakedev::*;

/// A BAR from the input: none, 32-bit memory, I/O or 64-bit memory (which takes the next BAR
/// too); with its address.
fn bar(inp: &mut Input<'_>, last: bool) -> (Bar, u64) {
    let kind = inp.u8() % 4;
    let order = u32::from(inp.u8());
    let mem = |order: u32, mem64: bool, prefetch: bool| Bar {
        assigned: true,
        len: 1 << order,
        io: false,
        prefetch,
        mem64,
    };
    match kind {
        1 => (mem(4 + order % 17, false, inp.bool()), 0xe000_0000),
        2 => (
            Bar {
                assigned: true,
                len: 1 << (2 + order % 7),
                io: true,
                prefetch: false,
                mem64: false,
            },
            0xc000,
        ),
        3 if !last => (mem(4 + order % 30, true, inp.bool()), 0x8_0000_0000),
        _ => (Bar::default(), 0),
    }
}

/// A standard capability: one the engine knows, with fields from the input, or any ID with
/// any length and contents.
fn std_cap(inp: &mut Input<'_>) -> CapSpec {
    match inp.u8() % 11 {
        0 => CapSpec::new(1, 8)
            .reg(2, 2, u32::from(inp.u16()))
            .reg(4, 2, u32::from(inp.u16())),
        1 => {
            let flags = inp.u16() & 0x1ff;
            CapSpec::new(5, msi_len(flags)).reg(2, 2, u32::from(flags))
        }
        2 => CapSpec::new(0x11, 12)
            .reg(2, 2, u32::from(inp.u16()))
            .reg(4, 4, inp.u32())
            .reg(8, 4, inp.u32()),
        3 => CapSpec::new(0x10, 0x3c)
            .reg(2, 2, u32::from(inp.u16()))
            .reg(4, 4, inp.u32())
            .reg(8, 2, u32::from(inp.u16()))
            .reg(0x24, 4, inp.u32()),
        4 => {
            let len = 3 + inp.u8() % 40;
            CapSpec::new(9, usize::from(len)).reg(2, 1, u32::from(len))
        }
        5 => CapSpec::new(0x13, 6)
            .reg(2, 1, u32::from(inp.u8()))
            .reg(3, 1, u32::from(inp.u8())),
        6 => CapSpec::new(3, 8)
            .reg(2, 2, u32::from(inp.u16()))
            .reg(4, 4, inp.u32()),
        7 => CapSpec::new(7, 24).reg(2, 2, u32::from(inp.u16())),
        8 => CapSpec::new(0x12, 8).reg(2, 2, u32::from(inp.u16())),
        _ => {
            // The IDs whose protected bits Builder::protected knows come with their real
            // layout above; laid out at any length they would overlap what follows.
            let mut id = u16::from(inp.u8());
            if matches!(id, 1 | 3 | 5 | 0x10 | 0x11 | 0x13) {
                id |= 0x80;
            }
            let len = usize::from(inp.u8() % 64);
            CapSpec::new(id, len)
                .reg(2, 2, u32::from(inp.u16()))
                .reg(4, 4, inp.u32())
        }
    }
}

/// An extended capability, known or not.
fn ext_cap(inp: &mut Input<'_>) -> CapSpec {
    match inp.u8() % 8 {
        0 => CapSpec::new(1, 0x2c)
            .reg(4, 4, inp.u32())
            .reg(8, 4, inp.u32()),
        1 => CapSpec::new(3, 12),
        2 => CapSpec::new(4, 16).reg(4, 4, inp.u32()),
        3 => {
            let l = 1 + u32::from(inp.u8() % 60);
            CapSpec::new(0x0b, l as usize * 4).reg(4, 4, (l * 4) << 20)
        }
        4 => CapSpec::new(0x0d, 8)
            .reg(4, 2, u32::from(inp.u16()))
            .reg(6, 2, u32::from(inp.u16())),
        5 => CapSpec::new(0x15, 12).reg(8, 4, inp.u32()),
        6 => CapSpec::new(0x17, 16).reg(4, 4, inp.u32()),
        _ => {
            // As for standard capabilities: AER and power budgeting only in their layout.
            let mut id = inp.u16() % 0x40;
            if matches!(id, 1 | 4) {
                id |= 0x20;
            }
            let len = usize::from(inp.u8()) * 4;
            CapSpec::new(id, len)
                .reg(4, 4, inp.u32())
                .reg(8, 4, inp.u32())
        }
    }
}

/// Keeps the first capability of each ID (the engine's lookup, like vfio-pci's, assumes one).
fn dedup(caps: &mut Vec<CapSpec>) {
    let mut seen = Vec::new();
    caps.retain(|c| {
        let new = !seen.contains(&c.id);
        seen.push(c.id);
        new
    });
}

/// A function laid out from the input by [`Builder`].
fn structured(inp: &mut Input<'_>) -> Builder {
    let big = inp.bool();
    let mut b = Builder::new(if big { 4096 } else { 256 });
    let mut i = 0;
    while i < 6 {
        let (bar, addr) = bar(inp, i == 5);
        b = b.bar(i, bar, addr);
        i += if bar.mem64 { 2 } else { 1 };
    }
    if inp.bool() {
        b.info.rom_len = 0x10000;
    }
    b.info.virtfn = inp.u8() == 0xff;
    let mut std: Vec<CapSpec> = (0..inp.u8() % 8).map(|_| std_cap(inp)).collect();
    if inp.bool() {
        std.insert(0, CapSpec::new(0x10, 0x3c).reg(2, 2, 2).reg(8, 2, 0x2810));
    }
    let mut ext: Vec<CapSpec> = (0..inp.u8() % 8).map(|_| ext_cap(inp)).collect();
    dedup(&mut std);
    dedup(&mut ext);
    let mut b = b.caps(&std, &ext);
    // MSI is off at open, however the capability was made (an unknown-ID one may be MSI): the
    // host enables it only through SET_IRQS, and while it is off vfio-pci writes user flags to
    // the device with enable clear.
    for &(is_std, id, pos) in &b.placed {
        if is_std && id == 5 {
            b.hw.space[pos + 2] &= !1;
        }
    }
    b
}

/// A function whose configuration space is the input's bytes, chains and all: whatever a
/// device could present.
fn raw(inp: &mut Input<'_>) -> Builder {
    let size = if inp.bool() { 4096 } else { 256 };
    let mut b = Builder::new(size);
    let n = usize::from(inp.u16()) % (size + 1);
    for i in 0..n {
        b.hw.space[i] = inp.u8();
    }
    b
}

/// The configuration engine on a function from the input, then the input's accesses: no
/// access fails or panics, and no user write changes a bit the engine protects. With
/// `RVFIO_FUZZ_DEBUG` set in the environment, prints the function and each access (to read a
/// crash's input).
pub fn fuzz_config(data: &[u8]) {
    let mut inp = Input(data);
    let is_raw = inp.u8() & 1 != 0;
    let b = if is_raw {
        raw(&mut inp)
    } else {
        structured(&mut inp)
    };
    let prot = if is_raw {
        // Whatever the chains say: BARs, ROM BAR, interrupt line and INTx disable.
        let mut p: Vec<(usize, u8)> = (0x10..0x28).chain(0x30..0x34).map(|i| (i, 0xff)).collect();
        p.push((PCI_INTERRUPT_LINE, 0xff));
        p.push((PCI_COMMAND + 1, 0x04));
        p
    } else {
        b.protected()
    };
    let debug = std::env::var_os("RVFIO_FUZZ_DEBUG").is_some();
    if debug {
        eprintln!("raw {is_raw} placed {:x?} info {:x?}", b.placed, b.info);
    }
    let before = b.hw.space.clone();
    let size = before.len();
    let mut hw = b.hw.clone();
    let n = hw.space.len();
    let Ok(mut c) = Config::new(&mut hw, vec![0; n], vec![0; n], b.info) else {
        // Refused at open (a read the fake device fails): not an access.
        return;
    };
    for _ in 0..512 {
        if inp.is_empty() {
            break;
        }
        let pos = usize::from(inp.u16()) % size;
        let len = (1 + usize::from(inp.u8() % 8)).min(size - pos);
        let write = inp.bool();
        let data = inp.u64().to_le_bytes();
        if debug {
            eprintln!(
                "{} {pos:#x} {:x?}",
                if write { "write" } else { "read" },
                &data[..len]
            );
        }
        if write {
            user_write(&mut c, &mut hw, pos, &data[..len]);
        } else {
            user_read(&mut c, &mut hw, pos, len);
        }
    }
    for (at, mask) in prot {
        assert_eq!(
            hw.space[at] & mask,
            before[at] & mask,
            "protected byte {at:#x} changed"
        );
    }
}

/// The ioctl argument checks: the input picks an ioctl and its argument; `crate::args` must
/// answer as the model of vfio-pci does.
pub fn fuzz_args(data: &[u8]) {
    let mut inp = Input(data);
    while !inp.is_empty() {
        match inp.u8() % 5 {
            0 => {
                let w = inp.words::<5>();
                let vectors: Vec<u32> = (0..inp.u8() % 7).map(|_| inp.u32()).collect();
                let payload: Vec<u8> = (0..inp.u8() % 64).map(|_| inp.u8()).collect();
                args_diff::set_irqs(w, &vectors, &payload);
            }
            1 => {
                let w = inp.words::<7>();
                let mut lens = [0u64; 6];
                for l in &mut lens {
                    *l = match inp.u8() {
                        0 => 0,
                        o => 1 << (o % 48),
                    };
                }
                let msix = inp.bool().then(|| {
                    (
                        u32::from(inp.u8() % 6),
                        inp.u64() >> (inp.u8() % 64),
                        inp.u64(),
                    )
                });
                args_diff::ioeventfd(w, lens, msix);
            }
            2 => {
                let w = inp.words::<3>();
                let cdev = inp.bool();
                let functions = usize::from(inp.u8());
                args_diff::hot_reset(w, cdev, functions);
                let record = (inp.u32(), inp.u16(), inp.u8(), inp.u8());
                args_diff::hot_reset_info(w[0], functions, record);
            }
            3 => {
                let flags = inp.u32();
                let argsz = inp.u64() as usize;
                let vf_token = inp.bool();
                args_diff::feature(flags, argsz, vf_token, inp.words::<2>());
            }
            _ => {
                let index = inp.u32();
                let size = inp.u64();
                args_diff::region_info(index, size, inp.bool(), inp.bool());
            }
        }
    }
}
