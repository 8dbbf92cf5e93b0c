// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver for QEMU's "edu" educational PCI device (docs/specs/edu.rst in the
 * QEMU sources), which lets vfio_pci_driver_test run wherever QEMU does.
 *
 * edu has a 4 KiB buffer and a DMA engine that moves data between that buffer
 * and memory, one transfer at a time, each completing ~100 ms after it was
 * started. A memcpy is two transfers: memory to buffer, buffer to memory.
 *
 * edu cannot report DMA faults, and it silently truncates DMA addresses to
 * its dma_mask property, which is only 28 bits by default. Start QEMU with
 *
 *   -device edu,dma_mask=0xffffffffffffffff
 *
 * so that the IOMMU, not edu, decides which IOVAs are reachable. edu_init()
 * fails if edu drops any address bit.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <linux/errno.h>
#include <linux/io.h>
#include <linux/pci_regs.h>
#include <linux/sizes.h>

#include <libvfio.h>

#define EDU_VENDOR_ID			0x1234
#define EDU_DEVICE_ID			0x11e8

/* BAR0 registers */
#define EDU_IDENT			0x00
#define  EDU_IDENT_MAGIC_MASK		0xffff
#define  EDU_IDENT_MAGIC		0x00ed
#define EDU_STATUS			0x20
#define EDU_IRQ_RAISE			0x60
#define EDU_IRQ_ACK			0x64
#define EDU_DMA_SRC			0x80
#define EDU_DMA_DST			0x88
#define EDU_DMA_COUNT			0x90
#define EDU_DMA_CMD			0x98
#define  EDU_DMA_CMD_RUN		0x1
#define  EDU_DMA_CMD_TO_RAM		0x2

/* The DMA buffer, as seen by the DMA engine. */
#define EDU_DMA_BUF			0x40000
#define EDU_DMA_BUF_SIZE		SZ_4K

/* Interrupt status bit used by send_msi(); edu itself uses 0x1 and 0x100. */
#define EDU_IRQ_SEND_MSI		0x10000

#define EDU_DMA_TIMEOUT_MS		5000

#define MSI_VECTOR			0

struct edu_state {
	/* Second half of the memcpy started by edu_memcpy_start() */
	iova_t memcpy_dst;
	u64 memcpy_size;

	/* Destination of edu_check_dma_mask()'s copy */
	u64 cookie;
};

static inline struct edu_state *to_edu_state(struct vfio_pci_device *device)
{
	return device->driver.region.vaddr;
}

static int edu_probe(struct vfio_pci_device *device)
{
	u32 ident;

	if (!vfio_pci_device_match(device, EDU_VENDOR_ID, EDU_DEVICE_ID))
		return -EINVAL;

	VFIO_ASSERT_NOT_NULL(device->bars[0].vaddr);

	ident = readl(device->bars[0].vaddr + EDU_IDENT);
	if ((ident & EDU_IDENT_MAGIC_MASK) != EDU_IDENT_MAGIC) {
		dev_err(device, "edu: Unexpected identification: 0x%x\n", ident);
		return -EINVAL;
	}

	return 0;
}

static void edu_dma_start(struct vfio_pci_device *device, u64 src, u64 dst,
			  u64 size, u64 cmd)
{
	void *bar0 = device->bars[0].vaddr;

	/* edu ignores these writes while a transfer is running. */
	writeq(src, bar0 + EDU_DMA_SRC);
	writeq(dst, bar0 + EDU_DMA_DST);
	writeq(size, bar0 + EDU_DMA_COUNT);
	writeq(cmd | EDU_DMA_CMD_RUN, bar0 + EDU_DMA_CMD);
}

static int edu_dma_wait(struct vfio_pci_device *device)
{
	void *bar0 = device->bars[0].vaddr;
	int i;

	for (i = 0; i < EDU_DMA_TIMEOUT_MS; i++) {
		if (!(readq(bar0 + EDU_DMA_CMD) & EDU_DMA_CMD_RUN))
			return 0;

		usleep(1000);
	}

	dev_err(device, "edu: DMA did not complete in %d ms\n",
		EDU_DMA_TIMEOUT_MS);
	return -ETIMEDOUT;
}

static void edu_dma(struct vfio_pci_device *device, u64 src, u64 dst,
		    u64 size, u64 cmd)
{
	edu_dma_start(device, src, dst, size, cmd);
	VFIO_ASSERT_EQ(edu_dma_wait(device), 0);
}

/*
 * A truncated IOVA can alias a mapped one, which would quietly turn the
 * unmapped-IOVA tests into copies between mapped buffers. Copy a random
 * cookie from the highest IOVA the IOMMU can map: if edu keeps its top bit,
 * its dma_mask covers every IOVA the tests can use.
 */
