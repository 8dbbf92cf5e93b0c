// SPDX-License-Identifier: GPL-2.0

//! PCI operations needed by drivers that hand a device over to user space.
//!
//! A device-assignment driver (a VFIO bus driver such as rvfio-pci) does not drive the device
//! itself: it enables it, resets it, saves and restores its state, and forwards configuration
//! space accesses made by user space. These operations live here rather than in the general
//! [`Device`] API because ordinary drivers should not need them.
//!
//! C header: [`include/linux/pci.h`](srctree/include/linux/pci.h)

use super::Device;
use crate::ffi::c_ulong;
use crate::{
    bindings,
    device,
    error::to_result,
    prelude::*,
    sync::aref::ARef,
    types::Opaque, //
};
use core::{
    marker::PhantomPinned,
    ptr::NonNull, //
};

/// Converts a `PCIBIOS_*` status code into an [`Error`], as `pcibios_err_to_errno()` does.
fn pcibios_result(ret: c_int) -> Result {
    // CAST: the `PCIBIOS_*` constants are small positive values.
    match ret as u32 {
        0 => Ok(()),
        bindings::PCIBIOS_FUNC_NOT_SUPPORTED => Err(ENOENT),
        bindings::PCIBIOS_BAD_VENDOR_ID => Err(ENOTTY),
        bindings::PCIBIOS_DEVICE_NOT_FOUND => Err(ENODEV),
        bindings::PCIBIOS_BAD_REGISTER_NUMBER => Err(EFAULT),
        bindings::PCIBIOS_SET_FAILED => Err(EIO),
        bindings::PCIBIOS_BUFFER_TOO_SMALL => Err(ENOSPC),
        _ if ret < 0 => Err(Error::from_errno(ret)),
        _ => Err(ERANGE),
    }
}

macro_rules! user_config_accessors {
    ($($read:ident, $write:ident, $ty:ty, $c_read:ident, $c_write:ident;)*) => {
        $(
            /// Reads configuration space on behalf of user space.
            ///
            /// Unlike the driver accessors this honours the configuration access blocking the
            /// PCI core applies during a reset, and reports failures.
            pub fn $read(&self, offset: u16) -> Result<$ty> {
                let mut val: $ty = 0;
                // SAFETY: `self.as_raw()` is a valid `struct pci_dev` and `val` is a valid
                // location for the result; the C function checks `offset` against the
                // configuration space size and alignment.
                pcibios_result(unsafe {
                    bindings::$c_read(self.as_raw(), c_int::from(offset), &mut val)
                })?;
                Ok(val)
            }

            /// Writes configuration space on behalf of user space.
            ///
            /// Honours the configuration access blocking the PCI core applies during a reset.
            pub fn $write(&self, offset: u16, val: $ty) -> Result {
                // SAFETY: `self.as_raw()` is a valid `struct pci_dev`; the C function checks
                // `offset` against the configuration space size and alignment.
                pcibios_result(unsafe {
                    bindings::$c_write(self.as_raw(), c_int::from(offset), val)
                })
            }
        )*
    };
}

