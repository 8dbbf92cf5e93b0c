// SPDX-License-Identifier: GPL-2.0

//! The configuration-space virtualization engine.
//!
//! Written against `core` only, behind [`Hardware`] for the real configuration space, so the
//! same source runs in the module and in the host test crate. At open, [`Config::new`] walks
//! the capability chains and builds a per-byte map (which capability owns each byte) and a
//! shadow copy of configuration space (`vconfig`). Every access is split into aligned pieces
//! that never cross a capability, and each piece is handled by its capability's permission
//! table ([`super::caps`]): virtual bits come from and go to the shadow, writable non-virtual
//! bits go to the device, everything else is dropped.
//!
//! Writes that need the device layer (power state, function reset, INTx masking, read request
//! size) are returned as [`Effects`]. A write to `PCI_COMMAND` must run with the memory lock
//! held for writing, and with user mappings zapped first when it clears memory decode
//! ([`Config::command_write`]).
//!
//! The behaviour is vfio-pci's (Linux 7.3 `vfio_pci_config.c`), including its corner cases.

use super::caps::{self, *};
use core::ops::DerefMut;

/// The real configuration space, with the accessors that honour reset blocking.
pub(crate) trait Hardware {
    /// The device layer's error.
    type Error;
    /// Reads `n` (1, 2 or 4) bytes at `pos`, naturally aligned.
    fn read(&mut self, pos: usize, n: usize) -> Result<u32, Self::Error>;
    /// Writes the low `n` (1, 2 or 4) bytes of `val` at `pos`, naturally aligned.
    fn write(&mut self, pos: usize, n: usize, val: u32) -> Result<(), Self::Error>;
    /// Reads the VPD dword at `addr` (`pci_read_vpd()`).
    fn vpd_read(&mut self, addr: u16) -> Option<u32>;
    /// Writes the VPD dword at `addr` (`pci_write_vpd()`); `true` on success.
    fn vpd_write(&mut self, addr: u16, data: u32) -> bool;
}

/// What the engine needs to know about one BAR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bar {
    /// The PCI core assigned an address (vfio-pci: `pci_resource_start() != 0`).
    pub(crate) assigned: bool,
    /// Length in bytes (a power of two when assigned).
    pub(crate) len: u64,
    /// I/O port BAR.
    pub(crate) io: bool,
    /// Prefetchable memory.
    pub(crate) prefetch: bool,
    /// 64-bit memory BAR (the next BAR holds the upper half).
    pub(crate) mem64: bool,
}

/// Facts about the function that shape its virtual configuration space.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DeviceInfo {
    /// 256 or 4096.
    pub(crate) cfg_size: usize,
    /// An SR-IOV virtual function.
    pub(crate) virtfn: bool,
    /// Vendor and device ID (shown for VFs, which read all-ones).
    pub(crate) vendor: u16,
    pub(crate) device: u16,
    /// The function has no memory-enable bit in COMMAND (VFs).
    pub(crate) no_command_memory: bool,
    /// INTx is not offered: interrupt pin reads 0.
    pub(crate) hide_intx_pin: bool,
    /// INTx masking is broken (`nointx`): restoring BARs also disables INTx.
    pub(crate) nointx: bool,
    /// The six BARs.
    pub(crate) bars: [Bar; 6],
    /// The ROM BAR size user space sees (BAR length, or the shadow ROM rounded up), 0 for none.
    pub(crate) rom_len: u64,
    /// The PCI Express capabilities register as the PCI core cached it at enumeration (0 for
    /// conventional PCI); it sizes the PCI Express capability, as in vfio-pci.
    pub(crate) pcie_flags: u16,
}

/// What a configuration write asks of the device layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Effects {
    /// Set the power state (0 = D0 … 3 = D3hot), zapping mappings first for D3hot.
    pub(crate) power_state: Option<u8>,
    /// Reset the function (a trapped PCIe or AF FLR), zapping mappings first.
    pub(crate) reset: bool,
    /// The virtual INTx-disable bit changed: `true` masks, `false` unmasks.
    pub(crate) intx_masked: Option<bool>,
    /// The user changed the maximum read request size (bytes); the device layer sets at least
    /// the function's MPS.
    pub(crate) readrq: Option<u32>,
    /// The real BARs were found changed and restored (logged by the device layer).
    pub(crate) bars_restored: bool,
}

/// State of the MSI interrupt that the configuration engine reflects.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MsiState {
    /// log2 of the vectors enabled through `VFIO_DEVICE_SET_IRQS` (vfio-pci's `msi_qmax`).
    pub(crate) qmax: u8,
    /// MSI is the active interrupt type.
    pub(crate) enabled: bool,
}

