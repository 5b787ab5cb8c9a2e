/* Image files, writing: glint_image_save freezes an image to a checksummed file, atomically. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "load/gimg.h"
#include "runtime/error.h"
#include "runtime/exports.h"
#include "runtime/hostfns.h"
#include "runtime/image.h"
#include "runtime/image_file.h"

#define PAGE ((uint64_t)GLINT_ABI_PAGE_SIZE)

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* Everything before PAGE_DATA, built in memory: header, table, records. */
struct meta {
    uint8_t *buf;
    size_t len;
    struct glint__gimg_section sec[GLINT__GIMG_SECTIONS];
    uint32_t *pages; /* the image's non-zero pages a file holds (image_file.h) */
    uint32_t npages;
};

/* The non-zero pages of guest data; the loader rebuilds the rest. */
static int file_pages(const glint_image *img, struct meta *m)
{
    m->pages = malloc((img->npages ? img->npages : 1) * sizeof *m->pages);
    if (!m->pages)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->npages; i++) {
        const struct glint__region *r =
            glint__mem_region_at(&img->regions, (uint64_t)img->pages[i] * PAGE);
        if (r && glint__region_in_file(r))
            m->pages[m->npages++] = img->pages[i];
    }
    return 0;
}

static void put_fn(struct glint__gimg_fn *r, const char *name, glint_type ret, size_t nparams,
                   const glint_type *params)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->ret = (uint8_t)ret;
    r->nparams = (uint8_t)nparams;
    for (size_t k = 0; k < nparams; k++)
        r->params[k] = (uint8_t)params[k];
}

static void fill_config(const glint_image *img, struct glint__gimg_config *c)
{
    memset(c, 0, sizeof *c);
    c->heap_size = img->config.heap_size;
    c->stack_size = img->config.stack_size;
    c->input_size = img->config.input_size;
    c->output_size = img->config.output_size;
    c->max_image_memory = img->config.max_image_memory;
    c->budget = img->budget;
    c->mem_size = img->layout.mem_size;
    c->entry = img->entry;
    c->seed = img->seed;
    c->timeout_ms = img->timeout_ms;
    c->guest_flags = img->guest_flags;
    c->guest_features = img->hot_ok ? GLINT_ABI_FEATURE_HOT : 0;
    snprintf(c->library, sizeof c->library, "glint %s", GLINT_VERSION_STRING);
}

/* The application's host functions (the built-ins are in every registry). */
static size_t app_fns(const glint_host_fns *fns)
{
    size_t n = 0;
    for (size_t i = 0; i < fns->count; i++)
        n += fns->fns[i].builtin == GLINT__BUILTIN_NONE;
    return n;
}

