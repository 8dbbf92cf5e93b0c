// SPDX-License-Identifier: GPL-2.0

//! VFIO devices.
//!
//! A VFIO bus driver hands a device to user space: the VFIO core owns the character devices,
//! groups, containers and iommufd binding; the driver implements [`Operations`] on its own
//! per-device data and registers it with a [`Registration`].
//!
//! C header: [`include/linux/vfio.h`](srctree/include/linux/vfio.h)

use crate::{
    bindings,
    device::{
        self,
        Bound,
        Normal, //
    },
    error::{
        from_err_ptr,
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    mm::virt::VmaNew,
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    },
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceReader,
        UserSliceWriter, //
    },
};
use core::{
    marker::PhantomData,
    mem::offset_of,
    ops::Deref,
    ptr::NonNull, //
    sync::atomic::{
        AtomicBool,
        AtomicPtr,
        Ordering, //
    },
};

pub mod devset;
pub mod irq;
pub mod uapi;
pub mod virqfd;

/// The operations of a VFIO device, implemented by the bus driver on its per-device data.
///
/// The callbacks receive the device in the [`Bound`] context: they only run while the device is
/// registered, and a [`Registration`] cannot outlive the binding of the parent device.
///
/// Callbacks that are not implemented leave the C operation unset; the VFIO core then answers
/// as it does for any driver lacking it.
#[vtable]
pub trait Operations: Sized + Send + Sync + 'static {
    /// The bus device type of the parent (for a PCI bus driver, [`crate::pci::Device`]).
    type ParentDevice<Ctx: device::DeviceContext>: device::AsBusDevice<Ctx>;

    /// What exists while user space has the device open: made by
    /// [`Operations::open_device`], borrowed by the callbacks of the open device's files and
    /// mappings, and handed back to [`Operations::close_device`].
    type Open: ForeignOwnable + Send + Sync;

    /// Name of the driver, as the VFIO core reports it.
    const NAME: &'static CStr;

    /// Called when the first file descriptor for the device is opened; returns the data of the
    /// open device.
    ///
    /// The callbacks that take the open data fail (`EINVAL`, or `SIGBUS` for a fault) in a
    /// driver without this one.
    fn open_device(_dev: &Device<Self, Bound>) -> Result<Self::Open> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Called when the last file descriptor for the device is closed, with the data
    /// [`Operations::open_device`] returned.
    fn close_device(_dev: &Device<Self, Bound>, _open: Self::Open) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `read(2)` at region offset `offset`; returns the number of bytes read.
    fn read(
        _dev: &Device<Self, Bound>,
        _open: OpenRef<'_, Self>,
        _buf: &mut UserSliceWriter,
        _offset: u64,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `write(2)` at region offset `offset`; returns the number of bytes written.
    fn write(
        _dev: &Device<Self, Bound>,
        _open: OpenRef<'_, Self>,
        _buf: &mut UserSliceReader,
        _offset: u64,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `ioctl(2)` commands the VFIO core does not handle itself.
    fn ioctl(
        _dev: &Device<Self, Bound>,
        _open: OpenRef<'_, Self>,
        _cmd: u32,
        _arg: usize,
    ) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `VFIO_DEVICE_GET_REGION_INFO`: describes region `index`, adding capabilities to `caps`.
    ///
    /// The core has validated `argsz` and copies the result and the capabilities to user space.
    fn region_info(
        _dev: &Device<Self, Bound>,
        _open: OpenRef<'_, Self>,
        _index: u32,
        _caps: &mut InfoCaps<'_>,
    ) -> Result<RegionInfo> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `mmap(2)` of the device file; the page offset of `vma` encodes the region and offset.
    fn mmap(_dev: &Device<Self, Bound>, _open: OpenRef<'_, Self>, _vma: &VmaNew) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles a page fault in a mapping set up with [`Device::map_on_fault`]: inserts the
    /// page (with [`Fault::insert_pfn`]) or refuses it. Called without any VFIO lock held.
    fn fault(_dev: &Device<Self, Bound>, _open: OpenRef<'_, Self>, _fault: &Fault<'_>) -> VmFault {
        VmFault::SIGBUS
    }

    /// Asks the driver to make user space release the device; `count` counts the requests.
    fn request(_dev: &Device<Self, Bound>, _count: u32) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Checks the token (a UUID) user space gave to open the device: the `vf_token=` option
    /// after the device name in `VFIO_GROUP_GET_DEVICE_FD`, or `token_uuid` with
    /// `VFIO_DEVICE_BIND_FLAG_TOKEN` in `VFIO_DEVICE_BIND_IOMMUFD`; `None` if it gave none.
    /// An error refuses the open. With this callback the group path accepts
    /// `"NAME vf_token=UUID"` as well as the bare device name.
    fn match_token(_dev: &Device<Self, Bound>, _token: Option<&[u8; 16]>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `VFIO_DEVICE_FEATURE` for the features the VFIO core does not handle itself: `flags`
    /// holds the feature and `VFIO_DEVICE_FEATURE_{GET,SET,PROBE}`, `arg`/`argsz` the user data
    /// after the header (the core has checked the header, as `vfio_check_feature()` expects).
    fn device_feature(
        _dev: &Device<Self, Bound>,
        _open: OpenRef<'_, Self>,
        _flags: u32,
        _arg: usize,
        _argsz: usize,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The data of an open device, as the callbacks borrow it (for a `Pin<KBox<D>>`, `Pin<&D>`).
pub type OpenRef<'a, T> = <<T as Operations>::Open as ForeignOwnable>::Borrowed<'a>;

/// Returns a new random token (a version 4 UUID, `uuid_gen()`), such as the VF token a PF
/// starts with.
pub fn random_token() -> [u8; 16] {
    let mut uuid = bindings::uuid_t::default();
    // SAFETY: `uuid` is a valid output buffer.
    unsafe { bindings::uuid_gen(&mut uuid) };
    uuid.b
}

/// What `VFIO_DEVICE_GET_REGION_INFO` reports for one region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegionInfo {
    /// Offset of the region in the device file.
    pub offset: u64,
    /// Size of the region in bytes.
    pub size: u64,
    /// `VFIO_REGION_INFO_FLAG_*`.
    pub flags: u32,
}

/// The outcome of a page fault (`vm_fault_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmFault(bindings::vm_fault_t);

impl VmFault {
    /// The access gets `SIGBUS`.
    pub const SIGBUS: Self = Self(bindings::vm_fault_reason_VM_FAULT_SIGBUS);
}

/// A page fault in a mapping of a VFIO device file (`struct vm_fault`).
pub struct Fault<'a> {
    vmf: *mut bindings::vm_fault,
    _p: PhantomData<&'a bindings::vm_fault>,
}

impl Fault<'_> {
    fn vma(&self) -> *mut bindings::vm_area_struct {
        // SAFETY: `vmf` is valid for the duration of the fault handler, which outlives `self`.
        unsafe { (*self.vmf).__bindgen_anon_1.vma }
    }

    /// The offset of the mapping in the device file, in pages (`vm_pgoff`).
    pub fn vma_pgoff(&self) -> usize {
        // SAFETY: The vma is valid during the fault, and the MM core holds the vma (or mmap)
        // lock across the handler, so `vm_pgoff` cannot change under us.
        unsafe { (*self.vma()).vm_pgoff }
    }

    /// The index of the faulting page inside the mapping.
    pub fn page_in_vma(&self) -> usize {
        // SAFETY: As above; the MM core holds the vma for the duration of the fault.
        let (addr, start) = unsafe {
            (
                (*self.vmf).__bindgen_anon_1.address,
                crate::mm::virt::VmaRef::from_raw(self.vma()).start(),
            )
        };
        (addr - start) >> crate::page::PAGE_SHIFT
    }

    /// Maps physical page `pfn` at the faulting address (`vmf_insert_pfn()`).
    ///
    /// # Safety
    ///
    /// `pfn` is device memory (a BAR page) that the driver may expose to the process owning
    /// the mapping, and the driver's zap of that memory cannot run concurrently.
    pub unsafe fn insert_pfn(&self, pfn: usize) -> VmFault {
        // SAFETY: The vma is a `VM_PFNMAP` mapping set up by `map_on_fault`; the address is the
        // faulting one; the caller vouches for `pfn`.
        VmFault(unsafe {
            bindings::vmf_insert_pfn(self.vma(), (*self.vmf).__bindgen_anon_1.address, pfn)
        })
    }
}

/// A capability chain being built for an info ioctl (`struct vfio_info_cap`).
pub struct InfoCaps<'a>(&'a mut bindings::vfio_info_cap);

impl InfoCaps<'_> {
    /// Appends capability `id`/`version` whose body (after the 8-byte header) is `body`.
    pub fn add(&mut self, id: u16, version: u16, body: &[u8]) -> Result {
        let header = size_of::<bindings::vfio_info_cap_header>();
        // SAFETY: `self.0` is a valid capability chain; the core allocates `header + body.len()`
        // bytes, fills in the header and returns a pointer to it.
        let cap = from_err_ptr(unsafe {
            bindings::vfio_info_cap_add(self.0, header + body.len(), id, version)
        })?;
        // SAFETY: `cap` points to `header + body.len()` bytes just allocated by the core.
        unsafe {
            core::ptr::copy_nonoverlapping(body.as_ptr(), cap.cast::<u8>().add(header), body.len())
        };
        Ok(())
    }
}

