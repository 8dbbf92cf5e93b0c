// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print what a VFIO PCI device file reports, in a canonical text form, so
 * that the output under two drivers (vfio-pci and rvfio-pci) can be diffed:
 * device info, every region's info and capability chain, the standard
 * configuration header, and the errno of each malformed request; then what
 * configuration writes do: a sweep writing all-ones and zeroes at every
 * offset and size (restoring each register), and seeded random writes;
 * and the result of malformed and edge-case VFIO_DEVICE_SET_IRQS and
 * VFIO_DEVICE_IOEVENTFD requests (every interrupt turned off and every
 * ioeventfd removed again afterwards).
 *
 * Usage: rvfio_uapi_dump IOMMU_MODE SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/compiler.h>
#include <linux/pci_regs.h>

#include <libvfio.h>

#include "rvfio_open.h"

static void dump_region(int fd, __u32 index)
{
	unsigned char buf[512];
	struct vfio_region_info *info = (void *)buf;
	int ret;
	__u32 i;

	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	info->index = index;
	ret = rvfio_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info);
	printf("region %u: ret=%d", index, ret);
	if (!ret) {
		printf(" argsz=%u flags=0x%x cap_offset=%u size=0x%llx offset=0x%llx",
		       info->argsz, info->flags, info->cap_offset,
		       (unsigned long long)info->size,
		       (unsigned long long)info->offset);
		if (info->cap_offset && info->argsz <= sizeof(buf)) {
			printf(" caps=");
			for (i = info->cap_offset; i < info->argsz; i++)
				printf("%02x", buf[i]);
		}
	}
	printf("\n");
}

static unsigned long long fuzz_state = 0x9e3779b97f4a7c15ULL;

static unsigned long long fuzz_next(void)
{
	/* xorshift64*: the same sequence under every driver. */
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1dULL;
}

/*
 * Seeded random reads, info ioctls and mmaps with hostile offsets, sizes,
 * indices and argsz: prints each result (count or -errno) so that two
 * drivers can be diffed. Nothing here writes to the device.
 */
static void fuzz(int fd, int ops)
{
	static unsigned char buf[8192] __aligned(8);
	long page = getpagesize();
	int i;

	printf("%s (%d ops):", __func__, ops);
	for (i = 0; i < ops; i++) {
		unsigned long long r = fuzz_next(), index = r % 12;
		unsigned long long off = (r >> 8) % 4 == 0 ? (fuzz_next() & ((1ULL << 40) - 1))
							    : (fuzz_next() % 0x3000);
		size_t len = (r >> 16) % 8 == 0 ? fuzz_next() % sizeof(buf) : fuzz_next() % 17;
		long ret;

		switch ((r >> 24) % 6) {
		case 0:
		case 1:
		case 2:
			ret = rvfio_pread(fd, buf, len, RVFIO_REGION_OFFSET(index) + off);
			break;
		case 3: {
			unsigned char b[256] = {};
			struct vfio_region_info *ri = (void *)b;

			ri->argsz = fuzz_next() % 300;
			ri->index = fuzz_next() % 3 ? index : (__u32)fuzz_next();
			ret = rvfio_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri);
			if (!ret)
				ret = ri->flags;
			break;
		}
		case 4: {
			struct vfio_irq_info irq = {
				.argsz = fuzz_next() % 24,
				.index = fuzz_next() % 3 ? index % 6 : (__u32)fuzz_next(),
			};

			ret = rvfio_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &irq);
			if (!ret)
				ret = irq.count;
			break;
		}
		default: {
			size_t mlen = (1 + fuzz_next() % 4) * page;
			int flags = fuzz_next() % 4 ? MAP_SHARED : MAP_PRIVATE;
			void *p;

			off &= ~(page - 1);
			p = mmap(NULL, mlen, PROT_READ, flags, fd,
				 RVFIO_REGION_OFFSET(index) + off);
			if (p == MAP_FAILED) {
				ret = -errno;
			} else {
				ret = 0;
				munmap(p, mlen);
			}
			break;
		}
		}
		printf("%s%ld", i % 32 ? " " : "\n ", ret);
	}
	printf("\n");
}

static long cfg_rw(int fd, int write, void *buf, size_t len, unsigned int pos)
{
	unsigned long long off = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + pos;

	return write ? pwrite(fd, buf, len, off) : rvfio_pread(fd, buf, len, off);
}

/*
 * Every aligned offset and size: the value read, what reads back after
 * writing all-ones and after writing zero, and the value after restoring the
 * original. Registers that trap act under both drivers: COMMAND turns
 * decode off and on, PM control enters D3hot and returns to D0, PCIe device
 * control starts an FLR.
 */
static void config_sweep(int fd, unsigned int size)
{
	static const unsigned int widths[] = { 4, 2, 1 };
	unsigned int w, pos;

	printf("config write sweep:");
	for (w = 0; w < 3; w++) {
		unsigned int n = widths[w];

		for (pos = 0; pos < size; pos += n) {
			__u32 orig = 0, v, a = 0, z = 0, r = 0;
			long e1, e2, e3;

			if (cfg_rw(fd, 0, &orig, n, pos) != n) {
				printf("\n  %u@%03x: read error", n, pos);
				continue;
			}
			v = ~0u;
			e1 = cfg_rw(fd, 1, &v, n, pos);
			cfg_rw(fd, 0, &a, n, pos);
			v = 0;
			e2 = cfg_rw(fd, 1, &v, n, pos);
			cfg_rw(fd, 0, &z, n, pos);
			e3 = cfg_rw(fd, 1, &orig, n, pos);
			cfg_rw(fd, 0, &r, n, pos);
			if (pos % 32 == 0 || n < 4)
				printf("\n  %u@%03x:", n, pos);
			printf(" %x/%x/%x/%x", orig, a, z, r);
			if (e1 != n || e2 != n || e3 != n)
				printf("(%ld,%ld,%ld)", e1, e2, e3);
		}
	}
	printf("\n");
}

/*
 * Seeded random configuration writes and reads of every size and alignment.
 * Bytes outside every capability keep what is written there (in QEMU's
 * devices, and across opens): the space is written back afterwards so that
 * the next run starts from the same state.
 */
static void config_random(int fd, unsigned int size, int ops)
{
	static __u32 saved[1024];
	unsigned char buf[16];
	unsigned int pos;
	int i;

	for (pos = 0; pos < size; pos += 4)
		cfg_rw(fd, 0, &saved[pos / 4], 4, pos);

	printf("config random (%d ops):", ops);
	for (i = 0; i < ops; i++) {
		unsigned long long r = fuzz_next();
		unsigned int at = r % size, len = 1 + (r >> 16) % 8;
		int write = (r >> 24) % 2;
		long ret;
		unsigned int j;

		if (at + len > size)
			len = size - at;
		for (j = 0; j < sizeof(buf); j++)
			buf[j] = fuzz_next();
		ret = cfg_rw(fd, write, buf, len, at);
		printf("%s%c%u@%x=%ld", i % 8 ? " " : "\n ", write ? 'w' : 'r', len, at, ret);
		if (!write && ret > 0)
			for (j = 0; j < ret; j++)
				printf("%s%02x", j ? "" : ":", buf[j]);
	}
	printf("\n");
	for (pos = 0; pos < size; pos += 4)
		cfg_rw(fd, 1, &saved[pos / 4], 4, pos);
}

