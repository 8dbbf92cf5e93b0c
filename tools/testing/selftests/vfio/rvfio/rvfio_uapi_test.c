// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO PCI device file as user space sees it: device and region info,
 * configuration space reads and writes (virtual registers, BAR sizing), the
 * memory-disable rule for BAR mappings, rejection of malformed requests, and a DMA
 * mapping through the device's IOMMU attachment. Every assertion holds for
 * any correct VFIO PCI bus driver, so the test runs unchanged against
 * vfio-pci and rvfio-pci, in every IOMMU mode of the selftest library.
 *
 * Usage: rvfio_uapi_test [harness options] SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/pci_regs.h>
#include <linux/sizes.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_open.h"

static const char *device_bdf;

FIXTURE(rvfio_uapi) {
	struct iommu *iommu;
	struct vfio_pci_device *device;
};

FIXTURE_VARIANT(rvfio_uapi) {
	const char *iommu_mode;
};

/* One variant per IOMMU mode of the selftest library. */
FIXTURE_VARIANT_ADD(rvfio_uapi, vfio_type1_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(rvfio_uapi, vfio_type1v2_iommu) {
	.iommu_mode = MODE_VFIO_TYPE1V2_IOMMU,
};

FIXTURE_VARIANT_ADD(rvfio_uapi, iommufd_compat_type1) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1,
};

FIXTURE_VARIANT_ADD(rvfio_uapi, iommufd_compat_type1v2) {
	.iommu_mode = MODE_IOMMUFD_COMPAT_TYPE1V2,
};

FIXTURE_VARIANT_ADD(rvfio_uapi, iommufd) {
	.iommu_mode = MODE_IOMMUFD,
};

FIXTURE_SETUP(rvfio_uapi)
{
	self->iommu = iommu_init(variant->iommu_mode);
	self->device = rvfio_open(device_bdf, self->iommu);
}

FIXTURE_TEARDOWN(rvfio_uapi)
{
	rvfio_close(self->device);
	iommu_cleanup(self->iommu);
}

static int sysfs_open(const char *file)
{
	char path[PATH_MAX];

	snprintf_assert(path, sizeof(path), "/sys/bus/pci/devices/%s/%s",
			device_bdf, file);
	return open(path, O_RDONLY);
}

/* Size of BAR @bar as the PCI core sees it (0 when unimplemented). */
static unsigned long long sysfs_bar_size(int bar)
{
	unsigned long long start, end, flags;
	char line[128];
	FILE *f;
	int i, n;

	f = fdopen(sysfs_open("resource"), "r");
	VFIO_ASSERT_NOT_NULL(f);
	for (i = 0; i <= bar; i++)
		VFIO_ASSERT_NOT_NULL(fgets(line, sizeof(line), f));
	n = sscanf(line, "%llx %llx %llx", &start, &end, &flags);
	VFIO_ASSERT_EQ(n, 3);
	fclose(f);
	return (start || end) ? end - start + 1 : 0;
}

static int region_info(int fd, struct vfio_region_info *info, __u32 index)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return rvfio_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info);
}

TEST_F(rvfio_uapi, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, rvfio_ioctl(self->device->fd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ(sizeof(info), info.argsz);
	ASSERT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_GE(info.num_regions, VFIO_PCI_NUM_REGIONS);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
}

TEST_F(rvfio_uapi, device_info_argsz)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	/* Shorter than the mandatory fields. */
	memset(&info, 0, sizeof(info));
	info.argsz = minsz - 1;
	ASSERT_EQ(-EINVAL, rvfio_ioctl(self->device->fd, VFIO_DEVICE_GET_INFO, &info));

	/* Exactly the mandatory fields: nothing past them is written. */
	memset(&info, 0, sizeof(info));
	info.argsz = minsz;
	info.cap_offset = 0xdeadbeef;
	ASSERT_EQ(0, rvfio_ioctl(self->device->fd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_EQ(0xdeadbeef, info.cap_offset);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);

	ASSERT_EQ(-EFAULT, rvfio_ioctl(self->device->fd, VFIO_DEVICE_GET_INFO, NULL));
}

TEST_F(rvfio_uapi, region_info_config)
{
	struct vfio_region_info info;
	struct stat st;
	int fd;

	fd = sysfs_open("config");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(fd, &st));
	close(fd);

	ASSERT_EQ(0, region_info(self->device->fd, &info, VFIO_PCI_CONFIG_REGION_INDEX));
	ASSERT_EQ(st.st_size, info.size);
	ASSERT_EQ(RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX), info.offset);
	ASSERT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE, info.flags);
}

