// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the configuration engine, one behaviour of vfio-pci each.

use crate::caps::*;
use crate::config::{Bar, Config, Effects};
use crate::fakedev::*;

const MEM32: Bar = Bar {
    assigned: true,
    len: 0x1000,
    io: false,
    prefetch: false,
    mem64: false,
};

fn basic() -> Builder {
    Builder::new(256).bar(0, MEM32, 0xfe00_0000)
}

#[test]
fn bar_sizing_reads_size_mask_and_keeps_hardware() {
    let b = basic()
        .bar(
            2,
            Bar {
                assigned: true,
                len: 0x4_0000_0000,
                io: false,
                prefetch: true,
                mem64: true,
            },
            0x80_0000_0000,
        )
        .bar(
            4,
            Bar {
                assigned: true,
                len: 0x20,
                io: true,
                prefetch: false,
                mem64: false,
            },
            0xc000,
        );
    let before = b.hw.space.clone();
    let (mut c, mut hw) = b.open();
    for i in 0..6 {
        write_n(&mut c, &mut hw, 0x10 + 4 * i, 4, 0xffff_ffff);
    }
    assert_eq!(read_n(&mut c, &mut hw, 0x10, 4), 0xffff_f000);
    assert_eq!(
        read_n(&mut c, &mut hw, 0x14, 4),
        0,
        "unassigned BAR reads 0"
    );
    assert_eq!(
        read_n(&mut c, &mut hw, 0x18, 4),
        0x0000_000c,
        "64-bit prefetchable, 16 GiB"
    );
    assert_eq!(read_n(&mut c, &mut hw, 0x1c, 4), 0xffff_fffc);
    assert_eq!(read_n(&mut c, &mut hw, 0x20, 4), 0xffff_ffe1, "I/O BAR");
    assert_eq!(
        hw.space[0x10..0x28],
        before[0x10..0x28],
        "real BARs untouched"
    );
    assert!(hw.writes.is_empty());
    // An address written back reads back, masked to the BAR size.
    write_n(&mut c, &mut hw, 0x10, 4, 0x1234_5678);
    assert_eq!(read_n(&mut c, &mut hw, 0x10, 4), 0x1234_5000);
}

#[test]
fn rom_bar_sizing_keeps_enable_bit() {
    let mut b = basic();
    b.info.rom_len = 0x10000;
    let (mut c, mut hw) = b.open();
    write_n(&mut c, &mut hw, PCI_ROM_ADDRESS, 4, 0xffff_ffff);
    assert_eq!(read_n(&mut c, &mut hw, PCI_ROM_ADDRESS, 4), 0xffff_0001);
    let (mut c, mut hw) = basic().open();
    write_n(&mut c, &mut hw, PCI_ROM_ADDRESS, 4, 0xffff_ffff);
    assert_eq!(
        read_n(&mut c, &mut hw, PCI_ROM_ADDRESS, 4),
        0,
        "no ROM reads 0"
    );
}

#[test]
fn command_memory_reaches_hardware_intx_disable_is_virtual() {
    let (mut c, mut hw) = basic().open();
    assert_eq!(
        c.command_write(PCI_COMMAND, 0),
        Some(true),
        "clearing memory zaps"
    );
    assert_eq!(c.command_write(PCI_COMMAND, 2), Some(false));
    assert_eq!(c.command_write(PCI_COMMAND + 1, 0), None);
    let fx = user_write(&mut c, &mut hw, PCI_COMMAND, &0x0400u16.to_le_bytes());
    assert_eq!(fx[0].intx_masked, Some(true));
    assert_eq!(hw.space[PCI_COMMAND], 0, "memory decode off in hardware");
    assert_eq!(hw.space[PCI_COMMAND + 1], 0, "INTx disable not in hardware");
    assert!(!c.memory_decode());
    assert_eq!(read_n(&mut c, &mut hw, PCI_COMMAND, 2), 0x0400);
    let fx = user_write(&mut c, &mut hw, PCI_COMMAND, &0x0006u16.to_le_bytes());
    assert_eq!(fx[0].intx_masked, Some(false));
    assert!(c.memory_decode());
    assert_eq!(read_n(&mut c, &mut hw, PCI_COMMAND, 2), 0x0006);
}