impl Device {
    /// Returns the header type (`PCI_HEADER_TYPE_*`, without the multi-function bit).
    #[inline]
    pub fn header_type(&self) -> u8 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).hdr_type }
    }

    /// Returns whether the device is an SR-IOV virtual function.
    #[inline]
    pub fn is_virtfn(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).is_virtfn() != 0 }
    }

    /// Returns whether the device is on a root bus, one with no bridge above it
    /// (`pci_is_root_bus()`).
    #[inline]
    pub fn on_root_bus(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`, whose `bus` is valid while it is.
        unsafe { (*(*self.as_raw()).bus).parent.is_null() }
    }

    /// Returns whether the function has no memory-enable bit in COMMAND (SR-IOV VFs).
    #[inline]
    pub fn no_command_memory(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).no_command_memory() != 0 }
    }

    /// Returns whether INTx masking through COMMAND works (`pci_intx_mask_supported()`).
    #[inline]
    pub fn intx_mask_supported(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).broken_intx_masking() == 0 }
    }

    /// Returns the PCI Express capabilities register cached at enumeration, 0 for a
    /// conventional PCI function.
    #[inline]
    pub fn pcie_flags(&self) -> u16 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).pcie_flags_reg }
    }

    /// Returns the offset of the power management capability, or 0 when the device has none.
    #[inline]
    pub fn pm_cap(&self) -> u8 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).pm_cap }
    }

    /// Returns the power state the PCI core believes the function is in (0 = D0 … 3 = D3hot,
    /// 4 = D3cold).
    #[inline]
    pub fn current_state(&self) -> i32 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`. The PCI core updates the field
        // under its own locks: a volatile read (C's `READ_ONCE()`) sees some state it set.
        unsafe { core::ptr::read_volatile(&raw const (*self.as_raw()).current_state) }
    }

    /// Returns the offset of the MSI capability, or 0 when the device has none.
    #[inline]
    pub fn msi_cap(&self) -> u8 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).msi_cap }
    }

    /// Returns the legacy interrupt (INTx) the device is routed to, 0 when it has none.
    #[inline]
    pub fn irq(&self) -> u32 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).irq }
    }

    /// Masks INTx through COMMAND if the function signals an interrupt, and returns whether it
    /// did (`pci_check_and_mask_intx()`). Callable from any context.
    pub fn check_and_mask_intx(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { bindings::pci_check_and_mask_intx(self.as_raw()) }
    }

    /// Unmasks INTx through COMMAND unless the function signals an interrupt, and returns
    /// whether it did (`pci_check_and_unmask_intx()`). Callable from any context.
    pub fn check_and_unmask_intx(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { bindings::pci_check_and_unmask_intx(self.as_raw()) }
    }

    /// Returns whether MSI-X vectors can be added while MSI-X is enabled.
    pub fn msix_can_alloc_dyn(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { bindings::pci_msix_can_alloc_dyn(self.as_raw()) }
    }

    /// Returns the offset of the MSI-X capability, or 0 when the device has none.
    #[inline]
    pub fn msix_cap(&self) -> u8 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).msix_cap }
    }

    /// Returns the flags (`IORESOURCE_*`) of resource `index` (0-5: BARs, 6: expansion ROM).
    pub fn resource_flags(&self, index: u32) -> Result<u64> {
        if index > bindings::PCI_ROM_RESOURCE {
            return Err(EINVAL);
        }
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` and `index` is within its
        // `resource` array.
        let flags = unsafe { (*self.as_raw()).resource[index as usize].flags };
        // CAST: `unsigned long` is 64 bits on every architecture with PCI passthrough.
        Ok(flags as u64)
    }

    /// Returns the start and length of the expansion ROM resource.
    pub fn rom_resource(&self) -> (u64, u64) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`, `PCI_ROM_RESOURCE` is in range.
        let start = unsafe {
            bindings::pci_resource_start(self.as_raw(), bindings::PCI_ROM_RESOURCE as i32)
        };
        // SAFETY: As above.
        let len =
            unsafe { bindings::pci_resource_len(self.as_raw(), bindings::PCI_ROM_RESOURCE as i32) };
        (start, len)
    }

    /// Returns the length of a ROM image the platform provided as a shadow copy, if any.
    pub fn shadow_rom_len(&self) -> usize {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        let (rom, len) = unsafe { ((*self.as_raw()).rom, (*self.as_raw()).romlen) };
        if rom == 0 {
            0
        } else {
            len
        }
    }
}

/// Device state saved by [`Device::store_saved_state`], to be loaded back later.
///
/// # Invariants
///
/// `0` is a state returned by `pci_store_saved_state()` and owned by this object.
pub struct SavedState(NonNull<bindings::pci_saved_state>);

// SAFETY: The saved state is plain memory owned by this object.
unsafe impl Send for SavedState {}
// SAFETY: `SavedState` offers no shared access to its contents.
unsafe impl Sync for SavedState {}

impl Drop for SavedState {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the state is owned by `self`; it is a kmalloc allocation.
        unsafe { bindings::kfree(self.0.as_ptr().cast()) };
    }
}

/// A BAR claimed for the caller and mapped into the kernel (`pci_request_selected_regions()`
/// and `pci_iomap()`), memory or I/O port space alike. Unmapped and released on drop.
///
/// Accesses go through the `ioread*`/`iowrite*` family, which handles both spaces. 8-byte
/// accesses use the `lo_hi` variants, as vfio-pci does: one 64-bit access to memory space, two
/// 4-byte ones (low half first) to I/O port space.
///
/// # Invariants
///
/// `addr` maps all `len` bytes of BAR `bar` of `pdev`, whose region this object requested.
pub struct IoMap {
    pdev: ARef<Device>,
    bar: u32,
    addr: NonNull<c_void>,
    len: usize,
}

// SAFETY: The mapping may be used from any thread; the accessors take `&self`.
unsafe impl Send for IoMap {}
// SAFETY: Concurrent I/O accesses are as safe as they are in C; no Rust data is shared.
unsafe impl Sync for IoMap {}