static int build_meta(const glint_image *img, struct meta *m)
{
    struct glint__gimg_vcpu vcpu;
    const void *fp;
    int rc = glint__vcpu_state_export(img->state, &vcpu, &fp);
    if (rc || (rc = file_pages(img, m)))
        return rc;
    const uint64_t sizes[GLINT__GIMG_SECTIONS - 1] = {
        sizeof(struct glint__gimg_config),
        img->nsegs * sizeof(struct glint__gimg_segment),
        img->exports->count * sizeof(struct glint__gimg_fn),
        app_fns(img->fns) * sizeof(struct glint__gimg_fn),
        sizeof vcpu + vcpu.fp_size,
        (uint64_t)m->npages * 4,
    };
    uint64_t off = sizeof(struct glint__gimg_header) + sizeof m->sec;
    for (uint32_t i = 0; i < GLINT__GIMG_SECTIONS - 1; i++) {
        off = align_up(off, 8);
        m->sec[i] = (struct glint__gimg_section){.kind = i + 1, .offset = off, .size = sizes[i]};
        off += sizes[i];
    }
    uint64_t data = align_up(off, PAGE);
    m->sec[GLINT__GIMG_SECTIONS - 1] = (struct glint__gimg_section){
        .kind = GLINT__GIMG_PAGE_DATA, .offset = data, .size = (uint64_t)m->npages * PAGE};
    m->len = data;
    m->buf = calloc(1, data);
    if (!m->buf)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    uint8_t *b = m->buf;
    struct glint__gimg_header h = {.format_version = GLINT__GIMG_FORMAT_VERSION,
                                   .abi_version = GLINT_ABI_VERSION,
                                   .header_size = sizeof h,
                                   .section_count = GLINT__GIMG_SECTIONS,
                                   .file_size = data + m->sec[GLINT__GIMG_SECTIONS - 1].size};
    memcpy(h.magic, GLINT__GIMG_MAGIC, sizeof h.magic);
    memcpy(b, &h, sizeof h);
    memcpy(b + sizeof h, m->sec, sizeof m->sec);
    struct glint__gimg_config c;
    fill_config(img, &c);
    memcpy(b + m->sec[0].offset, &c, sizeof c);
    struct glint__gimg_segment *sg = (void *)(b + m->sec[1].offset);
    for (uint32_t i = 0; i < img->nsegs; i++)
        sg[i] = (struct glint__gimg_segment){.vaddr = img->segs[i].vaddr,
                                             .memsz = img->segs[i].memsz,
                                             .filesz = img->segs[i].filesz,
                                             .flags = img->segs[i].flags};
    struct glint__gimg_fn *fx = (void *)(b + m->sec[2].offset);
    for (size_t i = 0; i < img->exports->count; i++) {
        const struct glint__export *e = &img->exports->e[i];
        put_fn(&fx[i], e->name, e->ret, e->nparams, e->params);
    }
    struct glint__gimg_fn *fh = (void *)(b + m->sec[3].offset);
    for (size_t i = 0, k = 0; i < img->fns->count; i++) {
        const struct glint__host_fn *f = &img->fns->fns[i];
        if (f->builtin == GLINT__BUILTIN_NONE)
            put_fn(&fh[k++], f->name, f->ret, f->nparams, f->params);
    }
    memcpy(b + m->sec[4].offset, &vcpu, sizeof vcpu);
    memcpy(b + m->sec[4].offset + sizeof vcpu, fp, vcpu.fp_size);
    memcpy(b + m->sec[5].offset, m->pages, (size_t)m->npages * 4);
    return 0;
}

/* CRC-32 over the metadata (checksum field zero) and then every page. */
static void seal(const glint_image *img, struct meta *m)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, m->buf, (uInt)m->len);
    for (uint32_t i = 0; i < m->npages; i++)
        crc = crc32(crc, img->mem + (uint64_t)m->pages[i] * PAGE, (uInt)PAGE);
    uint32_t v = (uint32_t)crc;
    memcpy(m->buf + offsetof(struct glint__gimg_header, checksum), &v, sizeof v);
}

static int write_all(int fd, const void *p, size_t n, const char *tmp)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return glint__fail(GLINT_EIO, "cannot write %s: %s", tmp,
                               w < 0 ? strerror(errno) : "short write");
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_file(const glint_image *img, const struct meta *m, int fd, const char *tmp)
{
    int rc = write_all(fd, m->buf, m->len, tmp);
    for (uint32_t i = 0; !rc && i < m->npages; i++)
        rc = write_all(fd, img->mem + (uint64_t)m->pages[i] * PAGE, PAGE, tmp);
    if (!rc && fsync(fd) != 0)
        rc = glint__fail(GLINT_EIO, "cannot fsync %s: %s", tmp, strerror(errno));
    return rc;
}

/* Make the rename durable: fsync the directory holding path. */
static void sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

int glint_image_save(const glint_image *img, const char *path)
{
    if (!img || !path || !path[0])
        return glint__fail(GLINT_EINVAL, "glint_image_save: NULL argument or empty path");
    struct meta m = {0};
    int rc = build_meta(img, &m);
    if (rc) {
        free(m.buf);
        free(m.pages);
        return rc;
    }
    seal(img, &m);
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    char *tmp = malloc(n);
    if (!tmp) {
        free(m.buf);
        free(m.pages);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = glint__fail(GLINT_EIO, "cannot create a temporary file beside %s: %s", path,
                         strerror(errno));
    } else {
        rc = write_file(img, &m, fd, tmp);
        if (close(fd) != 0 && !rc)
            rc = glint__fail(GLINT_EIO, "cannot close %s: %s", tmp, strerror(errno));
        if (!rc && fchmodat(AT_FDCWD, tmp, 0644, 0) != 0)
            rc = glint__fail(GLINT_EIO, "cannot set the mode of %s: %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path) != 0)
            rc = glint__fail(GLINT_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        if (rc)
            unlink(tmp);
        else
            sync_dir(path);
    }
    free(tmp);
    free(m.buf);
    free(m.pages);
    return rc;
}
