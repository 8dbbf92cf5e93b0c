// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hot-unplug of a device that user space holds open. The device is opened,
 * its REQ eventfd set, MSI-X (or MSI, or INTx) enabled with eventfds and a BAR
 * mapped; then a command given with -u asks the machine to unplug it (in the
 * test VM: QEMU's device_del through the monitor, which pciehp turns into a
 * removal of the PCI function). The removal reaches the bus driver's remove,
 * which must wait for user space:
 *
 *  - the REQ eventfd is signalled, and again while the device stays open (the
 *    VFIO core repeats the request every ten seconds);
 *  - meanwhile the device works: configuration space, the BAR mapping and the
 *    interrupt eventfds answer as before, while new opens are refused;
 *  - once user space lets go (release_after_req: munmap, then close every
 *    file; mmap_outlives_close: close every file first, the removal going on
 *    only at munmap, since the mapping keeps the device file), the function
 *    leaves sysfs, its interrupts are freed, and the group and cdev nodes are
 *    gone: opening them fails with ENOENT.
 *
 * Every assertion holds for any correct VFIO PCI bus driver; every wait is
 * bounded. Each test unplugs the device: run one at a time (-r), and plug the
 * device back in between.
 *
 * Usage: rvfio_unplug_test [harness options] -u COMMAND SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/compiler.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_irqs.h"
#include "rvfio_open.h"

/* Longest wait for the unplug command to finish. */
#define COMMAND_MS	60000
/* Longest wait for the first REQ once the unplug command has run. */
#define REQ_MS		15000
/* Longest wait for the repeated REQ after the first one. */
#define REPEAT_MS	25000
/* The VFIO core repeats the request every 10 s: a repeat sooner than this is too early. */
#define REPEAT_MIN_MS	5000
/* Longest wait for the function to leave sysfs once user space let go. */
#define GONE_MS		15000
/* How long the removal must stay blocked while only a mapping holds the device. */
#define HOLD_MS		3000
/* Longest wait for a loopback interrupt signal. */
#define SIGNAL_MS	3000
/* Dwords compared between the BAR mapping and the region's read(). */
#define BAR_DWORDS	4

#define INTX	VFIO_PCI_INTX_IRQ_INDEX
#define MSI	VFIO_PCI_MSI_IRQ_INDEX
#define MSIX	VFIO_PCI_MSIX_IRQ_INDEX
#define REQ	VFIO_PCI_REQ_IRQ_INDEX

#define TRIGGER	VFIO_IRQ_SET_ACTION_TRIGGER

static const char *device_bdf;
static const char *unplug_cmd;

FIXTURE(rvfio_unplug) {
	struct iommu *iommu;
	/* NULL once closed. */
	struct vfio_pci_device *device;
	int fd;
	char sysfs[PATH_MAX];
	char group_path[PATH_MAX];
	const char *cdev_path;
	unsigned long long cfg;
	__u16 vendor;
	__u16 device_id;
	struct vfio_irq_info irq[VFIO_PCI_NUM_IRQS];
	/* The interrupt index enabled and its eventfds. */
	__u32 index;
	int nvec;
	int *vec;
	int req;
	/* The mapped BAR: region info, the mapping (NULL once unmapped) and what it read. */
	struct vfio_region_info bar;
	__u32 *map;
	__u32 seen[BAR_DWORDS];
	int ndw;
	/* The unplug command ran: the device is on its way out. */
	bool unplugged;
};

FIXTURE_VARIANT(rvfio_unplug) {
	const char *iommu_mode;
};

/* The legacy group path and the iommufd cdev path. */
FIXTURE_VARIANT_ADD(rvfio_unplug, vfio_type1v2_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1V2_IOMMU,
};

FIXTURE_VARIANT_ADD(rvfio_unplug, iommufd) {
	.iommu_mode = MODE_IOMMUFD,
};

#define SELF FIXTURE_DATA(rvfio_unplug)

static bool present(SELF *self)
{
	return !access(self->sysfs, F_OK);
}