impl MsiState {
    /// MSI was enabled with `nvec` vectors (1 to 32): MSI is active, and QSIZE may say up to
    /// log2 of `nvec` rounded up, which is returned (for the device to keep across opens).
    pub(crate) fn enable(&mut self, nvec: u32) -> u8 {
        // CAST: at most 5 (32 vectors).
        self.qmax = (nvec.max(1) * 2 - 1).ilog2() as u8;
        self.enabled = true;
        self.qmax
    }
}

/// The virtual configuration space of one open device.
///
/// `B` is the storage of the map and the shadow: `cfg_size` bytes each.
pub(crate) struct Config<B> {
    map: B,
    vconfig: B,
    info: DeviceInfo,
    /// The real BARs and ROM BAR at open, restored after a backdoor reset.
    rbar: [u32; 7],
    bardirty: bool,
    /// The MSI table, built from the first MSI capability.
    msi: Option<Table<24>>,
    extended_caps: bool,
    virq_disabled: bool,
    /// Interrupt state the MSI capability reflects.
    pub(crate) msi_state: MsiState,
}

fn set_le(b: &mut [u8], pos: usize, n: usize, v: u32) {
    for i in 0..n {
        if let Some(x) = b.get_mut(pos + i) {
            // CAST: one byte of `v`.
            *x = (v >> (8 * i)) as u8;
        }
    }
}

/// The widest naturally aligned access at `pos` of at most `count` bytes: 4, 2 or 1.
const fn aligned_width(pos: usize, count: usize) -> usize {
    if count >= 4 && pos % 4 == 0 {
        4
    } else if count >= 2 && pos % 2 == 0 {
        2
    } else {
        1
    }
}

const fn ones(n: usize) -> u32 {
    if n >= 4 {
        u32::MAX
    } else {
        (1 << (8 * n)) - 1
    }
}

const fn is_bar(offset: usize) -> bool {
    (offset >= PCI_BASE_ADDRESS_0 && offset < PCI_BASE_ADDRESS_5 + 4)
        || (offset >= PCI_ROM_ADDRESS && offset < PCI_ROM_ADDRESS + 4)
}

impl<B: DerefMut<Target = [u8]>> Config<B> {
    /// Builds the map and shadow from the device (vfio-pci's `vfio_config_init()`).
    ///
    /// `map` and `vconfig` must be at least `info.cfg_size` bytes; a shorter buffer shrinks the
    /// space the engine covers.
    pub(crate) fn new<H: Hardware>(
        hw: &mut H,
        map: B,
        vconfig: B,
        mut info: DeviceInfo,
    ) -> Result<Self, H::Error> {
        info.cfg_size = info
            .cfg_size
            .min(map.len())
            .min(vconfig.len())
            .max(STD_HEADER_SIZEOF.min(map.len()));
        let mut c = Self {
            map,
            vconfig,
            info,
            rbar: [0; 7],
            bardirty: true,
            msi: None,
            extended_caps: false,
            virq_disabled: false,
            msi_state: MsiState::default(),
        };
        let size = c.info.cfg_size;
        let header = STD_HEADER_SIZEOF.min(size);
        let map = &mut c.map[..];
        map[..header].fill(CAP_ID_BASIC);
        map[header..size].fill(CAP_ID_INVALID);
        c.fill(hw, 0, STD_HEADER_SIZEOF)?;
        for i in 0..6 {
            c.rbar[i] = c.v(PCI_BASE_ADDRESS_0 + 4 * i, 4);
        }
        c.rbar[6] = c.v(PCI_ROM_ADDRESS, 4);
        if c.info.virtfn {
            c.set_v(PCI_VENDOR_ID, 2, u32::from(c.info.vendor));
            c.set_v(PCI_DEVICE_ID, 2, u32::from(c.info.device));
            // VFs must report pin 0; a bogus pin is replaced.
            c.set_v(PCI_INTERRUPT_PIN, 1, 0);
        }
        if c.info.no_command_memory {
            let cmd = c.v(PCI_COMMAND, 2) | u32::from(PCI_COMMAND_MEMORY);
            c.set_v(PCI_COMMAND, 2, cmd);
        }
        if c.info.hide_intx_pin {
            c.set_v(PCI_INTERRUPT_PIN, 1, 0);
        }
        c.cap_init(hw)?;
        c.ecap_init(hw)?;
        Ok(c)
    }

    /// The map value (owning capability) of byte `pos`.
    pub(crate) fn owner(&self, pos: usize) -> u8 {
        self.map.get(pos).copied().unwrap_or(CAP_ID_INVALID)
    }