/// A VFIO device: the C `struct vfio_device` followed by the driver's data `T`.
///
/// `Ctx` is [`Normal`] for references held by the driver, and [`Bound`] inside [`Operations`]
/// callbacks, where the device is registered and its parent is bound to the driver. A
/// `Device<T, Bound>` dereferences to `Device<T>`, which dereferences to `T`; the parent is
/// `T::ParentDevice` in the same context ([`Device::parent`], `AsRef`).
///
/// # Invariants
///
/// - `vdev` was allocated by `_vfio_alloc_device()` with this type's size and the operations of
///   [`VTable<T>`]; its reference count owns the allocation.
/// - `data` is initialised whenever `data_init` is true, which is the case for every device
///   handed out to drivers.
/// - `open` is null or a pointer from `T::Open::into_foreign()`: the data of the open device,
///   set when `T::open_device` succeeds and taken back for `T::close_device`.
#[repr(C)]
pub struct Device<T: Operations, Ctx: device::DeviceContext = Normal> {
    vdev: Opaque<bindings::vfio_device>,
    data_init: bool,
    open: AtomicPtr<c_void>,
    data: T,
    _ctx: PhantomData<Ctx>,
}

impl<T: Operations, Ctx: device::DeviceContext> Device<T, Ctx> {
    fn as_raw(&self) -> *mut bindings::vfio_device {
        self.vdev.get()
    }

