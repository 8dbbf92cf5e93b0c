// SPDX-License-Identifier: GPL-2.0
//! A user-level driver for QEMU's edu device (PCI 1234:11e8), through VFIO.
//!
//! It finds the device's VFIO cdev, binds it to a new iommufd IO address space, maps BAR0,
//! checks edu's identification and liveness registers, computes a factorial, and DMAs a 4 KiB
//! pattern into edu's buffer and back, each DMA completion signalled by MSI on an eventfd. It
//! works the same with the device bound to vfio-pci or to rvfio-pci. Rust std only, no crates:
//! the few libc functions and the VFIO/iommufd ABI are declared below.
//!
//! Build, in this directory: rustc --edition 2021 -O -o rvfio_edu rvfio_edu.rs
//! Run, as root, in a VM started with `-device edu` and an IOMMU:
//!   echo 0000:00:03.0 >/sys/bus/pci/devices/0000:00:03.0/driver/unbind  # if bound
//!   echo rvfio-pci >/sys/bus/pci/devices/0000:00:03.0/driver_override  # or vfio-pci
//!   echo 0000:00:03.0 >/sys/bus/pci/drivers_probe
//!   ./rvfio_edu 0000:00:03.0
//! It exits 0 when every step worked, 1 with a message at the first failure, 2 on bad usage.

use std::ffi::{c_int, c_short, c_uint, c_ulong, c_void};
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::ptr::null_mut;
use std::time::{Duration, Instant};

// libc, as glibc declares it (constants for x86, arm64 and riscv).
extern "C" {
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    fn mmap(
        addr: *mut c_void,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: c_int,
        off: i64,
    ) -> *mut c_void;
    fn munmap(addr: *mut c_void, len: usize) -> c_int;
    fn eventfd(initval: c_uint, flags: c_int) -> c_int;
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout_ms: c_int) -> c_int;
}
const PROT_READ_WRITE: c_int = 0x1 | 0x2;
const MAP_SHARED: c_int = 0x01;
const MAP_PRIVATE_ANONYMOUS: c_int = 0x02 | 0x20;
const EFD_CLOEXEC: c_int = 0o2000000;
const POLLIN: c_short = 0x1;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

// The VFIO and iommufd ABI, from include/uapi/linux/vfio.h and iommufd.h.

/// `_IO(';', nr)`: `_IOC()` of include/uapi/asm-generic/ioctl.h with no direction and size 0,
/// which is how vfio.h and iommufd.h define all their ioctls.
const fn io(nr: c_ulong) -> c_ulong {
    ((b';' as c_ulong) << 8) | nr
}
const VFIO_BASE: c_ulong = 100;
const VFIO_DEVICE_GET_INFO: c_ulong = io(VFIO_BASE + 7);
const VFIO_DEVICE_GET_REGION_INFO: c_ulong = io(VFIO_BASE + 8);
const VFIO_DEVICE_SET_IRQS: c_ulong = io(VFIO_BASE + 10);
const VFIO_DEVICE_BIND_IOMMUFD: c_ulong = io(VFIO_BASE + 18);
const VFIO_DEVICE_ATTACH_IOMMUFD_PT: c_ulong = io(VFIO_BASE + 19);
const IOMMU_IOAS_ALLOC: c_ulong = io(0x81);
const IOMMU_IOAS_MAP: c_ulong = io(0x85);
const IOMMU_IOAS_UNMAP: c_ulong = io(0x86);
// What a C program including the headers prints for them.
const _: () = assert!(
    VFIO_DEVICE_GET_INFO == 0x3b6b
        && VFIO_DEVICE_GET_REGION_INFO == 0x3b6c
        && VFIO_DEVICE_SET_IRQS == 0x3b6e
        && VFIO_DEVICE_BIND_IOMMUFD == 0x3b76
        && VFIO_DEVICE_ATTACH_IOMMUFD_PT == 0x3b77
        && IOMMU_IOAS_ALLOC == 0x3b81
        && IOMMU_IOAS_MAP == 0x3b85
        && IOMMU_IOAS_UNMAP == 0x3b86
);