/*
 * VFIO_DEVICE_SET_IRQS and VFIO_DEVICE_IOEVENTFD: malformed and edge-case
 * requests, each printed with its result (0, or -errno). Every request that
 * turns something on is followed by turning everything off again, and what
 * was found on is printed, so the state each request leaves is visible too.
 */
#define IRQ_SET_MINSZ offsetofend(struct vfio_irq_set, count)
#define IOEVENTFD_MINSZ offsetofend(struct vfio_device_ioeventfd, fd)
#define SET_NONE VFIO_IRQ_SET_DATA_NONE
#define SET_BOOL VFIO_IRQ_SET_DATA_BOOL
#define SET_EVENTFD VFIO_IRQ_SET_DATA_EVENTFD
#define SET_MASK VFIO_IRQ_SET_ACTION_MASK
#define SET_UNMASK VFIO_IRQ_SET_ACTION_UNMASK
#define SET_TRIGGER VFIO_IRQ_SET_ACTION_TRIGGER
#define NUM_IRQ_NAMES 7

static const char *const irq_names[NUM_IRQ_NAMES] = {
	"intx", "msi", "msix", "err", "req", "index5", "index6"
};

struct irq_env {
	int fd;			/* the device */
	int efd, efd2;		/* eventfds, non-blocking */
	int devnull;		/* an open file that is not an eventfd */
	int closed;		/* a descriptor number that is not open */
	__u32 n[NUM_IRQ_NAMES];	/* vectors per index, from GET_IRQ_INFO */
};

/* ioctl() returning its non-negative result or -errno. */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* The request buffer is 4 KiB, so any argsz up to that describes real memory. */
static unsigned char req_buf[4096] __aligned(8);

static int set_irqs(int fd, __u32 argsz, __u32 flags, __u32 index, __u32 start,
		    __u32 count, const void *data, size_t len)
{
	struct vfio_irq_set *s = (void *)req_buf;

	memset(req_buf, 0, sizeof(req_buf));
	s->argsz = argsz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (len)
		memcpy(s->data, data, len);
	return xioctl(fd, VFIO_DEVICE_SET_IRQS, s);
}

/* A trigger on REQ's one vector, with @argsz as given. */
static int set_req(int fd, __u32 argsz, __u32 data_type, const void *data, size_t len)
{
	return set_irqs(fd, argsz, data_type | SET_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
			data, len);
}

/* argsz covering exactly the header and its payload. */
static int irq_none(int fd, __u32 action, __u32 index, __u32 start, __u32 count)
{
	return set_irqs(fd, IRQ_SET_MINSZ, SET_NONE | action, index, start, count, NULL, 0);
}

static int irq_bool(int fd, __u32 action, __u32 index, __u32 start, __u32 count,
		    const __u8 *b)
{
	return set_irqs(fd, IRQ_SET_MINSZ + count, SET_BOOL | action, index, start, count,
			b, count);
}

static int irq_fds(int fd, __u32 action, __u32 index, __u32 start, __u32 count,
		   const __s32 *fds)
{
	return set_irqs(fd, IRQ_SET_MINSZ + 4 * count, SET_EVENTFD | action, index, start,
			count, fds, 4 * count);
}

static int irq_fd(int fd, __u32 action, __u32 index, __u32 start, __s32 efd)
{
	return irq_fds(fd, action, index, start, 1, &efd);
}

/* Whether @efd was signalled since the last look (its count is consumed). */
static int signalled(int efd)
{
	eventfd_t v;

	return eventfd_read(efd, &v) == 0 && v > 0;
}

static void drain(struct irq_env *e)
{
	signalled(e->efd);
	signalled(e->efd2);
}

/*
 * Turn every index off (DATA_NONE | ACTION_TRIGGER, count 0, which also
 * drops the ERR and REQ eventfds); returns a bit per index that was on.
 */
static unsigned int irqs_off(int fd)
{
	unsigned int i, on = 0;

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		if (irq_none(fd, SET_TRIGGER, i, 0, 0) == 0)
			on |= 1u << i;
	return on;
}

static void put_state(struct irq_env *e, unsigned int on)
{
	unsigned int i;

	if (signalled(e->efd))
		putchar('!');
	if (signalled(e->efd2))
		putchar('^');
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		if (on & (1u << i))
			printf("+%s", irq_names[i]);
}

/* " ret", '!' or '^' when efd or efd2 fired, "+index" for each index left on. */
static void put_done(struct irq_env *e, int ret)
{
	printf(" %d", ret);
	put_state(e, irqs_off(e->fd));
}

/* " label=ret" and the eventfds that fired, without touching the state. */
static void put_step(struct irq_env *e, const char *label, int ret)
{
	printf(" %s=%d", label, ret);
	put_state(e, 0);
}

/* Every index, action and kind of data from a quiet device, count 0 and 1. */
static void irq_matrix(struct irq_env *e)
{
	static const __u32 actions[] = { SET_MASK, SET_UNMASK, SET_TRIGGER };
	static const char *const action_names[] = { "mask", "unmask", "trigger" };
	unsigned int i, a, d, c;

	printf("set_irqs matrix: data none, bool 1, bool 0, eventfd -1, eventfd; count 0 then 1\n");
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		for (a = 0; a < 3; a++) {
			printf("  %s %s:", irq_names[i], action_names[a]);
			for (d = 0; d < 5; d++) {
				for (c = 0; c <= 1; c++) {
					__u8 b = d == 1;
					__s32 f = d == 3 ? -1 : e->efd;
					int r;

					drain(e);
					if (d == 0)
						r = irq_none(e->fd, actions[a], i, 0, c);
					else if (d <= 2)
						r = irq_bool(e->fd, actions[a], i, 0, c, &b);
					else
						r = irq_fds(e->fd, actions[a], i, 0, c, &f);
					put_done(e, r);
				}
			}
			printf("\n");
		}
	}
}

