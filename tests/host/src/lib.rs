// SPDX-License-Identifier: GPL-2.0

//! Host build of rvfio-pci's kernel-independent logic.
//!
//! The modules are the driver's own source files, included by path, so the code tested here is
//! the code the module runs.

// The driver uses every item; this crate only uses them from tests.
#![cfg_attr(not(test), allow(dead_code))]

/// The driver's `engine/` directory (`drivers/vfio/pci/rvfio/engine.rs` lists the same files).
#[path = "../../../drivers/vfio/pci/rvfio/engine"]
mod engine {
    pub(crate) mod access;
    pub(crate) mod args;
    pub(crate) mod caps;
    pub(crate) mod config;
    pub(crate) mod msix;
    // Only the kernel side uses the register values.
    #[allow(dead_code, unused_imports)]
    pub(crate) mod regs;
}
#[cfg_attr(not(test), allow(unused_imports))]
use engine::{
    access,
    args,
    caps,
    config,
    msix, //
};

#[cfg(test)]
mod access_props;
#[cfg(test)]
mod access_tests;
#[cfg(test)]
mod args_diff;
#[cfg(test)]
mod args_model;
#[cfg(test)]
mod args_props;
#[cfg(test)]
mod captable;
#[cfg(test)]
mod config_props;
#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod fakedev;
