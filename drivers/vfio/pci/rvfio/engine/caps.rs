// SPDX-License-Identifier: GPL-2.0

//! The configuration engine's tables: which capabilities user space sees, how long they are and,
//! byte by byte, which bits are virtual and which are writable.
//!
//! Pure data, written against `core` only (compiled into the module and into the host test
//! crate). The treatment of every capability follows vfio-pci in Linux 7.3; the documentation
//! table in `Documentation/driver-api/rvfio-pci.rst` is generated from these tables by the host
//! test crate (`tests/host`), which fails when the two drift apart.

/// Size of conventional configuration space.
pub(crate) const CFG_SPACE_SIZE: usize = 256;
/// Size of the standard header.
pub(crate) const STD_HEADER_SIZEOF: usize = 64;

/// Map value of the standard header (vfio-pci's fake capability 0).
pub(crate) const CAP_ID_BASIC: u8 = 0;
/// Map value of bytes that belong to no capability: raw access.
pub(crate) const CAP_ID_INVALID: u8 = 0xff;
/// Map value of bytes that are fully virtual.
pub(crate) const CAP_ID_INVALID_VIRT: u8 = 0xfe;

/// Capability IDs (`PCI_CAP_ID_*`).
pub(crate) const CAP_ID_PM: u8 = 0x01;
pub(crate) const CAP_ID_VPD: u8 = 0x03;
pub(crate) const CAP_ID_MSI: u8 = 0x05;
pub(crate) const CAP_ID_PCIX: u8 = 0x07;
pub(crate) const CAP_ID_HT: u8 = 0x08;
pub(crate) const CAP_ID_VNDR: u8 = 0x09;
pub(crate) const CAP_ID_EXP: u8 = 0x10;
pub(crate) const CAP_ID_MSIX: u8 = 0x11;
pub(crate) const CAP_ID_SATA: u8 = 0x12;
pub(crate) const CAP_ID_AF: u8 = 0x13;
/// `PCI_CAP_ID_MAX`.
pub(crate) const CAP_ID_MAX: u8 = 0x14;

/// Extended capability IDs (`PCI_EXT_CAP_ID_*`).
pub(crate) const EXT_CAP_ID_ERR: u16 = 0x01;
pub(crate) const EXT_CAP_ID_VC: u16 = 0x02;
pub(crate) const EXT_CAP_ID_PWR: u16 = 0x04;
pub(crate) const EXT_CAP_ID_MFVC: u16 = 0x08;
pub(crate) const EXT_CAP_ID_VC9: u16 = 0x09;
pub(crate) const EXT_CAP_ID_VNDR: u16 = 0x0b;
pub(crate) const EXT_CAP_ID_ACS: u16 = 0x0d;
pub(crate) const EXT_CAP_ID_REBAR: u16 = 0x15;
pub(crate) const EXT_CAP_ID_DPA: u16 = 0x16;
pub(crate) const EXT_CAP_ID_TPH: u16 = 0x17;
pub(crate) const EXT_CAP_ID_DVSEC: u16 = 0x23;
/// `PCI_EXT_CAP_ID_MAX`.
pub(crate) const EXT_CAP_ID_MAX: u16 = 0x31;

/// Standard header registers.
pub(crate) const PCI_VENDOR_ID: usize = 0x00;
pub(crate) const PCI_DEVICE_ID: usize = 0x02;
pub(crate) const PCI_COMMAND: usize = 0x04;
pub(crate) const PCI_STATUS: usize = 0x06;
pub(crate) const PCI_CACHE_LINE_SIZE: usize = 0x0c;
pub(crate) const PCI_LATENCY_TIMER: usize = 0x0d;
pub(crate) const PCI_BIST: usize = 0x0f;
pub(crate) const PCI_BASE_ADDRESS_0: usize = 0x10;
pub(crate) const PCI_BASE_ADDRESS_5: usize = 0x24;
pub(crate) const PCI_ROM_ADDRESS: usize = 0x30;
pub(crate) const PCI_CAPABILITY_LIST: usize = 0x34;
pub(crate) const PCI_INTERRUPT_LINE: usize = 0x3c;
pub(crate) const PCI_INTERRUPT_PIN: usize = 0x3d;