TEST_F(rvfio_uapi, region_info_bars)
{
	struct vfio_region_info info;
	int i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		unsigned long long size = sysfs_bar_size(i);

		ASSERT_EQ(0, region_info(self->device->fd, &info, i));
		ASSERT_EQ(RVFIO_REGION_OFFSET(i), info.offset);
		ASSERT_EQ(size, info.size);
		if (size) {
			ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_READ);
			ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_WRITE);
		} else {
			ASSERT_EQ(0, info.flags);
		}
		printf("BAR%d: size 0x%llx flags 0x%x\n", i, size, info.flags);
	}
}

TEST_F(rvfio_uapi, region_info_bad)
{
	struct vfio_region_info info = {
		.argsz = offsetofend(struct vfio_region_info, offset) - 1,
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	ASSERT_EQ(-EINVAL, rvfio_ioctl(self->device->fd, VFIO_DEVICE_GET_REGION_INFO, &info));
	ASSERT_EQ(-EINVAL, region_info(self->device->fd, &info, 1000));
	ASSERT_EQ(-EFAULT, rvfio_ioctl(self->device->fd, VFIO_DEVICE_GET_REGION_INFO, NULL));
}

TEST_F(rvfio_uapi, config_read)
{
	unsigned long long base = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	unsigned char hw[64], dev[64], b;
	int fd, off;
	__u16 w;
	__u32 l;

	fd = sysfs_open("config");
	ASSERT_GE(fd, 0);
	ASSERT_EQ(64, pread(fd, hw, 64, 0));
	close(fd);

	ASSERT_EQ(64, rvfio_pread(self->device->fd, dev, 64, base));
	/* Identity registers are never virtualized for a physical function. */
	ASSERT_EQ(0, memcmp(hw + PCI_VENDOR_ID, dev + PCI_VENDOR_ID, 4));
	ASSERT_EQ(0, memcmp(hw + PCI_REVISION_ID, dev + PCI_REVISION_ID, 4));
	ASSERT_EQ(hw[PCI_HEADER_TYPE] & 0x7f, dev[PCI_HEADER_TYPE] & 0x7f);
	ASSERT_EQ(0, memcmp(hw + PCI_SUBSYSTEM_VENDOR_ID, dev + PCI_SUBSYSTEM_VENDOR_ID, 4));

	/* Byte, word and dword reads see the same bytes. */
	for (off = 0; off < 64; off += 4) {
		ASSERT_EQ(4, rvfio_pread(self->device->fd, &l, 4, base + off));
		ASSERT_EQ(2, rvfio_pread(self->device->fd, &w, 2, base + off + 2));
		ASSERT_EQ(1, rvfio_pread(self->device->fd, &b, 1, base + off + 1));
		if (off == PCI_COMMAND || off == PCI_STATUS)
			continue; /* status bits may change between reads */
		ASSERT_EQ(l >> 16, w);
		ASSERT_EQ((l >> 8) & 0xff, b);
	}
}

TEST_F(rvfio_uapi, config_read_bounds)
{
	unsigned long long base = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	struct vfio_region_info info;
	char buf[8];

	ASSERT_EQ(0, region_info(self->device->fd, &info, VFIO_PCI_CONFIG_REGION_INDEX));
	ASSERT_EQ(0, rvfio_pread(self->device->fd, buf, 0, base));
	ASSERT_EQ(4, rvfio_pread(self->device->fd, buf, 4, base + info.size - 4));
	ASSERT_EQ(-EFAULT, rvfio_pread(self->device->fd, buf, 4, base + info.size));
	ASSERT_EQ(-EFAULT, rvfio_pread(self->device->fd, buf, 8, base + info.size - 4));
	ASSERT_EQ(-EINVAL, rvfio_pread(self->device->fd, buf, 4, RVFIO_REGION_OFFSET(1000)));
}

TEST_F(rvfio_uapi, unknown_ioctl)
{
	ASSERT_EQ(-ENOTTY, rvfio_ioctl(self->device->fd, _IO(VFIO_TYPE, VFIO_BASE + 60), NULL));
}

TEST_F(rvfio_uapi, dma_map)
{
	struct dma_region region = {
		.size = SZ_64K,
		.iova = 1ULL << 32,
	};

	region.vaddr = mmap(NULL, region.size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, region.vaddr);

	/* The mapping goes into the IOMMU domain the device is attached to. */
	ASSERT_EQ(0, __iommu_map(self->iommu, &region));
	ASSERT_EQ(region.iova, iommu_hva2iova(self->iommu, region.vaddr));
	ASSERT_EQ(0, __iommu_unmap(self->iommu, &region, NULL));
	ASSERT_EQ(0, munmap(region.vaddr, region.size));
}

TEST_F(rvfio_uapi, bar_mmap)
{
	struct vfio_region_info info;
	int i, mapped = 0;
	void *p;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		ASSERT_EQ(0, region_info(self->device->fd, &info, i));
		if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
			p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED,
				 self->device->fd, info.offset);
			ASSERT_EQ(MAP_FAILED, p);
			continue;
		}
		/* The whole BAR, shared. */
		p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->device->fd, info.offset);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, munmap(p, info.size));
		/* Its last page alone. */
		p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, self->device->fd,
			 info.offset + info.size - getpagesize());
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, munmap(p, getpagesize()));
		/* Past its end, or private: refused. */
		p = mmap(NULL, 2 * getpagesize(), PROT_READ, MAP_SHARED, self->device->fd,
			 info.offset + info.size - getpagesize());
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EINVAL, errno);
		p = mmap(NULL, getpagesize(), PROT_READ, MAP_PRIVATE,
			 self->device->fd, info.offset);
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EINVAL, errno);
		mapped++;
	}
	printf("%d BARs mapped\n", mapped);

	ASSERT_EQ(0, region_info(self->device->fd, &info, VFIO_PCI_CONFIG_REGION_INDEX));
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, self->device->fd, info.offset);
	ASSERT_EQ(MAP_FAILED, p);
}

