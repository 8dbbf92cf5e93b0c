// SPDX-License-Identifier: GPL-2.0

//! Host build of rvfio-pci's kernel-independent logic.
//!
//! The modules are the driver's own source files, included by path, so the code tested here is
//! the code the module runs.

// The driver uses every item; this crate only uses them from tests.
#![cfg_attr(not(test), allow(dead_code))]

#[path = "../../../drivers/vfio/pci/rvfio/access.rs"]
mod access;
#[path = "../../../drivers/vfio/pci/rvfio/args.rs"]
mod args;
#[path = "../../../drivers/vfio/pci/rvfio/caps.rs"]
mod caps;
#[path = "../../../drivers/vfio/pci/rvfio/config.rs"]
mod config;

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
