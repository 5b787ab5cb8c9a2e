/* VM test helper: code and system pages of a sandbox compared with its image's, byte by byte. */
#include "integrity.h"

#include <criterion/criterion.h>

#include <inttypes.h>
#include <string.h>

#include "glint/abi.h"
#include "whitebox.h"

#define PTE_ACCESSED_DIRTY 0x60ull

static bool page_bit(const uint64_t *bm, uint64_t page)
{
    return (bm[page / 64] >> (page % 64)) & 1;
}

uint64_t vm_first_difference(const glint_sandbox *sb, uint64_t addr, uint64_t len)
{
    const glint_image *img = sb->img;
    cr_assert(addr <= img->layout.mem_size && len <= img->layout.mem_size - addr);
    for (uint64_t a = addr; a < addr + len; a++)
        if (sb->mem[a] != img->mem[a])
            return a;
    return UINT64_MAX;
}

void vm_expect_system_pages_intact(const glint_sandbox *sb, const char *who)
{
    const glint_image *img = sb->img;
    const struct glint__layout *l = &img->layout;
    cr_assert_eq(sb->mem_size, l->mem_size, "%s: memory size changed", who);
    uint64_t pages = l->mem_size / GLINT_ABI_PAGE_SIZE;
    uint64_t pt_lo = GLINT_ABI_PT_ADDR / GLINT_ABI_PAGE_SIZE, pt_hi = pt_lo + l->pt_pages;
    for (uint64_t p = 0; p < pages; p++) {
        const uint8_t *got = sb->mem + p * GLINT_ABI_PAGE_SIZE;
        const uint8_t *want = img->mem + p * GLINT_ABI_PAGE_SIZE;
        if (p >= pt_lo && p < pt_hi) {
            for (uint64_t i = 0; i < GLINT_ABI_PAGE_SIZE / 8; i++) {
                uint64_t g, w;
                memcpy(&g, got + 8 * i, 8);
                memcpy(&w, want + 8 * i, 8);
                cr_assert_eq(g & ~PTE_ACCESSED_DIRTY, w & ~PTE_ACCESSED_DIRTY,
                             "%s: page-table entry at 0x%" PRIx64 " is 0x%016" PRIx64
                             ", the image has 0x%016" PRIx64,
                             who, p * GLINT_ABI_PAGE_SIZE + 8 * i, g, w);
            }
            continue;
        }
        if (page_bit(img->writable, p) || memcmp(got, want, GLINT_ABI_PAGE_SIZE) == 0)
            continue;
        uint64_t at = vm_first_difference(sb, p * GLINT_ABI_PAGE_SIZE, GLINT_ABI_PAGE_SIZE);
        cr_assert_fail("%s: read-only page 0x%" PRIx64 " modified: byte 0x%" PRIx64
                       " is %02x, the image has %02x",
                       who, p * GLINT_ABI_PAGE_SIZE, at, sb->mem[at], img->mem[at]);
    }
}
