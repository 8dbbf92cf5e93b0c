// SPDX-License-Identifier: GPL-2.0-only
/*
 * Concurrency stress of one VFIO PCI device. THREADS threads share the device
 * file (opened through its cdev, bound to an iommufd) and run seeded random
 * operations until OPS are done:
 *  cfg-read    an aligned read of 1, 2 or 4 bytes anywhere in config space;
 *  cfg-write   COMMAND with memory decode or INTx disable flipped, PMCSR to
 *              D3hot or D0, or the interrupt line: the writes the drivers trap;
 *  bar-read    an aligned read of a BAR through the file;
 *  bar-write   a write through the file to the device's scratch register, on
 *              devices that have one (edu's liveness register);
 *  mmap-touch  a read through a mapping of the reference page (the first page of
 *              a memory BAR without MSI-X structures); where the device has a
 *              register there known not to change (edu's ID, nvme's CAP,
 *              virtio-net's msix_config; not e1000e's or igb's CTRL, which
 *              reads 0 for a while after a reset, nor the PCIe
 *              virtio-balloon's msix_config, which sometimes reads 0, under
 *              either driver), it gives the value the
 *              file read at open, or SIGBUS (decode off, D3hot, a reset going
 *              on), never another value;
 *  irq         VFIO_DEVICE_SET_IRQS on a random index: eventfds on, a trigger,
 *              a mask or unmask (INTx), or off;
 *  ioeventfd   VFIO_DEVICE_IOEVENTFD added on the reference page (signalled on
 *              the scratch register), then removed;
 *  reset       VFIO_DEVICE_RESET;
 *  reopen      the device closed and opened again (the other threads wait).
 * Any call may fail with an errno (vfio's answer under the race): the program
 * counts the answers, and the time they took, per kind. From outside, the
 * device may be unbound and bound again (sysfs) or unplugged and plugged back:
 * the driver then signals REQ, the program closes the device and opens it
 * again once it is back.
 *
 * Results (KTAP): every operation done; no wrong value through the mapping;
 * afterwards, with decode on in D0, the file and the mapping read the
 * reference value. A hang is the caller's timeout.
 *
 * Usage: rvfio_stress [-s SEED] [-n OPS] [-t THREADS] [-r RESETS] [-R REOPENS] BDF
 *   RESETS and REOPENS: per 10000 operations (default 20 and 10).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest.h"
#include "rvfio_irqs.h"

#define CFG(pos) RVFIO_CFG(pos)

#define MAX_THREADS	16
/* Eventfds per thread, and so the most vectors one SET_IRQS enables. */
#define MAX_VECTORS	8
/* How long a device unbound or unplugged from outside may take to come back. */
#define BACK_MS		60000

enum kind {
	CFG_READ, CFG_WRITE, BAR_READ, BAR_WRITE, MMAP_TOUCH, IRQ, IOEVENTFD, RESET, REOPEN,
	KINDS
};

static const char *const kind_name[KINDS] = {
	"cfg-read", "cfg-write", "bar-read", "bar-write", "mmap-touch", "irq", "ioeventfd",
	"reset", "reopen",
};

/*
 * Weights of the kinds but reset and reopen, which come from the command line;
 * bar-write only on devices with a scratch register.
 */
static int weight[KINDS] = { 2000, 1000, 2000, 500, 2500, 1200, 600, 0, 0 };

struct counts {
	unsigned long ops, errors, sigbus, wrong;
	int first_errno;
	long long ns;		/* wall time in its operations, lock waits included */
};

/* The device as the program has it open; changed only under the write lock. */
static struct {
	pthread_rwlock_t lock;
	int fd;			/* -1 while closed */
	__u32 *map;		/* the reference page, mapped */
	int iommufd;
	__u32 ioas;
	int req_efd;		/* the REQ eventfd, kept across opens */
	int stop_efd;		/* signalled when the workers are done */
} dev = { .fd = -1 };

/* What the device is, as read at the first open. */
static const char *bdf;
static char driver[NAME_MAX + 1];
static unsigned int cfg_size;
static struct {
	__u64 offset, size;
	bool mem;
} bar[VFIO_PCI_NUM_REGIONS];
static __u32 irq_count[VFIO_PCI_NUM_IRQS];
static int ref_bar = -1;
/* A register of the reference page whose value never changes, if the device has one known. */
static int ref_off = -1;
static __u32 ref_value;
static int pm_pos;
static bool scratch;		/* edu: BAR0 offset 4 reads back the complement of a write */

