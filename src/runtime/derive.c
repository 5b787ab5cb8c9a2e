/* Derived images: a new image whose post-init state is a sandbox's current memory and vCPU. */
#include <stdlib.h>

#include "runtime/error.h"
#include "runtime/image.h"
#include "runtime/sandbox.h"

/*
 * The sandbox's memory equals its image's except on the pages its dirty set
 * (hypervisor-tracked guest writes plus host writes) names, so the derived
 * image's non-zero pages are among the source image's non-zero pages and
 * those: only they are read and copied, never the whole guest memory.
 */
static int derive_from(glint_sandbox *sb, glint_image **out);

int glint_image_derive(glint_sandbox *sb, glint_image **out)
{
    if (!sb || !out)
        return glint__fail(GLINT_EINVAL, "glint_image_derive: NULL argument");
    int rc = glint__sandbox_check_at_rest(sb, "derive an image from");
    if (rc || (rc = glint__sandbox_hot_pause(sb))) /* a hot guest rests at its park `out` */
        return rc;
    rc = derive_from(sb, out);
    glint__sandbox_hot_resume(sb);
    return rc;
}

static int derive_from(glint_sandbox *sb, glint_image **out)
{
    const struct glint__image_view v = glint__image_view(sb->img);
    int rc = glint__collect_dirty(sb, &v);
    if (rc)
        return rc;
    glint_image *img = NULL;
    uint64_t *cand = malloc((v.bitmap_words ? v.bitmap_words : 1) * sizeof *cand);
    if (!cand)
        return glint__fail(GLINT_ENOMEM, "out of memory");
    for (size_t i = 0; i < v.bitmap_words; i++)
        cand[i] = v.nonzero[i] | sb->dirty[i];
    glint__vcpu_state *state = NULL;
    if ((rc = glint__image_derive_base(sb->img, &img)) ||
        (rc = glint__image_index_pages(img, sb->mem, cand)) ||
        (rc = glint__vm_save(sb->vm, &state)))
        goto out;
    glint__image_set_state(img, state);
    *out = img;
    img = NULL;
out:
    free(cand);
    if (img)
        glint__image_free(img);
    return rc;
}