    /// Returns the device in another context.
    ///
    /// # Safety
    ///
    /// The guarantees of `NewCtx` hold for as long as the returned reference lives.
    unsafe fn assume_ctx<NewCtx: device::DeviceContext>(&self) -> &Device<T, NewCtx> {
        // CAST: `Ctx` is a zero-sized marker: both types have the same layout.
        let ptr = core::ptr::from_ref(self).cast::<Device<T, NewCtx>>();
        // SAFETY: `ptr` comes from `self`; the caller vouches for the context.
        unsafe { &*ptr }
    }

    /// Returns the user mappings of the device file.
    pub fn mappings(&self) -> Mappings<'_> {
        Mappings(&self.vdev)
    }
}

/// The user mappings of a VFIO device's file, for code that does not need the driver's type.
#[derive(Clone, Copy)]
pub struct Mappings<'a>(&'a Opaque<bindings::vfio_device>);

impl Mappings<'_> {
    /// Removes every user mapping of the device file between file offsets `start` and
    /// `start + len` (`unmap_mapping_range()` on the device inode); later accesses fault again.
    pub fn zap(&self, start: u64, len: u64) {
        let start = i64::try_from(start).unwrap_or(i64::MAX);
        let len = i64::try_from(len).unwrap_or(i64::MAX);
        // SAFETY: `self.0` is a live `struct vfio_device` (it is borrowed from a device or a
        // set member), whose inode the core set up at allocation and keeps until release.
        unsafe {
            let inode = (*self.0.get()).inode;
            bindings::unmap_mapping_range((*inode).i_mapping, start, len, 1);
        }
    }
}

impl<T: Operations> AsRef<T::ParentDevice<Normal>> for Device<T> {
    fn as_ref(&self) -> &T::ParentDevice<Normal> {
        // SAFETY: `vdev.dev` is the parent set at allocation; `Registration::new_physical` took
        // a reference to it that `VTable::release` drops, so it lives as long as `self`.
        let dev = unsafe { device::Device::from_raw((*self.as_raw()).dev) };
        // SAFETY: `Registration::new_physical`, the only constructor, takes a
        // `T::ParentDevice` as the parent, so `dev` is contained in one.
        unsafe { device::AsBusDevice::from_device(dev) }
    }
}

impl<T: Operations> Device<T, Bound> {
    /// Returns the parent bus device, which is bound to the driver while a callback runs.
    pub fn parent(&self) -> &T::ParentDevice<Bound> {
        let dev: &device::Device = (**self).as_ref().as_ref();
        // SAFETY: `Device<T, Bound>` only exists inside callbacks of a registered device, and a
        // `Registration` is dropped (unregistering the device) before the parent is unbound.
        let dev = unsafe { dev.as_bound() };
        // SAFETY: As in `AsRef::as_ref` above, `dev` is contained in a `T::ParentDevice`.
        unsafe { device::AsBusDevice::from_device(dev) }
    }

    /// Borrows the device of a callback.
    ///
    /// # Safety
    ///
    /// `ptr` is the `vfio_device` of a registered `Device<T>` and stays valid for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::vfio_device) -> &'a Self {
        // SAFETY: `vdev` is at offset 0 (`#[repr(C)]`), so the cast is valid per the caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Borrows the data of the open device, for a callback of one of its files or mappings.
    ///
    /// The VFIO core lets such a callback run only once `open_device` succeeded (its file
    /// operations check `access_granted`, which is set after it), and calls `close_device` only
    /// when the last file is released, after the last mapping (which holds a file) is gone. So
    /// the data is there; `None` (the callback then fails) would mean the core broke that.
    fn open_data(&self) -> Option<OpenRef<'_, T>> {
        let ptr = self.open.load(Ordering::Acquire);
        // SAFETY: By the type invariant a non-null `open` came from `into_foreign()`; as said
        // above, `close_device`, which calls `from_foreign()`, cannot run while `self` is
        // borrowed by one of these callbacks.
        (!ptr.is_null()).then(|| unsafe { T::Open::borrow(ptr) })
    }
}

