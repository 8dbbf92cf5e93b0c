// SPDX-License-Identifier: GPL-2.0-only
/*
 * SR-IOV under a VFIO PCI bus driver, beyond the VF token handshake at open
 * that vfio_pci_sriov_uapi_test covers:
 *  - a VF created through sriov_numvfs is bound to the driver of its PF;
 *  - while a VF is open the PF opens only with the VF token; while none is,
 *    opening the PF with a token replaces it; a VF counts once however many
 *    files it has open, and a refused open does not count;
 *  - VFIO_DEVICE_FEATURE_PCI_VF_TOKEN is SET-only and exists on a PF only;
 *    other feature numbers, and the low-power features on a PF and a VF;
 *  - the options of the device name given to VFIO_GROUP_GET_DEVICE_FD;
 *  - a PF with VFs stays in D0 whatever its user writes to PMCSR;
 *  - removing the VFs (PF removal or unbind, sriov_numvfs 0) while a VF is
 *    open asks the VF's user for it (REQ) and waits for the close; the PF's
 *    own REQ comes only once its VFs are gone;
 *  - a VF bound to another VFIO PCI driver than its PF takes no token;
 *  - a VF is a device set of its own: hot-reset INFO through the PF or the VF
 *    shows the other as not owned, and the bus reset is refused through both.
 *
 * sriov.sh binds PF (an SR-IOV PF with no VFs enabled: QEMU's igb, alone below
 * a root port without a hotplug slot, so that a bus reset covers it) and OTHER
 * (a function that is neither PF nor VF: QEMU's edu) to the driver under
 * test, with its SR-IOV support turned on, and loads the other VFIO PCI
 * driver: vfio-pci, or rvfio-pci when vfio-pci is tested (RVFIO_SRIOV_OTHER
 * names another). Every test creates one VF, and the teardown removes it.
 * Every assertion holds for vfio-pci, the reference, and so must for any VFIO
 * PCI bus driver meant to behave like it.
 *
 * Usage: rvfio_sriov_test [harness options] PF OTHER
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <uuid/uuid.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_hotreset.h"
#include "rvfio_irqs.h"
#include "rvfio_open.h"

#define TOKEN_A		"3d1f6e52-8c47-4b09-a2d5-7e6f01c9b3a8"
#define TOKEN_A_UPPER	"3D1F6E52-8C47-4B09-A2D5-7E6F01C9B3A8"
#define TOKEN_B		"c0a5e7d2-194b-4f63-8e0d-52b7a4f9186c"

/* Longest wait for a REQ signal that must come. */
#define REQ_MS		10000
/* How long an unbind that must wait, or a signal that must not come, is watched. */
#define QUIET_MS	300
/* Longest wait for an unbind or a VF removal to finish once nothing holds the device. */
#define DONE_MS		15000

#define FEATURE_HDR	sizeof(struct vfio_device_feature)
#define GET		VFIO_DEVICE_FEATURE_GET
#define SET		VFIO_DEVICE_FEATURE_SET
#define PROBE		VFIO_DEVICE_FEATURE_PROBE
#define VF_TOKEN	VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
#define LP_ENTRY	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY
#define LP_WAKEUP	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP
#define LP_EXIT		VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
#define MIGRATION	VFIO_DEVICE_FEATURE_MIGRATION
/* No feature has these numbers. */
#define NO_FEATURE	0x7fff
#define NO_FEATURE_MAX	0xffff

static const char *pf_bdf, *other_bdf;
/* The driver of the PF, under test, and another VFIO PCI driver. */
static char driver[NAME_MAX + 1];
static const char *other_driver;

/* sysfs. */

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

/* Writes @s to attribute @attr of device @bdf; 0 or -errno. */
static int dev_write(const char *bdf, const char *attr, const char *s)
{
	char path[PATH_MAX];

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return sysfs_write(path, s);
}

/* Writes @bdf to file @attr (bind, unbind) of driver @drv; 0 or -errno. */
static int drv_write(const char *drv, const char *attr, const char *bdf)
{
	char path[PATH_MAX];

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/drivers/%s/%s", drv, attr);
	return sysfs_write(path, bdf);
}

/* Reads attribute @attr of @bdf into @buf without the newline; false if it cannot. */
static bool dev_read(const char *bdf, const char *attr, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

/* The basename of symbolic link @link of @bdf in @buf, "" if there is none. */
static void dev_link(const char *bdf, const char *link, char *buf, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		buf[0] = 0;
		return;
	}
	target[n] = 0;
	snprintf_assert(buf, size, "%s", basename(target));
}

/* The driver @bdf is bound to, in @buf ("" if none). */
static void driver_get(const char *bdf, char *buf, size_t size)
{
	dev_link(bdf, "driver", buf, size);
}

static bool dev_exists(const char *bdf)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return !stat(path, &st);
}

static int numvfs_get(void)
{
	char buf[32];

	return dev_read(pf_bdf, "sriov_numvfs", buf, sizeof(buf)) ? atoi(buf) : -1;
}

static int numvfs_set(int n)
{
	char buf[16];

	snprintf_assert(buf, sizeof(buf), "%d", n);
	return dev_write(pf_bdf, "sriov_numvfs", buf);
}

/*
 * Binds unbound @bdf to @drv through driver_override, as the test scripts do
 * (a device found again by a rescan has none).
 */
static bool rebind(const char *bdf, const char *drv)
{
	char now[NAME_MAX + 1];

	dev_write(bdf, "driver_override", drv);
	sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	driver_get(bdf, now, sizeof(now));
	return !strcmp(now, drv);
}

/* Processes. */

/*
 * Forks a process that writes @s to @path, holding no file of the test (it
 * would keep a device it holds from going away); returns its pid.
 */
static pid_t start_writer(const char *path, const char *s)
{
	pid_t pid = fork();

	VFIO_ASSERT_GE(pid, 0);
	if (pid)
		return pid;
#ifdef __NR_close_range
	if (syscall(__NR_close_range, 3, ~0u, 0))
#endif
	{
		int fd, max = sysconf(_SC_OPEN_MAX);

		for (fd = 3; fd < max && fd < 65536; fd++)
			close(fd);
	}
	_exit(sysfs_write(path, s) ? 1 : 0);
}