#[test]
fn status_and_ids_are_read_only() {
    let (mut c, mut hw) = basic().open();
    write_n(&mut c, &mut hw, 0, 4, 0xdead_beef);
    write_n(&mut c, &mut hw, PCI_STATUS, 2, 0xffff);
    write_n(&mut c, &mut hw, PCI_INTERRUPT_PIN, 1, 3);
    assert!(hw.writes.is_empty(), "{:x?}", hw.writes);
    assert_eq!(read_n(&mut c, &mut hw, 0, 4), 0x11e8_1234);
    assert_eq!(read_n(&mut c, &mut hw, PCI_INTERRUPT_PIN, 1), 1);
    write_n(&mut c, &mut hw, PCI_INTERRUPT_LINE, 1, 0x2a);
    assert_eq!(
        read_n(&mut c, &mut hw, PCI_INTERRUPT_LINE, 1),
        0x2a,
        "line is virtual"
    );
    assert!(hw.writes.is_empty());
}

#[test]
fn vf_shows_ids_and_no_pin() {
    let mut b = basic();
    b.info.virtfn = true;
    b.info.no_command_memory = true;
    for i in 0..4 {
        b.hw.space[i] = 0xff;
    }
    let (mut c, mut hw) = b.open();
    assert_eq!(read_n(&mut c, &mut hw, 0, 4), 0x11e8_1234);
    assert_eq!(read_n(&mut c, &mut hw, PCI_INTERRUPT_PIN, 1), 0);
    hw.space[PCI_COMMAND] = 0;
    assert_eq!(
        read_n(&mut c, &mut hw, PCI_COMMAND, 2) & 2,
        2,
        "virtual memory enable"
    );
}

#[test]
fn hidden_pin_reads_zero() {
    let mut b = basic();
    b.info.hide_intx_pin = true;
    let (mut c, mut hw) = b.open();
    assert_eq!(read_n(&mut c, &mut hw, PCI_INTERRUPT_PIN, 1), 0);
}

#[test]
fn backdoor_reset_restores_bars() {
    let (mut c, mut hw) = basic().open();
    hw.space[0x10..0x14].fill(0);
    let fx = user_write(&mut c, &mut hw, PCI_COMMAND, &2u16.to_le_bytes());
    assert!(fx[0].bars_restored);
    assert_eq!(
        u32::from_le_bytes(hw.space[0x10..0x14].try_into().unwrap()),
        0xfe00_0000
    );
}

fn with_caps(std: &[CapSpec], ext: &[CapSpec]) -> Builder {
    Builder::new(4096).bar(0, MEM32, 0xfe00_0000).caps(std, ext)
}

#[test]
fn hidden_capability_is_unlinked_but_readable_raw() {
    let b = with_caps(
        &[
            CapSpec::new(CAP_ID_PM as u16, 8),
            CapSpec::new(0x0a, 8).reg(4, 4, 0xabcd_ef01),
            CapSpec::new(CAP_ID_MSIX as u16, 12),
        ],
        &[],
    );
    let (pm, dbg, msix) = (
        b.pos_of(true, 1),
        b.pos_of(true, 0x0a),
        b.pos_of(true, CAP_ID_MSIX as u16),
    );
    let (mut c, mut hw) = b.open();
    assert_eq!(read_n(&mut c, &mut hw, PCI_CAPABILITY_LIST, 1) as usize, pm);
    assert_eq!(
        read_n(&mut c, &mut hw, pm + 1, 1) as usize,
        msix,
        "debug cap skipped"
    );
    assert_eq!(
        read_n(&mut c, &mut hw, dbg + 4, 4),
        0xabcd_ef01,
        "gap bytes raw"
    );
    write_n(&mut c, &mut hw, dbg + 4, 4, 0x1111_2222);
    assert_eq!(hw.writes, vec![(dbg + 4, 4, 0x1111_2222)], "gap bytes raw");
}

