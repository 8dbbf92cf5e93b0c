// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a VFIO PCI bus driver releases when user space lets go of a device:
 *
 *  - interrupts left enabled at close (MSI-X and MSI with every vector, INTx
 *    masked with an unmask eventfd attached) are torn down: their handlers
 *    leave /proc/interrupts, and the next open starts with no interrupt type,
 *    so enabling any index works again and signals only the new eventfds;
 *  - the ERR and REQ eventfds are dropped at close;
 *  - unbinding the driver while the device is open signals the REQ eventfd
 *    and waits for the close; the device is then rebound to its driver.
 *
 * Every assertion holds for any correct VFIO PCI bus driver; the device is
 * opened through iommufd, and every wait is bounded.
 *
 * Usage: rvfio_teardown_test [harness options] SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_irqs.h"
#include "rvfio_open.h"

/* Longest wait for an eventfd signal that must come. */
#define SIGNAL_MS	3000
/* How long a signal that must not come is waited for. */
#define QUIET_MS	200
/* Longest wait for the REQ eventfd once the unbind has started. */
#define REQ_MS		10000
/* Longest wait for the unbind to finish once the device is closed. */
#define UNBIND_MS	10000

#define INTX	VFIO_PCI_INTX_IRQ_INDEX
#define MSI	VFIO_PCI_MSI_IRQ_INDEX
#define MSIX	VFIO_PCI_MSIX_IRQ_INDEX
#define ERR	VFIO_PCI_ERR_IRQ_INDEX
#define REQ	VFIO_PCI_REQ_IRQ_INDEX

#define TRIGGER	VFIO_IRQ_SET_ACTION_TRIGGER
#define MASK	VFIO_IRQ_SET_ACTION_MASK
#define UNMASK	VFIO_IRQ_SET_ACTION_UNMASK

/* QEMU's edu device raises INTx on request. */
#define QEMU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

static const char *device_bdf;

FIXTURE(rvfio_teardown) {
	struct iommu *iommu;
	/* NULL while the device is closed. */
	struct vfio_pci_device *device;
	int fd;
	__u16 vendor;
	__u16 device_id;
	unsigned long long cfg;
	struct vfio_region_info bar0;
	struct vfio_irq_info irq[VFIO_PCI_NUM_IRQS];
	/* Every eventfd made, closed at teardown. */
	int *efd;
	int nefd;
	/* The driver the device was bound to at setup. */
	char driver[NAME_MAX + 1];
	/* The unbinding child, while it may run. */
	pid_t child;
};

#define SELF FIXTURE_DATA(rvfio_teardown)

/* sysfs. */

/* The driver @bdf is bound to, in @buf ("" if none). */
static void driver_get(char *buf, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", device_bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		buf[0] = 0;
		return;
	}
	link[n] = 0;
	snprintf_assert(buf, size, "%s", basename(link));
}

/* Writes @s to @path; 0 or -errno. */
static int sysfs_write(const char *path, const char *s)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? n : n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/*
 * Binds the device to @driver again: through drivers_probe, which follows the
 * driver_override the test scripts set, or else the driver's bind file.
 */