/* The header: argsz, flags, index, start/count ranges, unreadable memory. */
static void irq_header(struct irq_env *e)
{
	static const __u32 flag_cases[] = {
		SET_TRIGGER, SET_NONE | SET_BOOL | SET_TRIGGER,
		SET_NONE | SET_EVENTFD | SET_TRIGGER, SET_BOOL | SET_EVENTFD | SET_TRIGGER,
		SET_NONE | SET_BOOL | SET_EVENTFD | SET_TRIGGER,
		SET_NONE, SET_NONE | SET_MASK | SET_UNMASK, SET_NONE | SET_MASK | SET_TRIGGER,
		SET_NONE | SET_UNMASK | SET_TRIGGER,
		SET_NONE | SET_MASK | SET_UNMASK | SET_TRIGGER,
		SET_NONE | SET_TRIGGER | (1u << 6), SET_NONE | SET_TRIGGER | (1u << 31),
		SET_NONE | SET_TRIGGER | 0xffffffc0u, SET_BOOL | SET_MASK, SET_BOOL | SET_UNMASK,
		SET_BOOL | SET_TRIGGER, SET_NONE | SET_TRIGGER,
	};
	static const __u32 bad_index[] = { 5, 6, 7, 0xff, 0x80000000u, 0xffffffffu };
	const __u32 req = VFIO_PCI_REQ_IRQ_INDEX;
	long page = getpagesize();
	unsigned char ff[64];
	unsigned char *pages;
	__u8 one = 1, zero = 0;
	unsigned int i, k;
	__s32 f;

	printf("errno set_irqs_null=%d\n", xioctl(e->fd, VFIO_DEVICE_SET_IRQS, NULL));

	/* argsz, on the REQ index (one vector on every PCI device). */
	printf("set_irqs req argsz:");
	drain(e);
	f = e->efd;
	put_step(e, "0", set_req(e->fd, 0, SET_EVENTFD, &f, 4));
	put_step(e, "19", set_req(e->fd, IRQ_SET_MINSZ - 1, SET_EVENTFD, &f, 4));
	put_step(e, "eventfd/23", set_req(e->fd, IRQ_SET_MINSZ + 3, SET_EVENTFD, &f, 4));
	put_step(e, "none/20", irq_none(e->fd, SET_TRIGGER, req, 0, 1));
	put_step(e, "eventfd/24", irq_fd(e->fd, SET_TRIGGER, req, 0, e->efd));
	put_step(e, "none/20", irq_none(e->fd, SET_TRIGGER, req, 0, 1));
	put_step(e, "none/4096", set_req(e->fd, sizeof(req_buf), SET_NONE, NULL, 0));
	put_step(e, "bool/20", set_req(e->fd, IRQ_SET_MINSZ, SET_BOOL, &one, 1));
	put_step(e, "bool1/21", irq_bool(e->fd, SET_TRIGGER, req, 0, 1, &one));
	put_step(e, "bool0/21", irq_bool(e->fd, SET_TRIGGER, req, 0, 1, &zero));
	put_step(e, "bool1/4096", set_req(e->fd, sizeof(req_buf), SET_BOOL, &one, 1));
	f = e->efd2;
	put_step(e, "eventfd2/4096", set_req(e->fd, sizeof(req_buf), SET_EVENTFD, &f, 4));
	put_step(e, "none/20", irq_none(e->fd, SET_TRIGGER, req, 0, 1));
	printf("\n");

	/* Payload, then the header itself, ending at an inaccessible page. */
	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VFIO_ASSERT_NE(pages, MAP_FAILED);
	VFIO_ASSERT_EQ(mprotect(pages + page, page, PROT_NONE), 0);
	{
		struct vfio_irq_set *s = (void *)(pages + page - IRQ_SET_MINSZ);

		s->argsz = IRQ_SET_MINSZ + 4;
		s->flags = SET_EVENTFD | SET_TRIGGER;
		s->index = req;
		s->start = 0;
		s->count = 1;
		printf("set_irqs req unreadable:");
		put_step(e, "payload", xioctl(e->fd, VFIO_DEVICE_SET_IRQS, s));
		s->argsz = IRQ_SET_MINSZ;
		s->flags = SET_NONE | SET_TRIGGER;
		put_step(e, "none_at_page_end", xioctl(e->fd, VFIO_DEVICE_SET_IRQS, s));
		s = (void *)(pages + page - IRQ_SET_MINSZ + 4);
		put_step(e, "header", xioctl(e->fd, VFIO_DEVICE_SET_IRQS, s));
		printf("\n");
	}
	munmap(pages, 2 * page);

	/* Flag combinations, with REQ's eventfd in place; payload all ones. */
	memset(ff, 0xff, sizeof(ff));
	printf("set_irqs flags (payload all ones, start 0, count 1, argsz 4096):\n");
	for (i = 0; i < NUM_IRQ_NAMES; i++) {
		printf("  %s:", irq_names[i]);
		for (k = 0; k < ARRAY_SIZE(flag_cases); k++) {
			char label[16];

			snprintf(label, sizeof(label), "%x", flag_cases[k]);
			put_step(e, label, set_irqs(e->fd, sizeof(req_buf), flag_cases[k], i, 0, 1,
						    ff, sizeof(ff)));
		}
		printf("\n");
	}
	printf("set_irqs bad index:");
	for (k = 0; k < ARRAY_SIZE(bad_index); k++) {
		printf(" %x:%d/%d", bad_index[k], irq_none(e->fd, SET_TRIGGER, bad_index[k], 0, 0),
		       irq_none(e->fd, SET_TRIGGER, bad_index[k], 0, 1));
	}
	printf("\n");
	printf("set_irqs left on:");
	put_done(e, 0);
	printf("\n");
}

/* start/count against each index's vector count n, with BOOL 0 payloads. */
static void irq_ranges(struct irq_env *e)
{
	static __u8 zeros[4096 - IRQ_SET_MINSZ];
	unsigned int i, k;

	printf("set_irqs ranges (bool 0s, argsz 4096; n from GET_IRQ_INFO):\n");
	for (i = 0; i < NUM_IRQ_NAMES; i++) {
		__u32 n = e->n[i];
		const struct {
			const char *label;
			__u32 start, count;
		} cases[] = {
			{ "0,n", 0, n }, { "0,1", 0, 1 }, { "n,0", n, 0 }, { "n,1", n, 1 },
			{ "0,n+1", 0, n + 1 }, { "n-1,2", n - 1, 2 }, { "1,n", 1, n },
			{ "n-1,1", n - 1, 1 }, { "-1,0", ~0u, 0 }, { "-1,1", ~0u, 1 },
			{ "-2,1", ~0u - 1, 1 }, { "-2,0", ~0u - 1, 0 }, { "1,-1", 1, ~0u },
			{ "0,-1", 0, ~0u }, { "0,-2", 0, ~0u - 1 },
			{ "2^31,2^31", 1u << 31, 1u << 31 },
			{ "n,-n", n, 0u - n }, { "n,-n-1", n, ~0u - n },
		};

		printf("  %s n=%u:", irq_names[i], n);
		for (k = 0; k < ARRAY_SIZE(cases); k++) {
			drain(e);
			printf(" %s", cases[k].label);
			put_done(e, set_irqs(e->fd, sizeof(req_buf), SET_BOOL | SET_TRIGGER, i,
					     cases[k].start, cases[k].count, zeros, sizeof(zeros)));
		}
		printf("\n");
		printf("  %s count 0:", irq_names[i]);
		drain(e);
		printf(" eventfd");
		put_done(e, irq_fds(e->fd, SET_TRIGGER, i, 0, 0, NULL));
		printf(" eventfd/4096");
		put_done(e, set_irqs(e->fd, sizeof(req_buf), SET_EVENTFD | SET_TRIGGER, i, 0, 0,
				     NULL, 0));
		printf(" bool");
		put_done(e, irq_bool(e->fd, SET_TRIGGER, i, 0, 0, NULL));
		printf(" none");
		put_done(e, irq_none(e->fd, SET_TRIGGER, i, 0, 0));
		printf(" none_start_n");
		put_done(e, irq_none(e->fd, SET_TRIGGER, i, n, 0));
		printf("\n");
	}
}

