// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_IOEVENTFD end to end, on QEMU's edu device (1234:11e8): a
 * registered ioeventfd performs its write when its eventfd is signalled,
 * and only then; removal, duplicates, write widths, the per-device limit,
 * and release when the device is closed. The register values are read back
 * through the BAR region. Every assertion holds for any correct VFIO PCI
 * bus driver (vfio-pci and rvfio-pci); other devices skip.
 *
 * edu's BAR0 registers used (QEMU hw/misc/edu.c): 0x04 reads back the
 * complement of the last 4-byte write; 0x80 (DMA source address) keeps any
 * 4- or 8-byte write while no DMA runs, and serves as a sentinel proving
 * that an eventfd signal has been handled. edu drops 1- and 2-byte accesses
 * anywhere and 8-byte ones below 0x80.
 *
 * Usage: rvfio_ioeventfd_test [harness options] SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_open.h"

#define EDU_INVERT	0x04
#define EDU_DMA_SRC	0x80

/* How long a signalled write may take to land, and the grace for one that must not. */
#define WAIT_MS		2000
#define SETTLE_MS	50

/* vfio-pci's per-device cap on ioeventfds (VFIO_PCI_IOEVENTFD_MAX). */
#define IOEVENTFD_MAX	1000

static const char *device_bdf;

static int sysfs_read_hex(const char *file, unsigned int *val)
{
	char path[PATH_MAX];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", device_bdf, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%x", val);
	fclose(f);
	return n == 1 ? 0 : -1;
}

static int is_edu(void)
{
	unsigned int vendor, device;

	return !sysfs_read_hex("vendor", &vendor) && !sysfs_read_hex("device", &device) &&
	       vendor == 0x1234 && device == 0x11e8;
}

FIXTURE(ioeventfd) {
	struct iommu *iommu;
	struct vfio_pci_device *device;
	__u64 bar0;		/* device-file offset of BAR0 */
	int efd[3];
};

static int ioeventfd(int fd, __u32 size, __u64 offset, __u64 data, __s32 efd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req),
		.flags = size,
		.offset = offset,
		.data = data,
		.fd = efd,
	};

	return rvfio_ioctl(fd, VFIO_DEVICE_IOEVENTFD, &req);
}

static __u32 rd32(int fd, __u64 off)
{
	__u32 v = 0;

	VFIO_ASSERT_EQ(rvfio_pread(fd, &v, 4, off), 4);
	return v;
}

static __u64 rd64(int fd, __u64 off)
{
	__u64 v = 0;

	VFIO_ASSERT_EQ(rvfio_pread(fd, &v, 8, off), 8);
	return v;
}

static void wr32(int fd, __u64 off, __u32 v)
{
	VFIO_ASSERT_EQ(pwrite(fd, &v, 4, off), 4);
}

