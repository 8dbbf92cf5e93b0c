// SPDX-License-Identifier: GPL-2.0

//! Device sets: the VFIO devices of one driver that share a reset.
//!
//! The VFIO core opens and closes the devices of a set under the set's lock, so a driver can
//! tell whether any member is in use before resetting them together (a PCI slot or bus reset).
//! Proof that user space owns every member comes from VFIO group files or from the iommufd
//! context its devices are bound to.
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use super::{
    Device,
    Operations, //
};
use crate::{
    bindings,
    device::{
        self,
        Bound,
        Normal, //
    },
    fs::LocalFile,
    prelude::*,
    sync::aref::ARef, //
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    ptr::NonNull, //
};

/// The key under which the VFIO core finds a device set.
///
/// The core keeps the sets of all drivers in one table, and a driver reads every member of its
/// sets as its own device type: keys must not be shared between drivers.
#[derive(Clone, Copy)]
pub struct SetId(usize);

impl SetId {
    /// Makes a key from an address-sized value.
    ///
    /// # Safety
    ///
    /// `id` is not 0, and only devices of one [`Operations`] type are ever registered under it:
    /// no other driver uses the same value as a device-set key.
    pub const unsafe fn new(id: usize) -> Self {
        Self(id)
    }

    pub(super) fn as_ptr(self) -> *mut c_void {
        // CAST: the VFIO core takes keys as pointers and only compares them.
        self.0 as *mut c_void
    }
}

/// A locked device set; the lock is released on drop if this guard took it.
///
/// Every member is a `Device<T>` (see [`SetId::new`]). A member's memory stays allocated while
/// the lock is held, since the core unlinks a device from its set under this lock before
/// freeing it; but its last reference may already be gone (the release waits for the lock), so
/// members are handed out as [`SetMember`]s, which cannot take new references.
///
/// Lock order: the set lock comes before the driver's own device locks. The VFIO core holds it
/// around [`Operations::open_device`] and [`Operations::close_device`]; drivers must not take it
/// while holding a lock those callbacks take.
pub struct DevSet<'a, T: Operations> {
    set: NonNull<bindings::vfio_device_set>,
    unlock: bool,
    _p: PhantomData<&'a Device<T>>,
}

/// A member of a locked [`DevSet`]: the driver's data and what may be done to a device that is
/// possibly being released.
#[repr(transparent)]
pub struct SetMember<T: Operations>(Device<T>);

impl<T: Operations> core::ops::Deref for SetMember<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Operations> SetMember<T> {
    /// Returns the parent bus device. The device's release, which drops its reference to the
    /// parent, leaves the set first, under the set's lock.
    pub fn parent(&self) -> &T::ParentDevice<Normal> {
        self.0.as_ref()
    }

    /// Returns the user mappings of the device file (its inode lives until the very end of
    /// the release).
    pub fn mappings(&self) -> super::Mappings<'_> {
        self.0.mappings()
    }

    /// Whether `group` is the VFIO group file of this device.
    pub fn in_group(&self, group: &GroupFile) -> bool {
        // SAFETY: `group` holds a file reference; the device's memory is valid while its set
        // is locked, and the core only compares its group pointer.
        unsafe { raw::file_has_dev(group.0.as_ptr(), self.0.as_raw()) }
    }

    fn dev_set(&self) -> *mut bindings::vfio_device_set {
        // SAFETY: The memory is valid (see `DevSet`); `dev_set` does not change after
        // registration.
        unsafe { (*self.0.as_raw()).dev_set }
    }
}

impl<T: Operations> Device<T, Bound> {
    fn raw_dev_set(&self) -> NonNull<bindings::vfio_device_set> {
        // SAFETY: Registration assigns a set (a singleton one at the latest) that stays
        // assigned until release.
        let set = unsafe { (*self.as_raw()).dev_set };
        // SAFETY: `vfio_register_group_dev()` succeeded, so `dev_set` is set.
        unsafe { NonNull::new_unchecked(set) }
    }

    /// Locks the device's set. Must not be called from [`Operations::open_device`] or
    /// [`Operations::close_device`], which run with the lock held (see [`Device::dev_set_held`]).
    pub fn lock_dev_set(&self) -> DevSet<'_, T> {
        let set = self.raw_dev_set();
        // SAFETY: The set is valid while this member is.
        unsafe { bindings::mutex_lock(&raw mut (*set.as_ptr()).lock) };
        DevSet {
            set,
            unlock: true,
            _p: PhantomData,
        }
    }

    /// Returns the device's set, which the VFIO core has locked around the open and close
    /// callbacks.
    ///
    /// # Safety
    ///
    /// The caller is [`Operations::open_device`] or [`Operations::close_device`] of this device,
    /// and the guard does not outlive the callback.
    pub unsafe fn dev_set_held(&self) -> DevSet<'_, T> {
        DevSet {
            set: self.raw_dev_set(),
            unlock: false,
            _p: PhantomData,
        }
    }
}