/* Kinds of descriptor as the trigger of each index's first (and last) vector. */
static void irq_fd_kinds(struct irq_env *e)
{
	unsigned int i;

	printf("%s\n",
	       "set_irqs trigger fds: -1, -2, INT_MIN, closed, /dev/null, eventfd, eventfd on vector n-1");
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		const __s32 fds[] = { -1, -2, INT_MIN, e->closed, e->devnull, e->efd };
		unsigned int k;

		printf("  %s:", irq_names[i]);
		for (k = 0; k < ARRAY_SIZE(fds); k++) {
			drain(e);
			put_done(e, irq_fd(e->fd, SET_TRIGGER, i, 0, fds[k]));
		}
		drain(e);
		put_done(e, irq_fd(e->fd, SET_TRIGGER, i, e->n[i] ? e->n[i] - 1 : 0, e->efd));
		if (e->n[i] >= 2) {
			__s32 two[2] = { e->efd, e->devnull };

			printf(" pair:");
			drain(e);
			put_done(e, irq_fds(e->fd, SET_TRIGGER, i, 0, 2, two));
			two[1] = e->efd2;
			drain(e);
			put_done(e, irq_fds(e->fd, SET_TRIGGER, i, 0, 2, two));
		}
		printf("\n");
	}
}

/* With INTx on: loopback triggers, masking, unmask eventfds, exclusion of MSI/MSI-X. */
static void irq_intx_sequence(struct irq_env *e)
{
	const __u32 x = VFIO_PCI_INTX_IRQ_INDEX;
	__u8 one = 1, zero = 0;

	if (!e->n[x]) {
		printf("set_irqs intx sequence: no intx\n");
		return;
	}
	drain(e);
	printf("set_irqs intx sequence:");
	put_step(e, "on", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "bool0", irq_bool(e->fd, SET_TRIGGER, x, 0, 1, &zero));
	put_step(e, "bool1", irq_bool(e->fd, SET_TRIGGER, x, 0, 1, &one));
	put_step(e, "none_count0_start1", irq_none(e->fd, SET_TRIGGER, x, 1, 0));
	printf("\n ");
	put_step(e, "mask", irq_none(e->fd, SET_MASK, x, 0, 1));
	put_step(e, "mask_again", irq_none(e->fd, SET_MASK, x, 0, 1));
	put_step(e, "mask_bool1", irq_bool(e->fd, SET_MASK, x, 0, 1, &one));
	put_step(e, "mask_bool0", irq_bool(e->fd, SET_MASK, x, 0, 1, &zero));
	put_step(e, "mask_fd-1", irq_fd(e->fd, SET_MASK, x, 0, -1));
	put_step(e, "mask_fd", irq_fd(e->fd, SET_MASK, x, 0, e->efd2));
	put_step(e, "mask_count0", irq_none(e->fd, SET_MASK, x, 0, 0));
	put_step(e, "none_masked", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "unmask", irq_none(e->fd, SET_UNMASK, x, 0, 1));
	put_step(e, "unmask_again", irq_none(e->fd, SET_UNMASK, x, 0, 1));
	put_step(e, "unmask_bool0", irq_bool(e->fd, SET_UNMASK, x, 0, 1, &zero));
	put_step(e, "unmask_bool1", irq_bool(e->fd, SET_UNMASK, x, 0, 1, &one));
	printf("\n ");
	put_step(e, "unmask_fd", irq_fd(e->fd, SET_UNMASK, x, 0, e->efd2));
	put_step(e, "unmask_fd_again", irq_fd(e->fd, SET_UNMASK, x, 0, e->efd2));
	put_step(e, "unmask_devnull", irq_fd(e->fd, SET_UNMASK, x, 0, e->devnull));
	put_step(e, "unmask_closed", irq_fd(e->fd, SET_UNMASK, x, 0, e->closed));
	put_step(e, "unmask_fd-2", irq_fd(e->fd, SET_UNMASK, x, 0, -2));
	put_step(e, "unmask_fd-1", irq_fd(e->fd, SET_UNMASK, x, 0, -1));
	put_step(e, "unmask_fd-1_again", irq_fd(e->fd, SET_UNMASK, x, 0, -1));
	put_step(e, "unmask_count0", irq_none(e->fd, SET_UNMASK, x, 0, 0));
	printf("\n ");
	put_step(e, "msi_on", irq_fd(e->fd, SET_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, e->efd2));
	put_step(e, "msix_on", irq_fd(e->fd, SET_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, e->efd2));
	put_step(e, "msi_off", irq_none(e->fd, SET_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 0));
	put_step(e, "msix_off", irq_none(e->fd, SET_TRIGGER, VFIO_PCI_MSIX_IRQ_INDEX, 0, 0));
	put_step(e, "msi_none", irq_none(e->fd, SET_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1));
	put_step(e, "err_on", irq_fd(e->fd, SET_TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, e->efd2));
	put_step(e, "err_none", irq_none(e->fd, SET_TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, 1));
	put_step(e, "err_fd-1", irq_fd(e->fd, SET_TRIGGER, VFIO_PCI_ERR_IRQ_INDEX, 0, -1));
	printf("\n ");
	put_step(e, "swap", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd2));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "devnull", irq_fd(e->fd, SET_TRIGGER, x, 0, e->devnull));
	put_step(e, "closed", irq_fd(e->fd, SET_TRIGGER, x, 0, e->closed));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "fd-1", irq_fd(e->fd, SET_TRIGGER, x, 0, -1));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "mask", irq_none(e->fd, SET_MASK, x, 0, 1));
	put_step(e, "fd", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "eventfd_count0", irq_fds(e->fd, SET_TRIGGER, x, 0, 0, NULL));
	put_step(e, "off", irq_none(e->fd, SET_TRIGGER, x, 0, 0));
	put_step(e, "off_again", irq_none(e->fd, SET_TRIGGER, x, 0, 0));
	put_step(e, "mask_off", irq_none(e->fd, SET_MASK, x, 0, 1));
	printf("\n  left on:");
	put_done(e, 0);
	printf("\n");
}

