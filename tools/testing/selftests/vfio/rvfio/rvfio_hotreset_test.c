// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI hot reset. VFIO_DEVICE_GET_PCI_HOT_RESET_INFO lists every device the slot
 * or bus reset of a device also resets, with what proves ownership of each: the
 * IOMMU group for a device opened through its group, the iommufd device id (or
 * "owned"/"not owned") for one opened through its cdev. VFIO_DEVICE_PCI_HOT_RESET
 * resets them given that proof: the fds of the groups of all affected devices,
 * or an empty array when every affected device belongs to the caller's iommufd.
 * A driver also resets the slot or bus by itself when the last open device of its
 * device set is closed and one of them was closed without a function reset, as
 * long as every device the reset affects is in the set.
 *
 * The devices are those of the test VM (scripts/vm.sh), given in this order:
 *  - SLOT: a modern virtio device alone below a PCIe root port with a hotplug
 *    slot (a slot reset), which shows a reset in its device_status;
 *  - BUS0, BUS1: two functions on the secondary bus of a PCIe-to-PCI bridge
 *    and in one IOMMU group (a bus reset);
 *  - ROOT: a device on the root bus, which has neither reset.
 * hotreset.sh binds all four to the driver under test, except for fixture
 * mixed_drivers, which wants BUS1 bound to another VFIO PCI driver than BUS0.
 * Every assertion holds for any correct VFIO PCI bus driver, in every IOMMU mode
 * of the selftest library.
 *
 * Usage: rvfio_hotreset_test [harness options] SLOT BUS0 BUS1 ROOT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/pci_regs.h>
#include <linux/userfaultfd.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_hotreset.h"
#include "rvfio_open.h"

static const char *slot_bdf, *bus_bdf[2], *root_bdf;

/* Written over every output field first, to see what the driver filled in. */
#define POISON		RVFIO_HR_POISON
#define POISON32	0xa5a5a5a5u

/* Room for more entries than any device here has. */
#define MAX_DEPS	4

#define HDR_SIZE	RVFIO_HR_HDR
#define DEP_SIZE	RVFIO_HR_DEP
#define CDEV_FLAGS	(VFIO_PCI_HOT_RESET_FLAG_DEV_ID | VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED)

/* The virtio 1.0 common configuration: vendor capability type and device_status. */
#define VIRTIO_CAP_COMMON_CFG	1
#define VIRTIO_COMMON_STATUS	20
#define VIRTIO_STATUS_ACK	1

/*
 * QEMU's pci-testdev: writing a test number to BAR0 byte 0 selects that test,
 * whose header then reads from BAR0 on (the name from byte 16: "mmio-..."),
 * until a reset deselects it and BAR0 reads all zeroes.
 */
#define TESTDEV_SELECT		RVFIO_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX)
#define TESTDEV_NAME		(RVFIO_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + 16)
#define TESTDEV_SELECTED	'm'

/* Opening and closing. */

/*
 * Opens @bdf like rvfio_open(); through the cdev it also returns the iommufd
 * device id in *@devid (0 otherwise). A group-opened device whose group
 * @group_of has open already shares that group file.
 */