impl<T: Operations> Device<T, Bound> {
    /// Sets `vma` up to be filled page by page, uncached, by [`Operations::fault`] (`VM_IO`,
    /// `VM_PFNMAP`, `VM_DONTEXPAND`, `VM_DONTDUMP`), as vfio-pci maps BARs.
    ///
    /// The vma keeps the device file, so the device stays open and bound while it exists.
    ///
    /// Private (copy-on-write) mappings are refused with `EINVAL`: the MM core cannot insert
    /// PFNs into them.
    ///
    /// # Safety
    ///
    /// `vma` maps this device's file (the fault handler and [`Mappings::zap`] rely on
    /// it), and the caller does not set `VM_MIXEDMAP` on `vma` afterwards.
    pub unsafe fn map_on_fault(&self, vma: &VmaNew) -> Result {
        if !vma.shared() {
            return Err(EINVAL);
        }
        // SAFETY: The caller promises to leave `VM_MIXEDMAP` clear.
        unsafe { vma.set_pfnmap_noncached() }?;
        let raw = vma.as_ptr();
        // SAFETY: The vma is undergoing its initial setup and is not shared yet. The private data
        // is this device, which outlives the vma (the vma holds the device file); the operations
        // table is static.
        unsafe {
            (*raw).vm_private_data = self.as_raw().cast();
            (*raw).vm_ops = &VTable::<T>::VM_OPS;
        }
        Ok(())
    }
}

impl<T: Operations> Deref for Device<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T: Operations> Deref for Device<T, Bound> {
    type Target = Device<T>;

    fn deref(&self) -> &Device<T> {
        // SAFETY: Every guarantee of `Normal` holds in `Bound`.
        unsafe { self.assume_ctx() }
    }
}

impl<T: Operations> From<&Device<T, Bound>> for ARef<Device<T>> {
    fn from(dev: &Device<T, Bound>) -> Self {
        (&**dev).into()
    }
}

// SAFETY: The C `struct vfio_device` is reference counted through its embedded `struct device`.
unsafe impl<T: Operations> AlwaysRefCounted for Device<T> {
    fn inc_ref(&self) {
        // SAFETY: `self` is a live reference, so the count is non-zero.
        unsafe { bindings::get_device(&raw mut (*self.as_raw()).device) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference; the last put calls `VTable::release` and frees.
        unsafe { bindings::put_device(&raw mut (*obj.as_ref().as_raw()).device) };
    }
}

// SAFETY: `T: Send`, and the C part is reference counted and may be released on any thread.
unsafe impl<T: Operations, Ctx: device::DeviceContext> Send for Device<T, Ctx> {}
// SAFETY: `T: Sync`; the C part is only changed by the VFIO core under its own locks.
unsafe impl<T: Operations, Ctx: device::DeviceContext> Sync for Device<T, Ctx> {}

/// A VFIO device registered with the VFIO core, visible to user space as a group member and
/// as `/dev/vfio/devices/vfioN`.
///
/// [`Registration::unregister`] (or dropping the registration) unregisters the device, which
/// waits until user space has closed it, asking it to through [`Operations::request`]. A bus
/// driver calls it from its unbind callback, so that user space is gone before the bus core
/// tears the binding down, as the C VFIO drivers do in `remove`.
///
/// # Invariants
///
/// `dev` is registered while `registered` is true.
pub struct Registration<'a, T: Operations> {
    dev: ARef<Device<T>>,
    registered: AtomicBool,
    _parent: PhantomData<&'a device::Device<Bound>>,
}