/* Waits up to @ms for child @pid; true once reaped, with its @status. */
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

/* Whether @pid, not necessarily a child, still runs (a zombie does not). */
static bool running(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf_assert(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Device and group files. */

/* A device file and, on the group path, the group file it came from; -1 when closed. */
struct dev {
	int fd;
	int group;
};

/* Opens the IOMMU group file of @bdf and puts it in the container of @iommu. */
static int group_open(struct iommu *iommu, const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[32];
	int fd;

	snprintf_assert(path, sizeof(path), "/dev/vfio/%d", sysfs_iommu_group_get(bdf));
	fd = open(path, O_RDWR | O_CLOEXEC);
	VFIO_ASSERT_GE(fd, 0, "open(%s)\n", path);
	ioctl_assert(fd, VFIO_GROUP_GET_STATUS, &status);
	VFIO_ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	ioctl_assert(fd, VFIO_GROUP_SET_CONTAINER, &iommu->container_fd);
	/* Fails, harmlessly, when another group of the container set it already. */
	(void)ioctl(iommu->container_fd, VFIO_SET_IOMMU, (void *)iommu->mode->iommu_type);
	return fd;
}

/* VFIO_GROUP_GET_DEVICE_FD with device name @name: the device fd or -errno. */
static int group_get(int group, const char *name)
{
	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);

	return fd < 0 ? -errno : fd;
}

static void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		VFIO_ASSERT_EQ(close(d->fd), 0);
	if (d->group >= 0)
		VFIO_ASSERT_EQ(close(d->group), 0);
	d->fd = -1;
	d->group = -1;
}

/*
 * Opens @bdf the way @iommu works, with VF token @token (NULL: none): in the
 * device name on the group path ("BDF vf_token=UUID"), with
 * VFIO_DEVICE_BIND_FLAG_TOKEN on the cdev path. Returns 0 with @d open, or
 * -errno with @d closed.
 */
static int dev_open(struct iommu *iommu, const char *bdf, const char *token, struct dev *d)
{
	char name[128];
	int ret;

	d->fd = -1;
	d->group = -1;
	if (iommu->mode->container_path) {
		d->group = group_open(iommu, bdf);
		if (token)
			snprintf_assert(name, sizeof(name), "%s vf_token=%s", bdf, token);
		else
			snprintf_assert(name, sizeof(name), "%s", bdf);
		ret = group_get(d->group, name);
		if (ret >= 0) {
			d->fd = ret;
			return 0;
		}
	} else {
		struct vfio_device_attach_iommufd_pt attach = {
			.argsz = sizeof(attach),
			.pt_id = iommu->ioas_id,
		};
		const char *path = vfio_pci_get_cdev_path(bdf);

		d->fd = open(path, O_RDWR | O_CLOEXEC);
		VFIO_ASSERT_GE(d->fd, 0, "open(%s)\n", path);
		free((void *)path);
		ret = __vfio_device_bind_iommufd(d->fd, iommu->iommufd, token);
		if (!ret) {
			ioctl_assert(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
			return 0;
		}
	}
	dev_close(d);
	return ret;
}

/* Whether @bdf opens with @token: 0 (and closed again) or -errno. */
static int try_open(struct iommu *iommu, const char *bdf, const char *token)
{
	struct dev d;
	int ret = dev_open(iommu, bdf, token, &d);

	if (!ret)
		dev_close(&d);
	return ret;
}

/* VFIO_DEVICE_FEATURE. */

/*
 * VFIO_DEVICE_FEATURE with @flags and an argsz of @argsz, followed by @size
 * bytes of @data (zeroes if NULL); 0 or -errno.
 */
static int feature_argsz(int fd, __u32 argsz, __u32 flags, const void *data, size_t size)
{
	__u8 buf[FEATURE_HDR + 32] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	VFIO_ASSERT_LE(size, sizeof(buf) - FEATURE_HDR);
	f->argsz = argsz;
	f->flags = flags;
	if (data)
		memcpy(f->data, data, size);
	return ioctl(fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
}

/* The same with an argsz covering exactly @size bytes of data. */
static int feature(int fd, __u32 flags, const void *data, size_t size)
{
	return feature_argsz(fd, FEATURE_HDR + size, flags, data, size);
}

static void token_bytes(const char *token, __u8 out[16])
{
	uuid_t uuid;

	VFIO_ASSERT_EQ(uuid_parse(token, uuid), 0);
	memcpy(out, uuid, 16);
}

/* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN SET of @token on @fd: 0 or -errno. */
static int token_set(int fd, const char *token)
{
	__u8 uuid[16];

	token_bytes(token, uuid);
	return feature(fd, SET | VF_TOKEN, uuid, sizeof(uuid));
}

/* Configuration space through the device file. */

static unsigned long long cfg_base(int fd)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	ioctl_assert(fd, VFIO_DEVICE_GET_REGION_INFO, &info);
	return info.offset;
}

static void cfg_rw(int fd, bool write, int pos, void *val, size_t size)
{
	unsigned long long off = cfg_base(fd) + pos;
	ssize_t n = write ? pwrite(fd, val, size, off) : pread(fd, val, size, off);

	VFIO_ASSERT_EQ(n, (ssize_t)size, "config %s of %zu at %#x\n", write ? "write" : "read",
		       size, pos);
}

static __u16 cfg_read16(int fd, int pos)
{
	__u16 v;

	cfg_rw(fd, false, pos, &v, 2);
	return v;
}

static void cfg_write16(int fd, int pos, __u16 v)
{
	cfg_rw(fd, true, pos, &v, 2);
}

/* REQ. */

/* A fresh eventfd set as the REQ trigger of device @fd. */
static int req_arm(int fd)
{
	struct vfio_irq_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_REQ_IRQ_INDEX,
	};
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	VFIO_ASSERT_GE(efd, 0);
	ioctl_assert(fd, VFIO_DEVICE_GET_IRQ_INFO, &info);
	VFIO_ASSERT_EQ(info.count, 1);
	VFIO_ASSERT_EQ(rvfio_irq_set(fd, VFIO_PCI_REQ_IRQ_INDEX,
				     VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 0, 1,
				     &efd), 0);
	return efd;
}