/* Waits up to @ms for the function to leave sysfs; the time it took, or -1. */
static long long wait_gone(SELF *self, int ms)
{
	struct timespec start;
	long long t;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		t = rvfio_elapsed_ms(&start);
		if (!present(self))
			return t;
		if (t >= ms)
			return -1;
		usleep(20000);
	}
}

/* Handlers of VFIO drivers for this device in /proc/interrupts ("vfio-...(BDF)"). */
static int vfio_irq_actions(void)
{
	char suffix[32], line[4096], *p, *end;
	size_t len;
	int count = 0;
	FILE *f;

	snprintf_assert(suffix, sizeof(suffix), "(%s)", device_bdf);
	len = strlen(suffix);
	f = fopen("/proc/interrupts", "re");
	VFIO_ASSERT_NOT_NULL(f);
	while (fgets(line, sizeof(line), f)) {
		for (p = line; (p = strstr(p, "vfio-")); p = end) {
			end = p + strcspn(p, ",\n ");
			if (end - p > (ptrdiff_t)len && !strncmp(end - len, suffix, len))
				count++;
		}
	}
	fclose(f);
	return count;
}

static int cfg_read(SELF *self, int pos, void *val, size_t size)
{
	return rvfio_pread(self->fd, val, size, self->cfg + pos) == (long)size ? 0 : -EIO;
}

static __u16 cfg_read16(SELF *self, int pos)
{
	__u16 v = 0xffff;

	VFIO_ASSERT_EQ(0, cfg_read(self, pos, &v, 2), "config read at %#x\n", pos);
	return v;
}

static __u8 cfg_read8(SELF *self, int pos)
{
	__u8 v = 0xff;

	VFIO_ASSERT_EQ(0, cfg_read(self, pos, &v, 1), "config read at %#x\n", pos);
	return v;
}

static __u32 cfg_read32(SELF *self, int pos)
{
	__u32 v = ~0u;

	VFIO_ASSERT_EQ(0, cfg_read(self, pos, &v, 4), "config read at %#x\n", pos);
	return v;
}