const VFIO_DEVICE_FLAGS_PCI: u32 = 1 << 1;
const VFIO_REGION_INFO_FLAG_READ: u32 = 1 << 0;
const VFIO_REGION_INFO_FLAG_WRITE: u32 = 1 << 1;
const VFIO_REGION_INFO_FLAG_MMAP: u32 = 1 << 2;
const VFIO_PCI_BAR0_REGION_INDEX: u32 = 0;
const VFIO_PCI_CONFIG_REGION_INDEX: u32 = 7;
const REGION_NAMES: [&str; 9] = [
    "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
];
const VFIO_IRQ_SET_DATA_NONE: u32 = 1 << 0;
const VFIO_IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
const VFIO_IRQ_SET_ACTION_TRIGGER: u32 = 1 << 5;
const VFIO_PCI_MSI_IRQ_INDEX: u32 = 1;
const IOMMU_IOAS_MAP_FIXED_IOVA: u32 = 1 << 0;
const IOMMU_IOAS_MAP_WRITEABLE: u32 = 1 << 1;
const IOMMU_IOAS_MAP_READABLE: u32 = 1 << 2;

#[repr(C)]
#[derive(Default)]
struct DeviceInfo {
    argsz: u32,
    flags: u32,
    num_regions: u32,
    num_irqs: u32,
    cap_offset: u32,
    pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct RegionInfo {
    argsz: u32,
    flags: u32,
    index: u32,
    cap_offset: u32,
    size: u64,
    offset: u64,
}

/// `struct vfio_irq_set` with room for one eventfd in `data[]`.
#[repr(C)]
#[derive(Default)]
struct IrqSet {
    argsz: u32,
    flags: u32,
    index: u32,
    start: u32,
    count: u32,
    eventfd: i32,
}

#[repr(C)]
#[derive(Default)]
struct BindIommufd {
    argsz: u32,
    flags: u32,
    iommufd: i32,
    out_devid: u32,
    token_uuid_ptr: u64,
}

#[repr(C)]
#[derive(Default)]
struct AttachPt {
    argsz: u32,
    flags: u32,
    pt_id: u32,
    pasid: u32,
}

#[repr(C)]
#[derive(Default)]
struct IoasAlloc {
    size: u32,
    flags: u32,
    out_ioas_id: u32,
}

#[repr(C)]
#[derive(Default)]
struct IoasMap {
    size: u32,
    flags: u32,
    ioas_id: u32,
    reserved: u32,
    user_va: u64,
    length: u64,
    iova: u64,
}

#[repr(C)]
#[derive(Default)]
struct IoasUnmap {
    size: u32,
    ioas_id: u32,
    iova: u64,
    length: u64,
}

// Sizes as the C headers give them.
const _: () = assert!(
    size_of::<DeviceInfo>() == 24
        && size_of::<RegionInfo>() == 32
        && offset_of!(IrqSet, eventfd) == 20
        && size_of::<BindIommufd>() == 24
        && size_of::<AttachPt>() == 16
        && size_of::<IoasAlloc>() == 12
        && size_of::<IoasMap>() == 40
        && size_of::<IoasUnmap>() == 24
);

/// An ioctl argument type and the request that takes it.
///
/// # Safety
///
/// `REQ` must take a pointer to `Self`, and access no more than `size_of::<Self>()` bytes
/// through it when the size field (the first `u32`) is at most that.
unsafe trait Ioctl {
    const REQ: c_ulong;
    const NAME: &'static str;
}

macro_rules! ioctl_arg {
    ($($t:ty => $req:ident,)*) => {$(
        // SAFETY: `$t` is the layout of the argument of `$req` in the uapi header, whose size
        // field bounds what the kernel accesses.
        unsafe impl Ioctl for $t {
            const REQ: c_ulong = $req;
            const NAME: &'static str = stringify!($req);
        }
    )*};
}

ioctl_arg! {
    DeviceInfo => VFIO_DEVICE_GET_INFO,
    RegionInfo => VFIO_DEVICE_GET_REGION_INFO,
    IrqSet => VFIO_DEVICE_SET_IRQS,
    BindIommufd => VFIO_DEVICE_BIND_IOMMUFD,
    AttachPt => VFIO_DEVICE_ATTACH_IOMMUFD_PT,
    IoasAlloc => IOMMU_IOAS_ALLOC,
    IoasMap => IOMMU_IOAS_MAP,
    IoasUnmap => IOMMU_IOAS_UNMAP,
}

fn request<T: Ioctl>(fd: &File, arg: &mut T) -> Result<(), String> {
    // SAFETY: `arg` is a valid, exclusively borrowed argument of `T::REQ` (see `Ioctl`).
    if unsafe { ioctl(fd.as_raw_fd(), T::REQ, std::ptr::from_mut(arg)) } < 0 {
        return Err(os_error(T::NAME));
    }
    Ok(())
}

fn os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// The size field that starts every VFIO and iommufd ioctl argument.
fn argsz<T>() -> u32 {
    size_of::<T>() as u32
}

/// A memory mapping, unmapped when dropped.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(len: usize, flags: c_int, fd: c_int, offset: u64, what: &str) -> Result<Self, String> {
        let offset = i64::try_from(offset).map_err(|_| format!("{what}: bad offset"))?;
        // SAFETY: a new mapping placed by the kernel (addr NULL) overlaps no Rust object.
        let ptr = unsafe { mmap(null_mut(), len, PROT_READ_WRITE, flags, fd, offset) };
        if ptr.addr() == usize::MAX {
            return Err(os_error(&format!("mmap {what}")));
        }
        Ok(Self {
            ptr: ptr.cast(),
            len,
        })
    }

    // Register accesses, for BAR0: volatile, so that each is one load or store of that width,
    // as the device expects. The mapping is page-aligned, and the asserts keep them inside it
    // and aligned (edu's registers all are: BAR0's size is checked before it is mapped).
    fn read32(&self, off: usize) -> u32 {
        assert!(off.is_multiple_of(4) && off + 4 <= self.len);
        // SAFETY: in bounds and aligned, as just asserted.
        unsafe { self.ptr.add(off).cast::<u32>().read_volatile() }
    }

    fn write32(&self, off: usize, val: u32) {
        assert!(off.is_multiple_of(4) && off + 4 <= self.len);
        // SAFETY: in bounds and aligned, as just asserted.
        unsafe { self.ptr.add(off).cast::<u32>().write_volatile(val) }
    }

    fn write64(&self, off: usize, val: u64) {
        assert!(off.is_multiple_of(8) && off + 8 <= self.len);
        // SAFETY: in bounds and aligned, as just asserted.
        unsafe { self.ptr.add(off).cast::<u64>().write_volatile(val) }
    }

    /// The mapping as memory, for the DMA buffer: only while no DMA is running.
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes of readable and writable memory, mapped as long as `self` lives;
        // the device writes them only during a DMA, and none runs while the borrow lasts.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping; nothing refers to it once we are dropped.
        unsafe { munmap(self.ptr.cast(), self.len) };
    }
}