    /// The shadow's `n` bytes at `pos`.
    pub(crate) fn v(&self, pos: usize, n: usize) -> u32 {
        le(&self.vconfig[..], pos, n)
    }

    fn set_v(&mut self, pos: usize, n: usize, val: u32) {
        set_le(&mut self.vconfig[..], pos, n, val)
    }

    /// Whether the virtual COMMAND register enables memory decode (or the function has no such
    /// bit), the half of vfio-pci's `__vfio_pci_memory_enabled()` that is not power state.
    pub(crate) fn memory_decode(&self) -> bool {
        self.info.no_command_memory || self.v(PCI_COMMAND, 2) & u32::from(PCI_COMMAND_MEMORY) != 0
    }

    /// Whether writes to byte `pos` are dropped without looking at the data (vfio-pci does
    /// not even copy it from user space).
    pub(crate) fn drops_writes(&self, pos: usize) -> bool {
        self.lookup(pos).0 == Kind::Direct
    }

    /// For a write piece at `pos` with value `val`: `Some(zap)` when it is a COMMAND write, which
    /// runs with the memory lock held for writing, after zapping user mappings when `zap` (the
    /// write clears memory decode). `None` for every other piece.
    pub(crate) fn command_write(&self, pos: usize, val: u32) -> Option<bool> {
        if pos == PCI_COMMAND && self.owner(pos) == CAP_ID_BASIC {
            Some(val & u32::from(PCI_COMMAND_MEMORY) == 0)
        } else {
            None
        }
    }

    fn fill<H: Hardware>(
        &mut self,
        hw: &mut H,
        mut pos: usize,
        size: usize,
    ) -> Result<(), H::Error> {
        let end = (pos + size).min(self.info.cfg_size);
        while pos < end {
            let n = aligned_width(pos, end - pos);
            let v = hw.read(pos, n)?;
            self.set_v(pos, n, v);
            pos += n;
        }
        Ok(())
    }

    fn mark(&mut self, pos: usize, len: usize, id: u8) {
        let end = (pos + len).min(self.info.cfg_size);
        if pos < end {
            self.map[pos..end].fill(id);
        }
    }

    /// The length of variable-length standard capability `cap` at `pos`.
    fn cap_len<H: Hardware>(&mut self, hw: &mut H, cap: u8, pos: usize) -> Result<usize, H::Error> {
        Ok(match cap {
            CAP_ID_MSI => {
                // CAST: a 16-bit register.
                let flags = hw.read(pos + PCI_MSI_FLAGS, 2)? as u16;
                if self.msi.is_none() {
                    self.msi = Some(caps::msi_table(flags));
                }
                caps::msi_len(flags)
            }
            CAP_ID_PCIX => {
                let cmd = hw.read(pos + PCI_X_CMD, 2)?;
                if (cmd >> 12) & 3 != 0 {
                    self.probe_extended(hw);
                    PCI_CAP_PCIX_SIZEOF_V2
                } else {
                    PCI_CAP_PCIX_SIZEOF_V0
                }
            }
            CAP_ID_VNDR => hw.read(pos + PCI_CAP_FLAGS, 1)? as usize,
            CAP_ID_EXP => {
                self.probe_extended(hw);
                let flags = self.info.pcie_flags;
                let rc_end = (flags & PCI_EXP_FLAGS_TYPE) >> 4 == PCI_EXP_TYPE_RC_END;
                match (flags & PCI_EXP_FLAGS_VERS == 1, rc_end) {
                    (true, true) => 0xc,
                    (true, false) => PCI_CAP_EXP_ENDPOINT_SIZEOF_V1,
                    (false, true) => 0x2c,
                    (false, false) => PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
                }
            }
            CAP_ID_HT => {
                if hw.read(pos + 3, 1)? & 0xe0 != 0 {
                    24
                } else {
                    28
                }
            }
            CAP_ID_SATA => {
                if hw.read(pos + 4, 1)? & 0xf == 0xf {
                    16
                } else {
                    8
                }
            }
            _ => 0,
        })
    }

    /// vfio-pci walks extended capabilities only when the first dword of extended space is not
    /// zero, which it tests when it meets a PCI Express or PCI-X 2.0 capability.
    fn probe_extended<H: Hardware>(&mut self, hw: &mut H) {
        if self.info.cfg_size > CFG_SPACE_SIZE {
            // A failed read counts as all-ones, as the PCI core's error response does.
            self.extended_caps = hw.read(CFG_SPACE_SIZE, 4).map_or(true, |v| v != 0);
        }
    }