static bool rebind(const char *driver)
{
	char path[PATH_MAX], now[NAME_MAX + 1];

	sysfs_write("/sys/bus/pci/drivers_probe", device_bdf);
	driver_get(now, sizeof(now));
	if (!now[0]) {
		snprintf_assert(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", driver);
		sysfs_write(path, device_bdf);
		driver_get(now, sizeof(now));
	}
	return !strcmp(now, driver);
}

/*
 * The interrupt handlers of VFIO drivers for this device in /proc/interrupts:
 * actions named "vfio-...(BDF)". Prints them when @show.
 */
static int vfio_irq_actions(bool show)
{
	char suffix[64], *buf, *p, *end;
	size_t size = 0, cap = 65536, len = strlen(device_bdf) + 2;
	ssize_t n;
	int fd, count = 0;

	snprintf_assert(suffix, sizeof(suffix), "(%s)", device_bdf);
	buf = malloc_assert(cap + 1);
	fd = open("/proc/interrupts", O_RDONLY | O_CLOEXEC);
	VFIO_ASSERT_GE(fd, 0);
	while ((n = read(fd, buf + size, cap - size)) > 0) {
		size += n;
		if (size == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			VFIO_ASSERT_NOT_NULL(buf);
		}
	}
	VFIO_ASSERT_EQ(n, 0);
	close(fd);
	buf[size] = 0;

	/* Action names follow the counts, separated by ", ". */
	for (p = buf; (p = strstr(p, "vfio-")); p = end) {
		end = p + strcspn(p, ",\n ");
		if (end - p >= (ptrdiff_t)len && !strncmp(end - len, suffix, len)) {
			count++;
			if (show)
				printf("# still in /proc/interrupts: %.*s\n", (int)(end - p), p);
		}
	}
	free(buf);
	return count;
}

/* Configuration space and BAR0 through the VFIO regions. */

static void cfg_access(SELF *self, bool write, int pos, void *val, size_t size)
{
	ssize_t n;

	if (write)
		n = pwrite(self->fd, val, size, self->cfg + pos);
	else
		n = pread(self->fd, val, size, self->cfg + pos);
	VFIO_ASSERT_EQ(n, (ssize_t)size, "config %s at %#x\n", write ? "write" : "read", pos);
}

static __u16 cfg_read16(SELF *self, int pos)
{
	__u16 v;

	cfg_access(self, false, pos, &v, 2);
	return v;
}

static void command_set(SELF *self, __u16 set, __u16 clear)
{
	__u16 cmd = cfg_read16(self, PCI_COMMAND);

	cmd = (cmd & ~clear) | set;
	cfg_access(self, true, PCI_COMMAND, &cmd, 2);
}

static void bar0_write32(SELF *self, __u64 off, __u32 v)
{
	VFIO_ASSERT_LE(off + 4, self->bar0.size);
	VFIO_ASSERT_EQ(pwrite(self->fd, &v, 4, self->bar0.offset + off), 4);
}

static bool is_edu(SELF *self)
{
	return self->vendor == QEMU_VENDOR && self->device_id == EDU_DEVICE;
}

/* Opens the device (iommufd), reads its regions and interrupt indexes. */
static void dev_open(SELF *self)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	int i;

	VFIO_ASSERT_NULL(self->device);
	self->device = rvfio_open(device_bdf, self->iommu);
	self->fd = self->device->fd;
	VFIO_ASSERT_EQ(0, rvfio_ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &info));
	self->cfg = info.offset;
	self->bar0.argsz = sizeof(self->bar0);
	self->bar0.index = VFIO_PCI_BAR0_REGION_INDEX;
	VFIO_ASSERT_EQ(0, rvfio_ioctl(self->fd, VFIO_DEVICE_GET_REGION_INFO, &self->bar0));
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		self->irq[i].argsz = sizeof(self->irq[i]);
		self->irq[i].index = i;
		VFIO_ASSERT_EQ(0, rvfio_ioctl(self->fd, VFIO_DEVICE_GET_IRQ_INFO, &self->irq[i]));
	}
	self->vendor = cfg_read16(self, PCI_VENDOR_ID);
	self->device_id = cfg_read16(self, PCI_DEVICE_ID);
	/* Memory decode on, no DMA, INTx not disabled by the virtual COMMAND bit. */
	command_set(self, PCI_COMMAND_MEMORY, PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	if (is_edu(self))
		bar0_write32(self, EDU_IRQ_ACK, ~0u);
}

/* Closes the device as it is: whatever interrupts are enabled stay enabled. */
static void dev_close(SELF *self)
{
	rvfio_close(self->device);
	self->device = NULL;
	self->fd = -1;
}

/* Eventfds. */

static int new_efd(SELF *self)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	VFIO_ASSERT_GE(efd, 0);
	self->efd = realloc(self->efd, (self->nefd + 1) * sizeof(*self->efd));
	VFIO_ASSERT_NOT_NULL(self->efd);
	self->efd[self->nefd++] = efd;
	return efd;
}