// edu's BAR0 registers (QEMU's hw/misc/edu.c, docs/specs/edu.rst).
const EDU_ID: usize = 0x00;
const EDU_LIVENESS: usize = 0x04;
const EDU_FACTORIAL: usize = 0x08;
const EDU_STATUS: usize = 0x20;
const EDU_IRQ_STATUS: usize = 0x24;
const EDU_IRQ_ACK: usize = 0x64;
const EDU_DMA_SRC: usize = 0x80;
const EDU_DMA_DST: usize = 0x88;
const EDU_DMA_COUNT: usize = 0x90;
const EDU_DMA_CMD: usize = 0x98;
const EDU_BAR_MIN: u64 = 0x100;
const STATUS_COMPUTING: u32 = 0x01;
const DMA_RUN: u32 = 0x1;
const DMA_TO_RAM: u32 = 0x2;
const DMA_IRQ: u32 = 0x4;
const IRQ_STATUS_DMA: u32 = 0x100;
/// edu's DMA buffer: 4 KiB at this device address.
const EDU_BUF: u64 = 0x40000;
const EDU_BUF_LEN: usize = 4096;

const PCI_COMMAND: u64 = 0x04;
const PCI_COMMAND_MEMORY: u16 = 0x2;
const PCI_COMMAND_MASTER: u16 = 0x4;