/* With MSI or MSI-X on: loopback triggers, vectors swapped and dropped, exclusion. */
static void irq_msi_sequence(struct irq_env *e, __u32 x)
{
	__u32 other = x == VFIO_PCI_MSI_IRQ_INDEX ? VFIO_PCI_MSIX_IRQ_INDEX
						  : VFIO_PCI_MSI_IRQ_INDEX;
	__u8 ones[4096 - IRQ_SET_MINSZ];
	__u8 one = 1, zero = 0;
	__u32 n = e->n[x];

	if (!n) {
		printf("set_irqs %s sequence: no %s\n", irq_names[x], irq_names[x]);
		return;
	}
	memset(ones, 1, sizeof(ones));
	drain(e);
	printf("set_irqs %s sequence:", irq_names[x]);
	put_step(e, "on", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "bool0", irq_bool(e->fd, SET_TRIGGER, x, 0, 1, &zero));
	put_step(e, "bool1", irq_bool(e->fd, SET_TRIGGER, x, 0, 1, &one));
	put_step(e, "none_all", irq_none(e->fd, SET_TRIGGER, x, 0, n));
	put_step(e, "bool1_all", irq_bool(e->fd, SET_TRIGGER, x, 0, n, ones));
	put_step(e, "mask", irq_none(e->fd, SET_MASK, x, 0, 1));
	put_step(e, "unmask", irq_none(e->fd, SET_UNMASK, x, 0, 1));
	put_step(e, "mask_bool", irq_bool(e->fd, SET_MASK, x, 0, 1, &one));
	put_step(e, "unmask_fd", irq_fd(e->fd, SET_UNMASK, x, 0, e->efd2));
	printf("\n ");
	put_step(e, "intx_on", irq_fd(e->fd, SET_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, e->efd2));
	put_step(e, "intx_mask", irq_none(e->fd, SET_MASK, VFIO_PCI_INTX_IRQ_INDEX, 0, 1));
	put_step(e, "intx_off", irq_none(e->fd, SET_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX, 0, 0));
	put_step(e, "other_on", irq_fd(e->fd, SET_TRIGGER, other, 0, e->efd2));
	put_step(e, "other_off", irq_none(e->fd, SET_TRIGGER, other, 0, 0));
	put_step(e, "req_on", irq_fd(e->fd, SET_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, e->efd2));
	put_step(e, "req_bool1", irq_bool(e->fd, SET_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &one));
	put_step(e, "req_off", irq_none(e->fd, SET_TRIGGER, VFIO_PCI_REQ_IRQ_INDEX, 0, 0));
	printf("\n ");
	put_step(e, "swap", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd2));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "devnull", irq_fd(e->fd, SET_TRIGGER, x, 0, e->devnull));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "fd", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd));
	put_step(e, "closed", irq_fd(e->fd, SET_TRIGGER, x, 0, e->closed));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "fd-1", irq_fd(e->fd, SET_TRIGGER, x, 0, -1));
	put_step(e, "none", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	put_step(e, "fd-2", irq_fd(e->fd, SET_TRIGGER, x, 0, -2));
	put_step(e, "eventfd_count0", irq_fds(e->fd, SET_TRIGGER, x, 0, 0, NULL));
	put_step(e, "fd", irq_fd(e->fd, SET_TRIGGER, x, 0, e->efd));
	put_step(e, "last", irq_fd(e->fd, SET_TRIGGER, x, n - 1, e->efd2));
	put_step(e, "bool1_all", irq_bool(e->fd, SET_TRIGGER, x, 0, n, ones));
	put_step(e, "off", irq_none(e->fd, SET_TRIGGER, x, 0, 0));
	put_step(e, "off_again", irq_none(e->fd, SET_TRIGGER, x, 0, 0));
	put_step(e, "none_off", irq_none(e->fd, SET_TRIGGER, x, 0, 1));
	printf("\n  left on:");
	put_done(e, 0);
	printf("\n");
}

static void set_irqs_sweep(int fd)
{
	struct irq_env e = { .fd = fd };
	unsigned int i;

	e.efd = eventfd(0, EFD_NONBLOCK);
	e.efd2 = eventfd(0, EFD_NONBLOCK);
	e.devnull = open("/dev/null", O_RDWR);
	VFIO_ASSERT_GE(e.efd, 0);
	VFIO_ASSERT_GE(e.efd2, 0);
	VFIO_ASSERT_GE(e.devnull, 0);
	/* A number below RLIMIT_NOFILE that is not open. */
	e.closed = 1000;
	close(e.closed);
	for (i = 0; i < NUM_IRQ_NAMES; i++) {
		struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = i };

		e.n[i] = rvfio_ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, &irq) ? 0 : irq.count;
	}
	printf("set_irqs: 0 or -errno; '!'/'^' first/second eventfd fired, +index left on\n");
	printf("set_irqs left on at start:");
	put_done(&e, 0);
	printf("\n");
	irq_header(&e);
	irq_ranges(&e);
	irq_matrix(&e);
	irq_fd_kinds(&e);
	irq_intx_sequence(&e);
	irq_msi_sequence(&e, VFIO_PCI_MSI_IRQ_INDEX);
	irq_msi_sequence(&e, VFIO_PCI_MSIX_IRQ_INDEX);
	close(e.efd);
	close(e.efd2);
	close(e.devnull);
}

static int ioeventfd_req(int fd, __u32 argsz, __u32 flags, __u64 offset, __u64 data, __s32 efd)
{
	struct vfio_device_ioeventfd *r = (void *)req_buf;

	memset(req_buf, 0, sizeof(req_buf));
	r->argsz = argsz;
	r->flags = flags;
	r->offset = offset;
	r->data = data;
	r->fd = efd;
	return xioctl(fd, VFIO_DEVICE_IOEVENTFD, r);
}

static int ioev(int fd, __u32 size, __u64 offset, __u64 data, __s32 efd)
{
	return ioeventfd_req(fd, sizeof(struct vfio_device_ioeventfd), size, offset, data, efd);
}

/* " label=ret", and on success "/ret" of removing it again. */
static void ioev_try(int fd, const char *label, __u32 size, __u64 offset, __u64 data, __s32 efd)
{
	int r = ioev(fd, size, offset, data, efd);

	printf(" %s=%d", label, r);
	if (!r)
		printf("/%d", ioev(fd, size, offset, data, -1));
}

struct msix_place {
	int present;
	__u32 bar, table, size, pba_bar, pba;
};