/* QEMU's edu device: registers reached through the BAR mapping behave. */
TEST_F(rvfio_uapi, edu_mmio)
{
	struct vfio_region_info info;
	__u32 *bar;
	__u8 id[4];

	ASSERT_EQ(4, rvfio_pread(self->device->fd, id, 4,
				 RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)));
	if (id[0] != 0x34 || id[1] != 0x12 || id[2] != 0xe8 || id[3] != 0x11)
		SKIP(return, "not an edu device");

	ASSERT_EQ(0, region_info(self->device->fd, &info, VFIO_PCI_BAR0_REGION_INDEX));
	ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	bar = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->device->fd, info.offset);
	ASSERT_NE(MAP_FAILED, bar);

	/* Identification: 0xRRrr00ed. */
	ASSERT_EQ(0xed, READ_ONCE(bar[0]) & 0xff);
	/* Liveness check: reads back the complement of what was written. */
	WRITE_ONCE(bar[1], 0x12345678);
	ASSERT_EQ(~0x12345678u, READ_ONCE(bar[1]));
	WRITE_ONCE(bar[1], 0);
	ASSERT_EQ(~0u, READ_ONCE(bar[1]));
	ASSERT_EQ(0, munmap(bar, info.size));
}

/* Offset of capability @id in the standard list, or 0. */
static int find_cap(int fd, __u8 id)
{
	unsigned long long base = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	__u8 pos = 0, hdr[2];
	int guard = 48;

	if (rvfio_pread(fd, &pos, 1, base + PCI_CAPABILITY_LIST) != 1)
		return 0;
	while (pos >= 0x40 && guard--) {
		if (rvfio_pread(fd, hdr, 2, base + pos) != 2)
			return 0;
		if (hdr[0] == id)
			return pos;
		pos = hdr[1];
	}
	return 0;
}

TEST_F(rvfio_uapi, bar_rw_bounds)
{
	struct vfio_region_info info;
	char buf[8];
	int i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		ASSERT_EQ(0, region_info(self->device->fd, &info, i));
		if (!info.size) {
			ASSERT_EQ(-EINVAL, rvfio_pread(self->device->fd, buf, 4, info.offset));
			continue;
		}
		ASSERT_EQ(4, rvfio_pread(self->device->fd, buf, 4, info.offset));
		/* Cut short at the end of the BAR; nothing past it. */
		ASSERT_EQ(2, rvfio_pread(self->device->fd, buf, 8, info.offset + info.size - 2));
		ASSERT_EQ(-EINVAL, rvfio_pread(self->device->fd, buf, 4, info.offset + info.size));
		ASSERT_EQ(0, rvfio_pread(self->device->fd, buf, 0, info.offset));
	}
}

/*
 * The MSI-X table reads as all-ones through the file and ignores writes. What
 * the mapping shows of the entry is left as it was, whatever that is: a user
 * before this one may have left it unmasked (see the irq test's
 * msix_teardown_in_d3hot).
 */