    fn cap_init<H: Hardware>(&mut self, hw: &mut H) -> Result<(), H::Error> {
        let status = hw.read(PCI_STATUS, 2)?;
        if status & u32::from(PCI_STATUS_CAP_LIST) == 0 {
            return Ok(());
        }
        // CAST: a byte register.
        let mut pos = hw.read(PCI_CAPABILITY_LIST, 1)? as usize;
        let mut prev = PCI_CAPABILITY_LIST;
        let mut caps = 0;
        let mut loops = (CFG_SPACE_SIZE - STD_HEADER_SIZEOF) / 4;
        while pos != 0 && loops > 0 {
            loops -= 1;
            // A capability inside the standard header would put header registers, the BARs
            // among them, under its own permissions. The PCI core ends the chain there, and so
            // does the engine (vfio-pci warns and goes on).
            if pos < STD_HEADER_SIZEOF {
                self.set_v(prev, 1, 0);
                break;
            }
            // CAST: byte registers.
            let cap = hw.read(pos, 1)? as u8;
            let next = hw.read(pos + PCI_CAP_LIST_NEXT, 1)?;
            let mut len = 0;
            // ID 0 is a null capability, which would clash with the header's map value.
            if cap != 0 && cap <= CAP_ID_MAX {
                len = usize::from(CAP_LENGTH[usize::from(cap)]);
                if len == usize::from(VARIABLE) {
                    len = self.cap_len(hw, cap, pos)?;
                }
            }
            if len == 0 {
                // Hidden: unlinked from the virtual chain.
                self.set_v(prev, 1, next);
                pos = next as usize;
                continue;
            }
            self.mark(pos, len, cap);
            self.fill(hw, pos, len)?;
            if cap == CAP_ID_PM {
                // PME cannot reach user space: PME support, status and enable read as 0.
                let pmc = self.v(pos + PCI_PM_PMC, 2) & !u32::from(PCI_PM_CAP_PME_MASK);
                self.set_v(pos + PCI_PM_PMC, 2, pmc);
                let ctrl = self.v(pos + PCI_PM_CTRL, 2)
                    & !(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS);
                self.set_v(pos + PCI_PM_CTRL, 2, ctrl);
            }
            prev = pos + PCI_CAP_LIST_NEXT;
            pos = next as usize;
            caps += 1;
        }
        if caps == 0 {
            let s = self.v(PCI_STATUS, 2) & !u32::from(PCI_STATUS_CAP_LIST);
            self.set_v(PCI_STATUS, 2, s);
        }
        Ok(())
    }

    /// The length of variable-length extended capability `ecap` at `epos`.
    fn ext_cap_len<H: Hardware>(
        &mut self,
        hw: &mut H,
        ecap: u16,
        epos: usize,
    ) -> Result<usize, H::Error> {
        Ok(match ecap {
            EXT_CAP_ID_VNDR | EXT_CAP_ID_DVSEC => ((hw.read(epos + 4, 4)? >> 20) & 0xfff) as usize,
            EXT_CAP_ID_VC | EXT_CAP_ID_VC9 | EXT_CAP_ID_MFVC => {
                let evcc = (hw.read(epos + 4, 4)? & 7) as usize;
                let cap2 = hw.read(epos + 8, 4)?;
                let phases = if cap2 & 8 != 0 {
                    128
                } else if cap2 & 4 != 0 {
                    64
                } else if cap2 & 2 != 0 {
                    32
                } else {
                    0
                };
                let mut len = 0x10 + (1 + evcc) * 0x0c;
                if phases != 0 {
                    len = len.next_multiple_of(16) + phases * 4 / 8;
                }
                len
            }
            EXT_CAP_ID_ACS => {
                if hw.read(epos + 4, 1)? & 0x20 != 0 {
                    let b = hw.read(epos + 5, 1)? as usize;
                    let bits = if b != 0 { b.next_multiple_of(32) } else { 256 };
                    8 + bits / 8
                } else {
                    8
                }
            }
            EXT_CAP_ID_REBAR => 4 + ((hw.read(epos + 8, 1)? & 0xe0) >> 5) as usize * 8,
            EXT_CAP_ID_DPA => 16 + (hw.read(epos + 4, 1)? & 0x1f) as usize + 1,
            EXT_CAP_ID_TPH => {
                let cap = hw.read(epos + 4, 4)?;
                if cap & 0x600 == 0x200 {
                    0xc + ((cap & 0x07ff_0000) >> 16) as usize * 2 + 2
                } else {
                    0xc
                }
            }
            _ => 0,
        })
    }

