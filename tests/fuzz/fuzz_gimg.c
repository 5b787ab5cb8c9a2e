/* libFuzzer target for the image-file parser (src/load/gimg.c): arbitrary bytes into
 * glint__gimg_parse.
 *
 * Image files are untrusted input, like guest ELFs: the parser must never read outside the
 * bytes it is given, never crash, and either accept a file whose every promise holds or
 * reject it with GLINT_EIMAGE/GLINT_EABI and a message. libFuzzer's input is copied into an
 * exactly sized 8-aligned heap buffer (the parser requires the alignment a mapping has), so
 * AddressSanitizer sees any overread. Most random inputs fail the checksum, so the target
 * also parses a copy whose checksum it has recomputed: that reaches the section and record
 * checks. Seeds: the synthetic file of tests/unit/gimg_builder.c and, where KVM is present,
 * files written by `glint image build` (scripts/fuzz.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "glint.h"
#include "ident.h"
#include "load/gimg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE 4096ull

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_gimg: invariant violated: %s (errmsg \"%s\")\n", what,
                glint_errmsg());
        abort();
    }
}

static void check_accepted(const struct glint__gimg *g, size_t len)
{
    require(g->header.file_size == len, "file size");
    require(g->nsegs >= 1 && g->nsegs <= 16, "segment count");
    for (uint32_t i = 0; i < g->nsegs; i++) {
        const struct glint__gimg_segment *s = &g->segs[i];
        require(s->vaddr >= GLINT_ABI_IMAGE_BASE && s->memsz > 0 &&
                    s->memsz <= GLINT_ABI_IMAGE_LIMIT - s->vaddr,
                "segment in image space");
        require(!((s->flags & 2) && (s->flags & 1)), "W^X");
    }
    require(g->config.mem_size % PAGE == 0 && g->config.mem_size <= GLINT_ABI_MEMORY_LIMIT,
            "mem_size");
    require(g->data_offset % PAGE == 0 && g->data_offset <= len &&
                (uint64_t)g->npages * PAGE == len - g->data_offset,
            "page data ends the file");
    for (uint32_t i = 0; i < g->npages; i++) {
        require(g->pages[i] < g->config.mem_size / PAGE, "page inside guest memory");
        require(i == 0 || g->pages[i] > g->pages[i - 1], "pages ascending");
    }
    for (uint32_t i = 0; i < g->nexports; i++) {
        size_t n = strnlen(g->exports[i].name, sizeof g->exports[i].name);
        require(n < sizeof g->exports[i].name && glint__name_valid(g->exports[i].name, n),
                "export name");
    }
    require((g->vcpu.regs[GLINT__GIMG_RFLAGS] & (3ull << 12 | 1ull << 9 | 1ull << 17)) == 0,
            "no IOPL, IF or VM in rflags");
    require(g->vcpu.regs[GLINT__GIMG_RIP] < g->config.mem_size, "rip in guest memory");
}

static void parse(const uint8_t *b, size_t size)
{
    struct glint__gimg g;
    int rc = glint__gimg_parse(b, size, &g);
    if (rc == 0)
        check_accepted(&g, size);
    else
        require((rc == GLINT_EIMAGE || rc == GLINT_EABI) && glint_errmsg()[0] != 0,
                "error code and message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *b = NULL;
    if (posix_memalign((void **)&b, 8, size ? size : 1))
        return 0;
    memcpy(b, data, size);
    parse(b, size);
    const size_t at = offsetof(struct glint__gimg_header, checksum);
    if (size >= at + 4) { /* the same bytes, checksum made right */
        memset(b + at, 0, 4);
        uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)size);
        memcpy(b + at, &crc, 4);
        parse(b, size);
    }
    free(b);
    return 0;
}