static unsigned long total_ops, ops_left;
static pthread_mutex_t ops_lock = PTHREAD_MUTEX_INITIALIZER;
static int per_10k[KINDS];
static int weight_sum;
static unsigned long reqs_seen, waits;

struct worker {
	pthread_t thread;
	unsigned int seed;
	/* Interrupt eventfds; triggers of the interrupts signal them. */
	int efd[MAX_VECTORS];
	/* The ioeventfd's own: signalled only on a scratch register, never by a trigger. */
	int ioefd;
	struct counts c[KINDS];
};

static __thread sigjmp_buf touch_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(touch_jmp, 1);
}

/* The driver @bdf is bound to, "" if none. */
static void driver_of(char *buf, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	buf[0] = 0;
	if (n > 0) {
		link[n] = 0;
		snprintf(buf, size, "%s", strrchr(link, '/') + 1);
	}
}

/* The path of the device's VFIO cdev, 0 on success, -errno when it has none. */
static int cdev_path(char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4))
			break;
	if (e)
		snprintf(buf, size, "/dev/vfio/devices/%s", e->d_name);
	closedir(d);
	return e ? 0 : -ENOENT;
}

static int req_arm(int fd)
{
	return rvfio_irq_set(fd, VFIO_PCI_REQ_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
			     &dev.req_efd);
}

/* Opens the device (cdev, iommufd) and maps the reference page; 0 or -errno. */
static int dev_open(void)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = dev.iommufd };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = dev.ioas,
	};
	char path[PATH_MAX];
	int fd, ret;
	void *map;

	ret = cdev_path(path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = rvfio_ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (!ret)
		ret = rvfio_ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (!ret)
		ret = req_arm(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	dev.map = NULL;
	if (ref_bar >= 0) {
		map = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, bar[ref_bar].offset);
		if (map == MAP_FAILED) {
			ret = -errno;
			close(fd);
			return ret;
		}
		dev.map = map;
	}
	dev.fd = fd;
	return 0;
}

static void dev_close(void)
{
	if (dev.map)
		munmap(dev.map, getpagesize());
	dev.map = NULL;
	if (dev.fd >= 0)
		close(dev.fd);
	dev.fd = -1;
}

/* Opens the device again, waiting up to BACK_MS for it to come back; 0 or -errno. */
static int dev_reopen(void)
{
	struct timespec start;
	bool waited = false;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &start);

	dev_close();
	while ((ret = dev_open())) {
		if (rvfio_elapsed_ms(&start) > BACK_MS)
			return ret;
		waited = true;
		usleep(20000);
	}
	waits += waited;
	return 0;
}

/* The first open: what the device has, and the reference value. */
static int dev_probe(void)
{
	struct vfio_region_info info;
	struct vfio_irq_info irq;
	__u32 table = 0, pba = 0, v;
	int ret, i, pos, msix;

	/* The device may be taken away from outside already: wait for it as the monitor does. */
	ret = dev_reopen();
	if (ret)
		return ret;
	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		if (rvfio_ioctl(dev.fd, VFIO_DEVICE_GET_REGION_INFO, &info))
			continue;
		bar[i].offset = info.offset;
		bar[i].size = info.size;
		bar[i].mem = info.flags & VFIO_REGION_INFO_FLAG_MMAP;
	}
	cfg_size = bar[VFIO_PCI_CONFIG_REGION_INDEX].size;
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		irq = (struct vfio_irq_info){ .argsz = sizeof(irq), .index = i };
		if (!rvfio_ioctl(dev.fd, VFIO_DEVICE_GET_IRQ_INFO, &irq))
			irq_count[i] = irq.count;
	}
	/* Capabilities: PM (its control register), MSI-X (where its structures are). */
	pm_pos = rvfio_cap_find(dev.fd, PCI_CAP_ID_PM);
	pos = rvfio_cap_find(dev.fd, PCI_CAP_ID_MSIX);
	msix = pos && pread(dev.fd, &table, 4, CFG(pos + PCI_MSIX_TABLE)) == 4 &&
	       pread(dev.fd, &pba, 4, CFG(pos + PCI_MSIX_PBA)) == 4;
	/* The reference page: the first mappable BAR whose first page has no MSI-X structure. */
	for (i = 0; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		if (!bar[i].mem || bar[i].size < (__u64)getpagesize())
			continue;
		if (msix && (((table & PCI_MSIX_TABLE_BIR) == (__u32)i &&
			      (table & PCI_MSIX_TABLE_OFFSET) < (__u32)getpagesize()) ||
			     ((pba & PCI_MSIX_PBA_BIR) == (__u32)i &&
			      (pba & PCI_MSIX_PBA_OFFSET) < (__u32)getpagesize())))
			continue;
		ref_bar = i;
		break;
	}
	ret = dev_reopen();
	if (ret)
		return ret;
	if (pread(dev.fd, &v, 4, CFG(PCI_VENDOR_ID)) != 4)
		return -EIO;
	switch (v) {
	case 0x11e81234:	/* edu: the ID register */
	case 0x00101b36:	/* nvme: CAP, low half */
		ref_off = 0;
		break;
	case 0x10411af4:	/* virtio-net, modern: common configuration */
		ref_off = 0x10;
		break;
	}
	if (ref_bar >= 0 && ref_off >= 0 &&
	    pread(dev.fd, &ref_value, 4, bar[ref_bar].offset + ref_off) != 4)
		return -EIO;
	/* edu: BAR0 + 4 reads back the complement of what is written. */
	if (v == 0x11e81234) {
		v = 0x5a5a5a5a;
		scratch = pwrite(dev.fd, &v, 4, bar[0].offset + 4) == 4 &&
			  pread(dev.fd, &v, 4, bar[0].offset + 4) == 4 && v == ~0x5a5a5a5au;
	}
	return 0;
}