impl<'a, T: Operations> Registration<'a, T> {
    /// Allocates a VFIO device for `parent` holding the data `init` makes, and registers it for
    /// a physical device in an IOMMU group (`vfio_register_group_dev()`), in the device set
    /// `set` (see [`devset`]), or in a set of its own for `None`.
    ///
    /// # Safety
    ///
    /// The registration must not be leaked: it is unregistered (explicitly or by `Drop`) before
    /// `parent` is unbound, since callbacks rely on the parent being bound.
    pub unsafe fn new_physical(
        parent: &'a T::ParentDevice<Bound>,
        init: impl PinInit<T, Error>,
        set: Option<devset::SetId>,
    ) -> Result<Self> {
        build_assert!(
            align_of::<Device<T>>() <= bindings::ARCH_KMALLOC_MINALIGN,
            "the VFIO core's allocation is only kmalloc-aligned"
        );
        const { assert!(offset_of!(Device<T>, vdev) == 0) };
        // `close_device` receives what `open_device` made.
        const { assert!(T::HAS_OPEN_DEVICE || !T::HAS_CLOSE_DEVICE) };

        let parent: &device::Device<Bound> = parent.as_ref();
        // SAFETY: `parent` is a valid device; the size covers `Device<T>` whose first member is
        // the `struct vfio_device`; the operations table is static.
        let raw = from_err_ptr(unsafe {
            bindings::_vfio_alloc_device(
                size_of::<Device<T>>(),
                parent.as_raw(),
                &VTable::<T>::VTABLE,
            )
        })?;
        // The VFIO device keeps its parent alive; `VTable::release` drops this reference.
        // SAFETY: `parent` is a valid device.
        unsafe { bindings::get_device(parent.as_raw()) };
        let this = raw.cast::<Device<T>>();
        // SAFETY: `this` is the zeroed allocation just returned; it owns the initial reference,
        // which `dev` takes over (its drop releases the device even if `init` fails, and the
        // release callback only drops `data` once `data_init` is set).
        let dev = unsafe { ARef::from_raw(NonNull::new_unchecked(this)) };
        // INVARIANT: Not open.
        // SAFETY: The field is inside the allocation, not yet shared.
        unsafe { (&raw mut (*this).open).write(AtomicPtr::new(core::ptr::null_mut())) };
        // SAFETY: `data` is uninitialised memory inside the allocation, not yet shared.
        unsafe { pin_init::raw_try_init(&raw mut (*this).data, init)? };
        // INVARIANT: `data` is now initialised.
        // SAFETY: The device is not shared yet.
        unsafe { (*this).data_init = true };

        if let Some(set) = set {
            // SAFETY: `dev` is not registered yet; `SetId` keys are the driver's own. On failure
            // the release of `dev` leaves the set.
            to_result(unsafe { bindings::vfio_assign_device_set(dev.as_raw(), set.as_ptr()) })?;
        }
        // SAFETY: `dev` is a fully initialised, not yet registered VFIO device.
        to_result(unsafe { bindings::vfio_register_group_dev(dev.as_raw()) })?;
        // INVARIANT: registered just above.
        Ok(Self {
            dev,
            registered: AtomicBool::new(true),
            _parent: PhantomData,
        })
    }

    /// Returns the registered device.
    pub fn device(&self) -> &ARef<Device<T>> {
        &self.dev
    }

    /// Returns the device in the [`Bound`] context, as its callbacks see it, while it is
    /// registered. `locked` proves the parent's device lock is held, under which the bus
    /// driver's unbind (and so [`Registration::unregister`]) cannot run.
    pub fn bound<'b>(
        &'b self,
        locked: &'b device::Device<device::Core<'_>>,
    ) -> Option<&'b Device<T, Bound>> {
        let _ = locked;
        // SAFETY: While registered (and the registration cannot end while the device lock is
        // held), the device is what callbacks see.
        self.registered
            .load(Ordering::Acquire)
            .then(|| unsafe { self.dev.assume_ctx() })
    }

    /// Unregisters the device, waiting until user space has closed it. Idempotent.
    pub fn unregister(&self) {
        if self.registered.swap(false, Ordering::AcqRel) {
            // SAFETY: By the type invariant the device was registered, and the swap makes this
            // the only unregistration.
            unsafe { bindings::vfio_unregister_group_dev(self.dev.as_raw()) };
        }
    }
}

impl<T: Operations> Drop for Registration<'_, T> {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// The VFIO core's iommufd operations for physical devices; unset without `CONFIG_IOMMUFD`.
mod iommufd {
    use crate::bindings::{
        iommufd_ctx,
        vfio_device, //
    };
    use crate::prelude::*;

    type Bind = Option<unsafe extern "C" fn(*mut vfio_device, *mut iommufd_ctx, *mut u32) -> c_int>;
    type Unbind = Option<unsafe extern "C" fn(*mut vfio_device)>;
    type Attach = Option<unsafe extern "C" fn(*mut vfio_device, *mut u32) -> c_int>;
    type PasidAttach = Option<unsafe extern "C" fn(*mut vfio_device, u32, *mut u32) -> c_int>;
    type PasidDetach = Option<unsafe extern "C" fn(*mut vfio_device, u32)>;

    #[cfg(CONFIG_IOMMUFD)]
    use crate::bindings::{
        vfio_iommufd_physical_attach_ioas,
        vfio_iommufd_physical_bind,
        vfio_iommufd_physical_detach_ioas,
        vfio_iommufd_physical_pasid_attach_ioas,
        vfio_iommufd_physical_pasid_detach_ioas,
        vfio_iommufd_physical_unbind, //
    };

    #[cfg(CONFIG_IOMMUFD)]
    pub(super) const BIND: Bind = Some(vfio_iommufd_physical_bind);
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) const UNBIND: Unbind = Some(vfio_iommufd_physical_unbind);
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) const ATTACH_IOAS: Attach = Some(vfio_iommufd_physical_attach_ioas);
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) const DETACH_IOAS: Unbind = Some(vfio_iommufd_physical_detach_ioas);
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) const PASID_ATTACH_IOAS: PasidAttach = Some(vfio_iommufd_physical_pasid_attach_ioas);
    #[cfg(CONFIG_IOMMUFD)]
    pub(super) const PASID_DETACH_IOAS: PasidDetach = Some(vfio_iommufd_physical_pasid_detach_ioas);

    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) const BIND: Bind = None;
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) const UNBIND: Unbind = None;
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) const ATTACH_IOAS: Attach = None;
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) const DETACH_IOAS: Unbind = None;
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) const PASID_ATTACH_IOAS: PasidAttach = None;
    #[cfg(not(CONFIG_IOMMUFD))]
    pub(super) const PASID_DETACH_IOAS: PasidDetach = None;
}

