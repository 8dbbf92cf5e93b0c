/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET helpers
 * shared by the hot-reset and SR-IOV tests.
 */
#ifndef RVFIO_HOTRESET_H
#define RVFIO_HOTRESET_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "rvfio_open.h"

/* What fills the entries of an INFO argument before the call. */
#define RVFIO_HR_POISON	0xa5
#define RVFIO_HR_HDR	sizeof(struct vfio_pci_hot_reset_info)
#define RVFIO_HR_DEP	sizeof(struct vfio_pci_dependent_device)

/* A GET_PCI_HOT_RESET_INFO argument with room for @n entries, poisoned. */
static inline struct vfio_pci_hot_reset_info *rvfio_hr_info_alloc(__u32 n)
{
	struct vfio_pci_hot_reset_info *info = malloc_assert(RVFIO_HR_HDR + n * RVFIO_HR_DEP);

	memset(info, RVFIO_HR_POISON, RVFIO_HR_HDR + n * RVFIO_HR_DEP);
	info->argsz = RVFIO_HR_HDR + n * RVFIO_HR_DEP;
	return info;
}

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO on @fd; 0 or -errno. */
static inline int rvfio_hr_info(int fd, struct vfio_pci_hot_reset_info *info)
{
	return rvfio_ioctl(fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

/*
 * The entry of @info (as filled in, argsz unchanged) for @bdf, NULL if none;
 * asserts there is at most one.
 */
static inline const struct vfio_pci_dependent_device *
rvfio_hr_dep(const struct vfio_pci_hot_reset_info *info, const char *bdf)
{
	const struct vfio_pci_dependent_device *found = NULL;
	__u32 room = (info->argsz - RVFIO_HR_HDR) / RVFIO_HR_DEP;
	unsigned int seg, bus, dev, fn;
	__u32 i;
	int n;

	n = sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn);
	VFIO_ASSERT_EQ(n, 4, "BDF %s\n", bdf);
	for (i = 0; i < info->count && i < room; i++) {
		const struct vfio_pci_dependent_device *d = &info->devices[i];

		if (d->segment == seg && d->bus == bus && d->devfn == (dev << 3 | fn)) {
			VFIO_ASSERT_NULL(found, "%s listed twice\n", bdf);
			found = d;
		}
	}
	return found;
}

/* VFIO_DEVICE_PCI_HOT_RESET with every header field given; 0 or -errno. */
static inline int rvfio_hr_reset_raw(int fd, __u32 argsz, __u32 flags, __u32 count,
				     const int *fds)
{
	struct vfio_pci_hot_reset *reset;
	int ret;

	reset = calloc_assert(1, sizeof(*reset) + (count + 1) * sizeof(__s32));
	reset->argsz = argsz;
	reset->flags = flags;
	reset->count = count;
	if (count)
		memcpy(reset->group_fds, fds, count * sizeof(__s32));
	ret = rvfio_ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, reset);
	free(reset);
	return ret;
}

/* VFIO_DEVICE_PCI_HOT_RESET proving ownership with the @count group files @fds. */
static inline int rvfio_hr_reset(int fd, __u32 count, const int *fds)
{
	return rvfio_hr_reset_raw(fd, sizeof(struct vfio_pci_hot_reset) + count * sizeof(__s32),
				  0, count, fds);
}

#endif /* RVFIO_HOTRESET_H */
