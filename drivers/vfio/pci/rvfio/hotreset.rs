// SPDX-License-Identifier: GPL-2.0

//! Hot reset: a slot or bus reset of every function it affects, which must all be rvfio-pci
//! devices of one device set owned by the caller (`VFIO_DEVICE_GET_PCI_HOT_RESET_INFO`,
//! `VFIO_DEVICE_PCI_HOT_RESET`), and the reset of an unused set at close.
//!
//! Device sets are keyed by the slot or bus whose reset covers the function (see [`set_id`]),
//! so the functions one reset affects are all in one set, as vfio-pci arranges its own; SR-IOV
//! VFs and functions on a root bus are sets of their own.
//!
//! Lock rule: nothing is read from user space under the set's lock.

use crate::device::RvfioDevice;
use crate::engine::args;
use crate::memory;
use crate::power::D3HOT;
use core::sync::atomic::Ordering;
use kernel::{
    device::Bound,
    pci::{
        self,
        HotReset, //
    },
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
    vfio::{
        self,
        devset::{
            DevSet,
            GroupFile,
            Iommufd,
            IommufdOwner,
            SetId, //
        },
        uapi, //
    },
};

type Dev = vfio::Device<RvfioDevice, Bound>;

/// The device-set key of `pdev`, `None` (a set of its own) when no slot or bus reset covers it.
///
/// As in vfio-pci (`vfio_pci_core_register_device()`), an SR-IOV VF and a function on a root
/// bus are sets of their own, whatever resets exist: VFs given to different users never share
/// a lock, a hot reset asked through a VF is refused (the reset would reach functions outside
/// its set), and no unused-set reset at a VF's close reaches its PF.
pub(crate) fn set_id(pdev: &pci::Device) -> Option<SetId> {
    if pdev.is_virtfn() || pdev.on_root_bus() {
        return None;
    }
    let reset = pdev.hot_reset()?;
    let domain = pdev.hot_reset_domain(reset);
    if domain == 0 {
        return None;
    }
    // SAFETY: Every other device-set key in the kernel is the address of an aligned object
    // (vfio_pci_core uses these very slots and buses, the core and other drivers their own
    // objects): one past an aligned address is a key no one else uses.
    Some(unsafe { SetId::new(domain + 1) })
}