/* Counts an operation that answered @ret and began at @t0. */
static void count(struct counts *c, int ret, const struct timespec *t0)
{
	c->ns += rvfio_elapsed_ns(t0);
	c->ops++;
	if (ret < 0) {
		if (!c->errors)
			c->first_errno = -ret;
		c->errors++;
	}
}

static int io_ret(ssize_t n, size_t want)
{
	if (n < 0)
		return -errno;
	return (size_t)n == want ? 0 : -EIO;
}

/* The operations; each runs with the device open and the read lock held. */

static int op_cfg_read(struct worker *w)
{
	static const int sizes[] = { 1, 2, 4 };
	int size = sizes[rand_r(&w->seed) % 3];
	__u32 v;
	int pos = rand_r(&w->seed) % cfg_size & ~(size - 1);

	return io_ret(pread(dev.fd, &v, size, CFG(pos)), size);
}

static int op_cfg_write(struct worker *w)
{
	__u16 v16;
	__u8 v8;
	int ret;

	switch (rand_r(&w->seed) % (pm_pos ? 4 : 3)) {
	case 0:
	case 1:
		ret = io_ret(pread(dev.fd, &v16, 2, CFG(PCI_COMMAND)), 2);
		if (ret)
			return ret;
		v16 ^= rand_r(&w->seed) % 2 ? PCI_COMMAND_MEMORY : PCI_COMMAND_INTX_DISABLE;
		return io_ret(pwrite(dev.fd, &v16, 2, CFG(PCI_COMMAND)), 2);
	case 3:
		ret = io_ret(pread(dev.fd, &v16, 2, CFG(pm_pos + PCI_PM_CTRL)), 2);
		if (ret)
			return ret;
		v16 &= ~(PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_STATUS);
		v16 |= rand_r(&w->seed) % 2 ? 3 : 0;
		return io_ret(pwrite(dev.fd, &v16, 2, CFG(pm_pos + PCI_PM_CTRL)), 2);
	default:
		v8 = rand_r(&w->seed);
		return io_ret(pwrite(dev.fd, &v8, 1, CFG(PCI_INTERRUPT_LINE)), 1);
	}
}

/* A random BAR that exists, or -1. */
static int some_bar(struct worker *w)
{
	int i, b = rand_r(&w->seed) % 6;

	for (i = 0; i < 6; i++, b = (b + 1) % 6)
		if (bar[b].size)
			return b;
	return -1;
}

static int op_bar_read(struct worker *w)
{
	int b = some_bar(w);
	__u32 v;
	__u64 off;

	if (b < 0)
		return -ENODEV;
	off = ((__u64)rand_r(&w->seed) * 4) % bar[b].size & ~3ull;
	return io_ret(pread(dev.fd, &v, 4, bar[b].offset + off), 4);
}