macro_rules! iomap_accessors {
    ($($read:ident, $write:ident, $ty:ty, $c_read:ident, $c_write:ident;)*) => {
        $(
            /// Reads at `off`, which must be naturally aligned and inside the BAR.
            pub fn $read(&self, off: usize) -> Result<$ty> {
                let p = self.at(off, size_of::<$ty>())?;
                // SAFETY: `p` is inside the mapping, by `at()`.
                let v = unsafe { bindings::$c_read(p) };
                // CAST: the C accessor returns at most `size_of::<$ty>()` bytes of data.
                Ok(v as $ty)
            }

            /// Writes `val` at `off`, which must be naturally aligned and inside the BAR.
            pub fn $write(&self, off: usize, val: $ty) -> Result {
                let p = self.at(off, size_of::<$ty>())?;
                // SAFETY: `p` is inside the mapping, by `at()`.
                unsafe { bindings::$c_write(val, p.cast_mut()) };
                Ok(())
            }
        )*
    };
}

impl IoMap {
    /// Returns the length of the BAR in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether the mapping is empty (never: empty BARs cannot be mapped).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address of `size` bytes at `off`, checked against the mapping and for alignment.
    fn at(&self, off: usize, size: usize) -> Result<*const c_void> {
        if off % size != 0 || off.checked_add(size).is_none_or(|end| end > self.len) {
            return Err(EINVAL);
        }
        // An `__iomem` cookie is not a Rust allocation: plain address arithmetic, no `add`.
        Ok(self.addr.as_ptr().wrapping_byte_add(off).cast_const())
    }

    iomap_accessors! {
        read8, write8, u8, ioread8, iowrite8;
        read16, write16, u16, ioread16, iowrite16;
        read32, write32, u32, ioread32, iowrite32;
    }
}

// x86 performs unaligned MMIO accesses (split by the hardware as needed).
#[cfg(CONFIG_X86)]
impl IoMap {
    /// Writes the low `size` bytes (1, 2, 4 or 8) of `val` at `off`, which must lie inside the
    /// BAR but need not be aligned.
    pub fn write_unaligned(&self, off: usize, size: usize, val: u64) -> Result {
        if off.checked_add(size).is_none_or(|end| end > self.len) {
            return Err(EINVAL);
        }
        let p = self.addr.as_ptr().wrapping_byte_add(off);
        // SAFETY: `p..p + size` is inside the mapping; x86 allows unaligned MMIO.
        // CAST: the low `size` bytes of `val`.
        unsafe {
            match size {
                1 => bindings::iowrite8(val as u8, p),
                2 => bindings::iowrite16(val as u16, p),
                4 => bindings::iowrite32(val as u32, p),
                8 => bindings::__iowrite64_lo_hi(val, p),
                _ => return Err(EINVAL),
            }
        }
        Ok(())
    }
}

// The `lo_hi` 64-bit accessors exist where the generic iomap implementation does (x86).
#[cfg(CONFIG_GENERIC_IOMAP)]
impl IoMap {
    iomap_accessors! {
        read64, write64, u64, __ioread64_lo_hi, __iowrite64_lo_hi;
    }
}

impl Drop for IoMap {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the mapping and the region request are ours.
        unsafe {
            bindings::pci_iounmap(self.pdev.as_raw(), self.addr.as_ptr());
            bindings::pci_release_selected_regions(self.pdev.as_raw(), 1 << self.bar);
        }
    }
}

/// The expansion ROM mapped with `pci_map_rom()`, unmapped on drop.
///
/// # Invariants
///
/// `addr` maps `len` bytes of `pdev`'s ROM image, mapped by this object.
pub struct RomMap<'a> {
    pdev: &'a Device<device::Bound>,
    addr: NonNull<c_void>,
    len: usize,
}

impl RomMap<'_> {
    /// Returns the size of the ROM image in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns whether the image is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads `out.len()` (1, 2 or 4) bytes at `off`, naturally aligned and inside the image.
    pub fn read(&self, off: usize, out: &mut [u8]) -> Result {
        let size = out.len();
        if !matches!(size, 1 | 2 | 4)
            || off % size != 0
            || off.checked_add(size).is_none_or(|end| end > self.len)
        {
            return Err(EINVAL);
        }
        // An `__iomem` address is not a Rust allocation: plain address arithmetic, no `add`.
        let p = self.addr.as_ptr().wrapping_byte_add(off).cast_const();
        // SAFETY: `p` is inside the mapping.
        let v = unsafe {
            match size {
                1 => bindings::ioread8(p),
                2 => bindings::ioread16(p),
                _ => bindings::ioread32(p),
            }
        };
        out.copy_from_slice(&v.to_le_bytes()[..size]);
        Ok(())
    }
}