    fn ecap_init<H: Hardware>(&mut self, hw: &mut H) -> Result<(), H::Error> {
        if !self.extended_caps {
            return Ok(());
        }
        let mut epos = CFG_SPACE_SIZE;
        let mut loops = (self.info.cfg_size - CFG_SPACE_SIZE) / 4;
        let mut prev: Option<usize> = None;
        let mut ecaps = 0;
        while loops > 0 && epos >= CFG_SPACE_SIZE {
            loops -= 1;
            let header = hw.read(epos, 4)?;
            // CAST: the ID is the low 16 bits.
            let ecap = (header & 0xffff) as u16;
            let next = ((header >> 20) & 0xffc) as usize;
            let mut len = 0;
            let mut hidden = false;
            if ecap <= EXT_CAP_ID_MAX {
                len = usize::from(EXT_CAP_LENGTH[usize::from(ecap)]);
                if len == usize::from(VARIABLE) {
                    len = self.ext_cap_len(hw, ecap, epos)?;
                }
            }
            if len == 0 {
                if let Some(p) = prev {
                    // Unlinked from the virtual chain.
                    let h = (self.v(p, 4) & !(0xffc << 20)) | ((next as u32) << 20);
                    self.set_v(p, 4, h);
                    epos = next;
                    continue;
                }
                // The first one anchors the chain: a header with ID and version 0.
                len = 4;
                hidden = true;
            }
            // CAST: vfio-pci's map holds the low byte of the ID.
            self.mark(epos, len, ecap as u8);
            self.fill(hw, epos, len)?;
            if hidden {
                let h = self.v(epos, 4) & (0xffc << 20);
                self.set_v(epos, 4, h);
            } else {
                ecaps += 1;
            }
            prev = Some(epos);
            epos = next;
        }
        if ecaps == 0 {
            self.set_v(CFG_SPACE_SIZE, 4, 0);
        }
        Ok(())
    }

    /// Bytes from `pos` to the end of its dword or its capability, whichever comes first.
    fn remaining_dword(&self, pos: usize) -> usize {
        let cap = self.owner(pos);
        let mut i = 1;
        while (pos + i) % 4 != 0 && pos + i < self.info.cfg_size && self.owner(pos + i) == cap {
            i += 1;
        }
        i
    }

    /// The size of the next piece of an access of `count` (> 0) bytes at `pos` (< the size):
    /// 4, 2 or 1, naturally aligned, inside one capability.
    pub(crate) fn piece(&self, pos: usize, count: usize) -> usize {
        aligned_width(pos, count.min(self.remaining_dword(pos)))
    }

    fn find_cap_start(&self, pos: usize) -> usize {
        let base = if pos >= CFG_SPACE_SIZE {
            CFG_SPACE_SIZE
        } else {
            STD_HEADER_SIZEOF
        };
        let cap = self.owner(pos);
        if cap == CAP_ID_BASIC {
            return 0;
        }
        let mut p = pos;
        while p > base && self.owner(p - 1) == cap {
            p -= 1;
        }
        p
    }

    /// The handling and the capability start of byte `pos`.
    fn lookup(&self, pos: usize) -> (Kind, usize) {
        match self.owner(pos) {
            CAP_ID_INVALID => (Kind::Raw, pos),
            CAP_ID_INVALID_VIRT => (Kind::Virt, pos),
            id if pos >= CFG_SPACE_SIZE => (caps::ext_kind(id), self.find_cap_start(pos)),
            CAP_ID_BASIC => (Kind::Basic, 0),
            id => (caps::std_kind(id), self.find_cap_start(pos)),
        }
    }