static void efd_write(int efd)
{
	__u64 one = 1;

	VFIO_ASSERT_EQ(write(efd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

/* VFIO_DEVICE_SET_IRQS; 0 or -errno. */
static int irq_set(SELF *self, __u32 index, __u32 flags, __u32 start, __u32 count,
		   const void *data)
{
	return rvfio_irq_set(self->fd, index, flags, start, count, data);
}

static int irq_set_fds(SELF *self, __u32 index, __u32 count, const int *fds)
{
	return irq_set(self, index, TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 0, count, fds);
}

static int irq_set_fd(SELF *self, __u32 index, int fd)
{
	return irq_set_fds(self, index, 1, &fd);
}

static int irq_none(SELF *self, __u32 index, __u32 action, __u32 count)
{
	return irq_set(self, index, action | VFIO_IRQ_SET_DATA_NONE, 0, count, NULL);
}

static int irq_disable(SELF *self, __u32 index)
{
	return irq_none(self, index, TRIGGER, 0);
}

/* @n fresh eventfds in @efd, all of @index's vectors' triggers. */
static int irq_enable_all(SELF *self, __u32 index, int *efd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		efd[i] = new_efd(self);
	return irq_set_fds(self, index, n, efd);
}

/* Waits for the child, up to @ms; true once reaped, with its @status. */
static bool reap(pid_t pid, int ms, int *status)
{
	struct timespec start;
	pid_t ret;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		ret = waitpid(pid, status, WNOHANG);
		if (ret == pid)
			return true;
		if (ret < 0 && errno != EINTR)
			return false;
		if (rvfio_elapsed_ms(&start) >= ms)
			return false;
		usleep(10000);
	}
}

FIXTURE_SETUP(rvfio_teardown)
{
	driver_get(self->driver, sizeof(self->driver));
	ASSERT_NE(0, self->driver[0]) TH_LOG("%s is bound to no driver", device_bdf);
	self->iommu = iommu_init(MODE_IOMMUFD);
	self->device = NULL;
	dev_open(self);
}

FIXTURE_TEARDOWN(rvfio_teardown)
{
	char now[NAME_MAX + 1];
	int status, i;

	if (self->device) {
		if (is_edu(self))
			bar0_write32(self, EDU_IRQ_ACK, ~0u);
		dev_close(self);
	}
	/* The device is closed: an unbind still running can finish. */
	if (self->child > 0) {
		if (!reap(self->child, UNBIND_MS, &status)) {
			kill(self->child, SIGKILL);
			reap(self->child, 1000, &status);
		}
		self->child = 0;
	}
	driver_get(now, sizeof(now));
	if (self->driver[0] && strcmp(now, self->driver) && !rebind(self->driver))
		printf("# %s could not be bound to %s again\n", device_bdf, self->driver);
	iommu_cleanup(self->iommu);
	for (i = 0; i < self->nefd; i++)
		close(self->efd[i]);
	free(self->efd);
}

/*
 * MSI or MSI-X enabled with every vector, and the ERR and REQ eventfds set,
 * when the device is closed. The close frees the vectors and drops the
 * eventfds; after reopening, INTx can be enabled (no stale interrupt type),
 * and the index again, its loopback signalling only the new eventfds.
 */
static void close_msi_enabled(struct __test_metadata *_metadata, SELF *self, __u32 index)
{
	int n = self->irq[index].count, *old, *new, err = -1, req = -1, efd, i;

	ASSERT_TRUE(self->irq[index].flags & VFIO_IRQ_INFO_EVENTFD);
	old = calloc_assert(n, sizeof(*old));
	new = calloc_assert(n, sizeof(*new));

	ASSERT_EQ(0, irq_enable_all(self, index, old, n));
	ASSERT_EQ(n, vfio_irq_actions(false));
	ASSERT_EQ(0, irq_none(self, index, TRIGGER, n));
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, rvfio_efd_take(old[i])) TH_LOG("vector %d", i);
	if (self->irq[ERR].count) {
		err = new_efd(self);
		ASSERT_EQ(0, irq_set_fd(self, ERR, err));
	}
	if (self->irq[REQ].count) {
		req = new_efd(self);
		ASSERT_EQ(0, irq_set_fd(self, REQ, req));
	}

	dev_close(self);
	ASSERT_EQ(0, vfio_irq_actions(true));

	dev_open(self);
	ASSERT_EQ(0, vfio_irq_actions(true));
	/* Nothing is enabled: INTx, another type, can be. */
	if (self->irq[INTX].count) {
		efd = new_efd(self);
		ASSERT_EQ(0, irq_set_fd(self, INTX, efd));
		ASSERT_EQ(0, irq_none(self, INTX, TRIGGER, 1));
		ASSERT_EQ(1, rvfio_efd_take(efd));
		ASSERT_EQ(0, irq_disable(self, INTX));
	}
	/* The ERR and REQ eventfds are gone: loopback has nothing to signal. */
	if (self->irq[ERR].count) {
		ASSERT_EQ(-EINVAL, irq_none(self, ERR, TRIGGER, 1));
		ASSERT_EQ(0, rvfio_efd_take(err));
	}
	if (self->irq[REQ].count) {
		ASSERT_EQ(-EINVAL, irq_none(self, REQ, TRIGGER, 1));
		ASSERT_EQ(0, rvfio_efd_take(req));
	}

	ASSERT_EQ(0, irq_enable_all(self, index, new, n));
	ASSERT_EQ(n, vfio_irq_actions(false));
	ASSERT_EQ(0, irq_none(self, index, TRIGGER, n));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(1, rvfio_efd_take(new[i])) TH_LOG("vector %d", i);
		ASSERT_EQ(0, rvfio_efd_take(old[i])) TH_LOG("vector %d", i);
	}
	ASSERT_EQ(0, irq_disable(self, index));
	ASSERT_EQ(0, vfio_irq_actions(true));
	free(old);
	free(new);
}