impl Drop for RomMap<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the mapping is ours.
        unsafe { bindings::pci_unmap_rom(self.pdev.as_raw(), self.addr.as_ptr()) };
    }
}

impl Device<device::Bound> {
    user_config_accessors! {
        user_read_config_u8, user_write_config_u8, u8,
            pci_user_read_config_byte, pci_user_write_config_byte;
        user_read_config_u16, user_write_config_u16, u16,
            pci_user_read_config_word, pci_user_write_config_word;
        user_read_config_u32, user_write_config_u32, u32,
            pci_user_read_config_dword, pci_user_write_config_dword;
    }

    /// Returns the number of enabled SR-IOV virtual functions.
    pub fn num_vf(&self) -> u32 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        let n = unsafe { bindings::pci_num_vf(self.as_raw()) };
        // CAST: the count is between 0 and 65535.
        n as u32
    }

    /// Claims BAR `bar` for the caller and maps it into the kernel; `EBUSY` when another owner
    /// has the range (or it was never assigned), `ENOMEM` when it cannot be mapped.
    ///
    /// # Safety
    ///
    /// The returned [`IoMap`] is dropped before the device is unbound from the caller's driver:
    /// afterwards the BAR may belong to the next driver, whose claim the drop would release.
    pub unsafe fn iomap_bar(&self, bar: u32, name: &'static CStr) -> Result<IoMap> {
        if bar >= bindings::PCI_ROM_RESOURCE {
            return Err(EINVAL);
        }
        let len = usize::try_from(self.resource_len(bar)?)?;
        if len == 0 {
            return Err(EINVAL);
        }
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver; `name`
        // is static, as the resource keeps a pointer to it.
        to_result(unsafe {
            bindings::pci_request_selected_regions(self.as_raw(), 1 << bar, name.as_char_ptr())
        })?;
        // SAFETY: As above; `bar` is a valid BAR index; 0 maps the whole BAR.
        // CAST: `bar` < 6.
        let addr = unsafe { bindings::pci_iomap(self.as_raw(), bar as c_int, 0) };
        let Some(addr) = NonNull::new(addr) else {
            // SAFETY: The region was requested above.
            unsafe { bindings::pci_release_selected_regions(self.as_raw(), 1 << bar) };
            return Err(ENOMEM);
        };
        // INVARIANT: requested and mapped above.
        Ok(IoMap {
            pdev: (&**self).into(),
            bar,
            addr,
            len,
        })
    }

    /// Maps the expansion ROM image (`pci_map_rom()`, which enables ROM decode); `None` when
    /// there is no valid image. Memory decode must be enabled.
    pub fn map_rom(&self) -> Option<RomMap<'_>> {
        let mut len: usize = 0;
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        let addr = NonNull::new(unsafe { bindings::pci_map_rom(self.as_raw(), &mut len) })?;
        // INVARIANT: mapped just above.
        Some(RomMap {
            pdev: self,
            addr,
            len,
        })
    }

    /// Enables the device's I/O and memory resources (`pci_enable_device()`).
    ///
    /// Calls nest: each successful call needs a matching [`Device::disable_device`].
    pub fn enable_device(&self) -> Result {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        to_result(unsafe { bindings::pci_enable_device(self.as_raw()) })
    }

    /// Undoes one [`Device::enable_device`].
    pub fn disable_device(&self) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        unsafe { bindings::pci_disable_device(self.as_raw()) };
    }

    /// Disables bus mastering.
    pub fn clear_master(&self) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        unsafe { bindings::pci_clear_master(self.as_raw()) };
    }

    /// Resets the function if the device lock can be taken without waiting
    /// (`pci_try_reset_function()`); `EAGAIN` when it cannot.
    pub fn try_reset_function(&self) -> Result {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        to_result(unsafe { bindings::pci_try_reset_function(self.as_raw()) })
    }

    /// Resets the function without saving and restoring its state around the reset
    /// (`__pci_reset_function_locked()`), for a caller that restores the state it wants itself.
    ///
    /// Takes the device lock, and the upstream bridge's, only if they are free: `EAGAIN`
    /// otherwise.
    pub fn try_reset_function_unsaved(&self) -> Result {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        let bridge = unsafe { bindings::pci_upstream_bridge(self.as_raw()) };
        // SAFETY: `bridge` is NULL or a valid `struct pci_dev` (our parent bridge outlives us).
        if !bridge.is_null() && unsafe { bindings::pci_dev_trylock(bridge) } == 0 {
            return Err(EAGAIN);
        }
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        let ret = if unsafe { bindings::pci_dev_trylock(self.as_raw()) } != 0 {
            // SAFETY: We hold the device lock, as the function requires.
            let r = to_result(unsafe { bindings::__pci_reset_function_locked(self.as_raw()) });
            // SAFETY: The lock was taken above.
            unsafe { bindings::pci_dev_unlock(self.as_raw()) };
            r
        } else {
            Err(EAGAIN)
        };
        if !bridge.is_null() {
            // SAFETY: The bridge lock was taken above.
            unsafe { bindings::pci_dev_unlock(bridge) };
        }
        ret
    }

    /// Saves the device's state into the `pci_dev` and returns a copy of it.
    pub fn store_saved_state(&self) -> Option<SavedState> {
        self.save_state();
        self.copy_saved_state()
    }

    /// Returns a copy of the state saved last (`pci_store_saved_state()` alone), `None` when
    /// nothing was saved or the copy could not be allocated.
    pub fn copy_saved_state(&self) -> Option<SavedState> {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        let state = unsafe { bindings::pci_store_saved_state(self.as_raw()) };
        // INVARIANT: a non-NULL result is a new allocation owned by the caller.
        NonNull::new(state).map(SavedState)
    }

    /// Loads `state` back into the `pci_dev` (to be written by [`Device::restore_state`]).
    pub fn load_saved_state(&self, state: SavedState) -> Result {
        let mut raw = state.0.as_ptr();
        core::mem::forget(state);
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`; `raw` is an owned saved state,
        // which the C function frees.
        to_result(unsafe { bindings::pci_load_and_free_saved_state(self.as_raw(), &mut raw) })
    }

    /// Saves the device's current state into the `pci_dev`.
    pub fn save_state(&self) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        unsafe { bindings::pci_save_state(self.as_raw()) };
    }

    /// Writes the state saved in the `pci_dev` back to the device.
    pub fn restore_state(&self) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        unsafe { bindings::pci_restore_state(self.as_raw()) };
    }

    /// Allocates up to `nvec` MSI (`msix == false`) or MSI-X vectors (`pci_alloc_irq_vectors()`
    /// with a minimum of one); [`IrqVectors::len`] tells how many the platform gave.
    ///
    /// # Safety
    ///
    /// The vectors must be freed (the object dropped) before the driver unbinds.
    pub unsafe fn alloc_msi_vectors(&self, nvec: u32, msix: bool) -> Result<IrqVectors> {
        let flag = if msix {
            bindings::PCI_IRQ_MSIX
        } else {
            bindings::PCI_IRQ_MSI
        };
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        let ret = unsafe { bindings::pci_alloc_irq_vectors(self.as_raw(), 1, nvec, flag) };
        to_result(ret)?;
        // INVARIANT: `ret` (>= 1) vectors are allocated and owned by the new object.
        Ok(IrqVectors {
            pdev: self.into(),
            // CAST: `ret` is positive.
            len: ret as u32,
        })
    }

    /// Enables (`true`) or disables INTx through COMMAND (`pci_intx()`).
    pub fn intx(&self, enable: bool) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        unsafe { bindings::pci_intx(self.as_raw(), i32::from(enable)) };
    }

    /// Puts the function into power state `state` (0 = D0 … 3 = D3hot,
    /// `pci_set_power_state()`).
    pub fn set_power_state(&self, state: i32) -> Result {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        to_result(unsafe { bindings::pci_set_power_state(self.as_raw(), state) })
    }

    /// Sets the maximum read request size to `rq` bytes, at least the function's maximum
    /// payload size (`pcie_set_readrq()` with `pcie_get_mps()` as floor).
    pub fn set_readrq_floored(&self, rq: u32) -> Result {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        let mps = unsafe { bindings::pcie_get_mps(self.as_raw()) };
        let rq = i32::try_from(rq).unwrap_or(i32::MAX).max(mps);
        // SAFETY: As above.
        to_result(unsafe { bindings::pcie_set_readrq(self.as_raw(), rq) })
    }

    /// Reads the VPD dword at `addr` (`pci_read_vpd()`); `None` on error.
    pub fn read_vpd_u32(&self, addr: u16) -> Option<u32> {
        let mut data = 0u32;
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver;
        // `data` has room for the 4 bytes requested.
        let ret = unsafe {
            bindings::pci_read_vpd(self.as_raw(), addr.into(), 4, (&raw mut data).cast())
        };
        (ret >= 0).then_some(data)
    }

    /// Writes the VPD dword at `addr` (`pci_write_vpd()`); `true` when all 4 bytes were written.
    pub fn write_vpd_u32(&self, addr: u16, data: u32) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver;
        // `data` holds the 4 bytes to write.
        let ret = unsafe {
            bindings::pci_write_vpd(self.as_raw(), addr.into(), 4, (&raw const data).cast())
        };
        ret == 4
    }

    /// Returns whether the expansion ROM holds a valid image; needs memory decode enabled.
    pub fn rom_is_valid(&self) -> bool {
        self.map_rom().is_some()
    }
}

/// The reset that reaches beyond one function and covers it: the reset of the slot it sits in
/// (through the hotplug controller) or of the secondary bus of its upstream bridge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HotReset {
    /// A slot reset (`pci_probe_reset_slot()` succeeds).
    Slot,
    /// A bus reset (`pci_probe_reset_bus()` succeeds).
    Bus,
}

impl Device {
    /// Returns the PCI segment (domain) number.
    pub fn domain_nr(&self) -> u32 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`, on a valid bus.
        let nr = unsafe { bindings::pci_domain_nr((*self.as_raw()).bus) };
        // CAST: segment numbers are not negative.
        nr as u32
    }

    /// Returns the number of the bus the function sits on.
    pub fn bus_number(&self) -> u8 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`, on a valid bus.
        unsafe { (*(*self.as_raw()).bus).number }
    }

    /// Returns the device and function number (`PCI_DEVFN()`).
    pub fn devfn(&self) -> u8 {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        let devfn = unsafe { (*self.as_raw()).devfn };
        // CAST: `devfn` holds 8 bits.
        devfn as u8
    }

    /// Returns the number of the function's IOMMU group, `None` when it has none.
    pub fn iommu_group_id(&self) -> Option<u32> {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        let group = unsafe { bindings::iommu_group_get(&raw mut (*self.as_raw()).dev) };
        if group.is_null() {
            return None;
        }
        // SAFETY: `iommu_group_get()` returned a referenced group, released right after.
        let id = unsafe {
            let id = bindings::iommu_group_id(group);
            bindings::iommu_group_put(group);
            id
        };
        u32::try_from(id).ok()
    }

    /// Returns the hot reset that covers the function, preferring a slot reset, as
    /// `pci_reset_bus()` does; `None` when there is neither.
    pub fn hot_reset(&self) -> Option<HotReset> {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`; `slot` may be NULL, which the
        // probe refuses.
        if unsafe { bindings::pci_probe_reset_slot((*self.as_raw()).slot) } == 0 {
            return Some(HotReset::Slot);
        }
        // SAFETY: As above; `bus` is valid.
        if unsafe { bindings::pci_probe_reset_bus((*self.as_raw()).bus) } == 0 {
            return Some(HotReset::Bus);
        }
        None
    }

    /// Returns an identity of the slot or bus `reset` acts on: the address of its `pci_slot` or
    /// `pci_bus`, the identity vfio-pci uses too. 0 if the function has no slot. (The slot
    /// pointer is read without the PCI core's slot lock, as C drivers read it.)
    pub fn hot_reset_domain(&self, reset: HotReset) -> usize {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        let (slot, bus) = unsafe { ((*self.as_raw()).slot, (*self.as_raw()).bus) };
        match reset {
            HotReset::Slot => slot as usize,
            HotReset::Bus => bus as usize,
        }
    }

    /// Calls `f` on every function `reset` affects: those below the function's slot, or on its
    /// bus and below (`pci_walk_bus()`). Stops at the first error, which it returns.
    ///
    /// `f` runs with the PCI bus semaphore held for reading: it may sleep, but must not add or
    /// remove devices. Must not be called with that semaphore already held (for example from
    /// an error-recovery callback, which the PCI core runs inside its own walk).
    pub fn for_each_hot_reset_function(
        &self,
        reset: HotReset,
        mut f: impl FnMut(&Device) -> Result,
    ) -> Result {
        struct Walk<'a> {
            f: &'a mut dyn FnMut(&Device) -> Result,
            slot: *mut bindings::pci_slot,
            ret: Result,
        }

        /// Whether `pdev` is below `slot` (vfio-pci's `vfio_pci_dev_below_slot()`).
        ///
        /// # Safety
        ///
        /// `pdev` and `slot` are valid; the bus hierarchy is stable (bus semaphore held).
        unsafe fn below_slot(
            mut pdev: *mut bindings::pci_dev,
            slot: *mut bindings::pci_slot,
        ) -> bool {
            while !pdev.is_null() {
                // SAFETY: Per the caller, the devices and buses up the hierarchy are valid.
                unsafe {
                    if (*pdev).bus == (*slot).bus {
                        return (*pdev).slot == slot;
                    }
                    pdev = (*(*pdev).bus).self_;
                }
            }
            false
        }

        /// # Safety
        ///
        /// Called by `pci_walk_bus()` with a valid device and the `Walk` passed to it.
        unsafe extern "C" fn visit(pdev: *mut bindings::pci_dev, data: *mut c_void) -> c_int {
            // SAFETY: `data` is the `Walk` below, alive during `pci_walk_bus()`.
            let walk = unsafe { &mut *data.cast::<Walk<'_>>() };
            // SAFETY: `pci_walk_bus()` passes valid devices, with the bus semaphore held.
            if walk.slot.is_null() || unsafe { below_slot(pdev, walk.slot) } {
                // SAFETY: `Device` is a transparent wrapper of `struct pci_dev`.
                let dev = unsafe { &*pdev.cast::<Device>() };
                walk.ret = (walk.f)(dev);
            }
            c_int::from(walk.ret.is_err())
        }

        let mut walk = Walk {
            f: &mut f,
            slot: match reset {
                // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
                HotReset::Slot => unsafe { (*self.as_raw()).slot },
                HotReset::Bus => core::ptr::null_mut(),
            },
            ret: Ok(()),
        };
        if reset == HotReset::Slot && walk.slot.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `bus` is valid; `visit` matches the callback type and `walk` outlives the walk.
        unsafe {
            bindings::pci_walk_bus((*self.as_raw()).bus, Some(visit), (&raw mut walk).cast())
        };
        walk.ret
    }
}

