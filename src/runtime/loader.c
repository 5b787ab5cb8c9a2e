/* Loading an image: the ladder from ELF bytes to an initialised image, with one unwinding path. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/confine.h"
#include "runtime/error.h"
#include "runtime/image.h"
#include "runtime/image_file.h"
#include "runtime/run.h"
#include "runtime/sandbox.h"

/* Confine the calling thread to sb's VM alone. */
static int confine_to(glint_sandbox *sb)
{
    glint_sandbox *const one[] = {sb};
    return glint_confine_thread_to_sandboxes(one, 1);
}

/* Run the guest's start-up and initialisation in a new VM (confined to it
 * if asked), then freeze its memory and vCPU state into the image. */
static int run_init(glint_image *img, bool confine)
{
    glint_sandbox *sb;
    int rc = glint__sandbox_new(img, NULL, &sb);
    if (rc)
        return rc;
    if (confine && (rc = confine_to(sb)))
        goto out;
    if ((rc = glint__sandbox_run(sb, GLINT_VOID, NULL))) {
        glint_failure f;
        glint_sandbox_last_failure(sb, &f);
        rc = glint__fail(rc, "guest initialisation failed: %s", f.message);
        goto out;
    }
    rc = glint__sandbox_freeze(sb);
out:
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

/* Run the guest's initialisation, on a confined helper thread if asked. */
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

/*
 * The life of an image, top to bottom. Each step needs the ones above it:
 *   parse the ELF   bytes → checked segments and exports (nothing mapped yet)
 *   read the config struct_size-checked, sizes rounded and range-checked
 *   new image       the object, one reference
 *   lay out         the ELF's span checked against max_image_memory, then
 *                   heap, stack and buffers placed, and the memory map
 *                   (region table) built from them: still nothing mapped
 *   open KVM        fail early (GLINT_ENOKVM) before memory is built
 *   build memory    segments copied, page tables (from the memory map) and
 *                   system structures built
 *   index writable  the pages restore copies back without dirty tracking
 *                   (from the memory map)
 *   index template  the non-zero pages construction wrote (file bytes,
 *                   system structures): all the init VM gets copied
 *   functions       the exports and the host-function registry
 *   initialise      the guest's init run once in a VM; its memory and vCPU
 *                   state become the image's, and its non-zero pages (among
 *                   the template's and those the dirty log says the guest
 *                   wrote) are indexed, so that sandboxes copy only those
 * Any failure unwinds through the one exit below: the image frees whatever
 * prefix of the steps was done.
 */
int glint_image_load_memory(const void *bytes, size_t len, const glint_config *cfg,
                            const glint_host_fns *fns, glint_image **out)
{
    if (!bytes || !out)
        return glint__fail(GLINT_EINVAL, "glint_image_load_memory: NULL argument");
    struct glint__elf elf;
    int rc = glint__elf_parse(bytes, len, &elf);
    if (rc)
        return rc;
    glint_image *img = NULL;
    glint_config c;
    if ((rc = glint__config_resolve(cfg, &elf.defaults, &c)))
        goto out;
    if ((rc = glint__image_new(&elf, &c, &img)))
        goto out;
    if ((rc = glint__image_lay_out(img, &elf, &c)))
        goto out;
    if ((rc = glint__hv_open()))
        goto out;
    if ((rc = glint__image_build_memory(img, &elf, bytes)))
        goto out;
    if ((rc = glint__image_index_writable(img)))
        goto out;
    if ((rc = glint__image_index_template(img, &elf)))
        goto out;
    if ((rc = glint__image_add_functions(img, &elf, fns)))
        goto out;
    if ((rc = initialise(img, c.confine_init)))
        goto out;
    *out = img;
    img = NULL;
out:
    if (img)
        glint__image_free(img);
    glint__elf_release(&elf);
    return rc;
}

int glint_image_load_file(const char *path, const glint_config *cfg, const glint_host_fns *fns,
                          glint_image **out)
{
    if (!path || !out)
        return glint__fail(GLINT_EINVAL, "glint_image_load_file: NULL argument");
    struct glint__gimg_file f;
    int is_image = glint__gimg_open(path, &f);
    if (is_image < 0)
        return is_image;
    if (is_image) { /* an image file: checked and mapped, no ELF, no guest code */
        int rc = glint__image_from_file(&f, cfg, fns, out);
        glint__gimg_close(&f);
        return rc;
    }
    void *data;
    size_t len;
    int rc = glint__read_file(path, GLINT_ABI_IMAGE_LIMIT, &data, &len);
    if (rc)
        return rc;
    rc = glint_image_load_memory(data, len, cfg, fns, out);
    free(data);
    return rc;
}
