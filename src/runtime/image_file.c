/* Image files, loading: open and check one, then build an image over a read-only shared mapping. */
#include "runtime/image_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/error.h"
#include "runtime/exports.h"
#include "runtime/hostfns.h"
#include "runtime/image.h"
#include "x86/tables.h"

#define PAGE ((uint64_t)GLINT_ABI_PAGE_SIZE)

int glint__gimg_open(const char *path, struct glint__gimg_file *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    /* O_NONBLOCK: a FIFO or device must not block us before we see its type. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return glint__fail(GLINT_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    char magic[8];
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = glint__fail(GLINT_EIO, "cannot stat %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = glint__fail(GLINT_EIO, "%s is not a regular file", path);
    } else if (st.st_size < (off_t)sizeof magic ||
               pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
               !glint__gimg_is_image(magic, sizeof magic)) {
        rc = 0; /* not an image file: the caller reads it as an ELF */
    } else if ((uint64_t)st.st_size > GLINT__GIMG_MAX_FILE) {
        rc = glint__fail(GLINT_EIMAGE, "image file %s is too large (%lld bytes, max %llu)", path,
                         (long long)st.st_size, (unsigned long long)GLINT__GIMG_MAX_FILE);
    } else {
        /* MAP_POPULATE: the checksum reads every byte; one call maps them all. */
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = glint__fail(GLINT_EIO, "cannot map %s: %s", path, strerror(errno));
        } else {
            f->fd = fd;
            f->data = p;
            f->len = (size_t)st.st_size;
            if ((rc = glint__gimg_parse(f->data, f->len, &f->g)) == 0)
                return 1;
        }
    }
    if (f->fd < 0)
        close(fd);
    glint__gimg_close(f);
    return rc;
}