static int op_bar_write(struct worker *w)
{
	__u32 v = rand_r(&w->seed);

	if (!scratch)
		return -ENODEV;
	return io_ret(pwrite(dev.fd, &v, 4, bar[0].offset + 4), 4);
}

static int op_mmap_touch(struct worker *w, struct counts *c)
{
	__u32 *p = dev.map;
	__u32 v;

	if (!p)
		return -ENODEV;
	if (sigsetjmp(touch_jmp, 1)) {
		c->sigbus++;
		return 0;
	}
	/* One 32-bit load, as the compiler may not merge, split or drop it. */
	v = __atomic_load_n(&p[ref_off >= 0 ? ref_off / 4 : 0], __ATOMIC_RELAXED);
	if (ref_off >= 0 && v != ref_value) {
		if (!c->wrong)
			ksft_print_msg("mmap-touch: read %#x, not %#x\n", v, ref_value);
		c->wrong++;
	}
	return 0;
}

static int op_irq(struct worker *w)
{
	__u32 index = rand_r(&w->seed) % VFIO_PCI_NUM_IRQS, n, trigger;
	int ret;

	if (!irq_count[index])
		return -ENODEV;
	n = 1 + rand_r(&w->seed) % (irq_count[index] < MAX_VECTORS ? irq_count[index] :
							     MAX_VECTORS);
	trigger = VFIO_IRQ_SET_ACTION_TRIGGER;
	switch (rand_r(&w->seed) % 5) {
	case 0:
	case 1:
		if (index == VFIO_PCI_REQ_IRQ_INDEX)
			return req_arm(dev.fd);
		return rvfio_irq_set(dev.fd, index, VFIO_IRQ_SET_DATA_EVENTFD | trigger, 0, n,
				     w->efd);
	case 2:
		return rvfio_irq_set(dev.fd, index, VFIO_IRQ_SET_DATA_NONE | trigger, 0, n, NULL);
	case 3:
		if (index == VFIO_PCI_INTX_IRQ_INDEX) {
			trigger = rand_r(&w->seed) % 2 ? VFIO_IRQ_SET_ACTION_MASK :
							 VFIO_IRQ_SET_ACTION_UNMASK;
			return rvfio_irq_set(dev.fd, index, VFIO_IRQ_SET_DATA_NONE | trigger, 0, 1,
					     NULL);
		}
		return rvfio_irq_set(dev.fd, index, VFIO_IRQ_SET_DATA_NONE | trigger, 0, 0, NULL);
	default:
		ret = rvfio_irq_set(dev.fd, index, VFIO_IRQ_SET_DATA_NONE | trigger, 0, 0, NULL);
		/* REQ off only for a moment: an unbind from outside must reach the program. */
		if (index == VFIO_PCI_REQ_IRQ_INDEX)
			req_arm(dev.fd);
		return ret;
	}
}