#[test]
fn no_visible_capability_clears_cap_list() {
    let b = with_caps(&[CapSpec::new(0x0a, 8)], &[]);
    let (mut c, mut hw) = b.open();
    assert_eq!(read_n(&mut c, &mut hw, PCI_STATUS, 2) & 0x10, 0);
}

#[test]
fn pm_state_is_trapped_and_pme_virtual() {
    let b = with_caps(
        &[CapSpec::new(1, 8)
            .reg(PCI_PM_PMC, 2, 0xc803)
            .reg(PCI_PM_CTRL, 2, 0x8100)],
        &[],
    );
    let pm = b.pos_of(true, 1);
    let (mut c, mut hw) = b.open();
    assert_eq!(
        read_n(&mut c, &mut hw, pm + PCI_PM_PMC, 2),
        0x0003,
        "no PME support shown"
    );
    assert_eq!(
        read_n(&mut c, &mut hw, pm + PCI_PM_CTRL, 2),
        0,
        "PME status/enable hidden"
    );
    let fx = user_write(&mut c, &mut hw, pm + PCI_PM_CTRL, &0x0103u16.to_le_bytes());
    assert_eq!(fx[0].power_state, Some(3));
    assert_eq!(hw.space[pm + PCI_PM_CTRL] & 3, 0, "state bits not written");
    assert_eq!(
        hw.space[pm + PCI_PM_CTRL + 1],
        0x81,
        "PME enable not written"
    );
}

#[test]
fn msi_enable_only_through_ioctl_and_qsize_clamped() {
    let flags = PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 0x0a;
    let b = with_caps(
        &[CapSpec::new(5, 24).reg(PCI_MSI_FLAGS, 2, u32::from(flags))],
        &[],
    );
    let msi = b.pos_of(true, 5);
    let (mut c, mut hw) = b.open();
    // As vfio-pci (whose read hook misses the flags): QMASK reads as the device has it.
    assert_eq!(read_n(&mut c, &mut hw, msi + 2, 2), u32::from(flags));
    assert_eq!(read_n(&mut c, &mut hw, msi, 1), 5, "the ID is untouched");
    write_n(&mut c, &mut hw, msi + 2, 2, 0x0071);
    let hwflags = u16::from_le_bytes([hw.space[msi + 2], hw.space[msi + 3]]);
    assert_eq!(hwflags & 0x71, 0, "enable dropped, QSIZE clamped to 0");
    c.msi_state.qmax = 2;
    c.msi_state.enabled = true;
    write_n(&mut c, &mut hw, msi + 2, 2, 0x0071);
    assert_eq!(read_n(&mut c, &mut hw, msi + 2, 2) & 0x71, 0x21);
    // Address and data are virtual; mask bits reach the device.
    write_n(&mut c, &mut hw, msi + 4, 4, 0xfee0_0000);
    assert_eq!(read_n(&mut c, &mut hw, msi + 4, 4), 0xfee0_0000);
    assert_eq!(hw.space[msi + 4], 0);
    write_n(&mut c, &mut hw, msi + 0x10, 4, 0x5);
    assert_eq!(hw.space[msi + 0x10], 5);
}

#[test]
fn msix_is_read_only() {
    let b = with_caps(&[CapSpec::new(0x11, 12).reg(2, 2, 0x7)], &[]);
    let x = b.pos_of(true, 0x11);
    let (mut c, mut hw) = b.open();
    write_n(&mut c, &mut hw, x, 4, 0xffff_ffff);
    write_n(&mut c, &mut hw, x + 4, 4, 0xffff_ffff);
    assert!(hw.writes.is_empty());
    assert_eq!(read_n(&mut c, &mut hw, x, 4), 0x0007_0011);
    assert!(
        c.drops_writes(x + 4),
        "the device layer need not even copy the data"
    );
    assert!(!c.drops_writes(PCI_COMMAND));
}

/// Opens a function with a version 2 PCI Express capability whose DEVCAP is `devcap`;
/// returns the engine, the device and the capability's offset.
fn open_exp(devcap: u32) -> (Config<Vec<u8>>, FakeHw, usize) {
    let b = with_caps(
        &[CapSpec::new(0x10, 0x3c)
            .reg(2, 2, 0x0002)
            .reg(PCI_EXP_DEVCAP, 4, devcap)
            .reg(PCI_EXP_DEVCTL, 2, 0x2010)],
        &[],
    );
    let e = b.pos_of(true, 0x10);
    let (c, hw) = b.open();
    (c, hw, e)
}