impl Device<device::Bound> {
    /// Resets the function's slot, or else its bus, with every affected function's state saved
    /// and restored around it (`pci_reset_bus()`). `EAGAIN` when a function's lock is contended:
    /// the device locks are only tried, so the caller may hold one, but not the PCI bus
    /// semaphore.
    pub fn reset_bus(&self) -> Result {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        to_result(unsafe { bindings::pci_reset_bus(self.as_raw()) })
    }
}

impl Device {
    /// Returns whether the device is an SR-IOV physical function.
    #[inline]
    pub fn is_physfn(&self) -> bool {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`.
        unsafe { (*self.as_raw()).is_physfn() != 0 }
    }

    /// Returns an identity of the function: its address, unique while it exists.
    pub fn identity(&self) -> usize {
        self.as_raw() as usize
    }

    /// Returns the [`Device::identity`] of the function's physical function: its own for
    /// anything but an SR-IOV virtual function.
    pub fn physfn_identity(&self) -> usize {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev`; a VF's PF outlives it.
        unsafe { bindings::pci_physfn(self.as_raw()) as usize }
    }
}

impl Device<device::Bound> {
    /// Enables `nr_virtfn` SR-IOV virtual functions (`pci_enable_sriov()`); they are added to
    /// the bus, and probed, before this returns. Called with the device lock held.
    pub fn enable_sriov(&self, nr_virtfn: u32) -> Result {
        let nr = c_int::try_from(nr_virtfn).map_err(|_| EINVAL)?;
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        to_result(unsafe { bindings::pci_enable_sriov(self.as_raw(), nr) })
    }