/// Our DMA buffer: 64 KiB, a whole number of pages whatever the page size, at a fixed IOVA
/// below 256 MiB because edu's default DMA mask is 28 bits. It sends from its start and
/// receives at its middle.
const BUF_LEN: usize = 64 << 10;
const IOVA: u64 = 16 << 20;
const RX: usize = BUF_LEN / 2;
const TIMEOUT_MS: c_int = 5000;
const TIMEOUT: Duration = Duration::from_millis(TIMEOUT_MS as u64);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 {
        eprintln!("usage: rvfio_edu DOMAIN:BUS:DEVICE.FUNCTION (e.g. 0000:00:03.0)");
        return ExitCode::from(2);
    }
    match run(&args[1]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rvfio_edu: {}: {e}", args[1]);
            ExitCode::FAILURE
        }
    }
}

/// The VFIO cdev of edu device `bdf`.
fn find_cdev(bdf: &str) -> Result<PathBuf, String> {
    if bdf.is_empty()
        || !bdf
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    {
        return Err("not a PCI address".into());
    }
    let sys = Path::new("/sys/bus/pci/devices").join(bdf);
    let attr = |name: &str| match fs::read_to_string(sys.join(name)) {
        Ok(s) => Ok(s.trim().to_string()),
        Err(e) => Err(format!("no such PCI device ({}: {e})", sys.display())),
    };
    let id = (attr("vendor")?, attr("device")?);
    if id != ("0x1234".into(), "0x11e8".into()) {
        return Err(format!(
            "{}:{} is not an edu device (0x1234:0x11e8)",
            id.0, id.1
        ));
    }
    let not_vfio = || {
        let driver = fs::read_link(sys.join("driver")).ok();
        match driver.as_ref().and_then(|d| d.file_name()) {
            Some(d) if d.to_string_lossy().contains("vfio") => format!(
                "no VFIO cdev under {} (kernel without CONFIG_VFIO_DEVICE_CDEV?)",
                d.to_string_lossy()
            ),
            Some(d) => format!(
                "bound to {}, not to a VFIO driver: bind it to vfio-pci or rvfio-pci",
                d.to_string_lossy()
            ),
            None => "not bound to a driver: bind it to vfio-pci or rvfio-pci".into(),
        }
    };
    for entry in fs::read_dir(sys.join("vfio-dev")).map_err(|_| not_vfio())? {
        let name = entry
            .map_err(|e| format!("{}: {e}", sys.display()))?
            .file_name();
        if name.to_string_lossy().starts_with("vfio") {
            return Ok(Path::new("/dev/vfio/devices").join(name));
        }
    }
    Err(not_vfio())
}

fn open(path: &Path) -> Result<File, String> {
    let file = OpenOptions::new().read(true).write(true).open(path);
    file.map_err(|e| format!("{}: {e}", path.display()))
}