pub(crate) const PCI_COMMAND_IO: u16 = 0x1;
pub(crate) const PCI_COMMAND_MEMORY: u16 = 0x2;
pub(crate) const PCI_COMMAND_INTX_DISABLE: u16 = 0x400;
pub(crate) const PCI_STATUS_CAP_LIST: u16 = 0x10;
pub(crate) const PCI_BASE_ADDRESS_SPACE_IO: u32 = 0x1;
pub(crate) const PCI_BASE_ADDRESS_MEM_TYPE_64: u32 = 0x4;
pub(crate) const PCI_BASE_ADDRESS_MEM_PREFETCH: u32 = 0x8;
pub(crate) const PCI_ROM_ADDRESS_ENABLE: u32 = 0x1;

/// Capability registers.
pub(crate) const PCI_CAP_LIST_NEXT: usize = 1;
pub(crate) const PCI_CAP_FLAGS: usize = 2;
pub(crate) const PCI_PM_PMC: usize = 2;
pub(crate) const PCI_PM_CTRL: usize = 4;
pub(crate) const PCI_PM_CAP_PME_MASK: u16 = 0xf800;
pub(crate) const PCI_PM_CTRL_STATE_MASK: u32 = 0x3;
pub(crate) const PCI_PM_CTRL_PME_ENABLE: u32 = 0x100;
pub(crate) const PCI_PM_CTRL_PME_STATUS: u32 = 0x8000;
pub(crate) const PCI_VPD_ADDR: usize = 2;
pub(crate) const PCI_VPD_DATA: usize = 4;
pub(crate) const PCI_VPD_ADDR_F: u16 = 0x8000;
pub(crate) const PCI_MSI_FLAGS: usize = 2;
pub(crate) const PCI_MSI_FLAGS_ENABLE: u16 = 0x1;
pub(crate) const PCI_MSI_FLAGS_QMASK: u16 = 0xe;
pub(crate) const PCI_MSI_FLAGS_QSIZE: u16 = 0x70;
pub(crate) const PCI_MSI_FLAGS_64BIT: u16 = 0x80;
pub(crate) const PCI_MSI_FLAGS_MASKBIT: u16 = 0x100;
pub(crate) const PCI_X_CMD: usize = 2;
pub(crate) const PCI_X_ECC_CSR: usize = 8;
pub(crate) const PCI_EXP_FLAGS_VERS: u16 = 0xf;
pub(crate) const PCI_EXP_FLAGS_TYPE: u16 = 0xf0;
pub(crate) const PCI_EXP_TYPE_RC_END: u16 = 0x9;
pub(crate) const PCI_EXP_DEVCAP: usize = 4;
pub(crate) const PCI_EXP_DEVCAP_FLR: u32 = 0x1000_0000;
pub(crate) const PCI_EXP_DEVCTL: usize = 8;
pub(crate) const PCI_EXP_DEVCTL_PAYLOAD: u16 = 0xe0;
pub(crate) const PCI_EXP_DEVCTL_PHANTOM: u16 = 0x200;
pub(crate) const PCI_EXP_DEVCTL_READRQ: u16 = 0x7000;
pub(crate) const PCI_EXP_DEVCTL_BCR_FLR: u16 = 0x8000;
pub(crate) const PCI_EXP_DEVCTL2: usize = 0x28;
pub(crate) const PCI_EXP_DEVCTL2_ARI: u16 = 0x20;
pub(crate) const PCI_AF_CAP: usize = 3;
pub(crate) const PCI_AF_CTRL: usize = 4;
pub(crate) const PCI_AF_CAP_TP: u8 = 0x1;
pub(crate) const PCI_AF_CAP_FLR: u8 = 0x2;
pub(crate) const PCI_AF_CTRL_FLR: u8 = 0x1;
pub(crate) const PCI_PWR_DATA: usize = 4;

