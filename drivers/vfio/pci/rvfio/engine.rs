// SPDX-License-Identifier: GPL-2.0

//! The kernel-independent core of rvfio-pci: written against `core` only, so that the module,
//! the host tests (`tests/host`) and the fuzz targets (`tests/fuzz`) compile the same files.
//!
//! - [`regs`]: the PCI register offsets and bits and the resource flags the kernel side uses,
//!   from the values [`caps`] defines;
//! - [`caps`]: the permission tables, capability IDs and lengths of the configuration engine;
//! - [`config`]: the configuration engine itself (capability map, shadow, reads and writes and
//!   their effects), over a [`config::Hardware`] the kernel side provides;
//! - [`access`]: region addressing in the device file and the splitting of accesses;
//! - [`msix`]: where the MSI-X table lies;
//! - [`args`]: the ioctl arguments, decoded and checked with vfio-pci's errnos.
//!
//! Nothing here takes a lock, allocates or touches the device: the kernel side does, with what
//! these return.

pub(crate) mod access;
pub(crate) mod args;
pub(crate) mod caps;
pub(crate) mod config;
pub(crate) mod msix;
pub(crate) mod regs;