/* The MSI-X table as configuration space describes it (what vfio-pci protects). */
static struct msix_place find_msix(int fd)
{
	struct msix_place m = {};
	__u8 pos = 0, id = 0;
	__u16 status = 0, flags = 0;
	__u32 table = 0, pba = 0;
	int i;

	if (cfg_rw(fd, 0, &status, 2, PCI_STATUS) != 2 || !(status & PCI_STATUS_CAP_LIST))
		return m;
	cfg_rw(fd, 0, &pos, 1, PCI_CAPABILITY_LIST);
	for (i = 0; i < 48 && pos >= 0x40; i++) {
		pos &= ~3;
		cfg_rw(fd, 0, &id, 1, pos);
		if (id == PCI_CAP_ID_MSIX) {
			cfg_rw(fd, 0, &flags, 2, pos + PCI_MSIX_FLAGS);
			cfg_rw(fd, 0, &table, 4, pos + PCI_MSIX_TABLE);
			cfg_rw(fd, 0, &pba, 4, pos + PCI_MSIX_PBA);
			m.present = 1;
			m.bar = table & PCI_MSIX_TABLE_BIR;
			m.table = table & PCI_MSIX_TABLE_OFFSET;
			m.size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * PCI_MSIX_ENTRY_SIZE;
			m.pba_bar = pba & PCI_MSIX_PBA_BIR;
			m.pba = pba & PCI_MSIX_PBA_OFFSET;
			break;
		}
		cfg_rw(fd, 0, &pos, 1, pos + PCI_CAP_LIST_NEXT);
	}
	return m;
}

