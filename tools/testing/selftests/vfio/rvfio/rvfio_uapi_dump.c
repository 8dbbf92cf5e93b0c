// SPDX-License-Identifier: GPL-2.0-only
/*
 * Print what a VFIO PCI device file reports, in a canonical text form, so
 * that the output under two drivers (vfio-pci and rvfio-pci) can be diffed:
 * device info, every region's info and capability chain, the standard
 * configuration header, and the errno of each malformed request; then what
 * configuration writes do: a sweep writing all-ones and zeroes at every
 * offset and size (restoring each register), and seeded random writes.
 *
 * Usage: rvfio_uapi_dump IOMMU_MODE SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
	static unsigned char buf[8192] __attribute__((aligned(8)));
	long page = getpagesize();
	int i;

	printf("fuzz (%d ops):", ops);
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
			p = mmap(NULL, mlen, PROT_READ, flags, fd, RVFIO_REGION_OFFSET(index) + off);
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
				printf(" rom_header=%02x%02x%02x%02x n=%ld", b[0], b[1], b[2], b[3], n);
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