/// Capability sizes.
const PCI_PM_SIZEOF: u8 = 8;
const PCI_AGP_SIZEOF: u8 = 12;
const PCI_CAP_VPD_SIZEOF: u8 = 8;
const PCI_CAP_MSIX_SIZEOF: u8 = 12;
const PCI_CAP_AF_SIZEOF: u8 = 6;
pub(crate) const PCI_CAP_PCIX_SIZEOF_V0: usize = 8;
pub(crate) const PCI_CAP_PCIX_SIZEOF_V2: usize = 24;
pub(crate) const PCI_CAP_EXP_ENDPOINT_SIZEOF_V1: usize = 20;
pub(crate) const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2: usize = 0x34;
const PCI_ERR_ROOT_COMMAND: u16 = 0x2c;
const PCI_EXT_CAP_PWR_SIZEOF: u16 = 0x10;

/// A length that has to be read from the capability itself.
pub(crate) const VARIABLE: u16 = 0xff;

/// Lengths of the standard capabilities user space sees; 0 hides the capability (vfio-pci's
/// `pci_cap_length`).
pub(crate) const CAP_LENGTH: [u8; CAP_ID_MAX as usize + 1] = {
    let mut l = [0u8; CAP_ID_MAX as usize + 1];
    l[CAP_ID_BASIC as usize] = STD_HEADER_SIZEOF as u8;
    l[CAP_ID_PM as usize] = PCI_PM_SIZEOF;
    l[0x02] = PCI_AGP_SIZEOF;
    l[CAP_ID_VPD as usize] = PCI_CAP_VPD_SIZEOF;
    l[CAP_ID_MSI as usize] = VARIABLE as u8;
    l[CAP_ID_PCIX as usize] = VARIABLE as u8;
    l[CAP_ID_HT as usize] = VARIABLE as u8;
    l[CAP_ID_VNDR as usize] = VARIABLE as u8;
    l[CAP_ID_EXP as usize] = VARIABLE as u8;
    l[CAP_ID_MSIX as usize] = PCI_CAP_MSIX_SIZEOF;
    l[CAP_ID_SATA as usize] = VARIABLE as u8;
    l[CAP_ID_AF as usize] = PCI_CAP_AF_SIZEOF;
    l
};

/// Lengths of the extended capabilities user space sees; 0 hides the capability (vfio-pci's
/// `pci_ext_cap_length`).
pub(crate) const EXT_CAP_LENGTH: [u16; EXT_CAP_ID_MAX as usize + 1] = {
    let mut l = [0u16; EXT_CAP_ID_MAX as usize + 1];
    l[EXT_CAP_ID_ERR as usize] = PCI_ERR_ROOT_COMMAND;
    l[EXT_CAP_ID_VC as usize] = VARIABLE;
    l[0x03] = 12; // DSN
    l[EXT_CAP_ID_PWR as usize] = PCI_EXT_CAP_PWR_SIZEOF;
    l[EXT_CAP_ID_MFVC as usize] = VARIABLE;
    l[EXT_CAP_ID_VC9 as usize] = VARIABLE;
    l[EXT_CAP_ID_VNDR as usize] = VARIABLE;
    l[EXT_CAP_ID_ACS as usize] = VARIABLE;
    l[0x0e] = 8; // ARI
    l[0x0f] = 8; // ATS
    l[0x10] = 0x40; // SR-IOV
    l[0x12] = 40; // Multicast (endpoint)
    l[0x13] = 16; // PRI
    l[EXT_CAP_ID_REBAR as usize] = VARIABLE;
    l[EXT_CAP_ID_DPA as usize] = VARIABLE;
    l[EXT_CAP_ID_TPH as usize] = VARIABLE;
    l[0x18] = 8; // LTR
    l[EXT_CAP_ID_DVSEC as usize] = VARIABLE;
    l
};