#[test]
fn pcie_flr_is_trapped() {
    let (mut c, mut hw, e) = open_exp(PCI_EXP_DEVCAP_FLR);
    let fx = user_write(
        &mut c,
        &mut hw,
        e + PCI_EXP_DEVCTL,
        &0xa010u16.to_le_bytes(),
    );
    assert!(fx[0].reset);
    assert_eq!(fx[0].readrq, None);
    assert_eq!(
        read_n(&mut c, &mut hw, e + PCI_EXP_DEVCTL, 2) & 0x8000,
        0,
        "FLR reads 0"
    );
    assert_eq!(
        hw.space[e + PCI_EXP_DEVCTL + 1] & 0x80,
        0,
        "FLR bit never reaches hardware"
    );
    let (mut c, mut hw, e) = open_exp(0);
    let fx = user_write(
        &mut c,
        &mut hw,
        e + PCI_EXP_DEVCTL,
        &0xa010u16.to_le_bytes(),
    );
    assert_eq!(fx[0], Effects::default(), "no FLR capability: no reset");
}

#[test]
fn pcie_phantom_protected_mrrs_reported() {
    let (mut c, mut hw, e) = open_exp(0);
    let fx = user_write(
        &mut c,
        &mut hw,
        e + PCI_EXP_DEVCTL,
        &0x0210u16.to_le_bytes(),
    );
    assert_eq!(fx[0].readrq, Some(128));
    assert_eq!(
        hw.space[e + PCI_EXP_DEVCTL + 1] & 0x02,
        0,
        "phantom functions not enabled"
    );
    assert_eq!(
        hw.space[e + PCI_EXP_DEVCTL + 1] & 0x70,
        0x20,
        "MRRS left to the device layer"
    );
    assert_eq!(
        read_n(&mut c, &mut hw, e + PCI_EXP_DEVCTL, 2) & 0x7000,
        0,
        "MRRS virtual"
    );
}

#[test]
fn af_flr_needs_tp_and_flr() {
    for (cap, reset) in [(3u32, true), (2, false), (1, false)] {
        let b = with_caps(
            &[CapSpec::new(0x13, 6).reg(2, 1, 2).reg(PCI_AF_CAP, 1, cap)],
            &[],
        );
        let a = b.pos_of(true, 0x13);
        let (mut c, mut hw) = b.open();
        let fx = user_write(&mut c, &mut hw, a + PCI_AF_CTRL, &[1]);
        assert_eq!(fx[0].reset, reset);
        assert_eq!(read_n(&mut c, &mut hw, a + PCI_AF_CTRL, 1), 0);
    }
}

#[test]
fn vpd_goes_through_vpd_accessors() {
    let b = with_caps(&[CapSpec::new(3, 8)], &[]);
    let v = b.pos_of(true, 3);
    let (mut c, mut hw) = b.open();
    write_n(&mut c, &mut hw, v + PCI_VPD_ADDR, 2, 8);
    assert_eq!(
        read_n(&mut c, &mut hw, v + PCI_VPD_ADDR, 2),
        0x8008,
        "flag toggled"
    );
    assert_eq!(read_n(&mut c, &mut hw, v + PCI_VPD_DATA, 4), 0x5650_0002);
    write_n(&mut c, &mut hw, v + PCI_VPD_DATA, 4, 0xcafe);
    write_n(&mut c, &mut hw, v + PCI_VPD_ADDR, 2, 0x8004);
    assert_eq!(hw.vpd[1], 0xcafe);
    assert_eq!(read_n(&mut c, &mut hw, v + PCI_VPD_ADDR, 2), 0x0004);
    assert!(hw.writes.is_empty());
}