TEST_F(rvfio_uapi, bar_rw_msix_table)
{
	unsigned long long cfg = RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX);
	struct vfio_region_info info;
	__u32 table, entry[4], ones[4], flip[4], before[4], after[4];
	int cap, bir, i;
	void *p = NULL;

	cap = find_cap(self->device->fd, PCI_CAP_ID_MSIX);
	if (!cap)
		SKIP(return, "no MSI-X");
	ASSERT_EQ(4, rvfio_pread(self->device->fd, &table, 4, cfg + cap + PCI_MSIX_TABLE));
	bir = table & PCI_MSIX_TABLE_BIR;
	table &= PCI_MSIX_TABLE_OFFSET;
	ASSERT_EQ(0, region_info(self->device->fd, &info, bir));

	memset(ones, 0xff, sizeof(ones));
	ASSERT_EQ(16, rvfio_pread(self->device->fd, entry, 16, info.offset + table));
	ASSERT_EQ(0, memcmp(entry, ones, 16));
	if (info.flags & VFIO_REGION_INFO_FLAG_MMAP) {
		p = mmap(NULL, info.size, PROT_READ, MAP_SHARED, self->device->fd, info.offset);
		ASSERT_NE(MAP_FAILED, p);
		memcpy(before, (char *)p + table, 16);
	} else {
		memset(before, 0, sizeof(before));
	}
	/* A write of every bit flipped is accepted and dropped. */
	for (i = 0; i < 4; i++)
		flip[i] = ~before[i];
	ASSERT_EQ(16, pwrite(self->device->fd, flip, 16, info.offset + table));
	if (p) {
		memcpy(after, (char *)p + table, 16);
		ASSERT_EQ(0, memcmp(before, after, 16))
			TH_LOG("control %#x, then %#x", before[3], after[3]);
		ASSERT_EQ(0, munmap(p, info.size));
	}
}

/* A ROM the region info calls readable starts with the PCI ROM signature. */
TEST_F(rvfio_uapi, rom_read)
{
	struct vfio_region_info info;
	unsigned char sig[2];

	ASSERT_EQ(0, region_info(self->device->fd, &info, VFIO_PCI_ROM_REGION_INDEX));
	if (!(info.flags & VFIO_REGION_INFO_FLAG_READ))
		SKIP(return, "no ROM");
	ASSERT_EQ(2, rvfio_pread(self->device->fd, sig, 2, info.offset));
	ASSERT_EQ(0x55, sig[0]);
	ASSERT_EQ(0xaa, sig[1]);
	ASSERT_EQ(-EINVAL, pwrite(self->device->fd, sig, 2, info.offset) < 0 ? -errno : 0);
	ASSERT_EQ(-EINVAL, rvfio_pread(self->device->fd, sig, 2, info.offset + info.size));
}

/* QEMU's edu device driven through read()/write() of BAR0 alone. */
TEST_F(rvfio_uapi, edu_bar_rw)
{
	unsigned long long bar0 = RVFIO_REGION_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	__u32 v, status;
	__u64 q;
	__u8 id[4];
	int spins;

	ASSERT_EQ(4, rvfio_pread(self->device->fd, id, 4,
				 RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)));
	if (id[0] != 0x34 || id[1] != 0x12 || id[2] != 0xe8 || id[3] != 0x11)
		SKIP(return, "not an edu device");

	/* edu's registers take 4 and 8-byte accesses only. */
	ASSERT_EQ(4, rvfio_pread(self->device->fd, &v, 4, bar0));
	ASSERT_EQ(0xed, v & 0xff);

	/* Liveness: the complement of what was written. */
	v = 0xa5a5f00f;
	ASSERT_EQ(4, pwrite(self->device->fd, &v, 4, bar0 + 4));
	ASSERT_EQ(4, rvfio_pread(self->device->fd, &v, 4, bar0 + 4));
	ASSERT_EQ(~0xa5a5f00fu, v);
	/* 8-byte accesses reach the device whole: edu refuses them below 0x80 (all-ones)... */
	ASSERT_EQ(8, rvfio_pread(self->device->fd, &q, 8, bar0));
	ASSERT_EQ(~0ULL, q);
	/* ...and takes them on its DMA source address register. */
	q = 0x1122334455667788ULL;
	ASSERT_EQ(8, pwrite(self->device->fd, &q, 8, bar0 + 0x80));
	q = 0;
	ASSERT_EQ(8, rvfio_pread(self->device->fd, &q, 8, bar0 + 0x80));
	ASSERT_EQ(0x1122334455667788ULL, q);

	/* Factorial: write n, wait for the busy bit to clear, read n!. */
	v = 5;
	ASSERT_EQ(4, pwrite(self->device->fd, &v, 4, bar0 + 0x08));
	for (spins = 0; spins < 100000; spins++) {
		ASSERT_EQ(4, rvfio_pread(self->device->fd, &status, 4, bar0 + 0x20));
		if (!(status & 1))
			break;
	}
	ASSERT_EQ(0, status & 1);
	ASSERT_EQ(4, rvfio_pread(self->device->fd, &v, 4, bar0 + 0x08));
	ASSERT_EQ(120, v);
}

