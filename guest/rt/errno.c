/* libglint-rt: errno, glibc's way (__errno_location), and strerror's messages. */
#include <stddef.h>

#include "rt.h"

static int errno_value;

int *__errno_location(void)
{
    return &errno_value;
}

/* glibc's texts for the codes this layer sets, and a few a script may see. */
static char *const messages[] = {
    [0] = "Success",
    [RT_EPERM] = "Operation not permitted",
    [RT_ENOENT] = "No such file or directory",
    [RT_EIO] = "Input/output error",
    [RT_EBADF] = "Bad file descriptor",
    [RT_ENOMEM] = "Cannot allocate memory",
    [RT_EACCES] = "Permission denied",
    [RT_EINVAL] = "Invalid argument",
    [RT_ESPIPE] = "Illegal seek",
    [RT_EROFS] = "Read-only file system",
    [RT_EDOM] = "Numerical argument out of domain",
    [RT_ERANGE] = "Numerical result out of range",
    [RT_ENOSYS] = "Function not implemented",
};

static char unknown[] = "Unknown error";

char *strerror(int e)
{
    if (e >= 0 && (size_t)e < sizeof messages / sizeof messages[0] && messages[e])
        return messages[e];
    return unknown;
}

/* The name musl's own members call (its __errno_location is an alias of it). */
int *___errno_location(void);
int *___errno_location(void)
{
    return &errno_value;
}
