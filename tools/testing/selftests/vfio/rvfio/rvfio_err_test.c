// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ERR interrupt: PCI error recovery reporting an uncorrectable error on
 * the device must signal the eventfd user space set on VFIO_PCI_ERR_IRQ_INDEX,
 * and must not once it is cleared; correctable errors never reach it. Errors
 * are injected in software through /dev/aer_inject (CONFIG_PCIEAER_INJECT),
 * which needs the device below a root port and both with an AER capability.
 * Holds for any VFIO PCI bus driver that implements the PCI error handler.
 *
 * Usage: rvfio_err_test [harness options] SEGMENT:BUS:DEVICE.FUNCTION
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "kselftest_harness.h"
#include "rvfio_irqs.h"
#include "rvfio_open.h"

static const char *device_bdf;

/* The layout /dev/aer_inject reads (drivers/pci/pcie/aer_inject.c). */
struct aer_inject_req {
	__u8 bus;
	__u8 dev;
	__u8 fn;
	__u32 uncor_status;
	__u32 cor_status;
	__u32 header_log[4];
	__u32 domain;
};

FIXTURE(rvfio_err) {
	struct iommu *iommu;
	struct vfio_pci_device *device;
	int efd;
};

FIXTURE_SETUP(rvfio_err)
{
	self->iommu = iommu_init("iommufd");
	self->device = rvfio_open(device_bdf, self->iommu);
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_GE(self->efd, 0);
}

FIXTURE_TEARDOWN(rvfio_err)
{
	close(self->efd);
	rvfio_close(self->device);
	iommu_cleanup(self->iommu);
}

static int set_err(int fd, __s32 efd)
{
	return rvfio_irq_set(fd, VFIO_PCI_ERR_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &efd);
}

static int inject(__u32 uncor, __u32 cor)
{
	struct aer_inject_req req = {
		.uncor_status = uncor,
		.cor_status = cor,
	};
	unsigned int domain, bus, dev, fn;
	ssize_t n;
	int fd;

	if (sscanf(device_bdf, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4)
		return -EINVAL;
	req.domain = domain;
	req.bus = bus;
	req.dev = dev;
	req.fn = fn;
	fd = open("/dev/aer_inject", O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, &req, sizeof(req));
	close(fd);
	return n == sizeof(req) ? 0 : -errno;
}

TEST_F(rvfio_err, uncorrectable_signals_err)
{
	ASSERT_EQ(0, set_err(self->device->fd, self->efd));
	ASSERT_EQ(0, inject(PCI_ERR_UNC_COMP_TIME, 0));
	/* Recovery runs in the AER interrupt thread: bounded wait. */
	ASSERT_EQ(1, rvfio_efd_wait(self->efd, 5000));
	/* Recovery let the device be: config space still answers. */
	ASSERT_EQ(0, set_err(self->device->fd, -1));
}

TEST_F(rvfio_err, cleared_err_stays_silent)
{
	ASSERT_EQ(0, set_err(self->device->fd, self->efd));
	ASSERT_EQ(0, set_err(self->device->fd, -1));
	ASSERT_EQ(0, inject(PCI_ERR_UNC_COMP_TIME, 0));
	ASSERT_EQ(0, rvfio_efd_wait(self->efd, 1000));
}

TEST_F(rvfio_err, correctable_is_not_reported)
{
	ASSERT_EQ(0, set_err(self->device->fd, self->efd));
	ASSERT_EQ(0, inject(0, PCI_ERR_COR_RCVR));
	ASSERT_EQ(0, rvfio_efd_wait(self->efd, 1000));
	/* An uncorrectable one afterwards still is: the channel works. */
	ASSERT_EQ(0, inject(PCI_ERR_UNC_COMP_TIME, 0));
	ASSERT_EQ(1, rvfio_efd_wait(self->efd, 5000));
}

int main(int argc, char *argv[])
{
	device_bdf = vfio_selftests_get_bdf(&argc, argv);
	return test_harness_run(argc, argv);
}