fn run(bdf: &str) -> Result<(), String> {
    let cdev = find_cdev(bdf)?;
    let dev = open(&cdev)?;
    let iommufd = open(Path::new("/dev/iommu"))?;
    let (devid, ioas) = attach_to_new_ioas(&dev, &iommufd)?;
    let mut info = DeviceInfo {
        argsz: argsz::<DeviceInfo>(),
        ..Default::default()
    };
    request(&dev, &mut info)?;
    if info.flags & VFIO_DEVICE_FLAGS_PCI == 0 {
        return Err(format!("{}: not a VFIO PCI device", cdev.display()));
    }
    println!(
        "device: {bdf} (edu) at {}, {} regions, {} IRQ indexes, iommufd device {devid}, IOAS {ioas}",
        cdev.display(),
        info.num_regions,
        info.num_irqs,
    );

    let regions = regions(&dev, info.num_regions);
    let list: Vec<String> = regions.iter().map(describe).collect();
    println!("regions: {}", list.join(", "));
    let find = |index| regions.iter().find(|r| r.index == index);
    let bar0 = find(VFIO_PCI_BAR0_REGION_INDEX).ok_or("no BAR0")?;
    let config = find(VFIO_PCI_CONFIG_REGION_INDEX).ok_or("no config region")?;
    let rw_mmap =
        VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP;
    if bar0.flags & rw_mmap != rw_mmap {
        return Err(format!("BAR0 cannot be mmapped (flags {:#x})", bar0.flags));
    }
    if bar0.size < EDU_BAR_MIN {
        return Err(format!("BAR0 is too small ({} bytes)", bar0.size));
    }

    // Memory decode for BAR0 (the VFIO driver enables it when the device is opened) and bus
    // mastering for DMA and MSI (left off): the user owns COMMAND.
    let (old, new) = enable_command(&dev, config.offset + PCI_COMMAND)?;
    println!("COMMAND: {old:#06x} -> {new:#06x} (memory decode, bus mastering)");

    let len = usize::try_from(bar0.size).map_err(|_| "BAR0 is too large")?;
    let bar = Mapping::new(len, MAP_SHARED, dev.as_raw_fd(), bar0.offset, "BAR0")?;
    identify(&bar)?;
    factorial(&bar, 10)?;

    // DMA into our buffer, mapped at IOVA, with MSI for its completions.
    let mut buf = Mapping::new(BUF_LEN, MAP_PRIVATE_ANONYMOUS, -1, 0, "DMA buffer")?;
    let mut map = IoasMap {
        size: argsz::<IoasMap>(),
        flags: IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
        ioas_id: ioas,
        user_va: buf.ptr as u64,
        length: BUF_LEN as u64,
        iova: IOVA,
        ..Default::default()
    };
    request(&iommufd, &mut map)?;
    // SAFETY: eventfd() takes no pointers.
    let efd = unsafe { eventfd(0, EFD_CLOEXEC) };
    if efd < 0 {
        return Err(os_error("eventfd"));
    }
    // SAFETY: `efd` is a new file descriptor that nothing else owns.
    let irq = File::from(unsafe { OwnedFd::from_raw_fd(efd) });
    let mut msi = IrqSet {
        argsz: argsz::<IrqSet>(),
        flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSI_IRQ_INDEX,
        count: 1,
        eventfd: irq.as_raw_fd(),
        ..Default::default()
    };
    request(&dev, &mut msi)?;

    let result = dma_round_trip(&bar, &mut buf, &irq);

    // Clean up, after a failed round trip too: MSI off, the buffer unmapped from the IOAS.
    let mut msi_off = IrqSet {
        argsz: offset_of!(IrqSet, eventfd) as u32,
        flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSI_IRQ_INDEX,
        ..Default::default()
    };
    let msi_off = request(&dev, &mut msi_off);
    let mut unmap = IoasUnmap {
        size: argsz::<IoasUnmap>(),
        ioas_id: ioas,
        iova: IOVA,
        length: BUF_LEN as u64,
    };
    let unmapped = request(&iommufd, &mut unmap);
    let interrupts = result?;
    msi_off?;
    unmapped?;
    println!(
        "DMA: {EDU_BUF_LEN} bytes from IOVA {IOVA:#x} to edu {EDU_BUF:#x} and back to IOVA {:#x}, \
         {EDU_BUF_LEN} bytes compared equal",
        IOVA + RX as u64
    );
    println!("MSI: {interrupts} interrupts, one per DMA completion, each acked");

    // Closing the device detaches it from the IOAS and unbinds it from the iommufd; closing
    // the iommufd frees the IOAS.
    drop((bar, buf, irq, dev, iommufd));
    println!("cleanup: MSI disabled, IOVA unmapped, BAR0 unmapped, files closed");
    Ok(())
}