    /// Disables SR-IOV, removing the virtual functions (`pci_disable_sriov()`).
    pub fn disable_sriov(&self) {
        // SAFETY: `self.as_raw()` is a valid `struct pci_dev` bound to the caller's driver.
        unsafe { bindings::pci_disable_sriov(self.as_raw()) }
    }
}

/// Gives every virtual function a physical function adds a `driver_override` naming one
/// driver, set when the VF is added and before any driver probes it, as vfio-pci does for the
/// VFs of the PFs it owns: a VF of a user-owned PF must not fall to a host driver. Unregisters
/// its PCI bus notifier on drop.
#[pin_data(PinnedDrop)]
pub struct VfDriverOverride {
    /// The PF's identity: compared, never dereferenced.
    pf: usize,
    name: &'static CStr,
    #[pin]
    nb: Opaque<bindings::notifier_block>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The fields are plain data; the notifier block is only used by the notifier chain.
unsafe impl Send for VfDriverOverride {}
// SAFETY: As above: nothing is mutated through a shared reference.
unsafe impl Sync for VfDriverOverride {}

impl VfDriverOverride {
    /// Starts overriding the driver of `pf`'s future VFs with `name`.
    pub fn new(pf: &Device<device::Bound>, name: &'static CStr) -> impl PinInit<Self, Error> {
        let pf = pf.identity();
        try_pin_init!(Self {
            // Before `nb`: the notifier may run as soon as it is registered.
            pf,
            name,
            nb <- Opaque::try_ffi_init(|nb: *mut bindings::notifier_block| {
                // SAFETY: `nb` points to the field being initialised, pinned from now on; it is
                // unregistered in `drop` before the memory goes away.
                unsafe {
                    nb.write(bindings::notifier_block {
                        notifier_call: Some(Self::notify),
                        next: core::ptr::null_mut(),
                        priority: 0,
                    });
                    to_result(bindings::bus_register_notifier(
                        &raw const bindings::pci_bus_type,
                        nb,
                    ))
                }
            }),
            _pin: PhantomPinned,
        })
    }