static unsigned long long cfg_off(int pos)
{
	return RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + pos;
}

/* Virtual registers read back what was written; BAR sizing answers with the size. */
TEST_F(rvfio_uapi, config_write)
{
	int fd = self->device->fd;
	__u32 orig, v, size_mask;
	__u16 status, status2;
	__u8 line, b;
	int bar;

	ASSERT_EQ(1, rvfio_pread(fd, &line, 1, cfg_off(PCI_INTERRUPT_LINE)));
	b = 0x5a;
	ASSERT_EQ(1, pwrite(fd, &b, 1, cfg_off(PCI_INTERRUPT_LINE)));
	ASSERT_EQ(1, rvfio_pread(fd, &b, 1, cfg_off(PCI_INTERRUPT_LINE)));
	ASSERT_EQ(0x5a, b);
	ASSERT_EQ(1, pwrite(fd, &line, 1, cfg_off(PCI_INTERRUPT_LINE)));

	/* STATUS is read-only (its error bits are write-one-to-clear in hardware). */
	ASSERT_EQ(2, rvfio_pread(fd, &status, 2, cfg_off(PCI_STATUS)));
	status2 = 0;
	ASSERT_EQ(2, pwrite(fd, &status2, 2, cfg_off(PCI_STATUS)));
	ASSERT_EQ(2, rvfio_pread(fd, &status2, 2, cfg_off(PCI_STATUS)));
	ASSERT_EQ(status & PCI_STATUS_CAP_LIST, status2 & PCI_STATUS_CAP_LIST);

	for (bar = 0; bar < 6; bar++) {
		unsigned long long size = sysfs_bar_size(bar);
		int pos = PCI_BASE_ADDRESS_0 + 4 * bar;

		ASSERT_EQ(4, rvfio_pread(fd, &orig, 4, cfg_off(pos)));
		v = ~0u;
		ASSERT_EQ(4, pwrite(fd, &v, 4, cfg_off(pos)));
		ASSERT_EQ(4, rvfio_pread(fd, &size_mask, 4, cfg_off(pos)));
		ASSERT_EQ(4, pwrite(fd, &orig, 4, cfg_off(pos)));
		ASSERT_EQ(4, rvfio_pread(fd, &v, 4, cfg_off(pos)));
		ASSERT_EQ(orig, v);
		if (!size) {
			/* Unimplemented, or the upper half of a 64-bit BAR. */
			continue;
		}
		if (orig & PCI_BASE_ADDRESS_SPACE_IO) {
			ASSERT_EQ((__u32)~(size - 1) | (orig & 3), size_mask);
		} else {
			ASSERT_EQ((__u32)~(size - 1) | (orig & 0xf), size_mask);
			if (orig & PCI_BASE_ADDRESS_MEM_TYPE_64)
				bar++;
		}
	}
}

TEST_F(rvfio_uapi, config_write_bounds)
{
	struct vfio_region_info info;
	__u32 v = 0;

	ASSERT_EQ(0, region_info(self->device->fd, &info, VFIO_PCI_CONFIG_REGION_INDEX));
	ASSERT_EQ(-1, pwrite(self->device->fd, &v, 4, info.offset + info.size));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pwrite(self->device->fd, &v, 4, info.offset + info.size - 2));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, pwrite(self->device->fd, &v, 0, info.offset));
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, 1);
}

/* Reads a word of a mapping; returns 1 when the access raised SIGBUS. */
static int read_faults(__u32 *p, __u32 *out)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int faulted = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		faulted = 1;
	else
		*out = READ_ONCE(*p);
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

/*
 * Memory decode off: mappings are zapped and fault with SIGBUS, file accesses
 * fail with EIO; decode back on: both work again.
 */
