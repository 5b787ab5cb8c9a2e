/* Unit tests: guest paths that are not regular files (FIFO, directory, device) fail at once. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load/elf.h"
#include "runtime/error.h"
#include "glint.h"

/* A FIFO nobody writes to: a blocking open() of it never returns. The
 * timeout makes a regression fail instead of hanging the suite. */
static char dir[64];
static char fifo[96];

static void make_fifo(void)
{
    snprintf(dir, sizeof dir, "/tmp/glint-fifo-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/guest.elf", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
}

static void remove_fifo(void)
{
    unlink(fifo);
    rmdir(dir);
}

TestSuite(read_file, .timeout = 10);

static void expect_not_regular(int rc, glint_exports *ex, const char *path, const char *kind)
{
    const char *msg = glint_errmsg();
    cr_assert_eq(rc, GLINT_EIO, "rc %d, message \"%s\"", rc, msg);
    cr_assert_null(ex);
    cr_assert(strstr(msg, path) != NULL, "message names the path: \"%s\"", msg);
    cr_assert(strstr(msg, "not a regular file") != NULL, "\"%s\"", msg);
    cr_assert(strstr(msg, kind) != NULL, "message names the file type %s: \"%s\"", kind, msg);
}

Test(read_file, fifo_fails_without_blocking, .init = make_fifo, .fini = remove_fifo)
{
    glint_exports *ex = NULL;
    int rc = glint_exports_read_file(fifo, &ex);
    expect_not_regular(rc, ex, fifo, "FIFO");
}

Test(read_file, fifo_internal_reader, .init = make_fifo, .fini = remove_fifo)
{
    void *data = NULL;
    size_t len = 0;
    int rc = glint__read_file(fifo, 1 << 20, &data, &len);
    cr_assert_eq(rc, GLINT_EIO, "%s", glint_errmsg());
    cr_assert_null(data);
}

/* The image loader uses the same reader; it fails before needing KVM. */
Test(read_file, fifo_image_load, .init = make_fifo, .fini = remove_fifo)
{
    glint_image *img = NULL;
    int rc = glint_image_load_file(fifo, NULL, NULL, &img);
    cr_assert_eq(rc, GLINT_EIO, "%s", glint_errmsg());
    cr_assert(strstr(glint_errmsg(), "not a regular file") != NULL, "%s", glint_errmsg());
    cr_assert_null(img);
}

Test(read_file, directory)
{
    glint_exports *ex = NULL;
    int rc = glint_exports_read_file("/", &ex);
    expect_not_regular(rc, ex, "/", "directory");
}

Test(read_file, character_device)
{
    glint_exports *ex = NULL;
    int rc = glint_exports_read_file("/dev/null", &ex);
    expect_not_regular(rc, ex, "/dev/null", "character device");
}
