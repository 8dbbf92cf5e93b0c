// SPDX-License-Identifier: GPL-2.0

//! The ioctl argument checks against the model of vfio-pci's.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rvfio_fuzz::fuzz_args(data));