    fn perm(&self, kind: Kind) -> Option<Perm<'_>> {
        match kind {
            Kind::Msi => self.msi.as_ref().map(|t| t.perm()),
            k => caps::table(k),
        }
    }

    /// Reads the piece of `n` bytes at `pos` (as returned by [`Config::piece`]).
    pub(crate) fn read<H: Hardware>(
        &mut self,
        hw: &mut H,
        pos: usize,
        n: usize,
    ) -> Result<u32, H::Error> {
        let (kind, start) = self.lookup(pos);
        let offset = pos - start;
        match kind {
            Kind::Raw => hw.read(pos, n),
            Kind::Virt => Ok(self.v(pos, n)),
            Kind::Direct | Kind::DirectRawWrite => self.direct_read(hw, pos, n, offset),
            Kind::Basic => {
                if is_bar(offset) {
                    self.bar_fixup();
                }
                let mut val = self.default_read(hw, kind, pos, n, offset)?;
                if offset == PCI_COMMAND && self.info.no_command_memory {
                    val |= self.v(PCI_COMMAND, 2) & u32::from(PCI_COMMAND_MEMORY);
                }
                Ok(val)
            }
            Kind::Msi => {
                if offset <= PCI_MSI_FLAGS && offset + n >= PCI_MSI_FLAGS {
                    // vfio-pci means to show the enabled vector count in QMASK here, but its
                    // read hook updates the word at the capability's start (ID and next), not
                    // the flags: the ID is read from the device, so nothing shows, and the
                    // flags read back as last written. Reproduced as it behaves.
                    let flags = (self.v(start, 2) & !u32::from(PCI_MSI_FLAGS_QMASK))
                        | (u32::from(self.msi_state.qmax) << 1);
                    self.set_v(start, 2, flags);
                }
                self.default_read(hw, kind, pos, n, offset)
            }
            _ => self.default_read(hw, kind, pos, n, offset),
        }
    }

    fn default_read<H: Hardware>(
        &self,
        hw: &mut H,
        kind: Kind,
        pos: usize,
        n: usize,
        offset: usize,
    ) -> Result<u32, H::Error> {
        let Some(perm) = self.perm(kind) else {
            return self.direct_read(hw, pos, n, offset);
        };
        let virt = perm.virt(offset, n);
        let mut val = self.v(pos, n);
        if virt != ones(n) {
            let phys = hw.read(pos, n)?;
            val = (phys & !virt) | (val & virt);
        }
        Ok(val)
    }

    /// Reads the device, with the capability ID and next pointer from the shadow.
    fn direct_read<H: Hardware>(
        &self,
        hw: &mut H,
        pos: usize,
        n: usize,
        offset: usize,
    ) -> Result<u32, H::Error> {
        let mut val = hw.read(pos, n)?;
        let virt_bytes = if pos >= CFG_SPACE_SIZE {
            if offset < 4 {
                n
            } else {
                0
            }
        } else if pos >= STD_HEADER_SIZEOF {
            if offset == 0 && n > 1 {
                n.min(PCI_CAP_FLAGS)
            } else if offset == PCI_CAP_LIST_NEXT {
                1
            } else {
                0
            }
        } else {
            0
        };
        if virt_bytes != 0 {
            let m = ones(virt_bytes);
            val = (val & !m) | (self.v(pos, virt_bytes) & m);
        }
        Ok(val)
    }

    /// Writes the piece of `n` bytes at `pos` (as returned by [`Config::piece`]). COMMAND
    /// writes must be made under the memory lock (see [`Config::command_write`]).
    pub(crate) fn write<H: Hardware>(
        &mut self,
        hw: &mut H,
        pos: usize,
        n: usize,
        val: u32,
    ) -> Result<Effects, H::Error> {
        let (kind, start) = self.lookup(pos);
        let offset = pos - start;
        let val = val & ones(n);
        let mut fx = Effects::default();
        match kind {
            Kind::Raw | Kind::DirectRawWrite => hw.write(pos, n, val)?,
            Kind::Virt => self.set_v(pos, n, val),
            Kind::Direct => {}
            Kind::Basic => self.basic_write(hw, pos, n, val, &mut fx)?,
            Kind::Pm => {
                self.default_write(hw, kind, pos, n, offset, val)?;
                if offset == PCI_PM_CTRL {
                    // CAST: two bits.
                    fx.power_state = Some((val & PCI_PM_CTRL_STATE_MASK) as u8);
                }
            }
            Kind::Vpd => self.vpd_write(hw, pos, n, offset, start, val)?,
            Kind::Exp => self.exp_write(hw, pos, n, offset, start, val, &mut fx)?,
            Kind::Af => {
                self.default_write(hw, kind, pos, n, offset, val)?;
                let at = start + PCI_AF_CTRL;
                let ctrl = self.v(at, 1);
                if ctrl & u32::from(PCI_AF_CTRL_FLR) != 0 {
                    self.set_v(at, 1, ctrl & !u32::from(PCI_AF_CTRL_FLR));
                    if let Ok(cap) = hw.read(start + PCI_AF_CAP, 1) {
                        let need = u32::from(PCI_AF_CAP_FLR | PCI_AF_CAP_TP);
                        fx.reset = cap & need == need;
                    }
                }
            }
            Kind::Msi => {
                self.default_write(hw, kind, pos, n, offset, val)?;
                if offset <= PCI_MSI_FLAGS && offset + n >= PCI_MSI_FLAGS {
                    let at = start + PCI_MSI_FLAGS;
                    // CAST: a 16-bit register.
                    let mut flags = self.v(at, 2) as u16;
                    // MSI is enabled through the ioctl only.
                    if !self.msi_state.enabled {
                        flags &= !PCI_MSI_FLAGS_ENABLE;
                    }
                    if (flags & PCI_MSI_FLAGS_QSIZE) >> 4 > u16::from(self.msi_state.qmax) {
                        flags =
                            (flags & !PCI_MSI_FLAGS_QSIZE) | (u16::from(self.msi_state.qmax) << 4);
                    }
                    self.set_v(at, 2, u32::from(flags));
                    hw.write(at, 2, u32::from(flags))?;
                }
            }
            Kind::Pcix | Kind::Err | Kind::Pwr => {
                self.default_write(hw, kind, pos, n, offset, val)?
            }
        }
        Ok(fx)
    }

    fn default_write<H: Hardware>(
        &mut self,
        hw: &mut H,
        kind: Kind,
        pos: usize,
        n: usize,
        offset: usize,
        val: u32,
    ) -> Result<(), H::Error> {
        let Some(perm) = self.perm(kind) else {
            return Ok(());
        };
        let write = perm.write(offset, n);
        if write == 0 {
            return Ok(());
        }
        let virt = perm.virt(offset, n);
        if write & virt != 0 {
            let v = (self.v(pos, n) & !(write & virt)) | (val & write & virt);
            self.set_v(pos, n, v);
        }
        if write & !virt != 0 {
            let phys = hw.read(pos, n)?;
            let phys = (phys & !(write & !virt)) | (val & write & !virt);
            hw.write(pos, n, phys)?;
        }
        Ok(())
    }

    fn basic_write<H: Hardware>(
        &mut self,
        hw: &mut H,
        pos: usize,
        n: usize,
        val: u32,
        fx: &mut Effects,
    ) -> Result<(), H::Error> {
        let offset = pos;
        let mut new_cmd = 0u16;
        if offset == PCI_COMMAND {
            // CAST: the COMMAND register is 16 bits; a dword write's upper half is STATUS.
            let phys = hw.read(PCI_COMMAND, 2)? as u16;
            new_cmd = val as u16;
            let virt = self.v(PCI_COMMAND, 2) as u16;
            let bit = |c: u16, b: u16| c & b != 0;
            let (phys_mem, virt_mem, new_mem) = (
                bit(phys, PCI_COMMAND_MEMORY),
                bit(virt, PCI_COMMAND_MEMORY),
                bit(new_cmd, PCI_COMMAND_MEMORY),
            );
            let (phys_io, virt_io, new_io) = (
                bit(phys, PCI_COMMAND_IO),
                bit(virt, PCI_COMMAND_IO),
                bit(new_cmd, PCI_COMMAND_IO),
            );
            // Enabling decode that we believe on but the device has off, or BARs that changed
            // behind our back, means the device was reset by other means: restore the BARs.
            if (new_mem && virt_mem && !phys_mem && !self.info.no_command_memory)
                || (new_io && virt_io && !phys_io)
                || self.need_bar_restore(hw)
            {
                fx.bars_restored = self.bar_restore(hw);
            }
        }
        self.default_write(hw, Kind::Basic, pos, n, offset, val)?;
        if offset == PCI_COMMAND {
            let mask = u32::from(PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
            let cmd = (self.v(PCI_COMMAND, 2) & !mask) | (u32::from(new_cmd) & mask);
            self.set_v(PCI_COMMAND, 2, cmd);
        }
        if (PCI_COMMAND..=PCI_COMMAND + 1).contains(&offset) {
            let disabled = self.v(PCI_COMMAND, 2) & u32::from(PCI_COMMAND_INTX_DISABLE) != 0;
            if disabled != self.virq_disabled {
                self.virq_disabled = disabled;
                fx.intx_masked = Some(disabled);
            }
        }
        if is_bar(offset) {
            self.bardirty = true;
        }
        Ok(())
    }

    fn need_bar_restore<H: Hardware>(&self, hw: &mut H) -> bool {
        (0..6).any(|i| {
            self.rbar[i] != 0
                && hw
                    .read(PCI_BASE_ADDRESS_0 + 4 * i, 4)
                    .map_or(true, |bar| bar != self.rbar[i])
        })
    }

    /// Writes the BARs saved at open back to the device. Returns whether it did.
    fn bar_restore<H: Hardware>(&self, hw: &mut H) -> bool {
        if self.info.virtfn {
            return false;
        }
        for i in 0..6 {
            let _ = hw.write(PCI_BASE_ADDRESS_0 + 4 * i, 4, self.rbar[i]);
        }
        let _ = hw.write(PCI_ROM_ADDRESS, 4, self.rbar[6]);
        if self.info.nointx {
            // A failed read counts as all-ones, as the PCI core's error response does.
            let cmd = hw.read(PCI_COMMAND, 2).unwrap_or(0xffff);
            let _ = hw.write(PCI_COMMAND, 2, cmd | u32::from(PCI_COMMAND_INTX_DISABLE));
        }
        true
    }

    /// Makes the virtual BARs answer sizing like hardware: address bits below the size read 0,
    /// type bits come from the resource, unassigned BARs read 0.
    fn bar_fixup(&mut self) {
        if !self.bardirty {
            return;
        }
        let mut i = 0;
        while i < 6 {
            let at = PCI_BASE_ADDRESS_0 + 4 * i;
            let bar = self.info.bars[i];
            if !bar.assigned {
                self.set_v(at, 4, 0);
                i += 1;
                continue;
            }
            let mask = !(bar.len.wrapping_sub(1));
            let flags = if bar.io {
                PCI_BASE_ADDRESS_SPACE_IO
            } else {
                let mut f = 0;
                if bar.prefetch {
                    f |= PCI_BASE_ADDRESS_MEM_PREFETCH;
                }
                if bar.mem64 {
                    f |= PCI_BASE_ADDRESS_MEM_TYPE_64;
                }
                f
            };
            // CAST: the low and high halves of the mask.
            let v = (self.v(at, 4) & mask as u32) | flags;
            self.set_v(at, 4, v);
            if v & PCI_BASE_ADDRESS_MEM_TYPE_64 != 0 && i + 1 < 6 {
                let hi = self.v(at + 4, 4) & (mask >> 32) as u32;
                self.set_v(at + 4, 4, hi);
                i += 1;
            }
            i += 1;
        }
        let rom = if self.info.rom_len != 0 {
            // CAST: the ROM BAR is 32 bits.
            let mask = !(self.info.rom_len - 1) as u32 | PCI_ROM_ADDRESS_ENABLE;
            self.v(PCI_ROM_ADDRESS, 4) & mask
        } else {
            0
        };
        self.set_v(PCI_ROM_ADDRESS, 4, rom);
        self.bardirty = false;
    }

    fn vpd_write<H: Hardware>(
        &mut self,
        hw: &mut H,
        pos: usize,
        n: usize,
        offset: usize,
        start: usize,
        val: u32,
    ) -> Result<(), H::Error> {
        self.default_write(hw, Kind::Vpd, pos, n, offset, val)?;
        // Only a write of the address register's upper byte (the flag) starts a transfer.
        if offset > PCI_VPD_ADDR + 1 || offset + n <= PCI_VPD_ADDR + 1 {
            return Ok(());
        }
        // CAST: a 16-bit register.
        let addr = self.v(start + PCI_VPD_ADDR, 2) as u16;
        if addr & PCI_VPD_ADDR_F != 0 {
            let data = self.v(start + PCI_VPD_DATA, 4);
            if !hw.vpd_write(addr & !PCI_VPD_ADDR_F, data) {
                return Ok(());
            }
        } else {
            let Some(data) = hw.vpd_read(addr) else {
                return Ok(());
            };
            self.set_v(start + PCI_VPD_DATA, 4, data);
        }
        // Toggling the flag signals completion.
        self.set_v(start + PCI_VPD_ADDR, 2, u32::from(addr ^ PCI_VPD_ADDR_F));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn exp_write<H: Hardware>(
        &mut self,
        hw: &mut H,
        pos: usize,
        n: usize,
        offset: usize,
        start: usize,
        val: u32,
        fx: &mut Effects,
    ) -> Result<(), H::Error> {
        let at = start + PCI_EXP_DEVCTL;
        let readrq = self.v(at, 2) & u32::from(PCI_EXP_DEVCTL_READRQ);
        self.default_write(hw, Kind::Exp, pos, n, offset, val)?;
        let ctrl = self.v(at, 2);
        if ctrl & u32::from(PCI_EXP_DEVCTL_BCR_FLR) != 0 {
            // FLR always reads 0; it resets the function when the function supports FLR.
            self.set_v(at, 2, ctrl & !u32::from(PCI_EXP_DEVCTL_BCR_FLR));
            if let Ok(cap) = hw.read(start + PCI_EXP_DEVCAP, 4) {
                fx.reset = cap & PCI_EXP_DEVCAP_FLR != 0;
            }
        }
        let now = self.v(at, 2) & u32::from(PCI_EXP_DEVCTL_READRQ);
        if now != readrq {
            fx.readrq = Some(128 << (now >> 12));
        }
        Ok(())
    }
}
