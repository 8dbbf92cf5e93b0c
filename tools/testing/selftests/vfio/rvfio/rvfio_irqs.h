/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Eventfd and VFIO_DEVICE_SET_IRQS helpers shared by the interrupt tests. Every
 * wait is bounded.
 */
#ifndef RVFIO_IRQS_H
#define RVFIO_IRQS_H

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

#include <libvfio.h>

#include "rvfio_open.h"

/* Monotonic time since @start. */
static inline long long rvfio_elapsed_ns(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000000000LL + now.tv_nsec - start->tv_nsec;
}

static inline long long rvfio_elapsed_ms(const struct timespec *start)
{
	return rvfio_elapsed_ns(start) / 1000000;
}

/* Consumes and returns the count of non-blocking @efd, 0 if it was not signalled. */
static inline __u64 rvfio_efd_take(int efd)
{
	__u64 count;

	if (read(efd, &count, sizeof(count)) == sizeof(count))
		return count;
	VFIO_ASSERT_EQ(errno, EAGAIN);
	return 0;
}

/* Waits up to @ms for @efd to be signalled; returns and consumes its count (0: none came). */
static inline __u64 rvfio_efd_wait(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	struct timespec start;
	long long left = ms;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		ret = poll(&pfd, 1, left);
		if (ret > 0)
			return rvfio_efd_take(efd);
		if (ret == 0)
			return 0;
		VFIO_ASSERT_EQ(errno, EINTR);
		left = ms - rvfio_elapsed_ms(&start);
		if (left <= 0)
			return rvfio_efd_take(efd);
	}
}

/*
 * VFIO_DEVICE_SET_IRQS on device @fd with a payload of @count booleans or
 * eventfds taken from @data, as @flags says; 0 or -errno.
 */
static inline int rvfio_irq_set(int fd, __u32 index, __u32 flags, __u32 start, __u32 count,
				const void *data)
{
	size_t size = 0;
	struct vfio_irq_set *set;
	int ret;

	if (flags & VFIO_IRQ_SET_DATA_BOOL)
		size = count;
	else if (flags & VFIO_IRQ_SET_DATA_EVENTFD)
		size = count * sizeof(__s32);

	set = calloc_assert(1, sizeof(*set) + size);
	set->argsz = sizeof(*set) + size;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (size)
		memcpy(set->data, data, size);
	ret = rvfio_ioctl(fd, VFIO_DEVICE_SET_IRQS, set);
	free(set);
	return ret;
}

#endif /* RVFIO_IRQS_H */