/// Binds the device to the iommufd and attaches it to a new IO address space; returns the
/// iommufd's IDs of the device and of the IOAS.
fn attach_to_new_ioas(dev: &File, iommufd: &File) -> Result<(u32, u32), String> {
    let mut ioas = IoasAlloc {
        size: argsz::<IoasAlloc>(),
        ..Default::default()
    };
    request(iommufd, &mut ioas)?;
    let mut bind = BindIommufd {
        argsz: argsz::<BindIommufd>(),
        iommufd: iommufd.as_raw_fd(),
        ..Default::default()
    };
    request(dev, &mut bind)?;
    let mut attach = AttachPt {
        argsz: argsz::<AttachPt>(),
        pt_id: ioas.out_ioas_id,
        ..Default::default()
    };
    request(dev, &mut attach)?;
    Ok((bind.out_devid, ioas.out_ioas_id))
}

/// The device's regions, those it has: the VGA region fails, absent BARs have size 0.
fn regions(dev: &File, count: u32) -> Vec<RegionInfo> {
    let mut regions = Vec::new();
    for index in 0..count {
        let mut region = RegionInfo {
            argsz: argsz::<RegionInfo>(),
            index,
            ..Default::default()
        };
        if request(dev, &mut region).is_ok() && region.size > 0 {
            regions.push(region);
        }
    }
    regions
}

/// Sets memory decode and bus mastering in COMMAND (at `at` in the device file) if either is
/// off; returns COMMAND before and after.
fn enable_command(dev: &File, at: u64) -> Result<(u16, u16), String> {
    let mut cmd = [0; 2];
    let e = dev.read_exact_at(&mut cmd, at);
    e.map_err(|e| format!("read COMMAND: {e}"))?;
    let old = u16::from_le_bytes(cmd);
    let new = old | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    if new != old {
        let e = dev.write_all_at(&new.to_le_bytes(), at);
        e.map_err(|e| format!("write COMMAND: {e}"))?;
    }
    Ok((old, new))
}

/// Checks edu's identification register and that its liveness register inverts.
fn identify(bar: &Mapping) -> Result<(), String> {
    let id = bar.read32(EDU_ID);
    if id & 0xffff != 0x00ed {
        return Err(format!(
            "identification register reads {id:#010x}, not edu's"
        ));
    }
    bar.write32(EDU_LIVENESS, 0x1234_5678);
    let inverted = bar.read32(EDU_LIVENESS);
    if inverted != !0x1234_5678 {
        return Err(format!("liveness: wrote 0x12345678, read {inverted:#010x}"));
    }
    let (major, minor) = (id >> 24, (id >> 16) & 0xff);
    println!("edu {major}.{minor} (id {id:#010x}), liveness 0x12345678 -> {inverted:#010x}");
    Ok(())
}

/// Has the device compute n!, polling its status until it is done.
fn factorial(bar: &Mapping, n: u32) -> Result<(), String> {
    bar.write32(EDU_FACTORIAL, n);
    wait_until("the factorial", || {
        bar.read32(EDU_STATUS) & STATUS_COMPUTING == 0
    })?;
    let fact = bar.read32(EDU_FACTORIAL);
    if fact != (1..=n).product() {
        return Err(format!("{n}! computed as {fact}"));
    }
    println!("factorial: {n}! = {fact}");
    Ok(())
}

