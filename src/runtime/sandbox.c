/* Sandboxes: a VM instantiated from an image; creation, destruction and confinement to them. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "os/confine.h"
#include "runtime/error.h"
#include "runtime/hostfns.h"
#include "runtime/image.h"
#include "runtime/sandbox.h"

#define PAGE GLINT_ABI_PAGE_SIZE

static int no_memory(const glint_sandbox *sb)
{
    return glint__fail(GLINT_ENOMEM, "cannot allocate %llu bytes of guest memory",
                       (unsigned long long)sb->mem_size);
}

/* The sandbox's own state: host functions, buffers and bitmaps. */
static int alloc_state(glint_sandbox *sb, const struct glint__image_view *v,
                       const struct glint__layout *l, const glint_host_fns *fns)
{
    sb->fns = v->fns;
    sb->timeout_ms = v->timeout_ms;
    sb->budget = v->budget;
    sb->mem_size = l->mem_size;
    sb->output_addr = l->output_addr;
    sb->output_cap = (uint32_t)l->output_size;
    sb->sticky_limit = GLINT__STICKY_MIN_PAGES;
    int rc;
    if (fns) {
        if ((rc = glint__host_fns_clone(fns, &sb->own_fns)))
            return rc;
        sb->fns = sb->own_fns;
    }
    if ((rc = glint__signal_init()))
        return rc;
    sb->result_cap = l->output_size + 1;
    sb->result = malloc(sb->result_cap);
    sb->dirty = calloc(v->bitmap_words, sizeof *sb->dirty);
    sb->host_dirty = calloc(v->bitmap_words, sizeof *sb->host_dirty);
    return sb->result && sb->dirty && sb->host_dirty ? 0 : no_memory(sb);
}

/* Guest memory: a copy of the image's non-zero pages (the rest stays zero,
 * untouched and not resident). */
static int copy_memory(glint_sandbox *sb, const struct glint__image_view *v)
{
    void *mem = mmap(NULL, sb->mem_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED)
        return no_memory(sb);
    sb->mem = mem;
    for (uint32_t i = 0; i < v->npages; i++) {
        uint64_t off = (uint64_t)v->pages[i] * PAGE;
        memcpy(sb->mem + off, v->mem + off, PAGE);
    }
    return 0;
}

int glint__sandbox_new(glint_image *img, const glint_host_fns *fns, glint_sandbox **out)
{
    glint_sandbox *sb = calloc(1, sizeof *sb);
    if (!sb)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    glint__image_ref(img);
    sb->img = img;
    pthread_mutex_init(&sb->lock, NULL);
    const struct glint__image_view v = glint__image_view(img);
    const struct glint__layout *l = glint__image_layout(img);
    int rc;
    if ((rc = alloc_state(sb, &v, l, fns)) || (rc = copy_memory(sb, &v)) ||
        (rc = glint__vm_create(sb->mem, sb->mem_size, v.state, v.entry,
                               l->stack_addr + l->stack_size, &sb->vm))) {
        glint_sandbox_destroy(sb);
        return rc;
    }
    *out = sb;
    return 0;
}

int glint__collect_dirty(glint_sandbox *sb, const struct glint__image_view *img)
{
    int rc = glint__vm_dirty_log(sb->vm, sb->dirty);
    if (rc < 0)
        return rc;
    if (rc == 1) /* no tracking here: assume everything writable changed */
        memcpy(sb->dirty, img->writable, img->bitmap_words * sizeof *sb->dirty);
    for (size_t i = sb->host_lo; i < sb->host_hi; i++)
        sb->dirty[i] |= sb->host_dirty[i];
    return 0;
}

int glint__sandbox_freeze(glint_sandbox *sb)
{
    /* The image's non-zero pages are the template's plus those the guest
     * wrote: only those are indexed, never the whole memory. */
    const struct glint__image_view v = glint__image_view(sb->img);
    int rc = glint__collect_dirty(sb, &v);
    if (rc)
        return rc;
    for (size_t i = 0; i < v.bitmap_words; i++)
        sb->dirty[i] |= v.nonzero[i];
    glint__vcpu_state *state;
    if ((rc = glint__vm_save(sb->vm, &state)))
        return rc;
    glint__image_adopt_init(sb->img, &sb->mem, state);
    return glint__image_index_pages(sb->img, glint__image_view(sb->img).mem, sb->dirty);
}

int glint_sandbox_create(glint_image *img, const glint_host_fns *fns, glint_sandbox **out)
{
    if (!img || !out)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_create: NULL argument");
    return glint__sandbox_new(img, fns, out);
}

void glint_sandbox_destroy(glint_sandbox *sb)
{
    if (!sb)
        return;
    glint__sandbox_hot_destroy(sb); /* the vCPU thread first: it uses the VM */
    glint__vm_destroy(sb->vm);
    if (sb->mem)
        munmap(sb->mem, sb->mem_size);
    glint__deadline_destroy(&sb->deadline);
    free(sb->result);
    free(sb->dirty);
    free(sb->host_dirty);
    pthread_mutex_destroy(&sb->lock);
    glint_host_fns_destroy(sb->own_fns);
    glint_image_destroy(sb->img);
    free(sb);
}

void glint_sandbox_set_timeout(glint_sandbox *sb, uint32_t timeout_ms)
{
    if (sb)
        sb->timeout_ms = timeout_ms;
}

int glint_sandbox_set_budget(glint_sandbox *sb, uint64_t budget)
{
    if (!sb)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_set_budget: NULL sandbox");
    if (budget && !glint__image_view(sb->img).budget_ok)
        return glint__fail(GLINT_EINVAL, "glint_sandbox_set_budget: the guest does not enforce an "
                                         "instruction budget (only runtimes that declare it do, "
                                         "such as lua.elf)");
    sb->budget = budget;
    return 0;
}

int glint_confine_thread_to_sandboxes(glint_sandbox *const *sandboxes, size_t n)
{
    if (n && !sandboxes)
        return glint__fail(GLINT_EINVAL, "glint_confine_thread_to_sandboxes: NULL list");
    if (n > 256)
        return glint__fail(GLINT_EINVAL,
                           "glint_confine_thread_to_sandboxes: %zu sandboxes (at most 256)", n);
    struct glint__kvm_fds fds[256];
    for (size_t k = 0; k < n; k++) {
        if (!sandboxes[k])
            return glint__fail(GLINT_EINVAL,
                               "glint_confine_thread_to_sandboxes: sandbox %zu is NULL", k);
        glint__vm_fds(sandboxes[k]->vm, &fds[k].vm_fd, &fds[k].vcpu_fd);
    }
    return glint__confine(fds, n);
}

int glint__sandbox_check_at_rest(const glint_sandbox *sb, const char *what)
{
    if (sb->in_call)
        return glint__fail(GLINT_EBUSY, "cannot %s a sandbox during a call", what);
    if (sb->poisoned)
        return glint__fail(GLINT_EPOISONED, "cannot %s a poisoned sandbox: %s", what,
                           sb->failure.message);
    return 0;
}
