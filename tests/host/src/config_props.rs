// SPDX-License-Identifier: GPL-2.0

//! Property tests of the configuration engine on random functions and random access sequences:
//! bits the engine protects never reach the device, virtual registers read back what was
//! written, BAR sizing answers with size masks, and no access fails or panics.

use crate::caps::*;
use crate::config::Bar;
use crate::fakedev::*;
use proptest::prelude::*;

fn bar_strategy() -> impl Strategy<Value = (Bar, u64)> {
    prop_oneof![
        Just((Bar::default(), 0)),
        (4u32..21, any::<bool>()).prop_map(|(order, prefetch)| (
            Bar {
                assigned: true,
                len: 1 << order,
                io: false,
                prefetch,
                mem64: false,
            },
            0xe000_0000
        )),
        (4u32..9).prop_map(|order| (
            Bar {
                assigned: true,
                len: 1 << order,
                io: true,
                prefetch: false,
                mem64: false,
            },
            0xc000
        )),
    ]
}

fn std_cap() -> impl Strategy<Value = CapSpec> {
    prop_oneof![
        any::<u16>().prop_map(|f| CapSpec::new(1, 8).reg(2, 2, u32::from(f)).reg(
            4,
            2,
            u32::from(f)
        )),
        (any::<bool>(), any::<bool>(), 0u32..4).prop_map(|(b64, mask, q)| {
            let flags = (if b64 { 0x80 } else { 0 }) | (if mask { 0x100 } else { 0 }) | (q << 1);
            let len = msi_len(flags as u16);
            CapSpec::new(5, len).reg(2, 2, flags)
        }),
        any::<u16>().prop_map(|f| CapSpec::new(0x11, 12).reg(2, 2, u32::from(f & 0x7ff))),
        (1u32..3, any::<u32>()).prop_map(|(v, cap)| CapSpec::new(0x10, 0x3c)
            .reg(2, 2, v)
            .reg(4, 4, cap)
            .reg(8, 2, 0x2810)),
        (3u32..24).prop_map(|len| CapSpec::new(9, len as usize).reg(2, 1, len)),
        any::<u8>().prop_map(|c| CapSpec::new(0x13, 6)
            .reg(2, 1, 6)
            .reg(3, 1, u32::from(c & 3))),
        Just(CapSpec::new(3, 8)),
        Just(CapSpec::new(0x0a, 8)),
        Just(CapSpec::new(0x14, 8)),
    ]
}

fn ext_cap() -> impl Strategy<Value = CapSpec> {
    prop_oneof![
        Just(CapSpec::new(1, 0x2c)),
        Just(CapSpec::new(3, 12)),
        Just(CapSpec::new(4, 16)),
        (1u32..40).prop_map(|l| CapSpec::new(0x0b, l as usize * 4).reg(4, 4, (l * 4) << 20)),
        Just(CapSpec::new(0x1b, 8)),
        Just(CapSpec::new(0x1c, 8)),
    ]
}

prop_compose! {
    fn device()(
        big in any::<bool>(),
        bars in prop::array::uniform6(bar_strategy()),
        std in prop::collection::vec(std_cap(), 0..6),
        pcie in any::<bool>(),
        ext in prop::collection::vec(ext_cap(), 0..6),
        rom in prop_oneof![Just(0u64), Just(0x10000u64)],
    ) -> Builder {
        let mut b = Builder::new(if big { 4096 } else { 256 });
        for (i, (bar, addr)) in bars.into_iter().enumerate() {
            b = b.bar(i, bar, addr);
        }
        b.info.rom_len = rom;
        let mut std = std;
        if pcie {
            std.insert(0, CapSpec::new(0x10, 0x3c).reg(2, 2, 2).reg(8, 2, 0x2810));
        }
        // Avoid placing two capabilities of one ID (the engine's lookup, like vfio-pci's,
        // assumes neighbours differ).
        let mut seen = Vec::new();
        std.retain(|c| if seen.contains(&c.id) { false } else { seen.push(c.id); true });
        let mut seen = Vec::new();
        let mut ext = ext;
        ext.retain(|c| if seen.contains(&c.id) { false } else { seen.push(c.id); true });
        b.caps(&std, &ext)
    }
}

prop_compose! {
    fn op(size: usize)(pos in 0..size, len in 1usize..9, write in any::<bool>(), data in any::<[u8; 8]>())
        -> (usize, usize, bool, [u8; 8]) {
        (pos, len.min(size - pos), write, data)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn user_writes_never_touch_protected_bits(
        b in device(),
        ops in prop::collection::vec(op(4096), 1..64),
    ) {
        let prot = b.protected();
        let before = b.hw.space.clone();
        let size = b.hw.space.len();
        let (mut c, mut hw) = b.open();
        for (pos, len, write, data) in ops {
            let pos = pos % size;
            let len = len.min(size - pos);
            if write {
                user_write(&mut c, &mut hw, pos, &data[..len]);
            } else {
                user_read(&mut c, &mut hw, pos, len);
            }
        }
        for (at, mask) in prot {
            prop_assert_eq!(hw.space[at] & mask, before[at] & mask, "byte {:#x}", at);
        }
    }

    #[test]
    fn virtual_registers_read_back(b in device(), line in any::<u8>(), addr in any::<u32>()) {
        let (mut c, mut hw) = b.open();
        write_n(&mut c, &mut hw, PCI_INTERRUPT_LINE, 1, u32::from(line));
        prop_assert_eq!(read_n(&mut c, &mut hw, PCI_INTERRUPT_LINE, 1), u32::from(line));
        // An unassigned BAR reads 0 whatever is written; an assigned one keeps the address bits.
        for i in 0..6 {
            let bar = c_bar(&hw, i);
            write_n(&mut c, &mut hw, 0x10 + 4 * i, 4, addr);
            let got = read_n(&mut c, &mut hw, 0x10 + 4 * i, 4);
            match bar {
                None => prop_assert_eq!(got, 0),
                Some((len, flags)) => prop_assert_eq!(got, (addr & !(len - 1)) | flags),
            }
        }
    }

    #[test]
    fn sizing_reads_size_masks(b in device()) {
        let (mut c, mut hw) = b.open();
        for i in 0..6 {
            write_n(&mut c, &mut hw, 0x10 + 4 * i, 4, 0xffff_ffff);
            let got = read_n(&mut c, &mut hw, 0x10 + 4 * i, 4);
            match c_bar(&hw, i) {
                None => prop_assert_eq!(got, 0),
                Some((len, flags)) => prop_assert_eq!(got, !(len - 1) | flags),
            }
        }
        prop_assert!(hw.writes.is_empty(), "sizing reached the device: {:x?}", hw.writes);
    }
}

/// BAR `i` as the fake device was built: (length, flag bits), `None` when unassigned.
fn c_bar(hw: &FakeHw, i: usize) -> Option<(u32, u32)> {
    let raw = u32::from_le_bytes(hw.space[0x10 + 4 * i..0x14 + 4 * i].try_into().unwrap());
    if raw == 0 {
        return None;
    }
    let flags = if raw & 1 != 0 { 1 } else { raw & 0xf };
    Some((hw.bar_lens[i] as u32, flags))
}