/// Counts the functions `reset` affects.
fn count(pdev: &pci::Device<Bound>, reset: HotReset) -> Result<usize> {
    let mut n = 0;
    pdev.for_each_hot_reset_function(reset, |_| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// `VFIO_DEVICE_GET_PCI_HOT_RESET_INFO` (`vfio_pci_ioctl_get_pci_hot_reset_info()`): the
/// functions a hot reset would affect, by IOMMU group for group users and by iommufd device id
/// (or ownership) for character device users.
pub(crate) fn info(dev: &Dev, arg: usize) -> Result<isize> {
    let pdev = dev.parent();
    let [argsz, ..] = vfio::read_words::<3>(arg)?;
    let room = args::hot_reset_info_room(argsz)?;
    let reset = pdev.hot_reset().ok_or(ENODEV)?;
    let n = count(pdev, reset)?;
    if let Err(e) = args::hot_reset_info_fits(room, n) {
        if e == args::Errno::NoSpc {
            // CAST: `n` <= the functions on a bus.
            vfio::write_words(arg, &[argsz, 0, n as u32], args::HOT_RESET_HEADER)?;
        }
        return Err(e.into());
    }

    let mut out = KVec::with_capacity(n * args::HOT_RESET_DEPENDENT, GFP_KERNEL)?;
    let mut flags = 0;
    {
        let set = dev.lock_dev_set();
        let cdev = set.cdev_opened(dev);
        if cdev {
            flags =
                uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID | uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
        }
        let ictx = set.iommufd(dev);
        pdev.for_each_hot_reset_function(reset, |f| {
            // The topology changed since the count.
            if out.len() >= n * args::HOT_RESET_DEPENDENT {
                return Err(EAGAIN);
            }
            let id = if cdev {
                match owner(&set, f, ictx.as_ref()) {
                    IommufdOwner::Bound(id) => id,
                    IommufdOwner::GroupOwned => uapi::VFIO_PCI_DEVID_OWNED,
                    IommufdOwner::NotOwned => {
                        flags &= !uapi::VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
                        uapi::VFIO_PCI_DEVID_NOT_OWNED
                    }
                }
            } else {
                // Functions without a group are not isolated: they cannot be reset by a user.
                f.iommu_group_id().ok_or(EPERM)?
            };
            let dependent = args::hot_reset_dependent(
                id,
                // CAST: the UAPI has 16 bits for the segment, as vfio-pci.
                f.domain_nr() as u16,
                f.bus_number(),
                f.devfn(),
            );
            out.extend_from_slice(&dependent, GFP_KERNEL)?;
            Ok(())
        })?;
    }
    // `read_words` checked that `arg` is a user address; the entries follow the header.
    UserSlice::new(
        UserPtr::from_addr(arg.wrapping_add(args::HOT_RESET_HEADER)),
        out.len(),
    )
    .writer()
    .write_slice(&out)?;
    let filled = out.len() / args::HOT_RESET_DEPENDENT;
    // CAST: `filled <= n`, small.
    vfio::write_words(arg, &[argsz, flags, filled as u32], args::HOT_RESET_HEADER)?;
    Ok(0)
}

/// How the caller's iommufd context owns function `f`.
fn owner(
    set: &DevSet<'_, RvfioDevice>,
    f: &pci::Device,
    ictx: Option<&Iommufd<'_>>,
) -> IommufdOwner {
    match (set.find(f.as_ref()), ictx) {
        (Some(member), Some(ictx)) => set.iommufd_owner(member, ictx),
        _ => IommufdOwner::NotOwned,
    }
}

/// What proves the caller owns the functions to reset.
enum Proof<'a> {
    /// Group files (group users).
    Groups(&'a [GroupFile]),
    /// The iommufd context the caller's device is bound to (character device users).
    Iommufd(Option<&'a Iommufd<'a>>),
}

/// `VFIO_DEVICE_PCI_HOT_RESET` (`vfio_pci_ioctl_pci_hot_reset()`).
///
/// Everything read from user space is read, and every group file taken, before the set's lock:
/// a user copy can fault for as long as user space likes (userfaultfd, a FUSE file), and the
/// lock stalls every open, close and reset of every other device in the set.
pub(crate) fn hot_reset(dev: &Dev, arg: usize) -> Result<isize> {
    let pdev = dev.parent();
    // Group users prove ownership with group files, character device users with none. How the
    // device was opened does not change while its file is open, as it is during this call.
    let cdev = || dev.lock_dev_set().cdev_opened(dev);
    let proof = args::HotResetProof::parse(vfio::read_words::<3>(arg)?, cdev)?;
    let reset = pdev.hot_reset().ok_or(ENODEV)?;
    let n = match proof {
        args::HotResetProof::Iommufd => {
            let set = dev.lock_dev_set();
            let ictx = set.iommufd(dev);
            return reset_set(&set, pdev, Proof::Iommufd(ictx.as_ref()));
        }
        args::HotResetProof::Groups(n) => n,
    };
    // At most one group per affected function: bounds what is read from user space.
    proof.check_count(count(pdev, reset)?)?;
    // `read_words` checked that `arg` is a user address; the array follows the header.
    let fds_at = arg.wrapping_add(args::HOT_RESET_HEADER);
    let mut reader = UserSlice::new(UserPtr::from_addr(fds_at), n * 4).reader();
    let mut fds = KVec::with_capacity(n, GFP_KERNEL)?;
    for _ in 0..n {
        fds.push(reader.read::<i32>()?, GFP_KERNEL)?;
    }
    // The group references keep the groups (and their devices) in place across the reset.
    let mut groups = KVec::with_capacity(n, GFP_KERNEL)?;
    for fd in fds {
        groups.push(GroupFile::fget(fd)?, GFP_KERNEL)?;
    }
    reset_set(&dev.lock_dev_set(), pdev, Proof::Groups(&groups))
}

/// Whether a hot reset from `pdev` affects only members of `set`: then every function it
/// resets is an rvfio-pci device whose user can be checked (`vfio_pci_dev_set_resettable()`).
fn resettable(pdev: &pci::Device<Bound>, set: &DevSet<'_, RvfioDevice>) -> bool {
    let Some(reset) = pdev.hot_reset() else {
        return false;
    };
    pdev.for_each_hot_reset_function(reset, |f| set.find(f.as_ref()).map(|_| ()).ok_or(ENODEV))
        .is_ok()
}

/// Resets the slot or bus of `set` (`vfio_pci_dev_set_hot_reset()`): each member must be
/// owned per `proof`, and is held still meanwhile: its memory lock taken (without waiting:
/// `EBUSY` on contention, since several devices' locks are taken at once), its mappings zapped,
/// its memory gate closed, and, if open, brought to D0 restoring what D3hot lost.
///
/// Unlike vfio-pci, no runtime PM reference is taken on the members: rvfio-pci never lets a
/// function runtime-suspend, and closed members are left in D0. Idle D3 would have to wake
/// them here and in [`reset_unused_set`].
fn reset_set(
    set: &DevSet<'_, RvfioDevice>,
    pdev: &pci::Device<Bound>,
    proof: Proof<'_>,
) -> Result<isize> {
    if !resettable(pdev, set) {
        return Err(EINVAL);
    }
    // Allocated before anything is zapped, so that a failure leaves the members untouched.
    let mut held = KVec::with_capacity(set.members().count(), GFP_KERNEL)?;
    let (start, len) = memory::bar_range();
    for member in set.members() {
        let owned = match &proof {
            Proof::Groups(groups) => groups.iter().any(|g| member.in_group(g)),
            Proof::Iommufd(Some(ictx)) => matches!(
                set.iommufd_owner(member, ictx),
                IommufdOwner::Bound(_) | IommufdOwner::GroupOwned
            ),
            Proof::Iommufd(None) => false,
        };
        if !owned {
            return Err(EINVAL);
        }
        let memory = member.memory.try_lock().ok_or(EBUSY)?;
        member.mappings().zap(start, len);
        held.push((member, memory), GFP_KERNEL)?;
    }
    // A reset brings functions to D0 behind the driver's back; functions that lose their state
    // in D3hot get it back first.
    for (member, memory) in held.iter_mut() {
        member.memory.gate_close();
        if let Some(bound) = set.bound_if_open(member) {
            let _ = bound.power.set_locked(bound.parent(), memory, 0);
        }
    }
    let ret = pdev.reset_bus();
    for (member, memory) in held.iter_mut() {
        memory.low_power = member.parent().current_state() >= D3HOT;
        member.memory.gate_open(memory);
    }
    drop(held);
    ret.map(|()| 0)
}

/// At close: if no function of the set is open any more and one of them was closed without a
/// function reset, resets the slot or bus (`vfio_pci_dev_set_try_reset()`). The device set is
/// the one the VFIO core holds locked around `close_device`.
pub(crate) fn reset_unused_set(pdev: &pci::Device<Bound>, set: &DevSet<'_, RvfioDevice>) {
    // The closing device is still counted.
    if set.open_count() > 1 {
        return;
    }
    if !set.members().any(|m| m.needs_reset.load(Ordering::Relaxed)) {
        return;
    }
    if !resettable(pdev, set) {
        return;
    }
    if pdev.reset_bus().is_ok() {
        dev_dbg!(pdev, "reset the unused device set\n");
        for member in set.members() {
            member.needs_reset.store(false, Ordering::Relaxed);
        }
    }
}
