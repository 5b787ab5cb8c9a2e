/* libFuzzer target for the guest ELF parser (src/load/elf.c): arbitrary bytes into
 * glint__elf_parse.
 *
 * Guest ELF files are untrusted input to the host, so glint__elf_parse must
 * never read outside the bytes it is given, never crash, and either accept a
 * file whose every promise holds or reject it with GLINT_EELF/GLINT_EABI and a
 * message. This target feeds it libFuzzer's input as-is (libFuzzer hands over
 * an exactly sized heap copy, so AddressSanitizer sees any overread), checks
 * the accepted result's invariants, and abort()s on any violation. Build and
 * run it with scripts/fuzz.sh (clang -fsanitize=fuzzer,address,undefined),
 * which seeds the corpus with the example guests and a synthetic image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "load/elf.h"
#include "glint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE ((uint64_t)GLINT_ABI_PAGE_SIZE)

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_elf: invariant violated: %s (errmsg \"%s\")\n", what, glint_errmsg());
        abort();
    }
}

/* The segment holding [addr, addr+n), or NULL. */
static const struct glint__segment *seg_of(const struct glint__elf *e, uint64_t addr, uint64_t n)
{
    for (uint32_t i = 0; i < e->nsegs; i++) {
        const struct glint__segment *s = &e->segs[i];
        if (addr >= s->vaddr && addr - s->vaddr <= s->memsz && n <= s->memsz - (addr - s->vaddr))
            return s;
    }
    return NULL;
}

static void check_accepted(const struct glint__elf *e, size_t len)
{
    require(e->nsegs >= 1 && e->nsegs <= GLINT__ELF_MAX_SEGMENTS, "segment count");
    for (uint32_t i = 0; i < e->nsegs; i++) {
        const struct glint__segment *s = &e->segs[i];
        require(s->vaddr >= GLINT_ABI_IMAGE_BASE && s->vaddr < GLINT_ABI_IMAGE_LIMIT,
                "segment start in image space");
        require(s->memsz > 0 && s->memsz <= GLINT_ABI_IMAGE_LIMIT - s->vaddr,
                "segment end in image space");
        require(s->filesz <= s->memsz, "filesz <= memsz");
        require(s->offset <= len && s->filesz <= len - s->offset, "segment bytes in file");
        require(!((s->flags & GLINT__SEG_W) && (s->flags & GLINT__SEG_X)), "W^X");
        require(s->flags != 0 && (s->flags & ~7u) == 0, "segment flags");
        if (i > 0) {
            const struct glint__segment *p = &e->segs[i - 1];
            uint64_t prev_end = (p->vaddr + p->memsz + PAGE - 1) & ~(PAGE - 1);
            require((s->vaddr & ~(PAGE - 1)) >= prev_end, "segments sorted, no shared page");
        }
    }
    const struct glint__segment *last = &e->segs[e->nsegs - 1];
    require(e->image_end == ((last->vaddr + last->memsz + PAGE - 1) & ~(PAGE - 1)), "image_end");
    require(e->image_end <= GLINT_ABI_IMAGE_LIMIT, "image_end in image space");
    const struct glint__segment *es = seg_of(e, e->entry, 1);
    require(es && (es->flags & GLINT__SEG_X), "entry in code");
    require(e->note.abi_version == GLINT_ABI_VERSION, "note version");
    require(e->note.export_size == sizeof(struct glint_abi_export), "export record size");
    require(e->nexports <= GLINT__ELF_MAX_EXPORTS, "export count");
    require(e->nexports == 0 || e->exports != NULL, "exports present");
    if (e->nexports) {
        uint64_t bytes = (uint64_t)e->nexports * sizeof(struct glint_abi_export);
        require(e->note.exports_end - e->note.exports_addr == bytes, "table size");
        const struct glint__segment *ts = seg_of(e, e->note.exports_addr, bytes);
        require(ts && !(ts->flags & GLINT__SEG_W), "table in a read-only segment");
        require(e->note.exports_end - ts->vaddr <= ts->filesz, "table in file bytes");
    }
    for (uint32_t i = 0; i < e->nexports; i++) {
        const struct glint_abi_export *x = &e->exports[i];
        size_t n = strnlen(x->name, sizeof x->name);
        require(n < sizeof x->name && glint__name_valid(x->name, n), "export name");
        for (size_t k = n; k < sizeof x->name; k++)
            require(x->name[k] == 0, "export name padding");
        require(x->ret_type <= GLINT_ABI_TYPE_MAX, "export return type");
        require(x->nparams <= GLINT_ABI_MAX_PARAMS, "export parameter count");
        for (uint32_t k = 0; k < GLINT_ABI_MAX_PARAMS; k++) {
            if (k < x->nparams)
                require(x->params[k] >= 1 && x->params[k] <= GLINT_ABI_TYPE_MAX, "param type");
            else
                require(x->params[k] == 0, "unused param zero");
        }
        for (size_t k = 0; k < sizeof x->reserved; k++)
            require(x->reserved[k] == 0, "export reserved bytes");
        const struct glint__segment *fs = seg_of(e, x->fn, 1);
        require(fs && (fs->flags & GLINT__SEG_X), "export fn in code");
        for (uint32_t k = 0; k < i; k++)
            require(strcmp(e->exports[k].name, x->name) != 0, "export names unique");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct glint__elf e;
    int rc = glint__elf_parse(data, size, &e);
    if (rc == 0) {
        check_accepted(&e, size);
    } else {
        require(rc == GLINT_EELF || rc == GLINT_EABI || rc == GLINT_ENOMEM, "error code");
        require(glint_errmsg()[0] != 0, "error message set");
        require(e.exports == NULL && e.nexports == 0, "nothing owned after failure");
    }
    glint__elf_release(&e);
    return 0;
}