/// "BAR0 1 MiB rw mmap"
fn describe(r: &RegionInfo) -> String {
    let name = REGION_NAMES
        .get(r.index as usize)
        .unwrap_or(&"device-specific");
    let size = match r.size {
        s if s.is_multiple_of(1 << 20) => format!("{} MiB", s >> 20),
        s if s.is_multiple_of(1 << 10) => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    };
    let flag = |bit, s| if r.flags & bit != 0 { s } else { "" };
    format!(
        "{name} {size} {}{}{}",
        flag(VFIO_REGION_INFO_FLAG_READ, "r"),
        flag(VFIO_REGION_INFO_FLAG_WRITE, "w"),
        flag(VFIO_REGION_INFO_FLAG_MMAP, " mmap")
    )
}

/// Sends a pattern to edu's buffer and back into the other half of `buf`, and compares;
/// returns the number of interrupts.
fn dma_round_trip(bar: &Mapping, buf: &mut Mapping, irq: &File) -> Result<u64, String> {
    let bytes = buf.bytes();
    for (i, b) in bytes[..EDU_BUF_LEN].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    bytes[RX..RX + EDU_BUF_LEN].fill(0);

    let mut interrupts = dma(bar, irq, IOVA, EDU_BUF, 0)?;
    interrupts += dma(bar, irq, EDU_BUF, IOVA + RX as u64, DMA_TO_RAM)?;

    let bytes = buf.bytes();
    let (sent, received) = (&bytes[..EDU_BUF_LEN], &bytes[RX..RX + EDU_BUF_LEN]);
    if let Some(i) = (0..EDU_BUF_LEN).find(|&i| sent[i] != received[i]) {
        return Err(format!(
            "DMA: byte {i} went out as {:#04x} and came back as {:#04x}",
            sent[i], received[i]
        ));
    }
    Ok(interrupts)
}

/// Runs one DMA of edu's buffer size, waits for its MSI and acks it; returns the eventfd count.
fn dma(bar: &Mapping, irq: &File, src: u64, dst: u64, direction: u32) -> Result<u64, String> {
    bar.write64(EDU_DMA_SRC, src);
    bar.write64(EDU_DMA_DST, dst);
    bar.write64(EDU_DMA_COUNT, EDU_BUF_LEN as u64);
    bar.write64(EDU_DMA_CMD, (DMA_RUN | direction | DMA_IRQ).into());

    let mut fds = PollFd {
        fd: irq.as_raw_fd(),
        events: POLLIN,
        revents: 0,
    };
    // SAFETY: `fds` is one valid pollfd.
    match unsafe { poll(&raw mut fds, 1, TIMEOUT_MS) } {
        0 => {
            return Err(format!(
                "DMA {src:#x} -> {dst:#x}: no MSI within {TIMEOUT:?}"
            ))
        }
        n if n < 0 => return Err(os_error("poll")),
        _ => {}
    }
    let mut count = [0; 8];
    let mut irq = irq;
    irq.read_exact(&mut count)
        .map_err(|e| format!("read eventfd: {e}"))?;

    if bar.read32(EDU_DMA_CMD) & DMA_RUN != 0 {
        return Err(format!(
            "DMA {src:#x} -> {dst:#x}: still running after its MSI"
        ));
    }
    let status = bar.read32(EDU_IRQ_STATUS);
    if status & IRQ_STATUS_DMA == 0 {
        return Err(format!(
            "MSI without DMA completion (irq status {status:#x})"
        ));
    }
    bar.write32(EDU_IRQ_ACK, status);
    Ok(u64::from_ne_bytes(count))
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > TIMEOUT {
            return Err(format!("timed out after {TIMEOUT:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}