impl<'a, T: Operations> DevSet<'a, T> {
    fn as_raw(&self) -> *mut bindings::vfio_device_set {
        self.set.as_ptr()
    }

    fn holds(&self, dev: *mut bindings::vfio_device) -> bool {
        // SAFETY: `dev` is a live device or set member; `dev_set` does not change after
        // registration.
        unsafe { (*dev).dev_set == self.as_raw() }
    }

    /// Returns the number of opens of all members together.
    pub fn open_count(&self) -> u32 {
        // SAFETY: The set is locked.
        unsafe { bindings::vfio_device_set_open_count(self.as_raw()) }
    }

    /// Returns the member whose parent is `dev`, if any.
    pub fn find(&self, dev: &device::Device) -> Option<&SetMember<T>> {
        // SAFETY: The set is locked; `dev` is a valid device.
        let vdev = unsafe { bindings::vfio_find_device_in_devset(self.as_raw(), dev.as_raw()) };
        // SAFETY: Members are `Device<T>` (`SetId::new`) whose memory is valid while the set is
        // locked; `SetMember` is a transparent wrapper.
        (!vdev.is_null()).then(|| unsafe { &*vdev.cast::<SetMember<T>>() })
    }

    /// Returns the members, in the order they joined.
    pub fn members(&self) -> Members<'_, T> {
        // SAFETY: The set is locked, its list valid.
        let head = unsafe { &raw mut (*self.as_raw()).device_list };
        Members {
            head,
            // SAFETY: As above.
            next: unsafe { (*head).next },
            _p: PhantomData,
        }
    }

    /// Returns `member` in the [`Bound`] context if user space has it open: an open device is
    /// registered, so its parent is bound. `None` for a device of another set.
    pub fn bound_if_open<'b>(&'b self, member: &'b SetMember<T>) -> Option<&'b Device<T, Bound>> {
        if member.dev_set() != self.as_raw() {
            return None;
        }
        // SAFETY: `open_count` is changed under the set's lock, which is held.
        let open = unsafe { (*member.0.as_raw()).open_count } != 0;
        // SAFETY: An open file holds a registration reference, so the device stays registered
        // (and its parent bound, its reference count above 0) while the set is locked and the
        // count is not 0.
        open.then(|| unsafe { member.0.assume_ctx() })
    }

    /// Whether user space opened `dev`, a member of this set, through its character device
    /// (bound to an iommufd context) rather than through a VFIO group.
    pub fn cdev_opened(&self, dev: &Device<T, Bound>) -> bool {
        // SAFETY: `dev` is live; the core changes the flag (and its neighbours in the same
        // byte) under the set's lock, held when `dev` is a member.
        self.holds(dev.as_raw()) && unsafe { raw::cdev_opened(dev.as_raw()) }
    }

    /// Returns the iommufd context `dev`, a member of this set, is bound to, if it was opened
    /// through its character device. Valid while the set stays locked: the core binds and
    /// unbinds under this lock, and a bound device holds a reference on its context.
    pub fn iommufd(&self, dev: &Device<T, Bound>) -> Option<Iommufd<'_>> {
        if !self.holds(dev.as_raw()) {
            return None;
        }
        // SAFETY: `dev` is live and a member of this set, whose lock is held.
        let ictx = unsafe { raw::device_ictx(dev.as_raw()) };
        NonNull::new(ictx).map(|ictx| Iommufd {
            ictx,
            _p: PhantomData,
        })
    }

    /// Returns how `member` relates to `ictx`; `NotOwned` for a device of another set.
    pub fn iommufd_owner(&self, member: &SetMember<T>, ictx: &Iommufd<'_>) -> IommufdOwner {
        if member.dev_set() != self.as_raw() {
            return IommufdOwner::NotOwned;
        }
        // SAFETY: `member` is in this set, whose lock is held; `ictx` was obtained under the
        // same lock and is still referenced.
        let id = unsafe { raw::dev_id(member.0.as_raw(), ictx.ictx.as_ptr()) };
        match u32::try_from(id) {
            Ok(id) if id > 0 => IommufdOwner::Bound(id),
            _ if id == ENOENT.to_errno() => IommufdOwner::GroupOwned,
            _ => IommufdOwner::NotOwned,
        }
    }
}

impl<T: Operations> Drop for DevSet<'_, T> {
    fn drop(&mut self) {
        if self.unlock {
            // SAFETY: `lock_dev_set` took the lock.
            unsafe { bindings::mutex_unlock(&raw mut (*self.as_raw()).lock) };
        }
    }
}