/* The BARs holding the MSI-X table and PBA, as a mask of BAR indexes (0: no MSI-X). */
static unsigned int msix_bars(SELF *self)
{
	int pos, n;

	if (!(cfg_read16(self, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg_read8(self, PCI_CAPABILITY_LIST) & ~3;
	for (n = 0; pos >= PCI_STD_HEADER_SIZEOF && n < 48; n++) {
		if (cfg_read8(self, pos + PCI_CAP_LIST_ID) == PCI_CAP_ID_MSIX)
			return 1u << (cfg_read32(self, pos + PCI_MSIX_TABLE) & PCI_MSIX_TABLE_BIR) |
			       1u << (cfg_read32(self, pos + PCI_MSIX_PBA) & PCI_MSIX_PBA_BIR);
		pos = cfg_read8(self, pos + PCI_CAP_LIST_NEXT) & ~3;
	}
	return 0;
}

/* The first BAR that can be mapped and holds no MSI-X structure, in self->bar. */
static bool bar_find(SELF *self)
{
	unsigned int avoid = msix_bars(self);
	int i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		memset(&self->bar, 0, sizeof(self->bar));
		self->bar.argsz = sizeof(self->bar);
		self->bar.index = i;
		if (rvfio_ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &self->bar))
			continue;
		if ((self->bar.flags & VFIO_REGION_INFO_FLAG_MMAP) && self->bar.size &&
		    !(avoid & (1u << i)))
			return true;
	}
	return false;
}

/* Reads the first dwords of the BAR through the region; 0 or -errno. */
static int bar_pread(SELF *self, int i, __u32 *v)
{
	long n = rvfio_pread(self->fd, v, 4, self->bar.offset + 4 * i);

	return n == 4 ? 0 : n < 0 ? n : -EIO;
}

/* Maps the BAR and records what the mapping and the region read agree on. */
static void bar_map(SELF *self)
{
	__u32 v;
	int i;

	self->map = mmap(NULL, self->bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
			 self->bar.offset);
	VFIO_ASSERT_NE(self->map, MAP_FAILED, "mmap of BAR%u: %s\n", self->bar.index,
		       strerror(errno));
	self->ndw = self->bar.size / 4 < BAR_DWORDS ? self->bar.size / 4 : BAR_DWORDS;
	for (i = 0; i < self->ndw; i++) {
		self->seen[i] = READ_ONCE(self->map[i]);
		VFIO_ASSERT_EQ(0, bar_pread(self, i, &v));
		VFIO_ASSERT_EQ(self->seen[i], v, "BAR%u dword %d\n", self->bar.index, i);
	}
}

static void bar_unmap(SELF *self)
{
	if (!self->map)
		return;
	VFIO_ASSERT_EQ(0, munmap(self->map, self->bar.size));
	self->map = NULL;
}

static void dev_close(SELF *self)
{
	if (!self->device)
		return;
	rvfio_close(self->device);
	self->device = NULL;
	self->fd = -1;
}

/* Eventfds on every vector of @index, which must all signal on a loopback trigger. */
static void irq_enable(SELF *self, __u32 index)
{
	int i;

	self->index = index;
	self->nvec = self->irq[index].count;
	self->vec = calloc_assert(self->nvec, sizeof(*self->vec));
	for (i = 0; i < self->nvec; i++) {
		self->vec[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		VFIO_ASSERT_GE(self->vec[i], 0);
	}
	VFIO_ASSERT_EQ(0, rvfio_irq_set(self->fd, index, TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 0,
					self->nvec, self->vec));
}

/* Fires every enabled vector through VFIO_IRQ_SET_DATA_NONE; each eventfd must count one. */
static int irq_loopback(SELF *self)
{
	int i, ret;

	ret = rvfio_irq_set(self->fd, self->index, TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0,
			    self->nvec, NULL);
	if (ret)
		return ret;
	for (i = 0; i < self->nvec; i++)
		if (rvfio_efd_wait(self->vec[i], SIGNAL_MS) != 1)
			return -ETIMEDOUT;
	return 0;
}

/* Runs @cmd with no file of ours open in it (an inherited device file would block the removal). */
static int run_command(const char *cmd)
{
	struct timespec start;
	int status, fd;
	pid_t pid, ret;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
#ifdef __NR_close_range
		if (syscall(__NR_close_range, 3, ~0u, 0))
#endif
			for (fd = 3; fd < 65536; fd++)
				close(fd);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (rvfio_elapsed_ms(&start) >= COMMAND_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
}

/* open() of @path: 0 if it opened (and is closed again), else -errno. */
static int try_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

FIXTURE_SETUP(rvfio_unplug)
{
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	__u16 cmd;
	int i;

	self->fd = -1;
	self->req = -1;
	if (!unplug_cmd)
		SKIP(return, "no unplug command (-u)");
	snprintf_assert(self->sysfs, sizeof(self->sysfs), "/sys/bus/pci/devices/%s", device_bdf);
	ASSERT_TRUE(present(self)) TH_LOG("%s is not present", device_bdf);
	snprintf_assert(self->group_path, sizeof(self->group_path), "/dev/vfio/%d",
			sysfs_iommu_group_get(device_bdf));
	self->cdev_path = vfio_pci_get_cdev_path(device_bdf);

	self->iommu = iommu_init(variant->iommu_mode);
	self->device = rvfio_open(device_bdf, self->iommu);
	self->fd = self->device->fd;
	ASSERT_EQ(0, rvfio_ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	self->cfg = cfg.offset;
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		self->irq[i].argsz = sizeof(self->irq[i]);
		self->irq[i].index = i;
		ASSERT_EQ(0, rvfio_ioctl(self->fd, VFIO_DEVICE_GET_IRQ_INFO, &self->irq[i]));
	}
	self->vendor = cfg_read16(self, PCI_VENDOR_ID);
	self->device_id = cfg_read16(self, PCI_DEVICE_ID);
	ASSERT_NE(0xffff, self->vendor);

	/* Memory decode on, for the mapping. */
	cmd = cfg_read16(self, PCI_COMMAND) | PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(self->fd, &cmd, 2, self->cfg + PCI_COMMAND));
	ASSERT_TRUE(cfg_read16(self, PCI_COMMAND) & PCI_COMMAND_MEMORY);

	ASSERT_EQ(1, self->irq[REQ].count) TH_LOG("no device request index");
	ASSERT_TRUE(self->irq[REQ].flags & VFIO_IRQ_INFO_EVENTFD);
	self->req = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(self->req, 0);
	ASSERT_EQ(0, rvfio_irq_set(self->fd, REQ, TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 0, 1,
				   &self->req));

	/* Interrupts live at the removal: MSI-X if there is any, else MSI, else INTx. */
	if (self->irq[MSIX].count)
		irq_enable(self, MSIX);
	else if (self->irq[MSI].count)
		irq_enable(self, MSI);
	else if (self->irq[INTX].count)
		irq_enable(self, INTX);
	if (self->nvec) {
		ASSERT_EQ(0, irq_loopback(self));
		if (self->index != INTX)
			ASSERT_EQ(self->nvec, vfio_irq_actions());
	}

	ASSERT_TRUE(bar_find(self)) TH_LOG("no BAR to map");
	bar_map(self);
	TH_LOG("%s %04x:%04x: %d vector(s) on index %u, BAR%u (%llu bytes) mapped", device_bdf,
	       self->vendor, self->device_id, self->nvec, self->index, self->bar.index,
	       (unsigned long long)self->bar.size);
	ASSERT_EQ(0, rvfio_efd_take(self->req));
}

FIXTURE_TEARDOWN(rvfio_unplug)
{
	int i;

	bar_unmap(self);
	dev_close(self);
	if (self->iommu)
		iommu_cleanup(self->iommu);
	/* Let a removal under way finish, for whoever plugs the device back. */
	if (self->unplugged && wait_gone(self, GONE_MS) < 0)
		printf("# %s still present after the test\n", device_bdf);
	for (i = 0; i < self->nvec; i++)
		close(self->vec[i]);
	free(self->vec);
	if (self->req >= 0)
		close(self->req);
	free((void *)self->cdev_path);
}

/*
 * Unplugs the device and waits for the REQ signal, whose time goes to
 * @req_at; then checks that the device still works while the removal waits,
 * and that new opens are refused.
 */
static void unplug_and_check(struct __test_metadata *_metadata, SELF *self,
			     struct timespec *req_at)
{
	struct timespec start;
	long long t;
	__u64 n;
	int i, fd, err;
	__u32 v, id;
	__u16 cmd;

	clock_gettime(CLOCK_MONOTONIC, &start);
	self->unplugged = true;
	ASSERT_EQ(0, run_command(unplug_cmd)) TH_LOG("unplug command: %s", unplug_cmd);
	n = rvfio_efd_wait(self->req, REQ_MS);
	t = rvfio_elapsed_ms(&start);
	ASSERT_EQ(1, n) TH_LOG("REQ: %llu signals within %d ms of the unplug",
			       (unsigned long long)n, REQ_MS);
	clock_gettime(CLOCK_MONOTONIC, req_at);
	TH_LOG("REQ %lld ms after the unplug command", t);

	/* The removal waits in the driver: the function is still there and works. */
	ASSERT_TRUE(present(self));
	ASSERT_EQ(0, cfg_read(self, PCI_VENDOR_ID, &id, 4));
	ASSERT_EQ(self->vendor | (__u32)self->device_id << 16, id);
	ASSERT_EQ(0, cfg_read(self, PCI_COMMAND, &cmd, 2));
	ASSERT_TRUE(cmd & PCI_COMMAND_MEMORY);
	for (i = 0; i < self->ndw; i++) {
		ASSERT_EQ(self->seen[i], READ_ONCE(self->map[i]))
			TH_LOG("BAR%u dword %d through the mapping", self->bar.index, i);
		ASSERT_EQ(0, bar_pread(self, i, &v));
		ASSERT_EQ(self->seen[i], v) TH_LOG("BAR%u dword %d", self->bar.index, i);
	}
	if (self->nvec) {
		ASSERT_EQ(0, irq_loopback(self));
		if (self->index != INTX)
			ASSERT_EQ(self->nvec, vfio_irq_actions());
	}

	/* No new user: the device has left its group, and its cdev is gone. */
	if (self->iommu->mode->container_path) {
		fd = ioctl(self->device->group_fd, VFIO_GROUP_GET_DEVICE_FD, device_bdf);
		err = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		ASSERT_EQ(ENODEV, err) TH_LOG("VFIO_GROUP_GET_DEVICE_FD during the removal");
	}
	ASSERT_EQ(-ENOENT, try_open(self->cdev_path));
	ASSERT_EQ(0, rvfio_efd_take(self->req));
}

/* After the release: the function is gone, with its interrupts and device nodes. */
static void check_gone(struct __test_metadata *_metadata, SELF *self)
{
	long long t = wait_gone(self, GONE_MS);

	ASSERT_LE(0, t) TH_LOG("%s still present %d ms after the release", device_bdf, GONE_MS);
	TH_LOG("gone from sysfs %lld ms after the release", t);
	ASSERT_EQ(0, vfio_irq_actions());
	ASSERT_EQ(-ENOENT, try_open(self->group_path)) TH_LOG("%s", self->group_path);
	ASSERT_EQ(-ENOENT, try_open(self->cdev_path)) TH_LOG("%s", self->cdev_path);
}

/*
 * Unplugged while open: REQ, then REQ again some ten seconds later while the
 * device stays open and working; munmap and close let the removal finish.
 */
TEST_F_TIMEOUT(rvfio_unplug, release_after_req, 120)
{
	struct timespec req_at;
	long long t;
	__u16 id;
	__u64 n;

	unplug_and_check(_metadata, self, &req_at);

	t = REPEAT_MS - rvfio_elapsed_ms(&req_at);
	n = rvfio_efd_wait(self->req, t > 0 ? t : 0);
	t = rvfio_elapsed_ms(&req_at);
	ASSERT_EQ(1, n) TH_LOG("REQ repeated %llu times within %d ms of the first",
			       (unsigned long long)n, REPEAT_MS);
	TH_LOG("REQ repeated %lld ms after the first", t);
	ASSERT_LE(REPEAT_MIN_MS, t);
	ASSERT_TRUE(present(self));
	ASSERT_EQ(0, cfg_read(self, PCI_VENDOR_ID, &id, 2));
	ASSERT_EQ(self->vendor, id);

	bar_unmap(self);
	ASSERT_TRUE(present(self));
	dev_close(self);
	iommu_cleanup(self->iommu);
	self->iommu = NULL;
	check_gone(_metadata, self);
}

/*
 * Every file closed after the REQ but the BAR still mapped: the mapping holds
 * the device file, so the removal keeps waiting and the mapping keeps working;
 * munmap lets it finish.
 */
TEST_F_TIMEOUT(rvfio_unplug, mmap_outlives_close, 120)
{
	struct timespec req_at;
	int i;

	unplug_and_check(_metadata, self, &req_at);

	dev_close(self);
	iommu_cleanup(self->iommu);
	self->iommu = NULL;
	usleep(HOLD_MS * 1000);
	ASSERT_TRUE(present(self)) TH_LOG("removed while the BAR was still mapped");
	for (i = 0; i < self->ndw; i++)
		ASSERT_EQ(self->seen[i], READ_ONCE(self->map[i]))
			TH_LOG("BAR%u dword %d after the close", self->bar.index, i);
	bar_unmap(self);
	check_gone(_metadata, self);
}

int main(int argc, char *argv[])
{
	int i, j;

	/* -u COMMAND is ours; the harness and the BDF parser get the rest. */
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "-u"))
			continue;
		unplug_cmd = argv[i + 1];
		for (j = i; j + 2 <= argc; j++)
			argv[j] = argv[j + 2];
		argc -= 2;
		break;
	}
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
