/* Images: a guest ELF validated, laid out in guest memory and initialised once in a VM. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "os/confine.h"
#include "runtime/error.h"
#include "runtime/internal.h"
#include "x86/tables.h"

static uint8_t *map_guest_memory(uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void free_image(glint_image *img)
{
    if (img->mem)
        munmap(img->mem, img->layout.mem_size);
    free(img->pages);
    free(img->writable);
    free(img->nonzero);
    glint__vcpu_state_free(img->state);
    glint_exports_destroy(img->exports);
    glint_host_fns_destroy(img->fns);
    free(img);
}

/* The guest-visible seed, from the kernel's random pool. Nothing else will
 * do: a fallback derived from host state (a pointer, the time) would tell
 * the guest about the host, so a failure fails the load. */
static int random_seed(uint64_t *seed)
{
    uint8_t *p = (uint8_t *)seed;
    size_t got = 0;
    while (got < sizeof *seed) {
        /* Blocks only until the pool is first initialised, early in boot. */
        ssize_t n = getrandom(p + got, sizeof *seed - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return glint__fail(GLINT_EHV,
                               "cannot seed the guest: getrandom failed (%s); refusing to "
                               "derive the seed from host state",
                               n < 0 ? strerror(errno) : "no bytes");
        got += (size_t)n;
    }
    return 0;
}

/* Copy the segments and build the system structures into fresh memory. */
static int build_memory(glint_image *img, const struct glint__elf *elf, const uint8_t *bytes)
{
    img->mem = map_guest_memory(img->layout.mem_size);
    if (!img->mem)
        return glint__fail(GLINT_ENOMEM, "cannot map %llu bytes of guest memory",
                           (unsigned long long)img->layout.mem_size);
    for (uint32_t i = 0; i < elf->nsegs; i++) {
        const struct glint__segment *s = &elf->segs[i];
        memcpy(img->mem + s->vaddr, bytes + s->offset, s->filesz);
    }
    uint64_t seed;
    int rc = random_seed(&seed);
    if (rc)
        return rc;
    glint__x86_build(img->mem, &img->regions, &img->layout, seed);
    return 0;
}

/* Record which pages are non-zero so that sandboxes copy only those. */
static int index_pages(glint_image *img)
{
    uint64_t n = img->layout.mem_size / GLINT_ABI_PAGE_SIZE;
    img->pages = malloc(n * sizeof *img->pages);
    if (!img->pages)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    img->nonzero = calloc(img->bitmap_words, sizeof *img->nonzero);
    if (!img->nonzero)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    static const uint8_t zero[GLINT_ABI_PAGE_SIZE];
    for (uint64_t i = 0; i < n; i++) {
        if (memcmp(img->mem + i * GLINT_ABI_PAGE_SIZE, zero, sizeof zero) != 0) {
            img->pages[img->npages++] = (uint32_t)i;
            img->nonzero[i / 64] |= 1ull << (i % 64);
        }
    }
    return 0;
}

/* Run the guest's start-up and initialisation in a new VM (confined to it
 * if asked), then freeze its memory and vCPU state as the image. */
static int run_init(glint_image *img, bool confine)
{
    glint_sandbox *sb;
    int rc = glint__sandbox_new(img, NULL, &sb);
    if (rc)
        return rc;
    if (confine) {
        struct glint__kvm_fds fds;
        glint__vm_fds(sb->vm, &fds.vm_fd, &fds.vcpu_fd);
        if ((rc = glint__confine(&fds, 1))) {
            glint_sandbox_destroy(sb);
            return rc;
        }
    }
    rc = glint__sandbox_run(sb, GLINT_VOID, NULL);
    if (rc) {
        glint_failure f;
        glint_sandbox_last_failure(sb, &f);
        rc = glint__fail(rc, "guest initialisation failed: %s", f.message);
        glint_sandbox_destroy(sb);
        return rc;
    }
    rc = glint__vm_save(sb->vm, &img->state);
    if (rc == 0) {
        /* Take the initialised memory; the sandbox gets the template. */
        uint8_t *t = img->mem;
        img->mem = sb->mem;
        sb->mem = t;
    }
    glint_sandbox_destroy(sb);
    return rc;
}

/* Guest initialisation handed to a helper thread, which confines itself:
 * the loading thread must not be confined (it may be any application thread). */
struct init_job {
    glint_image *img;
    int rc;
    char msg[512];
};

static void *init_thread(void *arg)
{
    struct init_job *j = arg;
    j->rc = run_init(j->img, true);
    if (j->rc)
        snprintf(j->msg, sizeof j->msg, "%s", glint_errmsg());
    return NULL; /* the thread ends, and its filter with it */
}

static int initialise(glint_image *img, bool confine)
{
    if (!confine)
        return run_init(img, false);
    struct init_job j = {.img = img};
    pthread_t t;
    int e = pthread_create(&t, NULL, init_thread, &j);
    if (e)
        return glint__fail(GLINT_ENOMEM, "cannot start the guest initialisation thread: %s",
                           strerror(e));
    pthread_join(t, NULL);
    return j.rc ? glint__fail(j.rc, "%s", j.msg) : 0;
}

int glint_image_load_memory(const void *bytes, size_t len, const glint_config *cfg,
                            const glint_host_fns *fns, glint_image **out)
{
    if (!bytes || !out)
        return glint__fail(GLINT_EINVAL, "glint_image_load_memory: NULL argument");
    struct glint__elf elf;
    int rc = glint__elf_parse(bytes, len, &elf);
    if (rc)
        return rc;
    glint_image *img = calloc(1, sizeof *img);
    if (!img) {
        glint__elf_release(&elf);
        return glint__fail(GLINT_ENOMEM, "out of memory");
    }
    atomic_init(&img->refs, 1);
    img->entry = elf.entry;
    glint_config c;
    rc = glint__config_read(cfg, &c);
    img->timeout_ms = c.timeout_ms;
    /* The layout (with the ELF's size checked against max_image_memory)
     * comes before any guest memory is mapped. */
    if (rc || (rc = glint__layout_compute(&elf, &c, &img->layout)) ||
        (rc = glint__mem_regions_build(&img->layout, &elf, &img->regions)) ||
        (rc = glint__hv_open()) || (rc = build_memory(img, &elf, bytes)) ||
        (rc = glint__mem_writable_bitmap(&img->regions, &img->writable, &img->bitmap_words)) ||
        (rc = glint__exports_from_elf(&elf, &img->exports)) ||
        (rc = glint__host_fns_clone(fns, &img->fns)) || (rc = initialise(img, c.confine_init)) ||
        (rc = index_pages(img))) {
        glint__elf_release(&elf);
        free_image(img);
        return rc;
    }
    glint__elf_release(&elf);
    *out = img;
    return 0;
}

int glint_image_load_file(const char *path, const glint_config *cfg, const glint_host_fns *fns,
                          glint_image **out)
{
    if (!path || !out)
        return glint__fail(GLINT_EINVAL, "glint_image_load_file: NULL argument");
    void *data;
    size_t len;
    int rc = glint__read_file(path, GLINT_ABI_IMAGE_LIMIT, &data, &len);
    if (rc)
        return rc;
    rc = glint_image_load_memory(data, len, cfg, fns, out);
    free(data);
    return rc;
}

void glint__image_ref(glint_image *img)
{
    atomic_fetch_add_explicit(&img->refs, 1, memory_order_relaxed);
}

void glint_image_destroy(glint_image *img)
{
    if (img && atomic_fetch_sub_explicit(&img->refs, 1, memory_order_acq_rel) == 1)
        free_image(img);
}

const glint_exports *glint_image_exports(const glint_image *img)
{
    return img ? img->exports : NULL;
}