    /// # Safety
    ///
    /// Called by the PCI bus notifier chain with the `nb` of a registered `VfDriverOverride`
    /// and, as `data`, a device of the PCI bus.
    unsafe extern "C" fn notify(
        nb: *mut bindings::notifier_block,
        action: c_ulong,
        data: *mut c_void,
    ) -> c_int {
        // CAST: the event is a small enum value.
        if action != bindings::bus_notifier_event_BUS_NOTIFY_ADD_DEVICE as c_ulong {
            return 0;
        }
        // SAFETY: `nb` is the `nb` field of a live `VfDriverOverride` (`Opaque` is transparent).
        let this = unsafe { &*nb.byte_sub(core::mem::offset_of!(Self, nb)).cast::<Self>() };
        let dev = data.cast::<bindings::device>();
        // SAFETY: Devices of the PCI bus are embedded in a `struct pci_dev`.
        let pdev =
            unsafe { dev.byte_sub(core::mem::offset_of!(bindings::pci_dev, dev)) }.cast::<Device>();
        // SAFETY: `pdev` is the valid `struct pci_dev` being added.
        let pdev = unsafe { &*pdev };
        if pdev.is_virtfn() && pdev.physfn_identity() == this.pf {
            // SAFETY: `dev` is valid; the name is a static string of the given length.
            let ret = unsafe {
                bindings::__device_set_driver_override(
                    dev,
                    this.name.as_char_ptr(),
                    this.name.to_bytes().len(),
                )
            };
            if ret != 0 {
                pr_warn!("cannot set the driver_override of an SR-IOV VF: {}\n", ret);
            }
        }
        0
    }
}

#[pinned_drop]
impl PinnedDrop for VfDriverOverride {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The notifier was registered by `new`.
        unsafe {
            bindings::bus_unregister_notifier(&raw const bindings::pci_bus_type, self.nb.get())
        };
    }
}