#[test]
fn vendor_capability_writes_raw() {
    let b = with_caps(&[CapSpec::new(9, 12).reg(2, 1, 12)], &[]);
    let v = b.pos_of(true, 9);
    let (mut c, mut hw) = b.open();
    write_n(&mut c, &mut hw, v + 4, 4, 0x1234_5678);
    assert_eq!(hw.writes, vec![(v + 4, 4, 0x1234_5678)]);
}

#[test]
fn extended_chain_hides_and_virtualizes() {
    // The PCIe capability makes the engine look at extended space.
    let b = with_caps(
        &[CapSpec::new(0x10, 0x3c).reg(2, 2, 2)],
        &[
            CapSpec::new(0x1b, 8), // PASID: hidden, first: leaves a zero-ID header
            CapSpec::new(1, 0x2c).reg(4, 4, 0x10),
            CapSpec::new(0x1c, 8), // unknown: hidden, unlinked
            CapSpec::new(3, 12),
        ],
    );
    let aer = b.pos_of(false, 1);
    let dsn = b.pos_of(false, 3);
    let (mut c, mut hw) = b.open();
    let h0 = read_n(&mut c, &mut hw, 0x100, 4);
    assert_eq!(h0 & 0xfffff, 0, "hidden first capability: ID and version 0");
    assert_eq!((h0 >> 20) as usize, aer);
    let h1 = read_n(&mut c, &mut hw, aer, 4);
    assert_eq!(h1 & 0xffff, 1);
    assert_eq!((h1 >> 20) as usize, dsn, "unknown capability skipped");
    // AER status bits writable, header not.
    write_n(&mut c, &mut hw, aer, 4, 0);
    assert!(hw.writes.is_empty());
    write_n(&mut c, &mut hw, aer + 4, 4, 0xffff_ffff);
    assert_eq!(hw.writes, vec![(aer + 4, 4, 0x03ff_f031)]);
}

#[test]
fn pieces_never_cross_capabilities() {
    let b = with_caps(&[CapSpec::new(0x13, 6), CapSpec::new(1, 8)], &[]);
    let af = b.pos_of(true, 0x13);
    let (c, _) = b.open();
    // AF is 6 bytes long: a dword read at af + 4 stops at the end of the capability.
    assert_eq!(c.piece(af + 4, 4), 2);
    assert_eq!(c.piece(af + 6, 2), 2);
    assert_eq!(c.piece(1, 4), 1);
    assert_eq!(c.piece(2, 4), 2);
}

/// A capability chain that leads into the standard header ends there: the "capability" does
/// not take over the BARs (found by the `config` fuzz target; vfio-pci would only warn).
#[test]
fn chain_into_the_header_ends_the_chain() {
    let mut b = basic().caps(&[CapSpec::new(9, 8).reg(2, 1, 8)], &[]);
    let vndr = b.pos_of(true, 9);
    // The vendor capability's next pointer leads to 0x10 (BAR 0), which reads as a vendor
    // capability (ID 9) with length 0x30: all of it would be raw, writable registers.
    b.hw.space[vndr + 1] = 0x10;
    b.hw.space[0x10] = 9;
    b.hw.space[0x12] = 0x30;
    let before = b.hw.space.clone();
    let (mut c, mut hw) = b.open();
    assert_eq!(read_n(&mut c, &mut hw, vndr + 1, 1), 0, "the chain ends");
    write_n(&mut c, &mut hw, 0x10, 4, 0x1234_5678);
    write_n(&mut c, &mut hw, 0x14, 4, 0x9abc_def0);
    assert_eq!(
        hw.space[0x10..0x18],
        before[0x10..0x18],
        "BAR 0 and 1 unchanged"
    );
    assert!(hw.writes.is_empty(), "{:x?}", hw.writes);
    // The vendor capability itself is still there.
    assert_eq!(read_n(&mut c, &mut hw, vndr, 1), 9);
}

#[test]
fn msi_enable_rounds_the_vector_count_up() {
    let mut m = crate::config::MsiState::default();
    for (nvec, qmax) in [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (17, 5), (32, 5)] {
        assert_eq!(m.enable(nvec), qmax, "{nvec} vectors");
        assert_eq!(m.qmax, qmax);
        assert!(m.enabled);
    }
}