/// How accesses to a capability's bytes are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The standard header: permission table plus BAR sizing, COMMAND and INTx emulation.
    Basic,
    /// Power management: table; power-state writes trapped.
    Pm,
    /// Vital product data: address/data virtual, served by the kernel's VPD accessors.
    Vpd,
    /// PCI-X: table.
    Pcix,
    /// PCI Express: table; FLR trapped, MRRS floored at MPS.
    Exp,
    /// Advanced features: table; FLR trapped.
    Af,
    /// MSI: per-device table; enable only through `VFIO_DEVICE_SET_IRQS`.
    Msi,
    /// AER: table.
    Err,
    /// Power budgeting: table.
    Pwr,
    /// Read from the device with the ID and next pointer virtual; writes dropped.
    Direct,
    /// Read as [`Kind::Direct`]; writes go to the device unchanged (vendor-specific).
    DirectRawWrite,
    /// Bytes outside every capability: raw reads and writes.
    Raw,
    /// Fully virtual bytes.
    Virt,
}

/// A permission table: one `virt` and one `write` byte per byte of the capability, rounded up
/// to whole dwords.
#[derive(Clone, Copy)]
pub(crate) struct Table<const N: usize> {
    pub(crate) virt: [u8; N],
    pub(crate) write: [u8; N],
}

impl<const N: usize> Table<N> {
    /// Nothing virtual, nothing writable.
    pub(crate) const fn new() -> Self {
        Self {
            virt: [0; N],
            write: [0; N],
        }
    }

    /// Sets the `n` bytes at `off` to the little-endian `virt` and `write` masks.
    pub(crate) const fn set(mut self, off: usize, n: usize, virt: u32, write: u32) -> Self {
        let mut i = 0;
        while i < n {
            self.virt[off + i] = (virt >> (8 * i)) as u8;
            self.write[off + i] = (write >> (8 * i)) as u8;
            i += 1;
        }
        self
    }

    /// The table as slices.
    pub(crate) const fn perm(&self) -> Perm<'_> {
        Perm {
            virt: &self.virt,
            write: &self.write,
        }
    }
}

/// A permission table seen as slices.
#[derive(Clone, Copy)]
pub(crate) struct Perm<'a> {
    pub(crate) virt: &'a [u8],
    pub(crate) write: &'a [u8],
}

impl Perm<'_> {
    /// The `n` virtual-mask bytes at `off` (bytes past the table count as 0).
    pub(crate) fn virt(&self, off: usize, n: usize) -> u32 {
        le(self.virt, off, n)
    }

    /// The `n` writable-mask bytes at `off` (bytes past the table count as 0).
    pub(crate) fn write(&self, off: usize, n: usize) -> u32 {
        le(self.write, off, n)
    }
}

/// The little-endian value of the `n` bytes of `b` at `off` (bytes past the end count as 0).
pub(crate) fn le(b: &[u8], off: usize, n: usize) -> u32 {
    let mut v = 0u32;
    for i in 0..n {
        v |= u32::from(b.get(off + i).copied().unwrap_or(0)) << (8 * i);
    }
    v
}

const ALL: u32 = 0xffff_ffff;
const NONE: u32 = 0;

/// The standard header.
pub(crate) const BASIC: Table<64> = Table::new()
    // Virtual for SR-IOV VFs, whose IDs read as all-ones.
    .set(PCI_VENDOR_ID, 2, ALL, NONE)
    .set(PCI_DEVICE_ID, 2, ALL, NONE)
    // INTx disable is emulated; memory, I/O and bus master reach the device.
    .set(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE as u32, ALL)
    // The capability-list bit follows the virtual chain.
    .set(PCI_STATUS, 2, PCI_STATUS_CAP_LIST as u32, NONE)
    .set(PCI_CACHE_LINE_SIZE, 1, NONE, ALL)
    .set(PCI_LATENCY_TIMER, 1, NONE, ALL)
    .set(PCI_BIST, 1, NONE, ALL)
    // BARs and the ROM BAR are fully virtual (sizing is emulated).
    .set(0x10, 4, ALL, ALL)
    .set(0x14, 4, ALL, ALL)
    .set(0x18, 4, ALL, ALL)
    .set(0x1c, 4, ALL, ALL)
    .set(0x20, 4, ALL, ALL)
    .set(0x24, 4, ALL, ALL)
    .set(PCI_ROM_ADDRESS, 4, ALL, ALL)
    .set(PCI_CAPABILITY_LIST, 1, ALL, NONE)
    .set(PCI_INTERRUPT_LINE, 1, ALL, ALL)
    .set(PCI_INTERRUPT_PIN, 1, ALL, NONE);