/// MSI or MSI-X vectors allocated to a function; dropping the object frees all of them, and
/// disables MSI or MSI-X.
///
/// # Invariants
///
/// `pdev` has MSI or MSI-X vectors allocated, `len` of them at allocation time, owned by this
/// object (and freed before the driver unbinds).
pub struct IrqVectors {
    pdev: ARef<Device>,
    len: u32,
}

impl IrqVectors {
    /// Returns the number of vectors allocated up front.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Returns whether no vector is allocated (never).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Returns the Linux interrupt number of vector `index`, `EINVAL` when it has none.
    pub fn irq(&self, index: u32) -> Result<u32> {
        // SAFETY: By the type invariant the device has vectors allocated.
        let irq = unsafe { bindings::pci_irq_vector(self.pdev.as_raw(), index) };
        match u32::try_from(irq) {
            Ok(0) | Err(_) => Err(EINVAL),
            Ok(irq) => Ok(irq),
        }
    }

    /// Allocates MSI-X vector `index` while MSI-X is enabled (`pci_msix_alloc_irq_at()`, for
    /// functions where `msix_can_alloc_dyn()`); returns its interrupt number. Freed with the
    /// rest.
    pub fn alloc_at(&self, index: u32) -> Result<u32> {
        // SAFETY: By the type invariant the device has vectors allocated; a null affinity is
        // allowed.
        let map = unsafe {
            bindings::pci_msix_alloc_irq_at(self.pdev.as_raw(), index, core::ptr::null())
        };
        if map.index < 0 {
            return Err(Error::from_errno(map.index));
        }
        u32::try_from(map.virq).map_err(|_| EINVAL)
    }

    /// Writes the cached message of vector `index` back to the device, in case the device lost
    /// it (`get_cached_msi_msg()` + `pci_write_msi_msg()`). Memory decode must be on.
    pub fn rewrite_message(&self, index: u32) -> Result {
        let irq = self.irq(index)?;
        let mut msg = bindings::msi_msg::default();
        // SAFETY: `irq` is an MSI interrupt of this device, by `irq()`; `msg` is valid.
        unsafe {
            bindings::get_cached_msi_msg(irq, &mut msg);
            bindings::pci_write_msi_msg(irq, &mut msg);
        }
        Ok(())
    }
}

impl Drop for IrqVectors {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the vectors are ours.
        unsafe { bindings::pci_free_irq_vectors(self.pdev.as_raw()) };
    }
}