/* The setup every fixture shares. */

struct env {
	struct iommu *iommu;
	/* The VF the setup created. */
	char vf[32];
	/* A writer (unbind, sriov_numvfs) a test started and has not reaped. */
	pid_t writer;
};

/*
 * Creates one VF of the PF, bound to the PF's driver, and sets up IOMMU mode
 * @mode. A VF left over by an earlier test that could not clean up goes first.
 */
static void env_setup(struct __test_metadata *_metadata, struct env *e, const char *mode)
{
	char now[NAME_MAX + 1];

	e->writer = 0;
	driver_get(pf_bdf, now, sizeof(now));
	ASSERT_STREQ(driver, now) TH_LOG("%s is not bound to %s", pf_bdf, driver);
	if (numvfs_get() != 0)
		ASSERT_EQ(0, numvfs_set(0));
	ASSERT_EQ(0, numvfs_set(1)) TH_LOG("is SR-IOV enabled in %s?", driver);
	dev_link(pf_bdf, "virtfn0", e->vf, sizeof(e->vf));
	ASSERT_NE(0, e->vf[0]);
	driver_get(e->vf, now, sizeof(now));
	ASSERT_STREQ(driver, now) TH_LOG("VF %s", e->vf);
	/* Each is opened through its own group file. */
	ASSERT_NE(sysfs_iommu_group_get(pf_bdf), sysfs_iommu_group_get(e->vf));
	e->iommu = iommu_init(mode);
}

/*
 * In the parent, once the test's process and its files are gone: lets an
 * unbind or a removal the test left running finish, brings the PF back
 * (rescan) if it was removed, binds it again if it was unbound, and removes
 * the VFs.
 */
static void env_teardown(struct env *e)
{
	struct timespec start;
	char now[NAME_MAX + 1];
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (e->writer > 0 && running(e->writer) && rvfio_elapsed_ms(&start) < DONE_MS)
		usleep(10000);
	if (!dev_exists(pf_bdf)) {
		sysfs_write("/sys/bus/pci/rescan", "1");
		if (!dev_exists(pf_bdf))
			printf("# %s is not back after a rescan\n", pf_bdf);
	}
	driver_get(pf_bdf, now, sizeof(now));
	if (!now[0] && !rebind(pf_bdf, driver))
		printf("# %s could not be bound to %s again\n", pf_bdf, driver);
	if (numvfs_get() > 0) {
		ret = numvfs_set(0);
		if (ret)
			printf("# removing the VFs of %s: %s\n", pf_bdf, strerror(-ret));
	}
}

/*
 * Fixture sriov: in the legacy group path (a type1v2 container) and in the
 * iommufd cdev path.
 */
FIXTURE(sriov) {
	struct env e;
};

FIXTURE_VARIANT(sriov) {
	const char *iommu_mode;
};

FIXTURE_VARIANT_ADD(sriov, group) {
	.iommu_mode = "vfio_type1v2_iommu",
};

FIXTURE_VARIANT_ADD(sriov, cdev) {
	.iommu_mode = MODE_IOMMUFD,
};

FIXTURE_SETUP(sriov)
{
	env_setup(_metadata, &self->e, variant->iommu_mode);
}

FIXTURE_TEARDOWN_PARENT(sriov)
{
	env_teardown(&self->e);
}

/*
 * The VF is bound to the PF's driver through a driver_override naming it, and
 * opens with the token the PF's user set.
 */
TEST_F(sriov, vf_bound)
{
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	char buf[NAME_MAX + 1];
	struct dev pf;

	ASSERT_EQ(1, numvfs_get());
	ASSERT_TRUE(dev_read(vf, "driver_override", buf, sizeof(buf)));
	ASSERT_STREQ(driver, buf);
	dev_link(vf, "physfn", buf, sizeof(buf));
	ASSERT_STREQ(pf_bdf, buf);

	ASSERT_EQ(0, dev_open(iommu, pf_bdf, NULL, &pf));
	ASSERT_EQ(0, token_set(pf.fd, TOKEN_A));
	dev_close(&pf);
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_A));
}

/*
 * While a VF is open, the PF opens only with the VF token: without one or
 * with another, EACCES. Its user may replace the token, which later opens of
 * the PF then need.
 */
TEST_F(sriov, pf_token_while_vf_open)
{
	struct iommu *iommu = self->e.iommu;
	struct dev pf, vf;

	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_A));
	ASSERT_EQ(0, dev_open(iommu, self->e.vf, TOKEN_A, &vf));

	ASSERT_EQ(-EACCES, try_open(iommu, pf_bdf, NULL));
	ASSERT_EQ(-EACCES, try_open(iommu, pf_bdf, TOKEN_B));
	ASSERT_EQ(0, dev_open(iommu, pf_bdf, TOKEN_A, &pf));
	ASSERT_EQ(0, token_set(pf.fd, TOKEN_B));
	dev_close(&pf);
	ASSERT_EQ(-EACCES, try_open(iommu, pf_bdf, TOKEN_A));
	ASSERT_EQ(-EACCES, try_open(iommu, pf_bdf, NULL));
	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_B));

	/* The open VF goes on working. */
	ASSERT_EQ(0x8086, cfg_read16(vf.fd, PCI_VENDOR_ID));
	dev_close(&vf);
	/* No VF is open any more: no token needed. */
	ASSERT_EQ(0, try_open(iommu, pf_bdf, NULL));
}

/*
 * While no VF is open, opening the PF with a token makes it the VF token;
 * opening it without one leaves the token as it is.
 */
TEST_F(sriov, pf_open_sets_token)
{
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;

	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_A));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_B));
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_B));
	ASSERT_EQ(0, try_open(iommu, pf_bdf, NULL));
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(-EACCES, try_open(iommu, vf, NULL));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_B));
}

/*
 * The PF needs the token as long as the VF is open at all: the VF counts once
 * while it has several files open (group path), and every time it is opened
 * again after a close. A refused open of the VF does not count.
 */