static struct vfio_pci_device *hr_open(const char *bdf, struct iommu *iommu,
				       struct vfio_pci_device *group_of, __u32 *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommu->iommufd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = iommu->ioas_id,
	};
	struct vfio_pci_device *device;

	*devid = 0;
	if (iommu->mode->container_path && !group_of)
		return rvfio_open(bdf, iommu);

	device = vfio_pci_device_alloc(bdf, iommu);
	if (iommu->mode->container_path) {
		device->group_fd = group_of->group_fd;
		__vfio_pci_group_get_device_fd(device, bdf, NULL);
		VFIO_ASSERT_GE(device->fd, 0, "VFIO_GROUP_GET_DEVICE_FD %s\n", bdf);
	} else {
		vfio_pci_cdev_open(device, bdf);
		ioctl_assert(device->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
		ioctl_assert(device->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
		VFIO_ASSERT_GT(bind.out_devid, 0);
		*devid = bind.out_devid;
	}
	return device;
}

/* Closes a device hr_open() opened; @shares_group as it was opened. */
static void hr_close(struct vfio_pci_device *device, bool shares_group)
{
	if (!shares_group || !device->iommu->mode->container_path) {
		rvfio_close(device);
		return;
	}
	VFIO_ASSERT_EQ(close(device->fd), 0);
	vfio_pci_device_free(device);
}

/* Opens the VFIO group file of @bdf; the fd or -errno. */
static int group_open(const char *bdf)
{
	char path[32];
	int fd;

	snprintf_assert(path, sizeof(path), "/dev/vfio/%d", sysfs_iommu_group_get(bdf));
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* INFO checks and the reset a device file can ask for. */

/* Whether entries @from up to @n of @info are still poisoned. */
static bool deps_untouched(const struct vfio_pci_hot_reset_info *info, __u32 from, __u32 n)
{
	const unsigned char *p = (const unsigned char *)&info->devices[from];
	size_t i;

	for (i = 0; i < (n - from) * DEP_SIZE; i++)
		if (p[i] != POISON)
			return false;
	return true;
}

/* The reset any device file should be able to ask for: its group file, or none. */
static int hot_reset_own(struct vfio_pci_device *device, int group_fd)
{
	if (!device->iommu->mode->container_path)
		return rvfio_hr_reset(device->fd, 0, NULL);
	return rvfio_hr_reset(device->fd, 1, &group_fd);
}

/* Configuration space and BARs through the device file. */

static unsigned long long cfg(int pos)
{
	return RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + pos;
}

static void file_rw(int fd, bool write, void *buf, size_t len, unsigned long long off)
{
	ssize_t n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);

	VFIO_ASSERT_EQ(n, (ssize_t)len, "%s of %zu at %#llx\n", write ? "write" : "read", len, off);
}

static __u32 read32(int fd, unsigned long long off)
{
	__u32 v;

	file_rw(fd, false, &v, 4, off);
	return v;
}

static __u8 read8(int fd, unsigned long long off)
{
	__u8 v;

	file_rw(fd, false, &v, 1, off);
	return v;
}

static void write8(int fd, unsigned long long off, __u8 v)
{
	file_rw(fd, true, &v, 1, off);
}

static void memory_on(int fd)
{
	__u16 cmd;

	file_rw(fd, false, &cmd, 2, cfg(PCI_COMMAND));
	if (!(cmd & PCI_COMMAND_MEMORY)) {
		cmd |= PCI_COMMAND_MEMORY;
		file_rw(fd, true, &cmd, 2, cfg(PCI_COMMAND));
	}
}

/*
 * The offset in the device file of device_status in the virtio common
 * configuration, which a reset clears; memory decoding is enabled.
 */
static unsigned long long virtio_status(int fd)
{
	int pos = read8(fd, cfg(PCI_CAPABILITY_LIST)), guard = 48;

	while (pos >= PCI_STD_HEADER_SIZEOF && guard--) {
		if (read8(fd, cfg(pos)) == PCI_CAP_ID_VNDR &&
		    read8(fd, cfg(pos + 3)) == VIRTIO_CAP_COMMON_CFG) {
			__u8 bar = read8(fd, cfg(pos + 4));
			__u32 off = read32(fd, cfg(pos + 8));

			VFIO_ASSERT_LE(bar, VFIO_PCI_BAR5_REGION_INDEX);
			memory_on(fd);
			return RVFIO_REGION_OFFSET(bar) + off + VIRTIO_COMMON_STATUS;
		}
		pos = read8(fd, cfg(pos + PCI_CAP_LIST_NEXT));
	}
	VFIO_FAIL("no virtio common configuration capability\n");
}

/* Selects pci-testdev test 0, which a reset of the device deselects. */
static void testdev_select(int fd)
{
	memory_on(fd);
	write8(fd, TESTDEV_SELECT, 0);
	VFIO_ASSERT_EQ(read8(fd, TESTDEV_NAME), TESTDEV_SELECTED);
}

static bool testdev_selected(int fd)
{
	return read8(fd, TESTDEV_NAME) == TESTDEV_SELECTED;
}

/* The same on a device file just opened, whose memory decoding may be off. */
static bool testdev_selected_at_open(int fd)
{
	memory_on(fd);
	return testdev_selected(fd);
}

/* Whether the device file offers a function reset (VFIO_DEVICE_RESET). */
static bool function_reset_works(int fd)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };

	ioctl_assert(fd, VFIO_DEVICE_GET_INFO, &dinfo);
	return dinfo.flags & VFIO_DEVICE_FLAGS_RESET;
}

/*
 * The device file still works after a reset: device and region info, config
 * space identity @id as it was before.
 */
static void still_works(int fd, __u32 id)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct vfio_region_info rinfo = {
		.argsz = sizeof(rinfo),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	ioctl_assert(fd, VFIO_DEVICE_GET_INFO, &dinfo);
	VFIO_ASSERT_TRUE(dinfo.flags & VFIO_DEVICE_FLAGS_PCI);
	ioctl_assert(fd, VFIO_DEVICE_GET_REGION_INFO, &rinfo);
	VFIO_ASSERT_EQ(rinfo.offset, cfg(0));
	VFIO_ASSERT_EQ(read32(fd, cfg(PCI_VENDOR_ID)), id);
}