static int op_ioeventfd(struct worker *w)
{
	struct vfio_device_ioeventfd ioe = {
		.argsz = sizeof(ioe),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.data = rand_r(&w->seed),
		.fd = w->ioefd,
	};
	__u64 one = 1;
	int ret;

	if (scratch)
		ioe.offset = bar[0].offset + 4;
	else if (ref_bar >= 0)
		ioe.offset = bar[ref_bar].offset;
	else
		return -ENODEV;
	ret = rvfio_ioctl(dev.fd, VFIO_DEVICE_IOEVENTFD, &ioe);
	if (ret)
		return ret;
	if (scratch && write(w->ioefd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	ioe.fd = -1;
	return rvfio_ioctl(dev.fd, VFIO_DEVICE_IOEVENTFD, &ioe);
}

static int op_run(struct worker *w, enum kind k)
{
	switch (k) {
	case CFG_READ:
		return op_cfg_read(w);
	case CFG_WRITE:
		return op_cfg_write(w);
	case BAR_READ:
		return op_bar_read(w);
	case BAR_WRITE:
		return op_bar_write(w);
	case MMAP_TOUCH:
		return op_mmap_touch(w, &w->c[k]);
	case IRQ:
		return op_irq(w);
	case IOEVENTFD:
		return op_ioeventfd(w);
	default:
		return rvfio_ioctl(dev.fd, VFIO_DEVICE_RESET, NULL);
	}
}

static enum kind pick(struct worker *w)
{
	int r = rand_r(&w->seed) % 10000, k;

	if (r < per_10k[RESET])
		return RESET;
	r -= per_10k[RESET];
	if (r < per_10k[REOPEN])
		return REOPEN;
	r = rand_r(&w->seed) % weight_sum;
	for (k = 0; k < KINDS; k++) {
		if (r < weight[k])
			return k;
		r -= weight[k];
	}
	return CFG_READ;
}

static bool take_op(void)
{
	bool more;

	pthread_mutex_lock(&ops_lock);
	more = ops_left > 0;
	if (more)
		ops_left--;
	pthread_mutex_unlock(&ops_lock);
	return more;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct timespec t0;
	enum kind k;
	int ret;

	while (take_op()) {
		k = pick(w);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (k == REOPEN) {
			pthread_rwlock_wrlock(&dev.lock);
			ret = dev_reopen();
			pthread_rwlock_unlock(&dev.lock);
			count(&w->c[k], ret, &t0);
			continue;
		}
		pthread_rwlock_rdlock(&dev.lock);
		if (dev.fd < 0) {
			/* Gone for good (the monitor gave up): count and go on. */
			ret = -ENODEV;
		} else {
			ret = op_run(w, k);
		}
		pthread_rwlock_unlock(&dev.lock);
		count(&w->c[k], ret, &t0);
	}
	return NULL;
}

/*
 * Answers REQ: the driver wants the device back (an unbind or an unplug from
 * outside, or a worker's trigger of the REQ index). Closes it, and opens it
 * again once it is back.
 */
static void *monitor_run(void *arg)
{
	struct pollfd pfd[2] = {
		{ .fd = dev.req_efd, .events = POLLIN },
		{ .fd = dev.stop_efd, .events = POLLIN },
	};
	__u64 n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents)
			break;
		if (!pfd[0].revents || read(dev.req_efd, &n, sizeof(n)) != sizeof(n))
			continue;
		reqs_seen++;
		pthread_rwlock_wrlock(&dev.lock);
		dev_close();
		if (dev_reopen())
			ksft_print_msg("%s did not come back within %d s\n", bdf, BACK_MS / 1000);
		pthread_rwlock_unlock(&dev.lock);
	}
	return NULL;
}

