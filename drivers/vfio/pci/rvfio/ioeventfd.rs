// SPDX-License-Identifier: GPL-2.0

//! `VFIO_DEVICE_IOEVENTFD`: a BAR write of fixed size and value, performed whenever an eventfd
//! fires, without a trip through the device file (`vfio_pci_ioeventfd()`). KVM signals such
//! eventfds straight from a trapped guest write.
//!
//! The write happens in the signaller's context when the memory gate says memory is on, and
//! from the virqfd thread (under the memory lock) while the memory state is changing; never
//! while memory decode is off.

use crate::{
    device::{
        OpenDevice,
        RvfioDevice, //
    },
    engine::{
        args,
        regs::IORESOURCE_MEM, //
    },
    memory::Gate,
    regions, //
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
        virqfd::{
            Virqfd,
            VirqfdHandler, //
        }, //
    }, //
};

/// At most this many ioeventfds per device (vfio-pci's `VFIO_PCI_IOEVENTFD_MAX`).
const MAX: usize = 1000;

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
        self.dev.memory.with_gate(|gate| match gate {
            Gate::On => {
                self.write();
                false
            }
            Gate::Off => false,
            // Memory is changing state: wait for it in the thread, under the memory lock.
            Gate::Changing => true,
        })
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

/// `VFIO_DEVICE_IOEVENTFD`: adds an ioeventfd, or removes one with `fd == -1`.
pub(crate) fn ioctl(
    dev: &vfio::Device<RvfioDevice, Bound>,
    open: &OpenDevice,
    arg: usize,
) -> Result<isize> {
    let pdev = dev.parent();
    let req = args::IoEventFd::parse(vfio::read_words::<7>(arg)?)?;
    let args::IoEventFd {
        bar,
        pos,
        count,
        data,
        fd,
    } = req;
    req.check_target(pdev.resource_len(bar)?, open.msix_table)?;
    let io = regions::iomap(open, pdev, bar)?;
    let key = Key {
        bar,
        pos,
        count,
        data,
    };
    let mut state = open.state.lock();
    let list = &mut state.ioeventfds;
    if let Some(i) = list.iter().position(|e| e.handler().key == key) {
        if fd != -1 {
            return Err(EEXIST);
        }
        let removed = list.remove(i)?;
        drop(state);
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
        dev: dev.into(),
    });
    let e = KBox::pin_init(Virqfd::new(fd, handler), GFP_KERNEL)?;
    list.push(e, GFP_KERNEL)?;
    Ok(0)
}
