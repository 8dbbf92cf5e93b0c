// SPDX-License-Identifier: GPL-2.0

//! SR-IOV: virtual functions created by a PF that user space owns, and the VF token that
//! proves a VF's user and the PF's user trust each other (vfio-pci's `vf_token`).
//!
//! A PF bound to rvfio-pci starts with a random token that its user may replace
//! (`VFIO_DEVICE_FEATURE_PCI_VF_TOKEN`), or set by opening the PF with a token while no VF is
//! in use. VFs it creates (`sriov_numvfs`) bind to rvfio-pci only, and opening one requires
//! the PF's current token.

use crate::device::RvfioDevice;
use core::sync::atomic::Ordering;
use kernel::{
    device::{
        Bound,
        Core, //
    },
    new_mutex,
    pci,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
    vfio, //
};

/// The token and how many VFs are open under it.
pub(crate) struct TokenState {
    uuid: [u8; 16],
    users: u32,
}

/// A PF's VF token, shared with the VFs it creates.
#[pin_data]
pub(crate) struct VfToken {
    #[pin]
    state: Mutex<TokenState>,
}

kernel::sync::global_lock! {
    // SAFETY: Initialised in the module initializer, before the driver is registered.
    unsafe(uninit) static SRIOV_PFS: Mutex<KVec<(usize, Arc<VfToken>)>> = KVec::new();
}

/// Initialises the list of PFs with SR-IOV enabled.
///
/// # Safety
///
/// Called once, before the driver is registered.
pub(crate) unsafe fn init() {
    // SAFETY: Per the function's safety requirement.
    unsafe { SRIOV_PFS.init() };
}

/// Owns the list's memory for the module: statics are never dropped, so the list's buffer is
/// freed when the module goes (kmemleak found it leaked at each unload).
pub(crate) struct PfList;

impl Drop for PfList {
    fn drop(&mut self) {
        drop(core::mem::take(&mut *SRIOV_PFS.lock()));
    }
}

/// A function's part in SR-IOV, set up at probe.
#[derive(Default)]
pub(crate) struct Sriov {
    /// A PF's own token.
    pub(crate) vf_token: Option<Arc<VfToken>>,
    /// A VF's PF token, when the PF enabled SR-IOV through rvfio-pci.
    pub(crate) pf_token: Option<Arc<VfToken>>,
    /// A PF's claim on its future VFs' driver.
    _vf_override: Option<Pin<KBox<pci::VfDriverOverride>>>,
}

/// Sets up `pdev`'s part in SR-IOV (`vfio_pci_vf_init()`).
pub(crate) fn probe(pdev: &pci::Device<Bound>) -> Result<Sriov> {
    if pdev.is_virtfn() {
        // A PF on the list created this VF and cannot leave the list before the VF is
        // removed (`sriov_configure` disables SR-IOV first).
        let pf = pdev.physfn_identity();
        let pf_token = SRIOV_PFS
            .lock()
            .iter()
            .find(|(id, _)| *id == pf)
            .map(|(_, token)| token.clone());
        return Ok(Sriov {
            pf_token,
            ..Sriov::default()
        });
    }
    if !pdev.is_physfn() {
        return Ok(Sriov::default());
    }
    let vf_token = Arc::pin_init(
        pin_init!(VfToken {
            state <- new_mutex!(TokenState {
                uuid: vfio::random_token(),
                users: 0,
            }),
        }),
        GFP_KERNEL,
    )?;
    let vf_override = KBox::pin_init(
        pci::VfDriverOverride::new(pdev, <RvfioDevice as vfio::Operations>::NAME),
        GFP_KERNEL,
    )?;
    Ok(Sriov {
        vf_token: Some(vf_token),
        pf_token: None,
        _vf_override: Some(vf_override),
    })
}

/// Removes `pdev` from the list of PFs with SR-IOV enabled.
fn unlist(pdev: &pci::Device) {
    let mut pfs = SRIOV_PFS.lock();
    if let Some(i) = pfs.iter().position(|(id, _)| *id == pdev.identity()) {
        let _ = pfs.remove(i);
    }
}