int main(int argc, char *argv[])
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct sigaction sa = { .sa_handler = on_sigbus };
	unsigned long seed = 1, ops = 10000;
	int threads = 2, opt, i, k, ret;
	struct worker *w;
	struct counts sum = { 0 };
	pthread_rwlockattr_t attr;
	pthread_t monitor;
	__u64 one = 1;
	struct timespec t0;
	__u32 v;

	/* Writers first: a reopen must not wait for the workers to run out of operations. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&dev.lock, &attr);
	per_10k[RESET] = 20;
	per_10k[REOPEN] = 10;
	while ((opt = getopt(argc, argv, "s:n:t:r:R:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			ops = strtoul(optarg, NULL, 0);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'r':
			per_10k[RESET] = atoi(optarg);
			break;
		case 'R':
			per_10k[REOPEN] = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || threads < 1 || threads > MAX_THREADS)
		goto usage;
	bdf = argv[optind];

	ksft_print_header();
	ksft_set_plan(3);
	driver_of(driver, sizeof(driver));
	ksft_print_msg("%s (%s): %lu operations, %d threads, seed %lu\n", bdf, driver, ops,
		       threads, seed);
	dev.iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	dev.req_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	dev.stop_efd = eventfd(0, EFD_CLOEXEC);
	if (dev.iommufd < 0 || dev.req_efd < 0 || dev.stop_efd < 0 ||
	    rvfio_ioctl(dev.iommufd, IOMMU_IOAS_ALLOC, &alloc))
		ksft_exit_fail_msg("iommufd setup: %s\n", strerror(errno));
	dev.ioas = alloc.out_ioas_id;
	ret = dev_probe();
	if (ret)
		ksft_exit_fail_msg("opening %s: %s\n", bdf, strerror(-ret));
	ksft_print_msg("config %u bytes, PM at %#x, reference BAR %d, scratch %s\n",
		       cfg_size, pm_pos, ref_bar, scratch ? "yes" : "no");
	if (ref_off >= 0)
		ksft_print_msg("mapped values checked: offset %#x reads %#x\n", ref_off, ref_value);
	else
		ksft_print_msg("mapped values not checked: no register known constant\n");
	if (!scratch)
		weight[BAR_WRITE] = 0;
	for (k = 0; k < KINDS; k++)
		weight_sum += weight[k];
	sigaction(SIGBUS, &sa, NULL);

	w = calloc(threads, sizeof(*w));
	if (!w)
		ksft_exit_fail_msg("out of memory\n");
	total_ops = ops_left = ops;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pthread_create(&monitor, NULL, monitor_run, NULL))
		ksft_exit_fail_msg("pthread_create\n");
	for (i = 0; i < threads; i++) {
		w[i].seed = seed + i;
		for (k = 0; k < MAX_VECTORS; k++)
			w[i].efd[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		w[i].ioefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (pthread_create(&w[i].thread, NULL, worker_run, &w[i]))
			ksft_exit_fail_msg("pthread_create\n");
	}
	for (i = 0; i < threads; i++)
		pthread_join(w[i].thread, NULL);
	if (write(dev.stop_efd, &one, sizeof(one)) != sizeof(one))
		ksft_exit_fail_msg("stopping the monitor\n");
	pthread_join(monitor, NULL);

	for (k = 0; k < KINDS; k++) {
		struct counts c = { 0 };

		for (i = 0; i < threads; i++) {
			c.ops += w[i].c[k].ops;
			c.errors += w[i].c[k].errors;
			c.sigbus += w[i].c[k].sigbus;
			c.wrong += w[i].c[k].wrong;
			c.ns += w[i].c[k].ns;
			if (!c.first_errno)
				c.first_errno = w[i].c[k].first_errno;
		}
		ksft_print_msg("%-10s %8lu ops, %7lu errors (first: %s), %lu SIGBUS, %lld ms\n",
			       kind_name[k], c.ops, c.errors,
			       c.first_errno ? strerror(c.first_errno) : "-", c.sigbus,
			       c.ns / 1000000);
		sum.ops += c.ops;
		sum.wrong += c.wrong;
	}
	ksft_print_msg("REQ answered %lu times; %lu reopens waited for the device to come back\n",
		       reqs_seen, waits);
	ksft_test_result(sum.ops == total_ops, "%lu operations in %lld ms\n", sum.ops,
			 rvfio_elapsed_ms(&t0));
	if (ref_off >= 0)
		ksft_test_result(sum.wrong == 0, "no wrong value through the mapping (%lu)\n",
				 sum.wrong);
	else
		ksft_test_result_skip("values through the mapping: no register known constant\n");

	/* Afterwards: open again, decode on, D0; the file and the mapping read the reference. */
	ret = dev_reopen();
	if (!ret && pm_pos) {
		__u16 pmcsr;

		ret = io_ret(pread(dev.fd, &pmcsr, 2, CFG(pm_pos + PCI_PM_CTRL)), 2);
		pmcsr &= ~(PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_STATUS);
		if (!ret)
			ret = io_ret(pwrite(dev.fd, &pmcsr, 2, CFG(pm_pos + PCI_PM_CTRL)), 2);
	}
	if (!ret) {
		__u16 cmd;

		ret = io_ret(pread(dev.fd, &cmd, 2, CFG(PCI_COMMAND)), 2);
		cmd |= PCI_COMMAND_MEMORY;
		if (!ret)
			ret = io_ret(pwrite(dev.fd, &cmd, 2, CFG(PCI_COMMAND)), 2);
	}
	if (!ret && ref_bar >= 0 && ref_off >= 0) {
		ret = io_ret(pread(dev.fd, &v, 4, bar[ref_bar].offset + ref_off), 4);
		if (!ret && v != ref_value)
			ret = -EIO;
		if (!ret && (sigsetjmp(touch_jmp, 1) || dev.map[ref_off / 4] != ref_value))
			ret = -EFAULT;
	} else if (!ret && ref_bar >= 0) {
		/* No known value: the mapping must at least fault in. */
		if (sigsetjmp(touch_jmp, 1))
			ret = -EFAULT;
		else
			v = dev.map[0];
	}
	ksft_test_result(ret == 0, "the device works afterwards (%s)\n",
			 ret ? strerror(-ret) :
			 ref_off >= 0 ? "reference value read" : "mapping faults in");
	dev_close();
	ksft_finished();

usage:
	fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-t THREADS] [-r RESETS] [-R REOPENS] BDF\n",
		argv[0]);
	return KSFT_FAIL;
}