TEST_F(sriov, vf_users)
{
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	char name[128];
	struct dev d;
	int i, fd2;

	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_A));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, dev_open(iommu, vf, TOKEN_A, &d));
		ASSERT_EQ(-EACCES, try_open(iommu, pf_bdf, NULL));
		if (d.group >= 0) {
			snprintf_assert(name, sizeof(name), "%s vf_token=%s", vf, TOKEN_A);
			fd2 = group_get(d.group, name);
			ASSERT_LE(0, fd2);
			ASSERT_EQ(0, close(d.fd));
			d.fd = fd2;
			ASSERT_EQ(-EACCES, try_open(iommu, pf_bdf, NULL));
		}
		dev_close(&d);
		ASSERT_EQ(0, try_open(iommu, pf_bdf, NULL));
	}
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_B));
	ASSERT_EQ(-EACCES, try_open(iommu, vf, NULL));
	ASSERT_EQ(0, try_open(iommu, pf_bdf, NULL));
}

/*
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN on the PF: SET only (a GET would show
 * the token of the PF's previous user), with 16 bytes of data or more. Only
 * a complete SET changes the token.
 */
TEST_F(sriov, token_feature)
{
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	__u8 a[24], b[16];
	struct dev pf;
	int fd;

	token_bytes(TOKEN_A, a);
	memset(a + 16, 0xa5, sizeof(a) - 16);
	token_bytes(TOKEN_B, b);
	ASSERT_EQ(0, dev_open(iommu, pf_bdf, NULL, &pf));
	fd = pf.fd;

	ASSERT_EQ(-EINVAL, feature(fd, GET | VF_TOKEN, NULL, 16));
	ASSERT_EQ(-EINVAL, feature(fd, PROBE | GET | VF_TOKEN, NULL, 0));
	ASSERT_EQ(-EINVAL, feature(fd, PROBE | GET | SET | VF_TOKEN, NULL, 0));
	ASSERT_EQ(0, feature(fd, PROBE | SET | VF_TOKEN, NULL, 0));
	ASSERT_EQ(0, feature(fd, PROBE | VF_TOKEN, NULL, 0));
	/* More data than the UUID: its first 16 bytes. */
	ASSERT_EQ(0, feature(fd, SET | VF_TOKEN, a, sizeof(a)));

	/* None of these sets TOKEN_B. Neither GET nor SET, or both without PROBE. */
	ASSERT_EQ(-EINVAL, feature(fd, VF_TOKEN, b, 16));
	ASSERT_EQ(-EINVAL, feature(fd, GET | SET | VF_TOKEN, b, 16));
	/* Too short for the header, for the UUID; an unknown flag. */
	ASSERT_EQ(-EINVAL, feature_argsz(fd, FEATURE_HDR - 4, SET | VF_TOKEN, b, 16));
	ASSERT_EQ(-EINVAL, feature(fd, SET | VF_TOKEN, b, 15));
	ASSERT_EQ(-EINVAL, feature(fd, SET | VF_TOKEN, b, 0));
	ASSERT_EQ(-EINVAL, feature(fd, (1u << 20) | SET | VF_TOKEN, b, 16));
	/* A probe. */
	ASSERT_EQ(0, feature(fd, PROBE | SET | VF_TOKEN, b, 16));
	dev_close(&pf);
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_B));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_A));

	/* This one does. */
	ASSERT_EQ(0, dev_open(iommu, pf_bdf, NULL, &pf));
	ASSERT_EQ(0, feature(pf.fd, SET | VF_TOKEN, b, 16));
	dev_close(&pf);
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_B));
}

/* ENOTTY: the VF token on anything but a PF, and unknown feature numbers anywhere. */
TEST_F(sriov, other_features)
{
	struct iommu *iommu = self->e.iommu;
	struct dev d[3];
	const char *what[3] = { "PF", "VF", "non-SR-IOV" };
	__u8 b[16];
	int i;

	token_bytes(TOKEN_B, b);
	ASSERT_EQ(0, dev_open(iommu, pf_bdf, TOKEN_A, &d[0]));
	ASSERT_EQ(0, dev_open(iommu, self->e.vf, TOKEN_A, &d[1]));
	ASSERT_EQ(0, dev_open(iommu, other_bdf, NULL, &d[2]));

	for (i = 0; i < 3; i++) {
		const char *w = what[i];
		int fd = d[i].fd;

		if (i) {
			EXPECT_EQ(-ENOTTY, feature(fd, PROBE | SET | VF_TOKEN, NULL, 0))
				TH_LOG("%s", w);
			EXPECT_EQ(-ENOTTY, feature(fd, SET | VF_TOKEN, b, 16)) TH_LOG("%s", w);
			EXPECT_EQ(-ENOTTY, feature(fd, GET | VF_TOKEN, NULL, 16)) TH_LOG("%s", w);
		}
		EXPECT_EQ(-ENOTTY, feature(fd, PROBE | GET | NO_FEATURE, NULL, 0)) TH_LOG("%s", w);
		EXPECT_EQ(-ENOTTY, feature(fd, PROBE | SET | NO_FEATURE, NULL, 0)) TH_LOG("%s", w);
		EXPECT_EQ(-ENOTTY, feature(fd, GET | NO_FEATURE, NULL, 16)) TH_LOG("%s", w);
		EXPECT_EQ(-ENOTTY, feature(fd, SET | NO_FEATURE_MAX, b, 16)) TH_LOG("%s", w);
		/* The VFIO core's own, without migration support. */
		EXPECT_EQ(-ENOTTY, feature(fd, PROBE | GET | MIGRATION, NULL, 0)) TH_LOG("%s", w);
	}
	for (i = 2; i >= 0; i--)
		dev_close(&d[i]);
}

/*
 * Prints what a feature request returns ("# record: ..."; sriov.sh compares
 * the lines of the two drivers) and expects what vfio-pci returns, which
 * rvfio-pci returned as well when the test was written.
 */
#define RECORD(_what, _op, _ret, _expected) do {				\
	int __ret = (_ret);							\
										\
	printf("# record: %s %s: %d\n", _what, _op, __ret);			\
	fflush(stdout);								\
	EXPECT_EQ(_expected, __ret) TH_LOG("%s %s", _what, _op);		\
} while (0)

/*
 * The low-power features on a PF with VFs enabled and on a VF: entry and exit
 * with and without a wake-up eventfd.
 */
