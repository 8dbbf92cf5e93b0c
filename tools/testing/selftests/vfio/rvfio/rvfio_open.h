/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Open a VFIO PCI device in any of the selftest library's IOMMU modes without
 * the library's device setup, which needs interrupt support: these tests
 * check the device file itself and run against any VFIO PCI driver.
 */
#ifndef RVFIO_OPEN_H
#define RVFIO_OPEN_H

#include <errno.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include <libvfio.h>

static inline struct vfio_pci_device *rvfio_open(const char *bdf,
						 struct iommu *iommu)
{
	struct vfio_pci_device *device = vfio_pci_device_alloc(bdf, iommu);

	if (iommu->mode->container_path) {
		vfio_pci_group_setup(device, bdf);
		vfio_container_set_iommu(device);
		__vfio_pci_group_get_device_fd(device, bdf, NULL);
		VFIO_ASSERT_GE(device->fd, 0, "VFIO_GROUP_GET_DEVICE_FD\n");
	} else {
		struct vfio_device_attach_iommufd_pt attach = {
			.argsz = sizeof(attach),
			.pt_id = iommu->ioas_id,
		};

		vfio_pci_cdev_open(device, bdf);
		VFIO_ASSERT_EQ(__vfio_device_bind_iommufd(device->fd,
							  iommu->iommufd, NULL), 0);
		ioctl_assert(device->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	}
	return device;
}

static inline void rvfio_close(struct vfio_pci_device *device)
{
	VFIO_ASSERT_EQ(close(device->fd), 0);
	if (device->iommu->mode->container_path)
		VFIO_ASSERT_EQ(close(device->group_fd), 0);
	vfio_pci_device_free(device);
}

/* ioctl() returning 0 or -errno. */
static inline int rvfio_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* pread() returning the byte count or -errno. */
static inline long rvfio_pread(int fd, void *buf, size_t len, unsigned long long off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

#define RVFIO_REGION_OFFSET(index) ((unsigned long long)(index) << 40)
#define RVFIO_CFG(pos) (RVFIO_REGION_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + (pos))

/*
 * The offset of the first standard capability @id of device file @fd, found
 * through the file as user space sees it; 0 if there is none or a read fails.
 */
static inline int rvfio_cap_find(int fd, __u8 id)
{
	__u8 pos, cur;
	__u16 status;
	int n;

	if (rvfio_pread(fd, &status, 2, RVFIO_CFG(PCI_STATUS)) != 2 ||
	    !(status & PCI_STATUS_CAP_LIST) ||
	    rvfio_pread(fd, &pos, 1, RVFIO_CFG(PCI_CAPABILITY_LIST)) != 1)
		return 0;
	/* At most 48 capabilities fit after the header: a longer chain loops. */
	for (n = 0; pos >= PCI_STD_HEADER_SIZEOF && n < 48; n++) {
		if (rvfio_pread(fd, &cur, 1, RVFIO_CFG(pos + PCI_CAP_LIST_ID)) != 1)
			return 0;
		if (cur == id)
			return pos;
		if (rvfio_pread(fd, &pos, 1, RVFIO_CFG(pos + PCI_CAP_LIST_NEXT)) != 1)
			return 0;
	}
	return 0;
}

#endif /* RVFIO_OPEN_H */