/// The C operations table for `T`.
struct VTable<T: Operations>(PhantomData<T>);

impl<T: Operations> VTable<T> {
    const VTABLE: bindings::vfio_device_ops = bindings::vfio_device_ops {
        name: crate::str::as_char_ptr_in_const_context(T::NAME).cast_mut(),
        init: None,
        release: Some(Self::release),
        bind_iommufd: iommufd::BIND,
        unbind_iommufd: iommufd::UNBIND,
        attach_ioas: iommufd::ATTACH_IOAS,
        detach_ioas: iommufd::DETACH_IOAS,
        pasid_attach_ioas: iommufd::PASID_ATTACH_IOAS,
        pasid_detach_ioas: iommufd::PASID_DETACH_IOAS,
        open_device: if T::HAS_OPEN_DEVICE {
            Some(Self::open_device)
        } else {
            None
        },
        // Also without the driver's `close_device`: the open data must be dropped.
        close_device: if T::HAS_OPEN_DEVICE {
            Some(Self::close_device)
        } else {
            None
        },
        read: if T::HAS_READ { Some(Self::read) } else { None },
        write: if T::HAS_WRITE {
            Some(Self::write)
        } else {
            None
        },
        ioctl: if T::HAS_IOCTL {
            Some(Self::ioctl)
        } else {
            None
        },
        get_region_info_caps: if T::HAS_REGION_INFO {
            Some(Self::region_info)
        } else {
            None
        },
        mmap: if T::HAS_MMAP { Some(Self::mmap) } else { None },
        request: if T::HAS_REQUEST {
            Some(Self::request)
        } else {
            None
        },
        match_: if T::HAS_MATCH_TOKEN {
            Some(Self::match_)
        } else {
            None
        },
        match_token_uuid: if T::HAS_MATCH_TOKEN {
            Some(Self::match_token_uuid)
        } else {
            None
        },
        dma_unmap: None,
        device_feature: if T::HAS_DEVICE_FEATURE {
            Some(Self::device_feature)
        } else {
            None
        },
    };