TEST_F(sriov, low_power)
{
	struct vfio_device_low_power_entry_with_wakeup w = { .wakeup_eventfd = -1 };
	struct iommu *iommu = self->e.iommu;
	const char *what[2] = { "PF", "VF" };
	struct dev d[2];
	int i, efd;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, dev_open(iommu, pf_bdf, TOKEN_A, &d[0]));
	ASSERT_EQ(0, dev_open(iommu, self->e.vf, TOKEN_A, &d[1]));
	for (i = 0; i < 2; i++) {
		int fd = d[i].fd;

		w.wakeup_eventfd = -1;
		RECORD(what[i], "entry probe-set", feature(fd, PROBE | SET | LP_ENTRY, NULL, 0), 0);
		RECORD(what[i], "entry probe-get",
		       feature(fd, PROBE | GET | LP_ENTRY, NULL, 0), -EINVAL);
		RECORD(what[i], "exit probe-set", feature(fd, PROBE | SET | LP_EXIT, NULL, 0), 0);
		RECORD(what[i], "wakeup probe-set",
		       feature(fd, PROBE | SET | LP_WAKEUP, NULL, 0), 0);
		RECORD(what[i], "entry set", feature(fd, SET | LP_ENTRY, NULL, 0), 0);
		RECORD(what[i], "entry set again", feature(fd, SET | LP_ENTRY, NULL, 0), -EINVAL);
		/* Configuration space stays reachable. */
		RECORD(what[i], "vendor id in low power", cfg_read16(fd, PCI_VENDOR_ID), 0x8086);
		RECORD(what[i], "exit set", feature(fd, SET | LP_EXIT, NULL, 0), 0);
		RECORD(what[i], "exit set again", feature(fd, SET | LP_EXIT, NULL, 0), 0);
		RECORD(what[i], "wakeup set fd -1",
		       feature(fd, SET | LP_WAKEUP, &w, sizeof(w)), -EINVAL);
		w.wakeup_eventfd = efd;
		RECORD(what[i], "wakeup set short", feature(fd, SET | LP_WAKEUP, &w, 2), -EINVAL);
		RECORD(what[i], "wakeup set", feature(fd, SET | LP_WAKEUP, &w, sizeof(w)), 0);
		RECORD(what[i], "exit after wakeup", feature(fd, SET | LP_EXIT, NULL, 0), 0);
	}
	dev_close(&d[1]);
	dev_close(&d[0]);
	close(efd);
}

/*
 * A token given for a device that is neither PF nor VF: EINVAL, on either
 * path; without one the device opens.
 */
TEST_F(sriov, token_to_non_sriov)
{
	ASSERT_EQ(-EINVAL, try_open(self->e.iommu, other_bdf, TOKEN_A));
	ASSERT_EQ(0, try_open(self->e.iommu, other_bdf, NULL));
}