TEST_F_TIMEOUT(rvfio_teardown, close_msix_enabled, 120)
{
	if (!self->irq[MSIX].count)
		SKIP(return, "no MSI-X capability");
	close_msi_enabled(_metadata, self, MSIX);
}

TEST_F_TIMEOUT(rvfio_teardown, close_msi_enabled, 120)
{
	if (!self->irq[MSI].count)
		SKIP(return, "no MSI capability");
	close_msi_enabled(_metadata, self, MSI);
}

/*
 * INTx enabled and masked (automasked by a real interrupt on edu, by MASK
 * elsewhere) with an unmask eventfd attached, when the device is closed. The
 * close frees the line and detaches the unmask eventfd; after reopening,
 * INTx can be enabled again and signals only the new eventfd, and the old
 * unmask eventfd unmasks nothing.
 */
TEST_F_TIMEOUT(rvfio_teardown, close_intx_masked, 120)
{
	int trig, unmask, trig2, unmask2, efd;

	if (!self->irq[INTX].count)
		SKIP(return, "no INTx pin");
	ASSERT_TRUE(self->irq[INTX].flags & VFIO_IRQ_INFO_MASKABLE);
	trig = new_efd(self);
	unmask = new_efd(self);
	ASSERT_EQ(0, irq_set_fd(self, INTX, trig));
	ASSERT_EQ(1, vfio_irq_actions(false));
	ASSERT_EQ(0, irq_set(self, INTX, UNMASK | VFIO_IRQ_SET_DATA_EVENTFD, 0, 1, &unmask));
	if (is_edu(self)) {
		bar0_write32(self, EDU_IRQ_RAISE, 1);
		ASSERT_EQ(1, rvfio_efd_wait(trig, SIGNAL_MS));
		/* Automasked; the line is let go so that nothing asserts it after close. */
		bar0_write32(self, EDU_IRQ_ACK, 1);
	} else {
		ASSERT_EQ(0, irq_none(self, INTX, TRIGGER, 1));
		ASSERT_EQ(1, rvfio_efd_take(trig));
	}
	ASSERT_EQ(0, irq_none(self, INTX, MASK, 1));

	dev_close(self);
	ASSERT_EQ(0, vfio_irq_actions(true));
	/* The unmask eventfd is no longer attached to anything. */
	efd_write(unmask);
	ASSERT_EQ(0, rvfio_efd_wait(trig, QUIET_MS));

	dev_open(self);
	ASSERT_EQ(0, vfio_irq_actions(true));
	/* Nothing is enabled: MSI-X or MSI, another type, can be. */
	if (self->irq[MSIX].count || self->irq[MSI].count) {
		__u32 index = self->irq[MSIX].count ? MSIX : MSI;

		efd = new_efd(self);
		ASSERT_EQ(0, irq_set_fd(self, index, efd));
		ASSERT_EQ(0, irq_none(self, index, TRIGGER, 1));
		ASSERT_EQ(1, rvfio_efd_take(efd));
		ASSERT_EQ(0, irq_disable(self, index));
		ASSERT_EQ(0, vfio_irq_actions(true));
	}

	trig2 = new_efd(self);
	unmask2 = new_efd(self);
	ASSERT_EQ(0, irq_set_fd(self, INTX, trig2));
	ASSERT_EQ(1, vfio_irq_actions(false));
	ASSERT_EQ(0, irq_none(self, INTX, TRIGGER, 1));
	ASSERT_EQ(1, rvfio_efd_take(trig2));
	ASSERT_EQ(0, rvfio_efd_take(trig));
	ASSERT_EQ(0, irq_set(self, INTX, UNMASK | VFIO_IRQ_SET_DATA_EVENTFD, 0, 1, &unmask2));
	if (is_edu(self)) {
		/* Automasked with the line asserted: only the new unmask eventfd unmasks. */
		bar0_write32(self, EDU_IRQ_RAISE, 1);
		ASSERT_EQ(1, rvfio_efd_wait(trig2, SIGNAL_MS));
		efd_write(unmask);
		ASSERT_EQ(0, rvfio_efd_wait(trig2, QUIET_MS));
		efd_write(unmask2);
		ASSERT_EQ(1, rvfio_efd_wait(trig2, SIGNAL_MS));
		bar0_write32(self, EDU_IRQ_ACK, 1);
		efd_write(unmask2);
		ASSERT_EQ(0, rvfio_efd_wait(trig2, QUIET_MS));
		ASSERT_EQ(0, rvfio_efd_take(trig));
	}
	ASSERT_EQ(0, irq_disable(self, INTX));
	ASSERT_EQ(0, vfio_irq_actions(true));
}