TEST_F(rvfio_uapi, memory_disable_zaps_mmap)
{
	int fd = self->device->fd;
	struct vfio_region_info info;
	__u32 *map = NULL;
	__u16 cmd, off;
	__u32 v, w;
	int bar;

	for (bar = 0; bar <= 5; bar++) {
		ASSERT_EQ(0, region_info(fd, &info, bar));
		if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
			break;
	}
	if (bar > 5)
		SKIP(return, "no mappable BAR");
	map = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, read_faults(map, &v));

	ASSERT_EQ(2, rvfio_pread(fd, &cmd, 2, cfg_off(PCI_COMMAND)));
	ASSERT_TRUE(cmd & PCI_COMMAND_MEMORY);
	off = cmd & ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, pwrite(fd, &off, 2, cfg_off(PCI_COMMAND)));
	ASSERT_EQ(1, read_faults(map, &w));
	/* The BAR's last word: MSI-X tables, which read without the device, sit lower. */
	ASSERT_EQ(-EIO, rvfio_pread(fd, &w, 4, info.offset + info.size - 4));
	/* Faults stay refused, not only the first. */
	ASSERT_EQ(1, read_faults(map, &w));

	ASSERT_EQ(2, pwrite(fd, &cmd, 2, cfg_off(PCI_COMMAND)));
	ASSERT_EQ(0, read_faults(map, &w));
	ASSERT_EQ(4, rvfio_pread(fd, &w, 4, info.offset + info.size - 4));
	ASSERT_EQ(0, munmap(map, getpagesize()));
}

/* VFIO_DEVICE_FEATURE with a feature number, flags and a payload of argsz bytes. */
static int feature(int fd, __u32 flags, const void *data, __u32 size)
{
	__u8 buf[sizeof(struct vfio_device_feature) + 16] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(*f) + size;
	f->flags = flags;
	if (data)
		memcpy(f->data, data, size);
	return ioctl(fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
}

/*
 * The low-power features: mappings are zapped and refuse to fault from the entry until the
 * exit (or the close); accesses through the file go on. The wake-up eventfd is validated but
 * not exercised: whether an access signals it depends on runtime PM (CONFIG_PM), which the
 * test kernel lacks.
 */
TEST_F(rvfio_uapi, low_power)
{
	const __u32 set = VFIO_DEVICE_FEATURE_SET, get = VFIO_DEVICE_FEATURE_GET;
	const __u32 probe = VFIO_DEVICE_FEATURE_PROBE;
	const __u32 entry = VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	const __u32 wakeup = VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
	const __u32 exit_ = VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
	struct vfio_device_low_power_entry_with_wakeup w = { 0 };
	int fd = self->device->fd, efd, nullfd;
	struct vfio_region_info info;
	__u32 *map;
	__u32 v, v2;
	__u64 count;
	int bar;

	/* SET only, no data. */
	ASSERT_EQ(0, feature(fd, entry | probe | set, NULL, 0));
	ASSERT_EQ(-EINVAL, feature(fd, entry | probe | get, NULL, 0));
	ASSERT_EQ(-EINVAL, feature(fd, entry | get, NULL, 0));
	ASSERT_EQ(-EINVAL, feature(fd, entry, NULL, 0));
	ASSERT_EQ(0, feature(fd, exit_ | probe | set, NULL, 0));
	ASSERT_EQ(-EINVAL, feature(fd, exit_ | get, NULL, 0));
	ASSERT_EQ(0, feature(fd, wakeup | probe | set, NULL, 0));
	/* With wake-up: the payload is 8 bytes and names an eventfd. */
	ASSERT_EQ(-EINVAL, feature(fd, wakeup | set, &w, 4));
	w.wakeup_eventfd = -1;
	ASSERT_EQ(-EINVAL, feature(fd, wakeup | set, &w, sizeof(w)));
	nullfd = open("/dev/null", O_RDONLY);
	ASSERT_LE(0, nullfd);
	w.wakeup_eventfd = nullfd;
	ASSERT_EQ(-EINVAL, feature(fd, wakeup | set, &w, sizeof(w)));
	w.wakeup_eventfd = 9999;
	ASSERT_EQ(-EBADF, feature(fd, wakeup | set, &w, sizeof(w)));
	/* An exit without an entry is fine. */
	ASSERT_EQ(0, feature(fd, exit_ | set, NULL, 0));

	for (bar = 0; bar <= 5; bar++) {
		ASSERT_EQ(0, region_info(fd, &info, bar));
		if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
			break;
	}
	if (bar > 5) {
		close(nullfd);
		return;
	}
	map = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, read_faults(map, &v));

	ASSERT_EQ(0, feature(fd, entry | set, NULL, 0));
	ASSERT_EQ(1, read_faults(map, &v2));
	ASSERT_EQ(1, read_faults(map, &v2));
	/* The file still reaches the BAR and configuration space. */
	ASSERT_EQ(4, rvfio_pread(fd, &v2, 4, info.offset + info.size - 4));
	ASSERT_EQ(4, rvfio_pread(fd, &v2, 4, cfg_off(PCI_VENDOR_ID)));
	/* No second entry. */
	ASSERT_EQ(-EINVAL, feature(fd, entry | set, NULL, 0));
	efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	w.wakeup_eventfd = efd;
	ASSERT_EQ(-EINVAL, feature(fd, wakeup | set, &w, sizeof(w)));
	ASSERT_EQ(0, feature(fd, exit_ | set, NULL, 0));
	ASSERT_EQ(0, read_faults(map, &v2));
	ASSERT_EQ(v, v2);

	/* The same with a wake-up eventfd; the exit drops it. */
	ASSERT_EQ(0, feature(fd, wakeup | set, &w, sizeof(w)));
	ASSERT_EQ(1, read_faults(map, &v2));
	ASSERT_EQ(0, feature(fd, exit_ | set, NULL, 0));
	ASSERT_EQ(0, read_faults(map, &v2));
	(void)read(efd, &count, sizeof(count));

	/* Left in low power at close: the next open starts out of it (see the fixture). */
	ASSERT_EQ(0, feature(fd, entry | set, NULL, 0));
	ASSERT_EQ(0, munmap(map, getpagesize()));
	close(efd);
	close(nullfd);
}