static void ioeventfd_sweep(int fd)
{
	static const __u32 flag_cases[] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x10 | 4, 0x100 | 4,
		0x80000000u | 4, 0xfffffff0u | 4,
	};
	static const __u32 argsz_cases[] = { 0, 1, IOEVENTFD_MINSZ - 1, IOEVENTFD_MINSZ,
					     sizeof(struct vfio_device_ioeventfd), 4096 };
	static const unsigned int sizes[] = { 1, 2, 4, 8 };
	const __u64 top = 1ULL << 40;
	unsigned long long bar_size[VFIO_PCI_ROM_REGION_INDEX] = {};
	int efd, efd2, devnull, closed = 1000;
	long page = getpagesize();
	struct msix_place m;
	unsigned char *pages;
	__u64 off = 0, pos = 0;
	unsigned int k, b, t;
	int found = 0, r;
	char label[48];

	efd = eventfd(0, EFD_NONBLOCK);
	efd2 = eventfd(0, EFD_NONBLOCK);
	devnull = open("/dev/null", O_RDWR);
	VFIO_ASSERT_GE(efd, 0);
	VFIO_ASSERT_GE(efd2, 0);
	VFIO_ASSERT_GE(devnull, 0);
	close(closed);

	for (b = 0; b < VFIO_PCI_ROM_REGION_INDEX; b++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = b };

		if (!rvfio_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
			bar_size[b] = ri.size;
	}
	m = find_msix(fd);
	if (m.present)
		printf("ioeventfd msix: table bar %u 0x%x+0x%x pba bar %u 0x%x\n",
		       m.bar, m.table, m.size, m.pba_bar, m.pba);
	/* Somewhere to register: 16 bytes in the first BAR that has them outside the table. */
	for (b = 0; b < VFIO_PCI_ROM_REGION_INDEX && !found; b++) {
		pos = 0;
		if (m.present && b == m.bar && m.table < 16)
			pos = (m.table + m.size + 15) & ~15ULL;
		if (pos + 16 <= bar_size[b]) {
			found = 1;
			off = RVFIO_REGION_OFFSET(b) + pos;
			printf("ioeventfd target: bar %u 0x%llx\n", b, (unsigned long long)pos);
		}
	}
	if (!found)
		printf("ioeventfd target: none\n");

	printf("errno ioeventfd_null=%d\n", xioctl(fd, VFIO_DEVICE_IOEVENTFD, NULL));
	printf("ioeventfd argsz (remove absent, add):");
	for (k = 0; k < ARRAY_SIZE(argsz_cases); k++) {
		r = ioeventfd_req(fd, argsz_cases[k], 4, off, 0, -1);
		printf(" %u:%d", argsz_cases[k], r);
		r = ioeventfd_req(fd, argsz_cases[k], 4, off, 0, efd);
		printf(",%d", r);
		if (!r)
			printf("/%d", ioev(fd, 4, off, 0, -1));
	}
	printf("\n");

	/* The request ending where its fd ends, the reserved word in an inaccessible page. */
	pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	VFIO_ASSERT_NE(pages, MAP_FAILED);
	VFIO_ASSERT_EQ(mprotect(pages + page, page, PROT_NONE), 0);
	{
		struct vfio_device_ioeventfd *p = (void *)(pages + page - IOEVENTFD_MINSZ);

		p->argsz = IOEVENTFD_MINSZ;
		p->flags = 4;
		p->offset = off;
		p->data = 0;
		p->fd = -1;
		printf("ioeventfd at page end: remove_absent=%d",
		       xioctl(fd, VFIO_DEVICE_IOEVENTFD, p));
		p->fd = efd;
		r = xioctl(fd, VFIO_DEVICE_IOEVENTFD, p);
		printf(" add=%d", r);
		if (!r)
			printf("/%d", ioev(fd, 4, off, 0, -1));
		p = (void *)(pages + page - IOEVENTFD_MINSZ + 4);
		printf(" short=%d\n", xioctl(fd, VFIO_DEVICE_IOEVENTFD, p));
	}
	munmap(pages, 2 * page);

	printf("ioeventfd flags (remove absent, add):");
	for (k = 0; k < ARRAY_SIZE(flag_cases); k++) {
		printf(" %x:%d", flag_cases[k], ioev(fd, flag_cases[k], off, 0, -1));
		r = ioev(fd, flag_cases[k], off, 0, efd);
		printf(",%d", r);
		if (!r)
			printf("/%d", ioev(fd, flag_cases[k], off, 0, -1));
	}
	printf("\n");

	printf("ioeventfd fds:");
	ioev_try(fd, "-1", 4, off, 0, -1);
	ioev_try(fd, "-2", 4, off, 0, -2);
	ioev_try(fd, "INT_MIN", 4, off, 0, INT_MIN);
	ioev_try(fd, "closed", 4, off, 0, closed);
	ioev_try(fd, "devnull", 4, off, 0, devnull);
	ioev_try(fd, "eventfd", 4, off, 0, efd);
	printf("\n");

	printf("ioeventfd regions (offset 0, 4 bytes):");
	for (k = 0; k <= VFIO_PCI_NUM_REGIONS; k++) {
		snprintf(label, sizeof(label), "%u", k);
		ioev_try(fd, label, 4, RVFIO_REGION_OFFSET(k), 0, efd);
	}
	ioev_try(fd, "0xffffff", 4, RVFIO_REGION_OFFSET(0xffffff), 0, efd);
	ioev_try(fd, "all_ones", 4, ~0ULL, 0, efd);
	ioev_try(fd, "2^63", 4, 1ULL << 63, 0, efd);
	printf("\n");

	for (b = 0; b < VFIO_PCI_ROM_REGION_INDEX; b++) {
		unsigned long long len = bar_size[b];
		__u64 base = RVFIO_REGION_OFFSET(b);

		if (!len)
			continue;
		printf("ioeventfd bar %u edges (size 0x%llx):", b, len);
		for (k = 0; k < 4; k++) {
			unsigned int n = sizes[k];

			snprintf(label, sizeof(label), "%u@end-%u", n, n);
			ioev_try(fd, label, n, base + len - n, 0, efd);
			snprintf(label, sizeof(label), "%u@end-%u+1", n, n);
			ioev_try(fd, label, n, base + len - n + 1, 0, efd);
			snprintf(label, sizeof(label), "%u@end", n);
			ioev_try(fd, label, n, base + len, 0, efd);
			snprintf(label, sizeof(label), "%u@2^40-%u", n, n);
			ioev_try(fd, label, n, base + top - n, 0, efd);
		}
		ioev_try(fd, "4@end+4096", 4, base + len + 4096, 0, efd);
		printf("\n");
	}

	if (found) {
		printf("ioeventfd unaligned:");
		ioev_try(fd, "4@1", 4, off + 1, 0, efd);
		ioev_try(fd, "2@3", 2, off + 3, 0, efd);
		ioev_try(fd, "8@4", 8, off + 4, 0, efd);
		ioev_try(fd, "8@7", 8, off + 7, 0, efd);
		printf("\n");
	}

	if (m.present) {
		const struct {
			const char *label;
			long long at;	/* relative to the table start (or end, if end) */
			int end;
			unsigned int n;
		} cases[] = {
			{ "8@T-8", -8, 0, 8 }, { "4@T-4", -4, 0, 4 }, { "1@T-1", -1, 0, 1 },
			{ "8@T-4", -4, 0, 8 }, { "2@T-1", -1, 0, 2 }, { "4@T-2", -2, 0, 4 },
			{ "1@T", 0, 0, 1 }, { "4@T", 0, 0, 4 }, { "8@T+8", 8, 0, 8 },
			{ "1@E-1", -1, 1, 1 }, { "8@E-8", -8, 1, 8 }, { "8@E-4", -4, 1, 8 },
			{ "2@E-1", -1, 1, 2 }, { "1@E", 0, 1, 1 }, { "4@E", 0, 1, 4 },
			{ "8@E", 0, 1, 8 },
		};
		__u64 base = RVFIO_REGION_OFFSET(m.bar);

		printf("ioeventfd msix table (T start, E end):");
		for (k = 0; k < ARRAY_SIZE(cases); k++) {
			long long at = (long long)m.table + cases[k].at;

			if (cases[k].end)
				at += m.size;

			if (at < 0)
				continue;
			ioev_try(fd, cases[k].label, cases[k].n, base + at, 0, efd);
		}
		ioev_try(fd, "4@pba", 4, RVFIO_REGION_OFFSET(m.pba_bar) + m.pba, 0, efd);
		printf("\n");
	}

	if (!found)
		goto out;

	/* Identity is (offset, size, data): the eventfd plays no part. */
	printf("ioeventfd duplicates:");
	printf(" add=%d", ioev(fd, 4, off, 0x1234, efd));
	printf(" same=%d", ioev(fd, 4, off, 0x1234, efd));
	printf(" other_eventfd=%d", ioev(fd, 4, off, 0x1234, efd2));
	printf(" devnull=%d", ioev(fd, 4, off, 0x1234, devnull));
	printf(" closed=%d", ioev(fd, 4, off, 0x1234, closed));
	printf(" fd-2=%d", ioev(fd, 4, off, 0x1234, -2));
	printf(" data=%d", ioev(fd, 4, off, 0x1235, efd));
	printf(" size2=%d", ioev(fd, 2, off, 0x1234, efd));
	printf(" size8=%d", ioev(fd, 8, off, 0x1234, efd));
	printf(" offset+4=%d", ioev(fd, 4, off + 4, 0x1234, efd));
	printf(" 1:0x1ff=%d", ioev(fd, 1, off, 0x1ff, efd));
	printf(" 1:0xff=%d", ioev(fd, 1, off, 0xff, efd));
	printf(" 1:0x1ff_again=%d", ioev(fd, 1, off, 0x1ff, efd2));
	printf(" 4:2^32+0x1234=%d", ioev(fd, 4, off, 0x100001234ULL, efd));
	printf("\n  remove:");
	printf(" other_data=%d", ioev(fd, 4, off, 0x1236, -1));
	printf(" other_size=%d", ioev(fd, 1, off, 0x1234, -1));
	printf(" other_offset=%d", ioev(fd, 4, off + 8, 0x1234, -1));
	printf(" fd-2=%d", ioev(fd, 4, off, 0x1234, -2));
	printf(" %d", ioev(fd, 4, off, 0x1234, -1));
	printf(" again=%d", ioev(fd, 4, off, 0x1234, -1));
	printf(" %d", ioev(fd, 4, off, 0x1235, -1));
	printf(" %d", ioev(fd, 2, off, 0x1234, -1));
	printf(" %d", ioev(fd, 8, off, 0x1234, -1));
	printf(" %d", ioev(fd, 4, off + 4, 0x1234, -1));
	printf(" %d", ioev(fd, 1, off, 0x1ff, -1));
	printf(" %d", ioev(fd, 1, off, 0xff, -1));
	printf(" %d", ioev(fd, 4, off, 0x100001234ULL, -1));
	printf(" readd=%d", ioev(fd, 4, off, 0x1234, efd2));
	printf("/%d\n", ioev(fd, 4, off, 0x1234, -1));

	/* The per-device limit: fill up, probe at the limit, empty again. */
	for (t = 0; t < 1100; t++) {
		r = ioev(fd, 4, off, 0x10000 + t, efd);
		if (r)
			break;
	}
	printf("ioeventfd limit: added=%u then %d;", t, r);
	printf(" absent_remove=%d", ioev(fd, 4, off, 0x1, -1));
	printf(" duplicate=%d", ioev(fd, 4, off, 0x10000, efd));
	printf(" devnull=%d", ioev(fd, 4, off, 0x1, devnull));
	printf(" closed=%d", ioev(fd, 4, off, 0x1, closed));
	printf(" fd-2=%d", ioev(fd, 4, off, 0x1, -2));
	printf(" bad_region=%d",
	       ioev(fd, 4, RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX), 0x1, efd));
	printf(" bad_size=%d", ioev(fd, 3, off, 0x1, efd));
	if (t) {
		printf(" remove_one=%d", ioev(fd, 4, off, 0x10000, -1));
		printf(" add_one=%d", ioev(fd, 4, off, 0x1, efd));
		printf(" over=%d", ioev(fd, 4, off, 0x2, efd));
		printf(" remove=%d", ioev(fd, 4, off, 0x1, -1));
	}
	for (k = 0, b = 0; k < t; k++)
		if (!ioev(fd, 4, off, 0x10000 + k, -1))
			b++;
	printf(" removed=%u", b);
	for (k = 0, b = 0; k < t; k++)
		if (!ioev(fd, 4, off, 0x10000 + k, -1))
			b++;
	printf(" removed_again=%u", b);
	r = ioev(fd, 4, off, 0x10000, efd);
	printf(" readd=%d", r);
	if (!r)
		printf("/%d", ioev(fd, 4, off, 0x10000, -1));
	printf("\n");