/*
 * SLOT: a slot reset, which affects the device alone. Its device_status shows
 * whether a reset happened.
 */
FIXTURE(slot_reset) {
	struct iommu *iommu;
	struct vfio_pci_device *device;
	__u32 devid;
	int group;
	bool cdev;
	unsigned long long status;
};

/* Every fixture runs in every IOMMU mode of the selftest library. */
FIXTURE_VARIANT(slot_reset) {
	const char *iommu_mode;
};

FIXTURE_VARIANT_ADD(slot_reset, vfio_type1_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(slot_reset, vfio_type1v2_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1V2_IOMMU,
};

FIXTURE_VARIANT_ADD(slot_reset, iommufd_compat_type1) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1,
};

FIXTURE_VARIANT_ADD(slot_reset, iommufd_compat_type1v2) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1V2,
};

FIXTURE_VARIANT_ADD(slot_reset, iommufd) {
	.iommu_mode = MODE_IOMMUFD,
};

FIXTURE_SETUP(slot_reset)
{
	self->iommu = iommu_init(variant->iommu_mode);
	self->cdev = !self->iommu->mode->container_path;
	self->device = hr_open(slot_bdf, self->iommu, NULL, &self->devid);
	self->group = sysfs_iommu_group_get(slot_bdf);
	self->status = virtio_status(self->device->fd);
}

FIXTURE_TEARDOWN(slot_reset)
{
	hr_close(self->device, false);
	iommu_cleanup(self->iommu);
}

TEST_F(slot_reset, info_argsz)
{
	struct vfio_pci_hot_reset_info *info = rvfio_hr_info_alloc(1);
	int fd = self->device->fd;

	/* Shorter than the header. */
	info->argsz = HDR_SIZE - 1;
	ASSERT_EQ(-EINVAL, rvfio_hr_info(fd, info));
	ASSERT_EQ(POISON32, info->count);

	/* No room for entries: ENOSPC, and the header says how many there are. */
	info->argsz = HDR_SIZE;
	ASSERT_EQ(-ENOSPC, rvfio_hr_info(fd, info));
	ASSERT_EQ(HDR_SIZE, info->argsz);
	ASSERT_EQ(1, info->count);
	ASSERT_EQ(0, info->flags);

	/* One byte short of the entry: the same, and the entry untouched. */
	memset(info, POISON, HDR_SIZE + DEP_SIZE);
	info->argsz = HDR_SIZE + DEP_SIZE - 1;
	ASSERT_EQ(-ENOSPC, rvfio_hr_info(fd, info));
	ASSERT_EQ(1, info->count);
	ASSERT_EQ(0, info->flags);
	ASSERT_TRUE(deps_untouched(info, 0, 1));

	/* Exactly enough. */
	info->argsz = HDR_SIZE + DEP_SIZE;
	ASSERT_EQ(0, rvfio_hr_info(fd, info));
	ASSERT_EQ(1, info->count);
	ASSERT_NE(NULL, rvfio_hr_dep(info, slot_bdf));

	ASSERT_EQ(-EFAULT, rvfio_hr_info(fd, NULL));
	free(info);
}

TEST_F(slot_reset, info)
{
	struct vfio_pci_hot_reset_info *info = rvfio_hr_info_alloc(MAX_DEPS);
	const struct vfio_pci_dependent_device *dep;

	ASSERT_EQ(0, rvfio_hr_info(self->device->fd, info));
	ASSERT_EQ(HDR_SIZE + MAX_DEPS * DEP_SIZE, info->argsz);
	ASSERT_EQ(1, info->count);
	dep = rvfio_hr_dep(info, slot_bdf);
	ASSERT_NE(NULL, dep);
	if (self->cdev) {
		ASSERT_EQ(CDEV_FLAGS, info->flags);
		ASSERT_EQ(self->devid, dep->devid);
	} else {
		ASSERT_EQ(0, info->flags);
		ASSERT_EQ(self->group, dep->group_id);
	}
	/* Nothing written past the entries. */
	ASSERT_TRUE(deps_untouched(info, 1, MAX_DEPS));
	free(info);
}

TEST_F(slot_reset, reset)
{
	int fd = self->device->fd;
	__u32 id = read32(fd, cfg(PCI_VENDOR_ID));
	int round;

	for (round = 0; round < 2; round++) {
		write8(fd, self->status, VIRTIO_STATUS_ACK);
		ASSERT_EQ(VIRTIO_STATUS_ACK, read8(fd, self->status));
		ASSERT_EQ(0, hot_reset_own(self->device, self->device->group_fd));
		/* The device was reset; the device file goes on. */
		ASSERT_EQ(0, read8(fd, self->status));
		still_works(fd, id);
	}
}