/* The power state field of PMCSR, at @pm + PCI_PM_CTRL, after writing @state to it. */
static __u16 pm_state_after(int fd, int pm, __u16 state)
{
	__u16 ctrl = cfg_read16(fd, pm + PCI_PM_CTRL);

	cfg_write16(fd, pm + PCI_PM_CTRL, (ctrl & ~PCI_PM_CTRL_STATE_MASK) | state);
	return cfg_read16(fd, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK;
}

/* A PF with VFs enabled stays in D0 when its user writes D3hot to PMCSR. */
TEST_F(sriov, pf_stays_d0)
{
	struct iommu *iommu = self->e.iommu;
	struct dev pf, vf;
	int pm;

	ASSERT_EQ(0, dev_open(iommu, pf_bdf, TOKEN_A, &pf));
	ASSERT_EQ(0, dev_open(iommu, self->e.vf, TOKEN_A, &vf));
	pm = rvfio_cap_find(pf.fd, PCI_CAP_ID_PM);
	ASSERT_NE(0, pm) TH_LOG("the PF has no power management capability");
	ASSERT_EQ(0, cfg_read16(pf.fd, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK);

	ASSERT_EQ(0, pm_state_after(pf.fd, pm, 3));
	ASSERT_EQ(0x8086, cfg_read16(vf.fd, PCI_VENDOR_ID));
	ASSERT_EQ(0, pm_state_after(pf.fd, pm, 3));
	ASSERT_EQ(0, pm_state_after(pf.fd, pm, 0));
	dev_close(&vf);
	/* Whether or not a VF is open. */
	ASSERT_EQ(0, pm_state_after(pf.fd, pm, 3));
	dev_close(&pf);
}

/* The same PF without VFs goes to D3hot and back, which the PMCSR read shows. */
TEST_F(sriov, pf_d3_without_vfs)
{
	struct dev pf;
	int pm;

	ASSERT_EQ(0, numvfs_set(0));
	ASSERT_FALSE(dev_exists(self->e.vf));
	ASSERT_EQ(0, dev_open(self->e.iommu, pf_bdf, NULL, &pf));
	pm = rvfio_cap_find(pf.fd, PCI_CAP_ID_PM);
	ASSERT_NE(0, pm);
	ASSERT_EQ(3, pm_state_after(pf.fd, pm, 3));
	ASSERT_EQ(0, pm_state_after(pf.fd, pm, 0));
	ASSERT_EQ(0x8086, cfg_read16(pf.fd, PCI_VENDOR_ID));
	dev_close(&pf);
}

/* Hot reset. */

/* Room for more INFO entries than a PF and its VF need. */
#define HR_DEPS		4

/*
 * The function @fd is a file of (@self the PF or the VF) and @other: what
 * INFO lists for both. Through the cdev, @self shows its device id and @other,
 * whatever it is bound to, shows as not owned: a VF is a device set of its
 * own, so neither set holds the other function.
 */
static void hr_check_info(struct __test_metadata *_metadata, struct dev *d, const char *self_bdf,
			  const char *other_bdf, bool cdev)
{
	struct vfio_pci_hot_reset_info *info;
	const struct vfio_pci_dependent_device *me, *other;

	info = rvfio_hr_info_alloc(HR_DEPS);
	ASSERT_EQ(0, rvfio_hr_info(d->fd, info));
	ASSERT_EQ(2, info->count);
	me = rvfio_hr_dep(info, self_bdf);
	other = rvfio_hr_dep(info, other_bdf);
	ASSERT_NE(NULL, me);
	ASSERT_NE(NULL, other);
	if (cdev) {
		ASSERT_EQ(VFIO_PCI_HOT_RESET_FLAG_DEV_ID, info->flags);
		ASSERT_GT(me->devid, 0);
		ASSERT_NE(VFIO_PCI_DEVID_OWNED, me->devid);
		ASSERT_NE(VFIO_PCI_DEVID_NOT_OWNED, me->devid);
		ASSERT_EQ(VFIO_PCI_DEVID_NOT_OWNED, other->devid);
	} else {
		ASSERT_EQ(0, info->flags);
		ASSERT_EQ(sysfs_iommu_group_get(self_bdf), me->group_id);
		ASSERT_EQ(sysfs_iommu_group_get(other_bdf), other->group_id);
	}
	free(info);
}

/*
 * A PF below a bus that can be reset (no slot reset) and its VF, both open by
 * one user: INFO through either lists both, and the hot reset is refused
 * (EINVAL) through either, even with the proof of both, as a VF is a device
 * set of its own and the bus reset reaches beyond the set of each. What
 * vfio-pci answers; a driver that put the PF and its VFs in one set (the bus's)
 * would reset the PF through a VF.
 */
TEST_F(sriov, hot_reset)
{
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	bool cdev = !iommu->mode->container_path;
	struct dev pf, v;
	int fds[2];

	ASSERT_EQ(0, dev_open(iommu, pf_bdf, TOKEN_A, &pf));
	ASSERT_EQ(0, dev_open(iommu, vf, TOKEN_A, &v));
	hr_check_info(_metadata, &v, vf, pf_bdf, cdev);
	hr_check_info(_metadata, &pf, pf_bdf, vf, cdev);

	fds[0] = pf.group;
	fds[1] = v.group;
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(v.fd, cdev ? 0 : 2, fds));
	ASSERT_EQ(-EINVAL, rvfio_hr_reset(pf.fd, cdev ? 0 : 2, fds));
	/* Both still work. */
	ASSERT_EQ(0x8086, cfg_read16(v.fd, PCI_VENDOR_ID));
	ASSERT_EQ(0x8086, cfg_read16(pf.fd, PCI_VENDOR_ID));
	dev_close(&v);
	dev_close(&pf);
}

/*
 * Starts writing @s to @path in another process, which must then wait for an
 * open VF, whose REQ eventfd is @req, to be closed: @req is signalled and the
 * write goes on.
 */
static void start_and_expect_req(struct __test_metadata *_metadata, struct env *e,
				 const char *path, const char *s, int req)
{
	int status;
	pid_t done;

	e->writer = start_writer(path, s);
	ASSERT_LE(1, rvfio_efd_wait(req, REQ_MS)) TH_LOG("no VF REQ within %d ms", REQ_MS);
	usleep(QUIET_MS * 1000);
	done = waitpid(e->writer, &status, WNOHANG);
	if (done == e->writer)
		e->writer = 0;
	ASSERT_EQ(0, done) TH_LOG("writing %s finished with the VF open", path);
}

/* Expects the write started above to finish, and to succeed, now the VF is closed. */
static void expect_done(struct __test_metadata *_metadata, struct env *e)
{
	int status;

	ASSERT_TRUE(reap(e->writer, DONE_MS, &status))
		TH_LOG("the write did not finish within %d ms of the close", DONE_MS);
	e->writer = 0;
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * The PF goes while its VF is open, unbound from its driver (@remove false)
 * or removed from the bus (@remove true), either of which ends in the
 * driver's remove. The driver disables SR-IOV first: the VF's removal asks
 * the VF's user for it (REQ) and waits for the close. With the PF open as
 * well (@pf_open), the PF's user is asked only once the VF is gone, and the
 * PF waits for its close likewise.
 */
static void pf_goes_with_vf_open(struct __test_metadata *_metadata, struct env *e, bool remove,
				 bool pf_open)
{
	char path[PATH_MAX], now[NAME_MAX + 1];
	struct dev pf = { .fd = -1, .group = -1 }, vf;
	int pf_req = -1, vf_req, status;

	if (pf_open) {
		ASSERT_EQ(0, dev_open(e->iommu, pf_bdf, TOKEN_A, &pf));
		pf_req = req_arm(pf.fd);
	} else {
		ASSERT_EQ(0, try_open(e->iommu, pf_bdf, TOKEN_A));
	}
	ASSERT_EQ(0, dev_open(e->iommu, e->vf, TOKEN_A, &vf));
	vf_req = req_arm(vf.fd);

	if (remove)
		snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", pf_bdf);
	else
		snprintf_assert(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind", driver);
	start_and_expect_req(_metadata, e, path, remove ? "1" : pf_bdf, vf_req);
	if (pf_open)
		ASSERT_EQ(0, rvfio_efd_take(pf_req)) TH_LOG("PF REQ while its VF is there");
	ASSERT_TRUE(dev_exists(e->vf));

	dev_close(&vf);
	if (pf_open) {
		ASSERT_LE(1, rvfio_efd_wait(pf_req, REQ_MS)) TH_LOG("no PF REQ once the VF closed");
		ASSERT_FALSE(dev_exists(e->vf));
		usleep(QUIET_MS * 1000);
		ASSERT_EQ(0, waitpid(e->writer, &status, WNOHANG))
			TH_LOG("the PF went with its file open");
		dev_close(&pf);
	}
	expect_done(_metadata, e);
	ASSERT_FALSE(dev_exists(e->vf));
	if (remove) {
		ASSERT_FALSE(dev_exists(pf_bdf));
	} else {
		driver_get(pf_bdf, now, sizeof(now));
		ASSERT_STREQ("", now);
		ASSERT_EQ(0, numvfs_get());
	}
	close(vf_req);
	if (pf_req >= 0)
		close(pf_req);
}

TEST_F_TIMEOUT(sriov, remove_pf_with_vf_open, 120)
{
	pf_goes_with_vf_open(_metadata, &self->e, true, false);
}

TEST_F_TIMEOUT(sriov, remove_pf_with_pf_and_vf_open, 120)
{
	pf_goes_with_vf_open(_metadata, &self->e, true, true);
}

/*
 * The same through the driver's unbind file. The PCI core expects VFs to be
 * removed under pci_rescan_remove_lock, which the remove above takes and an
 * unbind does not: in this kernel, both vfio-pci and rvfio-pci trip the
 * lockdep assertion of pci_stop_and_remove_bus_device() (a WARNING) here.
 * sriov.sh leaves these two out unless asked (-u).
 */
TEST_F_TIMEOUT(sriov, unbind_pf_with_vf_open, 120)
{
	pf_goes_with_vf_open(_metadata, &self->e, false, false);
}

TEST_F_TIMEOUT(sriov, unbind_pf_with_pf_and_vf_open, 120)
{
	pf_goes_with_vf_open(_metadata, &self->e, false, true);
}

/*
 * Writing 0 to sriov_numvfs while the VF is open: as for the unbind, REQ and
 * a wait for the close; the PF stays bound, keeps its VF token, and can
 * create the VF again.
 */
TEST_F_TIMEOUT(sriov, numvfs_zero_with_vf_open, 120)
{
	char path[PATH_MAX], now[NAME_MAX + 1], vf2[32];
	struct dev vf;
	int req;

	ASSERT_EQ(0, try_open(self->e.iommu, pf_bdf, TOKEN_A));
	ASSERT_EQ(0, dev_open(self->e.iommu, self->e.vf, TOKEN_A, &vf));
	req = req_arm(vf.fd);

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf_bdf);
	start_and_expect_req(_metadata, &self->e, path, "0", req);
	dev_close(&vf);
	expect_done(_metadata, &self->e);
	ASSERT_EQ(0, numvfs_get());
	ASSERT_FALSE(dev_exists(self->e.vf));
	driver_get(pf_bdf, now, sizeof(now));
	ASSERT_STREQ(driver, now);

	ASSERT_EQ(0, numvfs_set(1));
	dev_link(pf_bdf, "virtfn0", vf2, sizeof(vf2));
	ASSERT_STREQ(self->e.vf, vf2);
	driver_get(vf2, now, sizeof(now));
	ASSERT_STREQ(driver, now);
	ASSERT_EQ(-EACCES, try_open(self->e.iommu, vf2, TOKEN_B));
	ASSERT_EQ(0, try_open(self->e.iommu, vf2, TOKEN_A));
	close(req);
}

/*
 * The VF bound to the other VFIO PCI driver: that driver does not own the PF,
 * so the VF opens without a token and refuses one (EINVAL); the PF's driver
 * does not count the VF's user, so the PF opens without a token.
 */
TEST_F(sriov, vf_on_other_driver)
{
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	char now[NAME_MAX + 1];
	struct dev pf, d;

	ASSERT_EQ(0, dev_write(vf, "driver_override", other_driver));
	ASSERT_EQ(0, drv_write(driver, "unbind", vf));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/drivers_probe", vf));
	driver_get(vf, now, sizeof(now));
	ASSERT_STREQ(other_driver, now);

	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_A));
	ASSERT_EQ(-EINVAL, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(-EINVAL, try_open(iommu, vf, TOKEN_B));
	ASSERT_EQ(0, dev_open(iommu, vf, NULL, &d));
	ASSERT_EQ(0, dev_open(iommu, pf_bdf, NULL, &pf));
	dev_close(&pf);
	dev_close(&d);
}

/*
 * Fixture names: the device name VFIO_GROUP_GET_DEVICE_FD takes on the group
 * path, "BDF" and options separated by spaces, of which there is one:
 * "vf_token=UUID". Another BDF, or a BDF followed by anything but a space,
 * names another device (ENODEV here, each group holding one device); an
 * unknown, repeated or malformed option is EINVAL; then the token is checked.
 */
FIXTURE(names) {
	struct env e;
};

FIXTURE_SETUP(names)
{
	env_setup(_metadata, &self->e, "vfio_type1v2_iommu");
}

FIXTURE_TEARDOWN_PARENT(names)
{
	env_teardown(&self->e);
}

/*
 * A device name made of format @fmt, where %1$s is the BDF and %2$s @token,
 * and what VFIO_GROUP_GET_DEVICE_FD gives for it: 0 for a device fd.
 */
struct name_case {
	const char *fmt;
	const char *token;
	int ret;
};

/* Checks every case of @cases on group @group of device @bdf. */
static void names_check(struct __test_metadata *_metadata, int group, const char *bdf,
			const struct name_case *cases, size_t n)
{
	char name[256];
	size_t i;
	int fd;

	for (i = 0; i < n; i++) {
		snprintf_assert(name, sizeof(name), cases[i].fmt, bdf, cases[i].token ?: "");
		fd = group_get(group, name);
		if (fd >= 0) {
			ASSERT_EQ(0, close(fd));
			fd = 0;
		}
		EXPECT_EQ(cases[i].ret, fd) TH_LOG("\"%s\"", name);
	}
}

/* Malformed names given for the PF, whose token is TOKEN_A and which no VF uses. */
static const struct name_case pf_bad[] = {
	{ "%1$s vf_token=not-a-uuid", NULL, -EINVAL },
	{ "%1$s vf_token=", NULL, -EINVAL },
	{ "%1$s vf_token=%2$.35s", TOKEN_B, -EINVAL },
	{ "%1$s vf_token=zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", NULL, -EINVAL },
	{ "%1$s vf_token=%2$s0", TOKEN_B, -EINVAL },
	{ "%1$s vf_token=%2$s vf_token=%2$s", TOKEN_B, -EINVAL },
	{ "%1$s vf_token=%2$s vf_token", TOKEN_B, -EINVAL },
	{ "%1$s foo=1", NULL, -EINVAL },
	{ "%1$s vf_token=%2$s foo=1", TOKEN_B, -EINVAL },
	{ "%1$s foo=1 vf_token=%2$s", TOKEN_B, -EINVAL },
	{ "%1$s VF_TOKEN=%2$s", TOKEN_B, -EINVAL },
	{ "%1$sx", NULL, -ENODEV },
	{ "%1$sx vf_token=%2$s", TOKEN_B, -ENODEV },
	{ "%1$s\tvf_token=%2$s", TOKEN_B, -ENODEV },
	{ "%1$s.0", NULL, -ENODEV },
	{ " %1$s", NULL, -ENODEV },
	{ "", NULL, -ENODEV },
};

/* The PF's name with spaces and options, while no VF is open. */
TEST_F(names, pf_options)
{
	static const struct name_case good[] = {
		{ "%1$s", NULL, 0 },
		{ "%1$s ", NULL, 0 },
		{ "%1$s    ", NULL, 0 },
	};
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	char name[128];
	int group, fd;

	group = group_open(iommu, pf_bdf);
	/* Spaces before the option: the token is taken, and set. */
	snprintf_assert(name, sizeof(name), "%s   vf_token=%s", pf_bdf, TOKEN_A);
	fd = group_get(group, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_A));

	/* None of these sets TOKEN_B; BDF and spaces alone leave TOKEN_A. */
	names_check(_metadata, group, pf_bdf, pf_bad, ARRAY_SIZE(pf_bad));
	names_check(_metadata, group, pf_bdf, good, ARRAY_SIZE(good));
	snprintf_assert(name, sizeof(name), "%.*s", (int)strlen(pf_bdf) - 1, pf_bdf);
	ASSERT_EQ(-ENODEV, group_get(group, name));
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_B));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_A));

	/* Spaces after the option. */
	snprintf_assert(name, sizeof(name), "%s vf_token=%s  ", pf_bdf, TOKEN_B);
	fd = group_get(group, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-EACCES, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_B));

	/* Upper-case hex digits: the same UUID. */
	snprintf_assert(name, sizeof(name), "%s vf_token=%s", pf_bdf, TOKEN_A_UPPER);
	fd = group_get(group, name);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, try_open(iommu, vf, TOKEN_A));
	ASSERT_EQ(0, close(group));
}

