/* libglint-rt private: glibc's errno values and the helpers shared by the layer's files. */
#ifndef GLINT_RT_PRIVATE_H
#define GLINT_RT_PRIVATE_H

/* Linux/glibc errno values (asm-generic/errno-base.h, errno.h). */
enum {
    RT_EPERM = 1,
    RT_ENOENT = 2,
    RT_EIO = 5,
    RT_EBADF = 9,
    RT_ENOMEM = 12,
    RT_EACCES = 13,
    RT_EINVAL = 22,
    RT_ESPIPE = 29,
    RT_EROFS = 30,
    RT_EDOM = 33,
    RT_ERANGE = 34,
    RT_ENOSYS = 38,
};

int *__errno_location(void);
#define rt_errno (*__errno_location())

char *strerror(int e);

#endif