static void edu_check_dma_mask(struct vfio_pci_device *device)
{
	struct edu_state *edu = to_edu_state(device);
	struct iommu_iova_range *ranges;
	struct dma_region page = {};
	u64 *cookie;
	u32 nranges;

	ranges = iommu_iova_ranges(device->iommu, &nranges);
	VFIO_ASSERT_NOT_NULL(ranges);
	page.size = getpagesize();
	page.iova = (ranges[nranges - 1].last - page.size + 1) & ~(page.size - 1);
	free(ranges);

	page.vaddr = mmap(NULL, page.size, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	VFIO_ASSERT_NE(page.vaddr, MAP_FAILED);
	iommu_map(device->iommu, &page);

	cookie = page.vaddr + page.size - sizeof(*cookie);
	VFIO_ASSERT_EQ(getrandom(cookie, sizeof(*cookie), 0), sizeof(*cookie));
	edu->cookie = ~*cookie;

	edu_dma(device, page.iova + page.size - sizeof(*cookie), EDU_DMA_BUF,
		sizeof(*cookie), 0);
	edu_dma(device, EDU_DMA_BUF, to_iova(device, &edu->cookie),
		sizeof(*cookie), EDU_DMA_CMD_TO_RAM);

	VFIO_ASSERT_EQ(edu->cookie, *cookie,
		       "edu: DMA from IOVA 0x%lx failed, was it truncated? Start QEMU with -device edu,dma_mask=0xffffffffffffffff\n",
		       page.iova + page.size - sizeof(*cookie));

	iommu_unmap(device->iommu, &page);
	VFIO_ASSERT_EQ(munmap(page.vaddr, page.size), 0);
}

/* Let a transfer left behind by an earlier user finish, and drop its IRQs. */
static void edu_quiesce(struct vfio_pci_device *device)
{
	void *bar0 = device->bars[0].vaddr;

	VFIO_ASSERT_EQ(edu_dma_wait(device), 0);
	writel(0, bar0 + EDU_STATUS);
	writel(~0U, bar0 + EDU_IRQ_ACK);
}

static void edu_init(struct vfio_pci_device *device)
{
	VFIO_ASSERT_GE(device->driver.region.size, sizeof(struct edu_state));

	vfio_pci_cmd_set(device, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	edu_quiesce(device);

	/* edu has MSI (one vector) and INTx, but no MSI-X. */
	vfio_pci_msi_enable(device, MSI_VECTOR, 1);
	device->driver.msi = MSI_VECTOR;

	device->driver.max_memcpy_size = EDU_DMA_BUF_SIZE;
	device->driver.max_memcpy_count = 1;

	edu_check_dma_mask(device);
}

static void edu_remove(struct vfio_pci_device *device)
{
	edu_quiesce(device);
	vfio_pci_msi_disable(device);
	vfio_pci_cmd_clear(device, PCI_COMMAND_MASTER);
}

static void edu_memcpy_start(struct vfio_pci_device *device,
			     iova_t src, iova_t dst, u64 size, u64 count)
{
	struct edu_state *edu = to_edu_state(device);

	VFIO_ASSERT_EQ(count, 1);
	/* edu does not bounds-check transfers to and from its buffer. */
	VFIO_ASSERT_LE(size, EDU_DMA_BUF_SIZE);

	edu->memcpy_dst = dst;
	edu->memcpy_size = size;

	edu_dma_start(device, src, EDU_DMA_BUF, size, 0);
}

/*
 * edu does not report DMA faults: a read from an unmapped IOVA leaves the
 * buffer with whatever the failed read produced, and a write to one is
 * dropped. Only a transfer that never completes is reported as an error.
 */
static int edu_memcpy_wait(struct vfio_pci_device *device)
{
	struct edu_state *edu = to_edu_state(device);
	int r;

	r = edu_dma_wait(device);
	if (r)
		return r;

	edu_dma_start(device, EDU_DMA_BUF, edu->memcpy_dst, edu->memcpy_size,
		      EDU_DMA_CMD_TO_RAM);

	return edu_dma_wait(device);
}

static void edu_send_msi(struct vfio_pci_device *device)
{
	void *bar0 = device->bars[0].vaddr;

	/* edu signals the MSI when the bit is raised, acking it only clears it. */
	writel(EDU_IRQ_SEND_MSI, bar0 + EDU_IRQ_RAISE);
	writel(EDU_IRQ_SEND_MSI, bar0 + EDU_IRQ_ACK);
}

const struct vfio_pci_driver_ops edu_ops = {
	.name = "edu",
	.probe = edu_probe,
	.init = edu_init,
	.remove = edu_remove,
	.memcpy_start = edu_memcpy_start,
	.memcpy_wait = edu_memcpy_wait,
	.send_msi = edu_send_msi,
};