/* Malformed requests are refused, and reset nothing. */
TEST_F(slot_reset, reset_bad_args)
{
	int fd = self->device->fd, fds[2];
	__u32 count = self->cdev ? 0 : 1;

	fds[0] = fds[1] = self->cdev ? -1 : self->device->group_fd;
	write8(fd, self->status, VIRTIO_STATUS_ACK);

	ASSERT_EQ(-EINVAL, rvfio_hr_reset_raw(fd, HDR_SIZE + 4 * count, 1, count, fds));
	ASSERT_EQ(-EINVAL, rvfio_hr_reset_raw(fd, HDR_SIZE + 4 * count, 1u << 31, count, fds));
	ASSERT_EQ(-EINVAL, rvfio_hr_reset_raw(fd, HDR_SIZE - 1, 0, count, fds));
	ASSERT_EQ(-EFAULT, rvfio_ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, NULL));
	if (self->cdev) {
		/* A cdev-opened device proves ownership through iommufd: no fds. */
		ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 1, fds));
	} else {
		/* A group-opened device needs them... */
		ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 0, NULL));
		/* ...but no more than there are affected devices. */
		ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 2, fds));
	}
	ASSERT_EQ(VIRTIO_STATUS_ACK, read8(fd, self->status));
}

/*
 * Group files that prove nothing: no file (EBADF), files that are no VFIO
 * group, and the group of another device. Through the cdev any fd at all is
 * refused. None resets anything.
 */
TEST_F(slot_reset, reset_bad_fds)
{
	static const char * const what[] = {
		"an eventfd", "/dev/null", "the device", "the container or iommufd",
		"another group",
	};
	int fd = self->device->fd, bad[ARRAY_SIZE(what)], i;

	bad[0] = eventfd(0, EFD_CLOEXEC);
	bad[1] = open("/dev/null", O_RDWR | O_CLOEXEC);
	bad[2] = fd;
	bad[3] = self->cdev ? self->iommu->iommufd : self->iommu->container_fd;
	bad[4] = group_open(root_bdf);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_GE(bad[i], 0) TH_LOG("%s", what[i]);
	write8(fd, self->status, VIRTIO_STATUS_ACK);

	ASSERT_EQ(self->cdev ? -EINVAL : -EBADF, rvfio_hr_reset(fd, 1, (int[]){ -1 }));
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 1, &bad[i])) TH_LOG("%s", what[i]);
	ASSERT_EQ(VIRTIO_STATUS_ACK, read8(fd, self->status));
	close(bad[4]);
	close(bad[1]);
	close(bad[0]);
}

/*
 * BUS0 and BUS1: a bus reset, which affects both functions; they share an IOMMU
 * group and a device set. BUS0 is open, BUS1 only when a test opens it. A
 * pci-testdev test selected on a function shows whether it was reset. Neither
 * has a function reset: the bus reset that a lone function could use would hit
 * the other.
 */
FIXTURE(bus_reset) {
	struct iommu *iommu;
	struct vfio_pci_device *device[2];
	__u32 devid[2];
	int group;
	bool cdev;
};

FIXTURE_VARIANT(bus_reset) {
	const char *iommu_mode;
};

FIXTURE_VARIANT_ADD(bus_reset, vfio_type1_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(bus_reset, vfio_type1v2_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1V2_IOMMU,
};

FIXTURE_VARIANT_ADD(bus_reset, iommufd_compat_type1) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1,
};

FIXTURE_VARIANT_ADD(bus_reset, iommufd_compat_type1v2) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1V2,
};

FIXTURE_VARIANT_ADD(bus_reset, iommufd) {
	.iommu_mode = MODE_IOMMUFD,
};

FIXTURE_SETUP(bus_reset)
{
	self->iommu = iommu_init(variant->iommu_mode);
	self->cdev = !self->iommu->mode->container_path;
	self->group = sysfs_iommu_group_get(bus_bdf[0]);
	ASSERT_EQ(self->group, sysfs_iommu_group_get(bus_bdf[1]));
	self->device[0] = hr_open(bus_bdf[0], self->iommu, NULL, &self->devid[0]);
	self->device[1] = NULL;
}

FIXTURE_TEARDOWN(bus_reset)
{
	if (self->device[1])
		hr_close(self->device[1], true);
	if (self->device[0])
		hr_close(self->device[0], false);
	iommu_cleanup(self->iommu);
}

#define BUS FIXTURE_DATA(bus_reset)

/* Opens BUS1 next to BUS0: through the same group file, or the same iommufd. */
static void bus_open_second(BUS *self)
{
	self->device[1] = hr_open(bus_bdf[1], self->iommu, self->device[0], &self->devid[1]);
}