/* The VF's name, and the PF's while the VF is open: the token checks come after parsing. */
TEST_F(names, vf_options)
{
	static const struct name_case vf_cases[] = {
		{ "%1$s", NULL, -EACCES },
		{ "%1$s   ", NULL, -EACCES },
		{ "%1$s vf_token=%2$s", TOKEN_B, -EACCES },
		{ "%1$s vf_token=not-a-uuid", NULL, -EINVAL },
		{ "%1$s vf_token=%2$s vf_token=%2$s", TOKEN_A, -EINVAL },
		{ "%1$s vf_token=%2$s foo=1", TOKEN_A, -EINVAL },
		{ "%1$s foo=1", NULL, -EINVAL },
		{ "%1$sx vf_token=%2$s", TOKEN_A, -ENODEV },
		{ "%1$s  vf_token=%2$s  ", TOKEN_A, 0 },
		{ "%1$s vf_token=%2$s", TOKEN_A_UPPER, 0 },
	};
	static const struct name_case pf_cases[] = {
		{ "%1$s", NULL, -EACCES },
		{ "%1$s ", NULL, -EACCES },
		{ "%1$s vf_token=%2$s", TOKEN_B, -EACCES },
		{ "%1$s vf_token=not-a-uuid", NULL, -EINVAL },
		{ "%1$s vf_token=%2$s foo=1", TOKEN_A, -EINVAL },
		{ "%1$s vf_token=%2$s vf_token=%2$s", TOKEN_A, -EINVAL },
		{ "%1$sx", NULL, -ENODEV },
		{ "%1$s  vf_token=%2$s ", TOKEN_A, 0 },
		{ "%1$s vf_token=%2$s", TOKEN_A_UPPER, 0 },
	};
	struct iommu *iommu = self->e.iommu;
	const char *vf = self->e.vf;
	int pf_group, vf_group, fd;
	char name[128];

	ASSERT_EQ(0, try_open(iommu, pf_bdf, TOKEN_A));
	vf_group = group_open(iommu, vf);
	names_check(_metadata, vf_group, vf, vf_cases, ARRAY_SIZE(vf_cases));

	snprintf_assert(name, sizeof(name), "%s vf_token=%s", vf, TOKEN_A);
	fd = group_get(vf_group, name);
	ASSERT_LE(0, fd);
	pf_group = group_open(iommu, pf_bdf);
	names_check(_metadata, pf_group, pf_bdf, pf_cases, ARRAY_SIZE(pf_cases));
	ASSERT_EQ(0, close(pf_group));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(vf_group));
}