static void kick(int efd)
{
	VFIO_ASSERT_EQ(eventfd_write(efd, 1), 0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Poll a register until it reads @want, for at most WAIT_MS: the write may
 * be done from a worker thread after eventfd_write() returns.
 */
static int wait_for(int fd, __u64 off, int width, __u64 want)
{
	int i;

	for (i = 0; i <= WAIT_MS; i++) {
		if ((width == 8 ? rd64(fd, off) : rd32(fd, off)) == want)
			return 1;
		sleep_ms(1);
	}
	return 0;
}

static void memory_decode(int fd, int on)
{
	__u64 off = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + PCI_COMMAND;
	__u16 cmd;

	VFIO_ASSERT_EQ(rvfio_pread(fd, &cmd, 2, off), 2);
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	VFIO_ASSERT_EQ(pwrite(fd, &cmd, 2, off), 2);
}

/* Open the device with memory decode on; *bar0 is BAR0's device-file offset. */
static struct vfio_pci_device *open_device(struct iommu *iommu, __u64 *bar0)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_pci_device *device = rvfio_open(device_bdf, iommu);

	ioctl_assert(device->fd, VFIO_DEVICE_GET_REGION_INFO, &info);
	VFIO_ASSERT_GE(info.size, 0x100);
	*bar0 = info.offset;
	memory_decode(device->fd, 1);
	return device;
}

FIXTURE_SETUP(ioeventfd)
{
	int i;

	if (!is_edu())
		SKIP(return, "%s is not QEMU's edu device (1234:11e8)", device_bdf);
	for (i = 0; i < 3; i++) {
		self->efd[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_GE(self->efd[i], 0);
	}
	self->iommu = iommu_init("iommufd");
	self->device = open_device(self->iommu, &self->bar0);
}

FIXTURE_TEARDOWN(ioeventfd)
{
	int i;

	if (self->device)
		rvfio_close(self->device);
	iommu_cleanup(self->iommu);
	for (i = 0; i < 3; i++)
		close(self->efd[i]);
}

/*
 * Signal @efd, which a sentinel ioeventfd (a 4-byte write of @mark to
 * EDU_DMA_SRC) is registered on, and wait for the sentinel: every other
 * ioeventfd on @efd has been run (or dropped) as part of the same signal.
 */
static int kick_and_wait_sentinel(int fd, __u64 bar0, int efd, __u32 mark)
{
	wr32(fd, bar0 + EDU_DMA_SRC, ~mark);
	kick(efd);
	if (!wait_for(fd, bar0 + EDU_DMA_SRC, 4, mark))
		return 0;
	sleep_ms(SETTLE_MS);
	return 1;
}

TEST_F(ioeventfd, write_on_signal_then_removed)
{
	int fd = self->device->fd;
	__u64 reg = self->bar0 + EDU_INVERT;
	const __u32 w = 0x12345678, v = 0xa5a50f0f, mark = 0x5e7711e1;

	wr32(fd, reg, w);
	ASSERT_EQ(~w, rd32(fd, reg));

	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, self->efd[0]));
	/* Registering writes nothing. */
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(~w, rd32(fd, reg));

	kick(self->efd[0]);
	ASSERT_TRUE(wait_for(fd, reg, 4, ~v));
	/* And it writes again on every signal. */
	wr32(fd, reg, w);
	ASSERT_EQ(~w, rd32(fd, reg));
	kick(self->efd[0]);
	ASSERT_TRUE(wait_for(fd, reg, 4, ~v));

	/* Removed by its (offset, size, data) with fd -1; only once. */
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, -1));
	ASSERT_EQ(-ENODEV, ioeventfd(fd, 4, reg, v, -1));

	/* The eventfd no longer writes: a sentinel on it proves the signal was handled. */
	wr32(fd, reg, w);
	ASSERT_EQ(0, ioeventfd(fd, 4, self->bar0 + EDU_DMA_SRC, mark, self->efd[0]));
	ASSERT_TRUE(kick_and_wait_sentinel(fd, self->bar0, self->efd[0], mark));
	ASSERT_EQ(~w, rd32(fd, reg));
	ASSERT_EQ(0, ioeventfd(fd, 4, self->bar0 + EDU_DMA_SRC, mark, -1));
}

TEST_F(ioeventfd, duplicate)
{
	int fd = self->device->fd;
	__u64 reg = self->bar0 + EDU_INVERT;
	const __u32 w = 0x01020304, v = 0x0badcafe;

	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, self->efd[0]));
	ASSERT_EQ(-EEXIST, ioeventfd(fd, 4, reg, v, self->efd[0]));
	/* Identity is (offset, size, data), whichever eventfd. */
	ASSERT_EQ(-EEXIST, ioeventfd(fd, 4, reg, v, self->efd[1]));
	/* Other data at the same place is another ioeventfd. */
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v + 1, self->efd[1]));

	/* Each fires on its own eventfd only. */
	wr32(fd, reg, w);
	kick(self->efd[1]);
	ASSERT_TRUE(wait_for(fd, reg, 4, ~(v + 1)));
	kick(self->efd[0]);
	ASSERT_TRUE(wait_for(fd, reg, 4, ~v));

	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, -1));
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v + 1, -1));
	ASSERT_EQ(-ENODEV, ioeventfd(fd, 4, reg, v, -1));
	ASSERT_EQ(-ENODEV, ioeventfd(fd, 4, reg, v + 1, -1));
	/* And the tuple can be registered again. */
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, self->efd[1]));
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, -1));
}