/*
 * INFO from BUS@n lists both functions. Through the cdev, BUS1's id is @devid1:
 * its own when it is open, else "owned" as its group is that of BUS0.
 */
static void bus_check_info(struct __test_metadata *_metadata, BUS *self, int n,
			   __u32 devid1)
{
	struct vfio_pci_hot_reset_info *info = rvfio_hr_info_alloc(MAX_DEPS);
	const struct vfio_pci_dependent_device *dep[2];
	int i;

	ASSERT_EQ(0, rvfio_hr_info(self->device[n]->fd, info));
	ASSERT_EQ(2, info->count);
	for (i = 0; i < 2; i++) {
		dep[i] = rvfio_hr_dep(info, bus_bdf[i]);
		ASSERT_NE(NULL, dep[i]);
		if (!self->cdev)
			ASSERT_EQ(self->group, dep[i]->group_id);
	}
	if (self->cdev) {
		ASSERT_EQ(CDEV_FLAGS, info->flags);
		ASSERT_EQ(self->devid[0], dep[0]->devid);
		ASSERT_EQ(devid1, dep[1]->devid);
	} else {
		ASSERT_EQ(0, info->flags);
	}
	ASSERT_TRUE(deps_untouched(info, 2, MAX_DEPS));

	/* Room for one: ENOSPC, and the count of both. */
	memset(info, POISON, HDR_SIZE + DEP_SIZE);
	info->argsz = HDR_SIZE + DEP_SIZE;
	ASSERT_EQ(-ENOSPC, rvfio_hr_info(self->device[n]->fd, info));
	ASSERT_EQ(2, info->count);
	ASSERT_TRUE(deps_untouched(info, 0, 1));
	free(info);
}

TEST_F(bus_reset, info)
{
	bus_check_info(_metadata, self, 0, VFIO_PCI_DEVID_OWNED);
}

TEST_F(bus_reset, info_both_open)
{
	bus_open_second(self);
	if (self->cdev)
		ASSERT_NE(self->devid[0], self->devid[1]);
	bus_check_info(_metadata, self, 0, self->devid[1]);
	bus_check_info(_metadata, self, 1, self->devid[1]);
}

/* The one group file (or iommufd) proves ownership of both, open or not. */
TEST_F(bus_reset, reset_one_open)
{
	int fd = self->device[0]->fd, other, fds[2];
	__u32 id = read32(fd, cfg(PCI_VENDOR_ID));

	testdev_select(fd);
	ASSERT_EQ(0, hot_reset_own(self->device[0], self->device[0]->group_fd));
	ASSERT_FALSE(testdev_selected(fd));
	still_works(fd, id);
	if (!self->cdev) {
		/* The same file twice will do, and one more group is no harm. */
		fds[0] = fds[1] = self->device[0]->group_fd;
		testdev_select(fd);
		ASSERT_EQ(0, rvfio_hr_reset(fd, 2, fds));
		ASSERT_FALSE(testdev_selected(fd));
		other = group_open(root_bdf);
		ASSERT_GE(other, 0);
		fds[0] = other;
		testdev_select(fd);
		ASSERT_EQ(0, rvfio_hr_reset(fd, 2, fds));
		ASSERT_FALSE(testdev_selected(fd));
		close(other);
	}
	still_works(fd, id);
}

TEST_F(bus_reset, reset_both_open)
{
	__u32 id = read32(self->device[0]->fd, cfg(PCI_VENDOR_ID));
	int i;

	bus_open_second(self);
	/* Asked through either function, the reset is of both. */
	for (i = 0; i < 2; i++) {
		testdev_select(self->device[0]->fd);
		testdev_select(self->device[1]->fd);
		ASSERT_EQ(0, hot_reset_own(self->device[i], self->device[0]->group_fd));
		ASSERT_FALSE(testdev_selected(self->device[0]->fd));
		ASSERT_FALSE(testdev_selected(self->device[1]->fd));
		still_works(self->device[0]->fd, id);
		still_works(self->device[1]->fd, id);
	}
}

/*
 * A function closed without a function reset is reset along with its device set
 * once the whole set is unused: at the close of the last open function, not
 * before, as the reset would hit a function still in use.
 */
TEST_F(bus_reset, close_last_resets)
{
	int group_fd = self->device[0]->group_fd, i;

	bus_open_second(self);
	for (i = 0; i < 2; i++) {
		ASSERT_FALSE(function_reset_works(self->device[i]->fd));
		testdev_select(self->device[i]->fd);
	}
	/* BUS0 closes first, its device file only: BUS1 goes on with the group file. */
	hr_close(self->device[0], true);
	self->device[0] = NULL;
	ASSERT_TRUE(testdev_selected(self->device[1]->fd));
	hr_close(self->device[1], true);
	self->device[1] = NULL;
	if (!self->cdev)
		ASSERT_EQ(0, close(group_fd));

	/* The close of BUS1 reset both. */
	self->device[0] = hr_open(bus_bdf[0], self->iommu, NULL, &self->devid[0]);
	bus_open_second(self);
	for (i = 0; i < 2; i++)
		ASSERT_FALSE(testdev_selected_at_open(self->device[i]->fd));
}