/* A reader hammering a mapping while the main thread resets the device. */
struct hammer {
	__u32 *map;
	int stop;
	unsigned long reads, faults;
};

static __thread sigjmp_buf hammer_jmp;

static void on_hammer_sigbus(int sig)
{
	siglongjmp(hammer_jmp, 1);
}

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	__u32 v;

	while (!READ_ONCE(h->stop)) {
		if (sigsetjmp(hammer_jmp, 1)) {
			h->faults++;
			continue;
		}
		v = READ_ONCE(*h->map);
		(void)v;
		h->reads++;
	}
	return NULL;
}

/*
 * VFIO_DEVICE_RESET: refused (EINVAL) without a working function reset; otherwise
 * it leaves the virtual BARs and COMMAND as they were, mappings fault back in with
 * the device's data, and resets racing with mapping accesses neither crash nor
 * leave the mapping broken.
 */
TEST_F(rvfio_uapi, reset)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	struct sigaction sa = { .sa_handler = on_hammer_sigbus }, old;
	int fd = self->device->fd;
	struct vfio_region_info info;
	__u32 before[7], after[7], v, w;
	struct hammer h = { 0 };
	__u16 cmd, cmd2;
	pthread_t t;
	int bar, i;

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_INFO, &dinfo));
	if (!(dinfo.flags & VFIO_DEVICE_FLAGS_RESET)) {
		ASSERT_EQ(-1, ioctl(fd, VFIO_DEVICE_RESET));
		ASSERT_EQ(EINVAL, errno);
		return;
	}
	for (bar = 0; bar <= 5; bar++) {
		ASSERT_EQ(0, region_info(fd, &info, bar));
		if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
			break;
	}
	ASSERT_LE(bar, 5);
	h.map = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, h.map);
	for (i = 0; i < 7; i++)
		ASSERT_EQ(4, rvfio_pread(fd, &before[i], 4,
					 cfg_off(i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i :
							 PCI_ROM_ADDRESS)));
	ASSERT_EQ(2, rvfio_pread(fd, &cmd, 2, cfg_off(PCI_COMMAND)));

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	for (i = 0; i < 7; i++)
		ASSERT_EQ(4, rvfio_pread(fd, &after[i], 4,
					 cfg_off(i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i :
							 PCI_ROM_ADDRESS)));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
	ASSERT_EQ(2, rvfio_pread(fd, &cmd2, 2, cfg_off(PCI_COMMAND)));
	ASSERT_EQ(cmd, cmd2);
	/* The mapping faults back in and shows what the file shows. */
	ASSERT_EQ(0, read_faults(h.map, &v));
	ASSERT_EQ(4, rvfio_pread(fd, &w, 4, info.offset));
	ASSERT_EQ(v, w);

	sigaction(SIGBUS, &sa, &old);
	ASSERT_EQ(0, pthread_create(&t, NULL, hammer_fn, &h));
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	WRITE_ONCE(h.stop, 1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	sigaction(SIGBUS, &old, NULL);
	TH_LOG("%lu mapping reads, %lu SIGBUS during 20 resets", h.reads, h.faults);
	ASSERT_GT(h.reads, 0);
	ASSERT_EQ(0, read_faults(h.map, &v));
	ASSERT_EQ(4, rvfio_pread(fd, &w, 4, info.offset));
	ASSERT_EQ(v, w);
	ASSERT_EQ(0, munmap(h.map, getpagesize()));
}