    const VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        fault: Some(Self::fault),
        // SAFETY: All-zeroes is a valid `vm_operations_struct` (every operation unset).
        ..unsafe { core::mem::MaybeUninit::zeroed().assume_init() }
    };

    /// # Safety
    ///
    /// Called by the MM core for a fault in a vma set up by [`Device::map_on_fault`].
    unsafe extern "C" fn fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // SAFETY: `vmf` is valid during the call; its vma's private data is the `Device<T>` set by
        // `map_on_fault`, kept open (hence registered and bound) by the vma's file.
        let dev = unsafe {
            let vma = (*vmf).__bindgen_anon_1.vma;
            Device::<T, Bound>::from_raw((*vma).vm_private_data.cast())
        };
        let fault = Fault {
            vmf,
            _p: PhantomData,
        };
        let Some(open) = dev.open_data() else {
            return VmFault::SIGBUS.0;
        };
        T::fault(dev, open, &fault).0
    }

    /// # Safety
    ///
    /// Called by the VFIO core once, when the last reference to a `Device<T>` is dropped.
    unsafe extern "C" fn release(vdev: *mut bindings::vfio_device) {
        let this = vdev.cast::<Device<T>>();
        // SAFETY: The device is going away and nobody else can access it; a non-null `open`
        // came from `into_foreign()` (type invariant), `data` is only dropped if it was
        // initialised. The core frees the memory after this returns.
        unsafe {
            // Only if the core released an open device, which it does not do.
            let open = (*this).open.swap(core::ptr::null_mut(), Ordering::AcqRel);
            if !open.is_null() {
                drop(T::Open::from_foreign(open));
            }
            if (*this).data_init {
                core::ptr::drop_in_place(&raw mut (*this).data);
            }
        }
        // SAFETY: `Registration::new_physical` took this reference on the parent right after
        // allocating, before any path that can release the device.
        unsafe { bindings::put_device((*vdev).dev) };
    }

    /// # Safety
    ///
    /// `vdev` is a registered `Device<T>` (true of every callback below).
    unsafe extern "C" fn open_device(vdev: *mut bindings::vfio_device) -> c_int {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        match T::open_device(dev) {
            Ok(open) => {
                // INVARIANT: The data of the open device, until `close_device`. No file of the
                // device gives access before this returns, so nothing borrows it yet; the core
                // opens a device only when it is not open.
                let old = dev.open.swap(open.into_foreign(), Ordering::AcqRel);
                debug_assert!(old.is_null());
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`].
    unsafe extern "C" fn close_device(vdev: *mut bindings::vfio_device) {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        // INVARIANT: Not open any more.
        let open = dev.open.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if open.is_null() {
            return;
        }
        // SAFETY: `open` came from `into_foreign()` in `open_device`, which the core pairs with
        // this call; the last file is being released, so no callback borrows it any more.
        let open = unsafe { T::Open::from_foreign(open) };
        if T::HAS_CLOSE_DEVICE {
            T::close_device(dev, open);
        }
    }

    /// Converts a file position into a region offset and the user buffer into a slice.
    fn user_access(
        buf: usize,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> Result<(UserSlice, u64)> {
        // SAFETY: The VFIO core passes a valid position pointer.
        let pos = unsafe { *ppos };
        let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
        Ok((UserSlice::new(UserPtr::from_addr(buf), count), pos))
    }

    /// Advances the file position after a transfer of `done` bytes.
    fn advance(ppos: *mut bindings::loff_t, done: usize) -> isize {
        // CAST: `done` is at most `count`, which the VFS limits to `MAX_RW_COUNT`.
        let done = done as isize;
        // SAFETY: The VFIO core passes a valid position pointer.
        unsafe { *ppos += done as bindings::loff_t };
        done
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`]; `ppos` is valid.
    unsafe extern "C" fn read(
        vdev: *mut bindings::vfio_device,
        buf: *mut c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        let result = dev.open_data().ok_or(EINVAL).and_then(|open| {
            let (slice, pos) = Self::user_access(buf as usize, count, ppos)?;
            T::read(dev, open, &mut slice.writer(), pos)
        });
        match result {
            Ok(done) => Self::advance(ppos, done),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`]; `ppos` is valid.
    unsafe extern "C" fn write(
        vdev: *mut bindings::vfio_device,
        buf: *const c_char,
        count: usize,
        ppos: *mut bindings::loff_t,
    ) -> isize {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        let result = dev.open_data().ok_or(EINVAL).and_then(|open| {
            let (slice, pos) = Self::user_access(buf as usize, count, ppos)?;
            T::write(dev, open, &mut slice.reader(), pos)
        });
        match result {
            Ok(done) => Self::advance(ppos, done),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`].
    unsafe extern "C" fn ioctl(
        vdev: *mut bindings::vfio_device,
        cmd: c_uint,
        arg: c_ulong,
    ) -> c_long {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        let result = dev.open_data().ok_or(EINVAL);
        match result.and_then(|open| T::ioctl(dev, open, cmd, arg)) {
            Ok(ret) => ret as c_long,
            // CAST: errno values are small negative numbers.
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`]; `info` and `caps` are valid.
    unsafe extern "C" fn region_info(
        vdev: *mut bindings::vfio_device,
        info: *mut bindings::vfio_region_info,
        caps: *mut bindings::vfio_info_cap,
    ) -> c_int {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        // SAFETY: The core passes its own, valid `info` and `caps`, not shared during the call.
        let (info, caps) = unsafe { (&mut *info, &mut *caps) };
        let result = dev.open_data().ok_or(EINVAL);
        match result.and_then(|open| T::region_info(dev, open, info.index, &mut InfoCaps(caps))) {
            Ok(r) => {
                info.offset = r.offset;
                info.size = r.size;
                info.flags = r.flags;
                0
            }
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`]; `vma` is a new mapping of the device file.
    unsafe extern "C" fn mmap(
        vdev: *mut bindings::vfio_device,
        vma: *mut bindings::vm_area_struct,
    ) -> c_int {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        // SAFETY: The core calls this from the file's `mmap` handler: the vma is undergoing its
        // initial setup for the duration of the call.
        let vma = unsafe { VmaNew::from_raw(vma) };
        let result = dev.open_data().ok_or(EINVAL);
        match result.and_then(|open| T::mmap(dev, open, vma)) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// As for [`Self::open_device`].
    unsafe extern "C" fn request(vdev: *mut bindings::vfio_device, count: c_uint) {
        // SAFETY: Per the function's safety requirement.
        T::request(unsafe { Device::<T, Bound>::from_raw(vdev) }, count);
    }

    /// The group path's device lookup (`VFIO_GROUP_GET_DEVICE_FD`): `buf` must be the parent's
    /// name, optionally followed by spaces and one `vf_token=UUID` option (as
    /// `vfio_pci_core_match()` parses it). Returns 1 for a match, 0 for none, or an errno.
    ///
    /// # Safety
    ///
    /// Called by the VFIO core for a registered device (under the group's device lock), with a
    /// NUL-terminated `buf`.
    unsafe extern "C" fn match_(vdev: *mut bindings::vfio_device, buf: *mut c_char) -> c_int {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        // SAFETY: `buf` is NUL-terminated and outlives the call.
        let buf = unsafe { CStr::from_char_ptr(buf) }.to_bytes();
        let name = dev.parent().as_ref().name().to_bytes();
        let Some(mut rest) = buf.strip_prefix(name) else {
            return 0;
        };
        if !rest.is_empty() && rest[0] != b' ' {
            return 0;
        }
        const OPT: &[u8] = b"vf_token=";
        const UUID_LEN: usize = 36;
        let mut token = None;
        loop {
            while let [b' ', tail @ ..] = rest {
                rest = tail;
            }
            if rest.is_empty() {
                break;
            }
            match rest.strip_prefix(OPT) {
                Some(tail) if token.is_none() => {
                    if tail.len() < UUID_LEN {
                        return EINVAL.to_errno();
                    }
                    let mut text = [0u8; UUID_LEN + 1];
                    text[..UUID_LEN].copy_from_slice(&tail[..UUID_LEN]);
                    let mut uuid = bindings::uuid_t::default();
                    // SAFETY: `text` is a NUL-terminated string, `uuid` a valid output.
                    let ret = unsafe { bindings::uuid_parse(text.as_ptr().cast(), &mut uuid) };
                    if ret != 0 {
                        return ret;
                    }
                    token = Some(uuid.b);
                    rest = &tail[UUID_LEN..];
                }
                // Unknown or repeated option.
                _ => return EINVAL.to_errno(),
            }
        }
        match T::match_token(dev, token.as_ref()) {
            Ok(()) => 1,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the VFIO core for a registered device, with `uuid` NULL or valid.
    unsafe extern "C" fn match_token_uuid(
        vdev: *mut bindings::vfio_device,
        uuid: *const bindings::uuid_t,
    ) -> c_int {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        // SAFETY: `uuid` is NULL or valid for the call.
        let token = unsafe { uuid.as_ref() }.map(|u| &u.b);
        match T::match_token(dev, token) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the VFIO core's `VFIO_DEVICE_FEATURE` handler for an open device; `arg` is a
    /// user pointer.
    unsafe extern "C" fn device_feature(
        vdev: *mut bindings::vfio_device,
        flags: u32,
        arg: *mut c_void,
        argsz: usize,
    ) -> c_int {
        // SAFETY: Per the function's safety requirement.
        let dev = unsafe { Device::<T, Bound>::from_raw(vdev) };
        let result = dev.open_data().ok_or(EINVAL);
        match result.and_then(|open| T::device_feature(dev, open, flags, arg as usize, argsz)) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }
}

/// Reads the first `N` fields (`u32`s, in native byte order) of a UAPI structure at `arg`; like
/// the C drivers, faults unless all of them are readable.
pub fn read_words<const N: usize>(arg: usize) -> Result<[u32; N]> {
    let mut reader = UserSlice::new(UserPtr::from_addr(arg), N * size_of::<u32>()).reader();
    let mut words = [0u32; N];
    for w in &mut words {
        *w = reader.read()?;
    }
    Ok(words)
}

/// Writes the first `len` bytes of `words` (native-endian `u32`s) to the structure at `arg`.
pub fn write_words(arg: usize, words: &[u32], len: usize) -> Result {
    let mut writer = UserSlice::new(UserPtr::from_addr(arg), len).writer();
    let mut left = len;
    for w in words {
        let bytes = w.to_ne_bytes();
        let n = left.min(bytes.len());
        writer.write_slice(&bytes[..n])?;
        left -= n;
    }
    Ok(())
}

/// Answers `VFIO_DEVICE_GET_INFO` the way the VFIO bus drivers do: `argsz` must cover the
/// fields up to `num_irqs`; as much of the structure as `argsz` allows is copied back.
pub fn device_info(arg: usize, flags: u32, num_regions: u32, num_irqs: u32) -> Result<isize> {
    // argsz, flags, num_regions, num_irqs.
    let [argsz, ..] = read_words::<4>(arg)?;
    let minsz = offset_of!(bindings::vfio_device_info, cap_offset);
    if (argsz as usize) < minsz {
        return Err(EINVAL);
    }
    let len = size_of::<bindings::vfio_device_info>().min(argsz as usize);
    // cap_offset and pad are zero: no capabilities.
    write_words(arg, &[argsz, flags, num_regions, num_irqs, 0, 0], len)?;
    Ok(0)
}

/// Answers `VFIO_DEVICE_GET_IRQ_INFO` the way the VFIO bus drivers do: reads the fields up to
/// `count`, fails with `EINVAL` when `argsz` does not cover them or `index >= num_irqs`, and
/// writes them back with the `(flags, count)` that `info` returns for the index.
pub fn irq_info(
    arg: usize,
    num_irqs: u32,
    info: impl FnOnce(u32) -> Result<(u32, u32)>,
) -> Result<isize> {
    // argsz, flags, index, count.
    let [argsz, _, index, _] = read_words::<4>(arg)?;
    let minsz = offset_of!(bindings::vfio_irq_info, count) + size_of::<u32>();
    if (argsz as usize) < minsz || index >= num_irqs {
        return Err(EINVAL);
    }
    let (flags, count) = info(index)?;
    write_words(arg, &[argsz, flags, index, count], minsz)?;
    Ok(0)
}