/* BUS1 never opened: the close of BUS0 leaves the set unused, and so reset. */
TEST_F(bus_reset, close_alone_resets)
{
	ASSERT_FALSE(function_reset_works(self->device[0]->fd));
	testdev_select(self->device[0]->fd);
	hr_close(self->device[0], false);
	self->device[0] = NULL;

	self->device[0] = hr_open(bus_bdf[0], self->iommu, NULL, &self->devid[0]);
	ASSERT_FALSE(testdev_selected_at_open(self->device[0]->fd));
}

TEST_F(bus_reset, reset_bad)
{
	int fd = self->device[0]->fd, efd, other, fds[3];

	testdev_select(fd);
	if (self->cdev) {
		ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 1, (int[]){ -1 }));
		ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 2, (int[]){ -1, -1 }));
		ASSERT_TRUE(testdev_selected(fd));
		return;
	}
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_GE(efd, 0);
	other = group_open(root_bdf);
	ASSERT_GE(other, 0);
	fds[0] = fds[1] = fds[2] = self->device[0]->group_fd;

	/* Two devices: three files are too many, even valid ones. */
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 3, fds));
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 0, NULL));
	/* One bad file spoils the set. */
	fds[1] = -1;
	ASSERT_EQ(-EBADF, rvfio_hr_reset(fd, 2, fds));
	fds[1] = efd;
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 2, fds));
	/* Another group does not prove ownership of this one. */
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, 1, &other));
	ASSERT_TRUE(testdev_selected(fd));
	close(other);
	close(efd);
}

/*
 * A user whose hot-reset argument faults for as long as it likes must not hold
 * up the other devices of its set. The argument lies where a userfaultfd the
 * test holds catches the first access: the group-fd array (or, through the
 * cdev, the header, as there is no array) on a page left missing for 10 s.
 * Meanwhile another thread opens and closes BUS1, which takes the device set's
 * lock: it must be done within 2 s. Then the page is filled in and the reset
 * completes as any other.
 */
#define STALL_S		10
#define OPEN_MAX_S	2

struct stalled_reset {
	int fd;
	struct vfio_pci_hot_reset *arg;
	int ret;
};

static void *stalled_reset_run(void *p)
{
	struct stalled_reset *r = p;

	r->ret = rvfio_ioctl(r->fd, VFIO_DEVICE_PCI_HOT_RESET, r->arg);
	return NULL;
}