/* The name of a device that is neither PF nor VF takes no token. */
TEST_F(names, non_sriov_options)
{
	static const struct name_case cases[] = {
		{ "%1$s vf_token=%2$s", TOKEN_A, -EINVAL },
		{ "%1$s  vf_token=%2$s  ", TOKEN_B, -EINVAL },
		{ "%1$s vf_token=not-a-uuid", NULL, -EINVAL },
		{ "%1$s foo=1", NULL, -EINVAL },
		{ "%1$sx", NULL, -ENODEV },
		{ "%1$s", NULL, 0 },
		{ "%1$s  ", NULL, 0 },
	};
	int group = group_open(self->e.iommu, other_bdf);

	names_check(_metadata, group, other_bdf, cases, ARRAY_SIZE(cases));
	ASSERT_EQ(0, close(group));
}

int main(int argc, char *argv[])
{
	char **bdfs;
	int n;

	bdfs = vfio_selftests_get_bdfs(&argc, argv, &n);
	if (n != 2) {
		fprintf(stderr, "usage: %s [harness options] PF OTHER\n", argv[0]);
		return KSFT_FAIL;
	}
	pf_bdf = bdfs[0];
	other_bdf = bdfs[1];
	driver_get(pf_bdf, driver, sizeof(driver));
	if (!driver[0]) {
		fprintf(stderr, "%s is bound to no driver\n", pf_bdf);
		return KSFT_FAIL;
	}
	other_driver = getenv("RVFIO_SRIOV_OTHER");
	if (!other_driver)
		other_driver = strcmp(driver, "vfio-pci") ? "vfio-pci" : "rvfio-pci";
	return test_harness_run(argc, argv);
}