/*
 * 1- and 2-byte ioeventfds on the 0x04 register are accepted (the driver
 * cannot know the device's rules), and the driver must perform exactly the
 * width asked for: edu drops them, so the register keeps its value. A driver
 * that widened them would change it. (No 8-byte write at 0x04: the CPU
 * splits an unaligned MMIO quadword into aligned pieces, and the upper one
 * would start a factorial at 0x08.)
 */
TEST_F(ioeventfd, widths_edu_ignores)
{
	int fd = self->device->fd;
	__u64 reg = self->bar0 + EDU_INVERT;
	const __u32 w = 0x00ff00ff, mark = 0x600dd00d;
	__u8 b = 0x5a;
	__u16 h = 0x5a5a;

	ASSERT_EQ(0, ioeventfd(fd, 1, reg, 0xa5, self->efd[0]));
	ASSERT_EQ(0, ioeventfd(fd, 1, reg + 3, 0xa5, self->efd[0]));
	ASSERT_EQ(0, ioeventfd(fd, 2, reg, 0xa5a5, self->efd[0]));
	ASSERT_EQ(0, ioeventfd(fd, 2, reg + 2, 0xa5a5, self->efd[0]));
	ASSERT_EQ(0, ioeventfd(fd, 4, self->bar0 + EDU_DMA_SRC, mark, self->efd[0]));

	wr32(fd, reg, w);
	ASSERT_TRUE(kick_and_wait_sentinel(fd, self->bar0, self->efd[0], mark));
	ASSERT_EQ(~w, rd32(fd, reg));

	/* The same narrow writes through the region are dropped the same way. */
	ASSERT_EQ(1, pwrite(fd, &b, 1, reg));
	ASSERT_EQ(2, pwrite(fd, &h, 2, reg + 2));
	ASSERT_EQ(~w, rd32(fd, reg));

	ASSERT_EQ(0, ioeventfd(fd, 1, reg, 0xa5, -1));
	ASSERT_EQ(0, ioeventfd(fd, 1, reg + 3, 0xa5, -1));
	ASSERT_EQ(0, ioeventfd(fd, 2, reg, 0xa5a5, -1));
	ASSERT_EQ(0, ioeventfd(fd, 2, reg + 2, 0xa5a5, -1));
	ASSERT_EQ(0, ioeventfd(fd, 4, self->bar0 + EDU_DMA_SRC, mark, -1));
}

/*
 * An 8-byte ioeventfd lands whole: a driver splitting it into two 4-byte
 * writes would leave the upper half zero (edu ignores 4-byte writes to
 * 0x84, and a 4-byte write to 0x80 replaces all 64 bits).
 */
TEST_F(ioeventfd, width_8)
{
	int fd = self->device->fd;
	__u64 reg = self->bar0 + EDU_DMA_SRC;
	const __u64 q = 0x0123456789abcdefULL;
	int ret;

	ret = ioeventfd(fd, 8, reg, q, self->efd[0]);
	if (ret == -EINVAL)
		SKIP(return, "8-byte ioeventfds not supported");
	ASSERT_EQ(0, ret);

	wr32(fd, reg, 0);
	ASSERT_EQ(0, rd64(fd, reg));
	kick(self->efd[0]);
	ASSERT_TRUE(wait_for(fd, reg, 8, q));
	ASSERT_EQ((__u32)q, rd32(fd, reg));

	/* A 4-byte ioeventfd on the same register is a different one. */
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, q, self->efd[1]));
	kick(self->efd[1]);
	ASSERT_TRUE(wait_for(fd, reg, 8, (__u32)q));

	ASSERT_EQ(0, ioeventfd(fd, 8, reg, q, -1));
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, q, -1));
}