struct side_open {
	BUS *self;
	pthread_mutex_t lock;
	pthread_cond_t done_cond;
	bool done;
	double seconds;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *side_open_run(void *p)
{
	struct side_open *o = p;
	double start = now_s();

	bus_open_second(o->self);
	hr_close(o->self->device[1], true);
	o->self->device[1] = NULL;
	pthread_mutex_lock(&o->lock);
	o->seconds = now_s() - start;
	o->done = true;
	pthread_cond_signal(&o->done_cond);
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

TEST_F(bus_reset, reset_arg_stalled)
{
	long page = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct uffdio_copy copy = { 0 };
	struct side_open side = {
		.self = self,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.done_cond = PTHREAD_COND_INITIALIZER,
	};
	struct stalled_reset r = { .fd = self->device[0]->fd };
	struct vfio_pci_hot_reset hdr = { .argsz = sizeof(hdr) };
	struct pollfd pfd = { .events = POLLIN };
	pthread_t reset_thread, open_thread;
	struct timespec deadline;
	struct uffd_msg msg;
	char *area, *fill;
	double stall_end;
	bool side_done;
	__u32 id = read32(r.fd, cfg(PCI_VENDOR_ID));

	area = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	fill = calloc_assert(1, page);
	pfd.fd = syscall(__NR_userfaultfd, O_CLOEXEC);
	ASSERT_GE(pfd.fd, 0);
	ASSERT_EQ(0, ioctl(pfd.fd, UFFDIO_API, &api));
	reg.range.start = (unsigned long)area + page;
	reg.range.len = page;
	ASSERT_EQ(0, ioctl(pfd.fd, UFFDIO_REGISTER, &reg));

	if (self->cdev) {
		/* No array: the header itself is on the missing page. */
		r.arg = (void *)(area + page);
		memcpy(fill, &hdr, sizeof(hdr));
	} else {
		/* The header ends the first page, the array starts the missing one. */
		r.arg = (void *)(area + page - sizeof(hdr));
		hdr.argsz += sizeof(__s32);
		hdr.count = 1;
		memcpy(r.arg, &hdr, sizeof(hdr));
		memcpy(fill, &self->device[0]->group_fd, sizeof(__s32));
	}
	testdev_select(r.fd);
	ASSERT_EQ(0, pthread_create(&reset_thread, NULL, stalled_reset_run, &r));

	/* The reset has reached the missing page. */
	ASSERT_EQ(1, poll(&pfd, 1, 5000));
	ASSERT_EQ((ssize_t)sizeof(msg), read(pfd.fd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ((unsigned long)area + page, msg.arg.pagefault.address & ~(page - 1));

	ASSERT_EQ(0, pthread_create(&open_thread, NULL, side_open_run, &side));
	stall_end = now_s() + STALL_S;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += OPEN_MAX_S + 1;
	pthread_mutex_lock(&side.lock);
	while (!side.done &&
	       pthread_cond_timedwait(&side.done_cond, &side.lock, &deadline) == 0)
		;
	side_done = side.done;
	pthread_mutex_unlock(&side.lock);
	/* The fault stays unresolved for STALL_S, open or not. */
	while (now_s() < stall_end)
		usleep(100 * 1000);

	copy.dst = (unsigned long)area + page;
	copy.src = (unsigned long)fill;
	copy.len = page;
	ASSERT_EQ(0, ioctl(pfd.fd, UFFDIO_COPY, &copy));
	ASSERT_EQ(0, pthread_join(reset_thread, NULL));
	ASSERT_EQ(0, pthread_join(open_thread, NULL));

	TH_LOG("open and close of %s during the stall: %.3f s", bus_bdf[1], side.seconds);
	ASSERT_TRUE(side_done);
	ASSERT_LE(side.seconds, OPEN_MAX_S);
	ASSERT_EQ(0, r.ret);
	ASSERT_FALSE(testdev_selected(r.fd));
	still_works(r.fd, id);
	close(pfd.fd);
	free(fill);
	munmap(area, 2 * page);
}

/* ROOT: on the root bus, neither a slot nor a bus reset is possible. */
FIXTURE(no_reset) {
	struct iommu *iommu;
	struct vfio_pci_device *device;
	bool cdev;
};

FIXTURE_VARIANT(no_reset) {
	const char *iommu_mode;
};

FIXTURE_VARIANT_ADD(no_reset, vfio_type1_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(no_reset, vfio_type1v2_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1V2_IOMMU,
};

FIXTURE_VARIANT_ADD(no_reset, iommufd_compat_type1) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1,
};

FIXTURE_VARIANT_ADD(no_reset, iommufd_compat_type1v2) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1V2,
};

FIXTURE_VARIANT_ADD(no_reset, iommufd) {
	.iommu_mode = MODE_IOMMUFD,
};

FIXTURE_SETUP(no_reset)
{
	__u32 devid;

	self->iommu = iommu_init(variant->iommu_mode);
	self->cdev = !self->iommu->mode->container_path;
	self->device = hr_open(root_bdf, self->iommu, NULL, &devid);
}

FIXTURE_TEARDOWN(no_reset)
{
	hr_close(self->device, false);
	iommu_cleanup(self->iommu);
}

TEST_F(no_reset, info)
{
	struct vfio_pci_hot_reset_info *info = rvfio_hr_info_alloc(MAX_DEPS);

	ASSERT_EQ(-ENODEV, rvfio_hr_info(self->device->fd, info));
	ASSERT_EQ(POISON32, info->count);
	/* The header is checked first. */
	info->argsz = HDR_SIZE - 1;
	ASSERT_EQ(-EINVAL, rvfio_hr_info(self->device->fd, info));
	free(info);
}

TEST_F(no_reset, reset)
{
	int fd = self->device->fd;

	ASSERT_EQ(-ENODEV, hot_reset_own(self->device, self->device->group_fd));
	/* Malformed requests are refused as such first. */
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(fd, self->cdev ? 1 : 0, &self->device->group_fd));
	ASSERT_EQ(-EINVAL, rvfio_hr_reset_raw(fd, HDR_SIZE, 1, 0, NULL));
}

/*
 * BUS0 and BUS1 bound to different VFIO PCI drivers. A driver resets a bus only
 * when every device on it is in its own device set (which a device of another
 * driver never is), so BUS0 cannot be reset whatever the proof, though INFO
 * still lists both, nor at its close. The shared group opens as usual in the
 * group modes: both drivers register with the VFIO core, which has one group for
 * the IOMMU group whatever the drivers, and the bridge in it has no driver.
 * Through the cdev there is no group file to offer, as the group does not open
 * while one of its devices is open through its cdev (EBUSY), whichever the
 * drivers.
 */
FIXTURE(mixed_drivers) {
	struct iommu *iommu;
	struct vfio_pci_device *device;
	__u32 devid;
	int group;
	bool cdev;
};

FIXTURE_VARIANT(mixed_drivers) {
	const char *iommu_mode;
};

FIXTURE_VARIANT_ADD(mixed_drivers, vfio_type1_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(mixed_drivers, vfio_type1v2_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1V2_IOMMU,
};

FIXTURE_VARIANT_ADD(mixed_drivers, iommufd_compat_type1) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1,
};

FIXTURE_VARIANT_ADD(mixed_drivers, iommufd_compat_type1v2) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1V2,
};

FIXTURE_VARIANT_ADD(mixed_drivers, iommufd) {
	.iommu_mode = MODE_IOMMUFD,
};

FIXTURE_SETUP(mixed_drivers)
{
	char *drv0 = sysfs_driver_get(bus_bdf[0]), *drv1 = sysfs_driver_get(bus_bdf[1]);

	ASSERT_NE(NULL, drv0);
	ASSERT_NE(NULL, drv1);
	ASSERT_NE(0, strcmp(drv0, drv1)) TH_LOG("%s and %s both bound to %s",
						bus_bdf[0], bus_bdf[1], drv0);
	free(drv0);
	free(drv1);
	self->iommu = iommu_init(variant->iommu_mode);
	self->cdev = !self->iommu->mode->container_path;
	self->group = sysfs_iommu_group_get(bus_bdf[0]);
	self->device = hr_open(bus_bdf[0], self->iommu, NULL, &self->devid);
}

FIXTURE_TEARDOWN(mixed_drivers)
{
	if (self->device)
		hr_close(self->device, false);
	iommu_cleanup(self->iommu);
}

TEST_F(mixed_drivers, info)
{
	struct vfio_pci_hot_reset_info *info = rvfio_hr_info_alloc(MAX_DEPS);
	const struct vfio_pci_dependent_device *dep[2];
	int i;

	ASSERT_EQ(0, rvfio_hr_info(self->device->fd, info));
	ASSERT_EQ(2, info->count);
	for (i = 0; i < 2; i++) {
		dep[i] = rvfio_hr_dep(info, bus_bdf[i]);
		ASSERT_NE(NULL, dep[i]);
	}
	if (self->cdev) {
		/* The other function is not this driver's: "not owned", and so not all are. */
		ASSERT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID, info->flags);
		ASSERT_EQ(self->devid, dep[0]->devid);
		ASSERT_EQ((__u32)VFIO_PCI_DEVID_NOT_OWNED, dep[1]->devid);
	} else {
		/* The group path lists groups only, whoever drives the devices. */
		ASSERT_EQ(0, info->flags);
		ASSERT_EQ(self->group, dep[0]->group_id);
		ASSERT_EQ(self->group, dep[1]->group_id);
	}
	free(info);
}

