/* Reading a guest file into memory: regular files only, never blocking, size-checked. */
#include "load/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/error.h"

/* What a non-regular file is, for the message. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "a special file";
}

int glint__read_file(const char *path, size_t max, void **data, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO (or a device such as a tty) must not wait
     * for a writer before we can see that it is not a regular file. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return glint__fail(GLINT_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    void *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = glint__fail(GLINT_EIO, "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = glint__fail(GLINT_EIO, "%s is not a regular file (it is %s)", path,
                         file_kind(st.st_mode));
        goto out;
    }
    /* A regular file: reads behave the same either way, but be explicit. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        rc = glint__fail(GLINT_EIO, "cannot configure %s: %s", path, strerror(errno));
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        rc = glint__fail(GLINT_EIO, "%s is too large (%lld bytes, max %zu)", path,
                         (long long)st.st_size, max);
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    /* One spare byte to notice a file that grew since fstat. */
    buf = malloc(size + 1);
    if (!buf) {
        rc = glint__fail(GLINT_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    while (got <= size) {
        ssize_t n = read(fd, (char *)buf + got, size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = glint__fail(GLINT_EIO, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != size) {
        rc = glint__fail(GLINT_EIO, "cannot read %s: file %s while reading", path,
                         got < size ? "shrank" : "grew");
        goto out;
    }
    *data = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}