/* Memory decode off: a signalled write is not done, and is not replayed later. */
TEST_F(ioeventfd, memory_disabled)
{
	int fd = self->device->fd;
	__u64 reg = self->bar0 + EDU_INVERT;
	const __u32 w = 0x13579bdf, v = 0x2468ace0;

	wr32(fd, reg, w);
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, self->efd[0]));
	memory_decode(fd, 0);
	kick(self->efd[0]);
	sleep_ms(2 * SETTLE_MS);
	memory_decode(fd, 1);
	sleep_ms(SETTLE_MS);
	ASSERT_EQ(~w, rd32(fd, reg));

	/* Still registered, and working again. */
	kick(self->efd[0]);
	ASSERT_TRUE(wait_for(fd, reg, 4, ~v));
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, -1));
}

TEST_F(ioeventfd, limit)
{
	int fd = self->device->fd;
	__u64 reg = self->bar0 + EDU_INVERT;
	int i;

	/* efd[2] is never signalled: nothing is written. */
	for (i = 0; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x10000 + i, self->efd[2]));
	ASSERT_EQ(-ENOSPC, ioeventfd(fd, 4, reg, 0x20000, self->efd[2]));
	/* At the limit, duplicates and removals still answer as usual. */
	ASSERT_EQ(-EEXIST, ioeventfd(fd, 4, reg, 0x10000, self->efd[2]));
	ASSERT_EQ(-ENODEV, ioeventfd(fd, 4, reg, 0x20000, -1));

	ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x10000, -1));
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x20000, self->efd[2]));
	ASSERT_EQ(-ENOSPC, ioeventfd(fd, 4, reg, 0x10000, self->efd[2]));
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x20000, -1));
	for (i = 1; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x10000 + i, -1));
	ASSERT_EQ(-ENODEV, ioeventfd(fd, 4, reg, 0x10000 + 1, -1));
}

/* Closing the device file releases its ioeventfds: none fires, all slots are free. */
TEST_F(ioeventfd, close_releases)
{
	__u64 reg = self->bar0 + EDU_INVERT;
	const __u32 w = 0x0f1e2d3c, v = 0x4b5a6978, mark = 0x7e57ab1e;
	int fd = self->device->fd, i;

	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, self->efd[0]));
	for (i = 1; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x10000 + i, self->efd[2]));

	rvfio_close(self->device);
	self->device = NULL;
	self->device = open_device(self->iommu, &self->bar0);
	fd = self->device->fd;
	ASSERT_EQ(reg, self->bar0 + EDU_INVERT);

	/* The same tuples register again, a full set of them. */
	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, self->efd[1]));
	for (i = 1; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x10000 + i, self->efd[2]));
	ASSERT_EQ(-ENOSPC, ioeventfd(fd, 4, reg, 0x20000, self->efd[2]));
	for (i = 1; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(fd, 4, reg, 0x10000 + i, -1));

	/* The old registration's eventfd writes nothing now... */
	wr32(fd, reg, w);
	ASSERT_EQ(0, ioeventfd(fd, 4, self->bar0 + EDU_DMA_SRC, mark, self->efd[0]));
	ASSERT_TRUE(kick_and_wait_sentinel(fd, self->bar0, self->efd[0], mark));
	ASSERT_EQ(~w, rd32(fd, reg));
	/* ...and the new one works. */
	kick(self->efd[1]);
	ASSERT_TRUE(wait_for(fd, reg, 4, ~v));

	ASSERT_EQ(0, ioeventfd(fd, 4, reg, v, -1));
	ASSERT_EQ(0, ioeventfd(fd, 4, self->bar0 + EDU_DMA_SRC, mark, -1));
}

int main(int argc, char *argv[])
{
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