void glint__gimg_close(struct glint__gimg_file *f)
{
    if (f->data)
        munmap((void *)(uintptr_t)f->data, f->len);
    if (f->fd >= 0)
        close(f->fd);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* Sizes are the file's: a caller's non-zero size must be the same. */
static int same_size(const char *what, uint64_t caller, uint64_t file)
{
    if (caller == file)
        return 0;
    return glint__fail(GLINT_EINVAL,
                       "config: %s %llu differs from the image file's %llu (an image file's "
                       "sizes are fixed when it is built; pass 0 to take the file's)",
                       what, (unsigned long long)caller, (unsigned long long)file);
}

static int resolve_config(const struct glint__gimg_config *fc, const glint_config *cfg,
                          glint_config *c)
{
    const struct glint_abi_defaults d = {.heap_size = fc->heap_size,
                                         .stack_size = fc->stack_size,
                                         .input_size = fc->input_size,
                                         .output_size = fc->output_size,
                                         .flags = fc->guest_flags};
    int rc = glint__config_resolve(cfg, &d, c);
    if (rc || (rc = same_size("heap_size", c->heap_size, fc->heap_size)) ||
        (rc = same_size("stack_size", c->stack_size, fc->stack_size)) ||
        (rc = same_size("input_size", c->input_size, fc->input_size)) ||
        (rc = same_size("output_size", c->output_size, fc->output_size)))
        return rc;
    if (!cfg) { /* no config: the policy the file was built with */
        c->timeout_ms = fc->timeout_ms;
        c->budget = fc->budget;
        c->max_image_memory = fc->max_image_memory;
    }
    return 0;
}

/* The ELF facts the memory map is built from, as the file recorded them. */
static void elf_of(const struct glint__gimg *g, struct glint__elf *e)
{
    memset(e, 0, sizeof *e);
    e->entry = g->config.entry;
    e->nsegs = g->nsegs;
    for (uint32_t i = 0; i < g->nsegs; i++)
        e->segs[i] = (struct glint__segment){.vaddr = g->segs[i].vaddr,
                                             .memsz = g->segs[i].memsz,
                                             .filesz = g->segs[i].filesz,
                                             .flags = g->segs[i].flags};
    const struct glint__gimg_segment *last = &g->segs[g->nsegs - 1];
    e->image_end = (last->vaddr + last->memsz + PAGE - 1) & ~(PAGE - 1);
    e->defaults.flags = g->config.guest_flags;
    e->features.flags = g->config.guest_features;
}

/* Every page the file holds lies in a region of guest data. */
static int check_page_regions(const glint_image *img, const struct glint__gimg *g)
{
    for (uint32_t i = 0; i < g->npages; i++) {
        uint64_t addr = (uint64_t)g->pages[i] * PAGE;
        const struct glint__region *r = glint__mem_region_at(&img->regions, addr);
        if (r && glint__region_in_file(r))
            continue;
        char name[96] = "no region";
        if (r)
            glint__mem_region_name(r, name, sizeof name);
        return glint__fail(GLINT_EIMAGE,
                           "image file: page %u (address 0x%llx) lies in %s: a file holds only "
                           "guest data pages",
                           g->pages[i], (unsigned long long)addr, name);
    }
    return 0;
}

/* Guest memory: anonymous, with the system structures rebuilt by the host
 * (never taken from the file), then every run of consecutive file pages
 * mapped over it from the file (MAP_PRIVATE, read-only: processes share the
 * page cache's pages). Like an ELF image's memory, the anonymous part stays
 * writable to the library (an mprotect would cost ~10 us per load) and is
 * never written after this. */
static int map_memory(glint_image *img, const struct glint__gimg_file *f)
{
    const struct glint__gimg *g = &f->g;
    void *p = mmap(NULL, img->layout.mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return glint__fail(GLINT_ENOMEM, "cannot map %llu bytes of guest memory",
                           (unsigned long long)img->layout.mem_size);
    img->mem = p;
    glint__x86_build(img->mem, &img->regions, &img->layout, g->config.seed);
    for (uint32_t i = 0; i < g->npages;) {
        uint32_t n = 1;
        while (i + n < g->npages && g->pages[i + n] == g->pages[i] + n)
            n++;
        void *at = img->mem + (uint64_t)g->pages[i] * PAGE;
        /* MAP_POPULATE: the page cache's pages, mapped now rather than faulted in one by
         * one when the first sandbox copies them. */
        if (mmap(at, (size_t)n * PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_POPULATE, f->fd,
                 (off_t)(g->data_offset + (uint64_t)i * PAGE)) == MAP_FAILED)
            return glint__fail(GLINT_ENOMEM, "cannot map %u pages of the image file: %s", n,
                               strerror(errno));
        i += n;
    }
    return 0;
}

/* The non-zero pages: those the host built (read: few, and just written) and
 * those the file holds (not read here). */
static int index_pages(glint_image *img, const struct glint__gimg *g)
{
    uint64_t *cand = calloc(img->bitmap_words ? img->bitmap_words : 1, sizeof *cand);
    if (!cand)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->regions.count; i++) {
        const struct glint__region *r = &img->regions.r[i];
        if (!glint__mem_region_built_by_host(r))
            continue;
        for (uint64_t p = r->addr / PAGE; p < (r->addr + r->size) / PAGE; p++)
            cand[p / 64] |= 1ull << (p % 64);
    }
    int rc = glint__image_index_known(img, cand, g->pages, g->npages);
    free(cand);
    return rc;
}

/* The caller's registry has every host function the file expects, with its signature. */
static int check_host_fns(const struct glint__gimg *g, const glint_host_fns *fns)
{
    glint_host_fns *tmp = NULL;
    if (!fns) {
        int rc = glint__host_fns_clone(NULL, &tmp);
        if (rc)
            return rc;
        fns = tmp;
    }
    int rc = 0;
    for (uint32_t i = 0; i < g->nhostfns && !rc; i++) {
        const struct glint__gimg_fn *want = &g->hostfns[i];
        const struct glint__host_fn *have =
            glint__host_fns_find(fns, want->name, strlen(want->name));
        struct glint__host_fn w = {.ret = (glint_type)want->ret, .nparams = want->nparams};
        for (uint32_t k = 0; k < want->nparams; k++)
            w.params[k] = (glint_type)want->params[k];
        char ws[GLINT__SIG_TEXT_MAX], hs[GLINT__SIG_TEXT_MAX];
        glint__host_fn_signature_text(&w, ws, sizeof ws);
        if (!have) {
            rc = glint__fail(GLINT_ENOFUNC,
                             "the image file expects host function '%s' %s, which the host "
                             "function registry lacks",
                             want->name, ws);
            break;
        }
        glint__host_fn_signature_text(have, hs, sizeof hs);
        if (strcmp(ws, hs) != 0)
            rc = glint__fail(GLINT_ESIG,
                             "the image file expects host function '%s' %s, but the registry "
                             "has %s",
                             want->name, ws, hs);
    }
    glint_host_fns_destroy(tmp);
    return rc;
}

int glint__image_from_file(const struct glint__gimg_file *f, const glint_config *cfg,
                           const glint_host_fns *fns, glint_image **out)
{
    const struct glint__gimg *g = &f->g;
    struct glint__elf elf;
    elf_of(g, &elf);
    glint_config c;
    glint_image *img = NULL;
    glint__vcpu_state *state = NULL;
    int rc;
    if ((rc = resolve_config(&g->config, cfg, &c)) || (rc = check_host_fns(g, fns)) ||
        (rc = glint__image_new(&elf, &c, &img)) || (rc = glint__image_lay_out(img, &elf, &c)))
        goto out;
    if (img->layout.mem_size != g->config.mem_size) {
        rc = glint__fail(GLINT_EIMAGE,
                         "image file: config.mem_size 0x%llx, but its sizes and segments lay "
                         "out 0x%llx bytes",
                         (unsigned long long)g->config.mem_size,
                         (unsigned long long)img->layout.mem_size);
        goto out;
    }
    img->seed = g->config.seed;
    if ((rc = check_page_regions(img, g)) || (rc = glint__hv_open()) ||
        (rc = glint__vcpu_state_import(&g->vcpu, g->fp, &state)) || (rc = map_memory(img, f)) ||
        (rc = glint__image_index_writable(img)) || (rc = index_pages(img, g)) ||
        (rc = glint__exports_from_records(g->exports, g->nexports, &img->exports)) ||
        (rc = glint__host_fns_clone(fns, &img->fns)))
        goto out;
    glint__image_set_state(img, state);
    state = NULL;
    *out = img;
    img = NULL;
out:
    glint__vcpu_state_free(state);
    if (img)
        glint__image_free(img);
    return rc;
}

int glint_image_file_info_read(const char *path, glint_image_file_info *info,
                               glint_exports **host_fns)
{
    if (!path || !info)
        return glint__fail(GLINT_EINVAL, "glint_image_file_info_read: NULL argument");
    memset(info, 0, sizeof *info);
    if (host_fns)
        *host_fns = NULL;
    struct glint__gimg_file f;
    int rc = glint__gimg_open(path, &f);
    if (rc <= 0)
        return rc;
    const struct glint__gimg *g = &f.g;
    *info = (glint_image_file_info){.format_version = g->header.format_version,
                                    .abi_version = g->header.abi_version,
                                    .file_size = g->header.file_size,
                                    .heap_size = g->config.heap_size,
                                    .stack_size = g->config.stack_size,
                                    .input_size = g->config.input_size,
                                    .output_size = g->config.output_size,
                                    .mem_size = g->config.mem_size,
                                    .timeout_ms = g->config.timeout_ms,
                                    .budget = g->config.budget,
                                    .pages = g->npages,
                                    .fp_size = g->vcpu.fp_size,
                                    .fp_xcr0 = g->vcpu.xcr0};
    memcpy(info->library, g->config.library, sizeof info->library);
    rc = host_fns ? glint__exports_from_records(g->hostfns, g->nhostfns, host_fns) : 0;
    glint__gimg_close(&f);
    return rc;
}
