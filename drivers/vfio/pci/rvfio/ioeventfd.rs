// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_IOEVENTFD`: a BAR write of fixed size and value, performed whenever an eventfd
//! fires, without a trip through the device file (`vfio_pci_ioeventfd()`). KVM signals such
//! eventfds straight from a trapped guest write.
//!
//! The write happens in the signaller's context when the memory gate says memory is on, and
//! from the virqfd thread (under the memory lock) while the memory state is changing; never
//! while memory decode is off.

use crate::{
    access::split_offset,
    device::{
        bound_pdev,
        Gate,
        RvfioDevice, //
    },
    regions,
    regs::IORESOURCE_MEM, //
};
use kernel::{
    device::Bound,
    pci,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
    vfio::{
        self,
        uapi,
        virqfd::{
            Virqfd,
            VirqfdHandler, //
        }, //
    }, //
};

/// At most this many ioeventfds per device (vfio-pci's `VFIO_PCI_IOEVENTFD_MAX`).
const MAX: usize = 1000;

/// `offsetofend(struct vfio_device_ioeventfd, fd)`.
const MINSZ: usize = 28;

/// What identifies an ioeventfd: two registrations may not share all four.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    bar: u32,
    pos: u64,
    count: u32,
    data: u64,
}

/// One ioeventfd: the write and where it goes.
#[pin_data]
pub(crate) struct IoEventFd {
    key: Key,
    io: Arc<pci::IoMap>,
    /// A memory BAR: the write needs memory decode on.
    test_mem: bool,
    dev: ARef<vfio::Device<RvfioDevice>>,
}

impl IoEventFd {
    fn write(&self) {
        // The position was checked against the BAR at registration.
        let Ok(pos) = usize::try_from(self.key.pos) else {
            return;
        };
        // CAST: 1, 2, 4 or 8. As vfio-pci, the write need not be aligned.
        let _ = self
            .io
            .write_unaligned(pos, self.key.count as usize, self.key.data);
    }
}

impl VirqfdHandler for IoEventFd {
    fn handle(&self) -> bool {
        if !self.test_mem {
            self.write();
            return false;
        }
        // Never held long (a store or one write), so spinning is fine in any context.
        let gate = self.dev.mmio.lock();
        match *gate {
            Gate::On => {
                self.write();
                false
            }
            Gate::Off => false,
            // Memory is changing state: wait for it in the thread, under the memory lock.
            Gate::Changing => true,
        }
    }

    fn thread(&self) {
        if self.test_mem {
            let memory = self.dev.memory.lock();
            if memory.enabled() {
                self.write();
            }
        } else {
            self.write();
        }
    }
}

/// The ioeventfds of an open device, dropped (each waiting for its handler) at close.
pub(crate) type IoEventFds = KVec<Pin<KBox<Virqfd<IoEventFd>>>>;

/// The `u64` stored as the two native-order words `w0`, `w1`.
fn join(w0: u32, w1: u32) -> u64 {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&w0.to_ne_bytes());
    b[4..].copy_from_slice(&w1.to_ne_bytes());
    u64::from_ne_bytes(b)
}

/// `VFIO_DEVICE_IOEVENTFD`: adds an ioeventfd, or removes one with `fd == -1`.
pub(crate) fn ioctl(dev: &vfio::Device<RvfioDevice, Bound>, arg: usize) -> Result<isize> {
    let pdev = bound_pdev(dev)?;
    // argsz, flags, offset (two words), data (two words), fd.
    let [argsz, flags, off0, off1, data0, data1, fd] = vfio::read_words::<7>(arg)?;
    let (offset, data) = (join(off0, off1), join(data0, data1));
    // CAST: the `fd` field is an `s32`.
    let fd = fd as i32;
    if (argsz as usize) < MINSZ || flags & !uapi::VFIO_DEVICE_IOEVENTFD_SIZE_MASK != 0 {
        return Err(EINVAL);
    }
    let count = flags & uapi::VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
    if count.count_ones() != 1 || fd < -1 {
        return Err(EINVAL);
    }
    let (bar, pos) = split_offset(offset);
    if bar > u64::from(uapi::VFIO_PCI_BAR5_REGION_INDEX) {
        return Err(EINVAL);
    }
    // CAST: `bar` <= 5.
    let bar = bar as u32;
    if pos + u64::from(count) > pdev.resource_len(bar)? {
        return Err(EINVAL);
    }
    // No way around the MSI-X table's protection.
    if let Some((b, start, end)) = dev.open.lock().msix_table {
        if b == bar && pos + u64::from(count) > start && pos < end {
            return Err(EINVAL);
        }
    }
    let io = regions::iomap(dev, pdev, bar)?;
    let key = Key {
        bar,
        pos,
        count,
        data,
    };
    let mut open = dev.open.lock();
    let list = &mut open.ioeventfds;
    if let Some(i) = list.iter().position(|e| e.handler().key == key) {
        if fd != -1 {
            return Err(EEXIST);
        }
        let removed = list.remove(i)?;
        drop(open);
        drop(removed);
        return Ok(0);
    }
    if fd < 0 {
        return Err(ENODEV);
    }
    if list.len() >= MAX {
        return Err(ENOSPC);
    }
    let test_mem = pdev.resource_flags(bar)? & IORESOURCE_MEM != 0;
    let handler = try_pin_init!(IoEventFd {
        key,
        io,
        test_mem,
        dev: dev.as_normal().into(),
    });
    let e = KBox::pin_init(Virqfd::new(fd, handler), GFP_KERNEL)?;
    list.push(e, GFP_KERNEL)?;
    Ok(0)
}
