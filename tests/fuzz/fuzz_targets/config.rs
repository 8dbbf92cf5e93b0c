// SPDX-License-Identifier: GPL-2.0

//! The configuration engine on functions and accesses from the input.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rvfio_fuzz::fuzz_config(data));