/// Power management: PME bits virtual (user space cannot handle PME), power state trapped.
pub(crate) const PM: Table<8> = Table::new()
    .set(PCI_CAP_LIST_NEXT, 1, ALL, NONE)
    .set(PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK as u32, NONE)
    .set(
        PCI_PM_CTRL,
        4,
        PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
        !(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_STATE_MASK),
    );

/// Vital product data: address and data registers virtual.
pub(crate) const VPD: Table<8> = Table::new()
    .set(PCI_CAP_LIST_NEXT, 1, ALL, NONE)
    .set(PCI_VPD_ADDR, 2, ALL, ALL)
    .set(PCI_VPD_DATA, 4, ALL, ALL);

/// PCI-X: command and ECC control writable.
pub(crate) const PCIX: Table<24> = Table::new()
    .set(PCI_CAP_LIST_NEXT, 1, ALL, NONE)
    .set(PCI_X_CMD, 2, NONE, ALL)
    .set(PCI_X_ECC_CSR, 4, NONE, ALL);

/// PCI Express: device control writable except phantom functions; FLR, MPS and MRRS virtual;
/// device control 2 writable except ARI forwarding.
pub(crate) const EXP: Table<{ PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 }> = Table::new()
    .set(PCI_CAP_LIST_NEXT, 1, ALL, NONE)
    .set(
        PCI_EXP_DEVCTL,
        2,
        (PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ) as u32,
        !PCI_EXP_DEVCTL_PHANTOM as u32,
    )
    .set(PCI_EXP_DEVCTL2, 2, NONE, !PCI_EXP_DEVCTL2_ARI as u32);

/// Advanced features: FLR virtual and trapped.
pub(crate) const AF: Table<8> = Table::new().set(PCI_CAP_LIST_NEXT, 1, ALL, NONE).set(
    PCI_AF_CTRL,
    1,
    PCI_AF_CTRL_FLR as u32,
    PCI_AF_CTRL_FLR as u32,
);

const AER_UNC: u32 = 0x0000_0001 // Undefined
    | 0x0000_0010 // Data link protocol
    | 0x0000_0020 // Surprise down
    | 0x0000_1000 // Poisoned TLP
    | 0x0000_2000 // Flow control protocol
    | 0x0000_4000 // Completion timeout
    | 0x0000_8000 // Completer abort
    | 0x0001_0000 // Unexpected completion
    | 0x0002_0000 // Receiver overflow
    | 0x0004_0000 // Malformed TLP
    | 0x0008_0000 // ECRC
    | 0x0010_0000 // Unsupported request
    | 0x0020_0000 // ACS violation
    | 0x0040_0000 // Internal
    | 0x0080_0000 // MC blocked TLP
    | 0x0100_0000 // Atomic egress blocked
    | 0x0200_0000; // TLP prefix blocked
const AER_COR: u32 = 0x0000_0001 // Receiver error
    | 0x0000_0040 // Bad TLP
    | 0x0000_0080 // Bad DLLP
    | 0x0000_0100 // REPLAY_NUM rollover
    | 0x0000_1000 // Replay timer timeout
    | 0x0000_2000 // Advisory non-fatal
    | 0x0000_4000 // Corrected internal
    | 0x0000_8000; // Header log overflow
const AER_ECRC: u32 = 0x40 | 0x100; // ECRC generation and check enable