/// `sriov_numvfs` (`vfio_pci_core_sriov_configure()`): enables `nr` VFs, or disables them for
/// 0. Called with the PF's device lock held.
pub(crate) fn configure(
    dev: &vfio::Device<RvfioDevice, Bound>,
    pdev: &pci::Device<Core<'_>>,
    nr: u32,
) -> Result<u32> {
    // As vfio-pci: off unless the module was loaded with enable_sriov=1.
    if !crate::module_parameters::enable_sriov.value() {
        return Err(ENOENT);
    }
    if nr == 0 {
        disable(dev, pdev);
        return Ok(0);
    }
    let token = dev.sriov.vf_token.clone().ok_or(EINVAL)?;
    {
        let mut pfs = SRIOV_PFS.lock();
        // Only one enabling at a time, and not twice without disabling in between.
        if pfs.iter().any(|(id, _)| *id == pdev.identity()) {
            return Err(EINVAL);
        }
        pfs.push((pdev.identity(), token), GFP_KERNEL)?;
    }
    // VFs need their PF in D0; from now on it stays there.
    {
        let mut memory = dev.memory.lock();
        dev.memory.change(&mut memory, |m| {
            let _ = dev.power.set_locked(pdev, m, 0);
        });
        dev.power.sriov_active.store(true, Ordering::Relaxed);
    }
    if let Err(e) = pdev.enable_sriov(nr) {
        dev.power.sriov_active.store(false, Ordering::Relaxed);
        unlist(pdev);
        return Err(e);
    }
    Ok(nr)
}

/// Disables SR-IOV if it is enabled (also before the PF is unbound).
pub(crate) fn disable(dev: &vfio::Device<RvfioDevice, Bound>, pdev: &pci::Device<Bound>) {
    if pdev.num_vf() != 0 {
        pdev.disable_sriov();
    }
    dev.power.sriov_active.store(false, Ordering::Relaxed);
    unlist(pdev);
}

/// Checks the token user space opens `dev` with (`vfio_pci_core_match_token_uuid()`).
///
/// vfio-pci logs refusals rate-limited; without rate-limited printing in Rust, they are debug
/// messages here, so that user space cannot flood the log.
pub(crate) fn match_token(
    dev: &vfio::Device<RvfioDevice, Bound>,
    token: Option<&[u8; 16]>,
) -> Result {
    let pdev = dev.parent();
    if pdev.is_virtfn() {
        let Some(pf_token) = &dev.sriov.pf_token else {
            if token.is_none() {
                // The PF is not owned through rvfio-pci: no token.
                return Ok(());
            }
            dev_dbg!(
                pdev,
                "VF token incorrectly provided, PF not bound to rvfio-pci\n"
            );
            return Err(EINVAL);
        };
        return require(pdev, &pf_token.state.lock().uuid, token);
    }
    if let Some(vf_token) = &dev.sriov.vf_token {
        let mut state = vf_token.state.lock();
        if state.users != 0 {
            // VFs are in use: the PF's user must show it knows their token.
            require(pdev, &state.uuid, token)?;
        } else if let Some(token) = token {
            state.uuid = *token;
        }
        return Ok(());
    }
    if token.is_some() {
        dev_dbg!(pdev, "VF token incorrectly provided, not a PF or VF\n");
        return Err(EINVAL);
    }
    Ok(())
}

/// Checks that user space gave the token `uuid` (`EACCES` otherwise, with vfio-pci's message).
fn require(pdev: &pci::Device<Bound>, uuid: &[u8; 16], token: Option<&[u8; 16]>) -> Result {
    let Some(token) = token else {
        dev_dbg!(pdev, "VF token required to access device\n");
        return Err(EACCES);
    };
    if uuid != token {
        dev_dbg!(pdev, "Incorrect VF token provided for device\n");
        return Err(EACCES);
    }
    Ok(())
}

/// Counts an open VF as a user of its PF's token (at open), or no longer (at close).
pub(crate) fn vf_user(dev: &RvfioDevice, open: bool) {
    if let Some(pf_token) = &dev.sriov.pf_token {
        let mut state = pf_token.state.lock();
        if open {
            state.users += 1;
        } else {
            state.users = state.users.saturating_sub(1);
        }
    }
}

/// `VFIO_DEVICE_FEATURE_PCI_VF_TOKEN` (SET, checked by
/// [`crate::engine::args::Feature::parse`]): the UUID at `arg` becomes the PF's VF token.
pub(crate) fn set_vf_token(dev: &vfio::Device<RvfioDevice, Bound>, arg: usize) -> Result {
    let Some(vf_token) = &dev.sriov.vf_token else {
        return Err(ENOTTY);
    };
    let mut uuid = [0u8; 16];
    UserSlice::new(UserPtr::from_addr(arg), 16)
        .reader()
        .read_slice(&mut uuid)?;
    vf_token.state.lock().uuid = uuid;
    Ok(())
}