TEST_F(mixed_drivers, reset)
{
	int fd = self->device->fd;
	__u32 id = read32(fd, cfg(PCI_VENDOR_ID));

	testdev_select(fd);
	ASSERT_EQ(-EINVAL, hot_reset_own(self->device, self->device->group_fd));
	ASSERT_TRUE(testdev_selected(fd));
	/* Nor is the group path a way around for a cdev-opened device. */
	if (self->cdev)
		ASSERT_EQ(-EBUSY, group_open(bus_bdf[0]));
	still_works(fd, id);
}

/* Closed without a function reset, BUS0 keeps its state: its set cannot be reset. */
TEST_F(mixed_drivers, close_no_reset)
{
	ASSERT_FALSE(function_reset_works(self->device->fd));
	testdev_select(self->device->fd);
	hr_close(self->device, false);
	self->device = NULL;

	self->device = hr_open(bus_bdf[0], self->iommu, NULL, &self->devid);
	ASSERT_TRUE(testdev_selected_at_open(self->device->fd));
}

int main(int argc, char *argv[])
{
	char **bdfs;
	int n;

	bdfs = vfio_selftests_get_bdfs(&argc, argv, &n);
	if (n != 4) {
		fprintf(stderr, "usage: %s [harness options] SLOT BUS0 BUS1 ROOT\n", argv[0]);
		return KSFT_FAIL;
	}
	slot_bdf = bdfs[0];
	bus_bdf[0] = bdfs[1];
	bus_bdf[1] = bdfs[2];
	root_bdf = bdfs[3];
	return test_harness_run(argc, argv);
}