/// AER: header virtual; status, mask and severity of the defined errors and ECRC enables
/// writable.
pub(crate) const ERR: Table<44> = Table::new()
    .set(0, 4, ALL, NONE)
    .set(0x04, 4, NONE, AER_UNC)
    .set(0x08, 4, NONE, AER_UNC)
    .set(0x0c, 4, NONE, AER_UNC)
    .set(0x10, 4, NONE, AER_COR)
    .set(0x14, 4, NONE, AER_COR)
    .set(0x18, 4, NONE, AER_ECRC);

/// Power budgeting: header virtual, data select writable.
pub(crate) const PWR: Table<16> = Table::new()
    .set(0, 4, ALL, NONE)
    .set(PCI_PWR_DATA, 1, NONE, ALL);

/// The MSI table for a capability with `flags`, `len` bytes long (built per device, as the
/// layout depends on the function).
pub(crate) const fn msi_table(flags: u16) -> Table<24> {
    let t = Table::new()
        .set(PCI_CAP_LIST_NEXT, 1, ALL, NONE)
        // The upper byte of message control is reserved.
        .set(PCI_MSI_FLAGS, 1, ALL, ALL)
        .set(0x04, 4, ALL, ALL);
    let masks = flags & PCI_MSI_FLAGS_MASKBIT != 0;
    if flags & PCI_MSI_FLAGS_64BIT != 0 {
        let t = t.set(0x08, 4, ALL, ALL).set(0x0c, 2, ALL, ALL);
        if masks {
            t.set(0x10, 4, NONE, ALL).set(0x14, 4, NONE, ALL)
        } else {
            t
        }
    } else {
        let t = t.set(0x08, 2, ALL, ALL);
        if masks {
            t.set(0x0c, 4, NONE, ALL).set(0x10, 4, NONE, ALL)
        } else {
            t
        }
    }
}

/// The length of an MSI capability with `flags`.
pub(crate) const fn msi_len(flags: u16) -> usize {
    let mut len = 10;
    if flags & PCI_MSI_FLAGS_64BIT != 0 {
        len += 4;
    }
    if flags & PCI_MSI_FLAGS_MASKBIT != 0 {
        len += 10;
    }
    len
}

/// How a standard capability's bytes are handled, by map value.
pub(crate) const fn std_kind(id: u8) -> Kind {
    match id {
        CAP_ID_BASIC => Kind::Basic,
        CAP_ID_PM => Kind::Pm,
        CAP_ID_VPD => Kind::Vpd,
        CAP_ID_PCIX => Kind::Pcix,
        CAP_ID_VNDR => Kind::DirectRawWrite,
        CAP_ID_EXP => Kind::Exp,
        CAP_ID_AF => Kind::Af,
        CAP_ID_MSI => Kind::Msi,
        _ => Kind::Direct,
    }
}

/// How an extended capability's bytes are handled, by map value (the low byte of the ID).
pub(crate) const fn ext_kind(id: u8) -> Kind {
    if id as u16 > EXT_CAP_ID_MAX {
        return Kind::Direct;
    }
    match id as u16 {
        EXT_CAP_ID_ERR => Kind::Err,
        EXT_CAP_ID_PWR => Kind::Pwr,
        EXT_CAP_ID_VNDR | EXT_CAP_ID_DVSEC => Kind::DirectRawWrite,
        _ => Kind::Direct,
    }
}

/// The static table of `kind`, if it has one ([`Kind::Msi`]'s is per device).
pub(crate) fn table(kind: Kind) -> Option<Perm<'static>> {
    Some(match kind {
        Kind::Basic => BASIC.perm(),
        Kind::Pm => PM.perm(),
        Kind::Vpd => VPD.perm(),
        Kind::Pcix => PCIX.perm(),
        Kind::Exp => EXP.perm(),
        Kind::Af => AF.perm(),
        Kind::Err => ERR.perm(),
        Kind::Pwr => PWR.perm(),
        _ => return None,
    })
}