/* The hardware's BARs and COMMAND, as the PCI core reads them (sysfs config). */
static void hw_state(__u32 bars[6], __u16 *cmd)
{
	int cfd = sysfs_open("config");

	VFIO_ASSERT_GE(cfd, 0);
	VFIO_ASSERT_EQ(24, pread(cfd, bars, 24, PCI_BASE_ADDRESS_0));
	VFIO_ASSERT_EQ(2, pread(cfd, cmd, 2, PCI_COMMAND));
	close(cfd);
}

struct d3_writer {
	int fd, pmcsr;
	__u16 d0, d3;
	int stop;
	unsigned long writes;
};

static void *d3_writer_fn(void *arg)
{
	struct d3_writer *d = arg;

	while (!READ_ONCE(d->stop)) {
		if (pwrite(d->fd, &d->d3, 2, d->pmcsr) == 2)
			d->writes++;
		usleep(d->writes % 7 * 1000);
	}
	return NULL;
}

/*
 * D3hot written through configuration space while VFIO_DEVICE_RESET runs: a reset
 * returns the function to D0 restoring what D3hot lost (functions without
 * NoSoftRst) and resets it with no power change in between. After the race and a
 * last return to D0, the function is in D0 and its state is what it was: the
 * hardware's BARs and COMMAND, the virtual ones, and a mapping that faults in
 * the device's data.
 */
TEST_F(rvfio_uapi, reset_races_d3hot)
{
	struct vfio_device_info dinfo = { .argsz = sizeof(dinfo) };
	int fd = self->device->fd, pm, bar, i;
	__u32 hw_bars[6], hw_bars2[6], bars[6], bars2[6], v, w;
	__u16 hw_cmd, hw_cmd2, cmd, cmd2, pmcsr;
	struct d3_writer d = { .fd = fd };
	struct vfio_region_info info;
	pthread_t t;
	__u32 *map;

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_INFO, &dinfo));
	pm = rvfio_cap_find(fd, PCI_CAP_ID_PM);
	if (!(dinfo.flags & VFIO_DEVICE_FLAGS_RESET) || !pm)
		SKIP(return, "needs a function reset and power management");
	for (bar = 0; bar <= 5; bar++) {
		ASSERT_EQ(0, region_info(fd, &info, bar));
		if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
			break;
	}
	ASSERT_LE(bar, 5);
	map = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, info.offset);
	ASSERT_NE(MAP_FAILED, map);
	hw_state(hw_bars, &hw_cmd);
	ASSERT_EQ(24, rvfio_pread(fd, bars, 24, cfg_off(PCI_BASE_ADDRESS_0)));
	ASSERT_EQ(2, rvfio_pread(fd, &cmd, 2, cfg_off(PCI_COMMAND)));
	ASSERT_EQ(2, rvfio_pread(fd, &pmcsr, 2, cfg_off(pm + PCI_PM_CTRL)));
	ASSERT_EQ(0, pmcsr & PCI_PM_CTRL_STATE_MASK);
	d.pmcsr = cfg_off(pm + PCI_PM_CTRL);
	d.d0 = pmcsr & ~PCI_PM_CTRL_PME_STATUS;
	d.d3 = d.d0 | 3;

	ASSERT_EQ(0, pthread_create(&t, NULL, d3_writer_fn, &d));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	WRITE_ONCE(d.stop, 1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%lu D3hot writes during 8 resets", d.writes);
	ASSERT_GT(d.writes, 0);

	ASSERT_EQ(2, pwrite(fd, &d.d0, 2, d.pmcsr));
	ASSERT_EQ(2, rvfio_pread(fd, &pmcsr, 2, d.pmcsr));
	ASSERT_EQ(0, pmcsr & PCI_PM_CTRL_STATE_MASK);
	hw_state(hw_bars2, &hw_cmd2);
	ASSERT_EQ(0, memcmp(hw_bars, hw_bars2, sizeof(hw_bars)));
	ASSERT_EQ(hw_cmd, hw_cmd2);
	ASSERT_EQ(24, rvfio_pread(fd, bars2, 24, cfg_off(PCI_BASE_ADDRESS_0)));
	ASSERT_EQ(0, memcmp(bars, bars2, sizeof(bars)));
	ASSERT_EQ(2, rvfio_pread(fd, &cmd2, 2, cfg_off(PCI_COMMAND)));
	ASSERT_EQ(cmd, cmd2);
	ASSERT_EQ(0, read_faults(map, &v));
	ASSERT_EQ(4, rvfio_pread(fd, &w, 4, info.offset));
	ASSERT_EQ(v, w);
	ASSERT_EQ(0, munmap(map, getpagesize()));
}

int main(int argc, char *argv[])
{
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