/*
 * Unbinding the driver while the device is open, with the REQ eventfd set and
 * interrupts enabled: the unbind signals REQ and waits; closing the device
 * lets it finish and frees the interrupts. The device is then bound to its
 * driver again and opens as before.
 */
TEST_F_TIMEOUT(rvfio_teardown, req_on_unbind, 120)
{
	char path[PATH_MAX], now[NAME_MAX + 1];
	int req, status, n = 0, *efd = NULL;
	__u32 index = INTX;
	__u64 signals;
	pid_t done;

	if (!self->irq[REQ].count)
		SKIP(return, "no device request index");
	ASSERT_TRUE(self->irq[REQ].flags & VFIO_IRQ_INFO_EVENTFD);
	req = new_efd(self);
	ASSERT_EQ(0, irq_set_fd(self, REQ, req));
	ASSERT_EQ(0, rvfio_efd_take(req));

	/* Some interrupts enabled, for the driver's removal to tear down. */
	if (self->irq[MSIX].count)
		index = MSIX;
	else if (self->irq[MSI].count)
		index = MSI;
	n = self->irq[index].count;
	if (n) {
		efd = calloc_assert(n, sizeof(*efd));
		ASSERT_EQ(0, irq_enable_all(self, index, efd, n));
		ASSERT_EQ(n, vfio_irq_actions(false));
	}

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", self->driver);
	self->child = fork();
	ASSERT_GE(self->child, 0);
	if (!self->child) {
		/* Holding no reference to the device, which would block the unbind forever. */
#ifdef __NR_close_range
		if (syscall(__NR_close_range, 3, ~0u, 0))
#endif
		{
			int fd, max = sysconf(_SC_OPEN_MAX);

			for (fd = 3; fd < max && fd < 65536; fd++)
				close(fd);
		}
		_exit(sysfs_write(path, device_bdf) ? 1 : 0);
	}

	signals = rvfio_efd_wait(req, REQ_MS);
	ASSERT_LE(1, signals) TH_LOG("no REQ within %d ms of the unbind", REQ_MS);
	/* The unbind waits for the close. */
	usleep(QUIET_MS * 1000);
	done = waitpid(self->child, &status, WNOHANG);
	if (done == self->child)
		self->child = 0;
	ASSERT_EQ(0, done) TH_LOG("the unbind finished with the device open");

	dev_close(self);
	ASSERT_TRUE(reap(self->child, UNBIND_MS, &status))
		TH_LOG("the unbind did not finish within %d ms of the close", UNBIND_MS);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("writing %s failed", path);
	driver_get(now, sizeof(now));
	ASSERT_STREQ("", now);
	ASSERT_EQ(0, vfio_irq_actions(true));

	ASSERT_TRUE(rebind(self->driver));
	/* Opens as before, with no REQ eventfd. */
	dev_open(self);
	ASSERT_EQ(-EINVAL, irq_none(self, REQ, TRIGGER, 1));
	ASSERT_EQ(0, irq_set_fd(self, REQ, req));
	ASSERT_EQ(0, irq_none(self, REQ, TRIGGER, 1));
	ASSERT_EQ(1, rvfio_efd_take(req));
	free(efd);
}

int main(int argc, char *argv[])
{
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