/// The members of a locked [`DevSet`].
pub struct Members<'a, T: Operations> {
    head: *mut bindings::list_head,
    next: *mut bindings::list_head,
    _p: PhantomData<&'a Device<T>>,
}

impl<'a, T: Operations> Iterator for Members<'a, T> {
    type Item = &'a SetMember<T>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.head {
            return None;
        }
        // SAFETY: `next` is the `dev_set_list` node of a member of the set, which is locked for
        // `'a`; members are `Device<T>` with the `vfio_device` at offset 0, and `SetMember` is
        // a transparent wrapper.
        unsafe {
            let vdev = self
                .next
                .byte_sub(offset_of!(bindings::vfio_device, dev_set_list))
                .cast::<SetMember<T>>();
            self.next = (*self.next).next;
            Some(&*vdev)
        }
    }
}

/// The iommufd context a device opened through its character device is bound to, borrowed
/// from a locked [`DevSet`].
pub struct Iommufd<'a> {
    ictx: NonNull<bindings::iommufd_ctx>,
    _p: PhantomData<&'a ()>,
}

/// How a device relates to an iommufd context (`vfio_iommufd_get_dev_id()`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IommufdOwner {
    /// Bound to the context, with this device id.
    Bound(u32),
    /// Not bound, but its IOMMU group is owned by the context: nobody else can own it.
    GroupOwned,
    /// Neither.
    NotOwned,
}

/// A VFIO group file, held by reference: user space's proof that it owns the group's devices.
pub struct GroupFile(ARef<LocalFile>);

impl GroupFile {
    /// Takes a reference to the file of `fd` in the calling task: `EBADF` if there is none,
    /// `EINVAL` if it is not a VFIO group.
    pub fn fget(fd: i32) -> Result<Self> {
        let fd = u32::try_from(fd).map_err(|_| EBADF)?;
        let file = LocalFile::fget(fd).map_err(|_| EBADF)?;
        // SAFETY: `file` holds a reference.
        if unsafe { raw::file_is_group(file.as_ptr()) } {
            Ok(Self(file))
        } else {
            Err(EINVAL)
        }
    }
}

/// The C calls whose existence depends on the configuration, with the C headers' fallbacks.
mod raw {
    use crate::bindings::{
        file,
        iommufd_ctx,
        vfio_device, //
    };
    use crate::prelude::*;

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(CONFIG_VFIO_DEVICE_CDEV)]
    pub(super) unsafe fn cdev_opened(vdev: *mut vfio_device) -> bool {
        // SAFETY: Per the caller, `vdev` is valid.
        unsafe { (*vdev).cdev_opened() != 0 }
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(not(CONFIG_VFIO_DEVICE_CDEV))]
    pub(super) unsafe fn cdev_opened(_vdev: *mut vfio_device) -> bool {
        false
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) unsafe fn device_ictx(vdev: *mut vfio_device) -> *mut iommufd_ctx {
        // SAFETY: Per the caller, `vdev` is valid.
        unsafe { crate::bindings::vfio_iommufd_device_ictx(vdev) }
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) unsafe fn device_ictx(_vdev: *mut vfio_device) -> *mut iommufd_ctx {
        core::ptr::null_mut()
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) unsafe fn dev_id(vdev: *mut vfio_device, ictx: *mut iommufd_ctx) -> c_int {
        // SAFETY: Per the caller, both are valid.
        unsafe { crate::bindings::vfio_iommufd_get_dev_id(vdev, ictx) }
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) unsafe fn dev_id(_vdev: *mut vfio_device, _ictx: *mut iommufd_ctx) -> c_int {
        EINVAL.to_errno()
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(CONFIG_VFIO_GROUP)]
    pub(super) unsafe fn file_is_group(f: *mut file) -> bool {
        // SAFETY: Per the caller, `f` is a referenced file.
        unsafe { crate::bindings::vfio_file_is_group(f) }
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(not(CONFIG_VFIO_GROUP))]
    pub(super) unsafe fn file_is_group(_f: *mut file) -> bool {
        false
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(CONFIG_VFIO_GROUP)]
    pub(super) unsafe fn file_has_dev(f: *mut file, vdev: *mut vfio_device) -> bool {
        // SAFETY: Per the caller, both are valid.
        unsafe { crate::bindings::vfio_file_has_dev(f, vdev) }
    }

    /// # Safety
    ///
    /// As for the C function.
    #[cfg(not(CONFIG_VFIO_GROUP))]
    pub(super) unsafe fn file_has_dev(_f: *mut file, _vdev: *mut vfio_device) -> bool {
        false
    }
}