out:
	close(efd);
	close(efd2);
	close(devnull);
}

int main(int argc, char *argv[])
{
	unsigned long long cfg = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_pci_device *device;
	struct iommu *iommu;
	unsigned char hdr[64];
	char small[8];
	__u32 i;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IOMMU_MODE BDF\n", argv[0]);
		return 2;
	}
	iommu = iommu_init(argv[1]);
	device = rvfio_open(argv[2], iommu);

	ret = rvfio_ioctl(device->fd, VFIO_DEVICE_GET_INFO, &info);
	printf("device_info: ret=%d argsz=%u flags=0x%x num_regions=%u num_irqs=%u cap_offset=%u\n",
	       ret, info.argsz, info.flags, info.num_regions, info.num_irqs,
	       info.cap_offset);
	for (i = 0; i < info.num_regions + 2; i++)
		dump_region(device->fd, i);

	for (i = 0; i < info.num_irqs + 1; i++) {
		struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = i };

		ret = rvfio_ioctl(device->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq);
		printf("irq %u: ret=%d", i, ret);
		if (!ret)
			printf(" argsz=%u flags=0x%x count=%u", irq.argsz, irq.flags, irq.count);
		printf("\n");
	}
	{
		struct vfio_irq_info irq = { .argsz = 15 };

		printf("errno irq_info_short=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_GET_IRQ_INFO, &irq));
		printf("errno irq_info_null=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_GET_IRQ_INFO, NULL));
	}

	ret = rvfio_pread(device->fd, hdr, sizeof(hdr), cfg);
	printf("config header: ret=%d", ret);
	for (i = 0; ret == sizeof(hdr) && i < sizeof(hdr); i++)
		printf("%s%02x", i % 16 ? " " : "\n  ", hdr[i]);
	printf("\n");
	{
		/* All of configuration space, dword by dword, as a virtualizing driver shows it. */
		struct vfio_region_info r = {
			.argsz = sizeof(r),
			.index = VFIO_PCI_CONFIG_REGION_INDEX,
		};
		__u32 d;

		ioctl_assert(device->fd, VFIO_DEVICE_GET_REGION_INFO, &r);
		printf("config space (%llu bytes):", (unsigned long long)r.size);
		for (i = 0; i < r.size; i += 4) {
			if (rvfio_pread(device->fd, &d, 4, cfg + i) != 4) {
				printf("\n  read error at 0x%x", i);
				break;
			}
			if (i % 32 == 0)
				printf("\n  %03x:", i);
			printf(" %08x", d);
		}
		printf("\n");
	}

	{
		struct vfio_region_info r = { .argsz = sizeof(r) };
		unsigned char b[8];
		long n;

		/* What reads of each region's edges return (not its contents, which may move). */
		for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_ROM_REGION_INDEX; i++) {
			r.index = i;
			if (rvfio_ioctl(device->fd, VFIO_DEVICE_GET_REGION_INFO, &r))
				continue;
			printf("region %u edges: start=%ld tail=%ld past=%ld", i,
			       rvfio_pread(device->fd, b, 4, r.offset),
			       r.size ? rvfio_pread(device->fd, b, 8, r.offset + r.size - 2) : 0,
			       rvfio_pread(device->fd, b, 4, r.offset + r.size));
			if (i == VFIO_PCI_ROM_REGION_INDEX && r.size) {
				n = rvfio_pread(device->fd, b, 4, r.offset);
				printf(" rom_header=%02x%02x%02x%02x n=%ld",
				       b[0], b[1], b[2], b[3], n);
			}
			printf("\n");
		}
	}

	info.argsz = offsetofend(struct vfio_device_info, num_irqs) - 1;
	printf("errno device_info_short=%d\n",
	       rvfio_ioctl(device->fd, VFIO_DEVICE_GET_INFO, &info));
	printf("errno device_info_null=%d\n",
	       rvfio_ioctl(device->fd, VFIO_DEVICE_GET_INFO, NULL));
	{
		struct vfio_region_info r = {
			.argsz = offsetofend(struct vfio_region_info, offset) - 1,
		};

		printf("errno region_info_short=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_GET_REGION_INFO, &r));
		r.argsz = sizeof(r);
		r.index = 1000;
		printf("errno region_info_index_1000=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_GET_REGION_INFO, &r));
	}
	{
		struct vfio_device_feature feature = {
			.argsz = sizeof(feature),
			.flags = 0x80000000 | VFIO_DEVICE_FEATURE_PROBE,
		};

		printf("errno feature_unknown_flags=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_FEATURE, &feature));
		feature.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET | 0xfff0;
		printf("errno feature_unknown=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_FEATURE, &feature));
		feature.argsz = 4;
		printf("errno feature_short=%d\n",
		       rvfio_ioctl(device->fd, VFIO_DEVICE_FEATURE, &feature));
	}
	printf("errno unknown_ioctl=%d\n",
	       rvfio_ioctl(device->fd, _IO(VFIO_TYPE, VFIO_BASE + 60), NULL));
	printf("errno config_read_past_end=%ld\n",
	       rvfio_pread(device->fd, small, 4, cfg + 4096));
	printf("errno read_region_1000=%ld\n",
	       rvfio_pread(device->fd, small, 4, RVFIO_REGION_OFFSET(1000)));

	set_irqs_sweep(device->fd);
	ioeventfd_sweep(device->fd);

	fuzz(device->fd, 4000);

	{
		struct vfio_region_info r = {
			.argsz = sizeof(r),
			.index = VFIO_PCI_CONFIG_REGION_INDEX,
		};

		ioctl_assert(device->fd, VFIO_DEVICE_GET_REGION_INFO, &r);
		config_sweep(device->fd, r.size);
		config_random(device->fd, r.size, 600);
	}

	rvfio_close(device);
	iommu_cleanup(iommu);
	return 0;
}
