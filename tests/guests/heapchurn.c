/* Test guest for trimming: an allocation-heavy call that writes many MiB of heap, then frees it. */
#include <glint/guest.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK (1u << 20)

/* Churn(mib, seed) -> u64: allocate mib blocks of 1 MiB, count the non-zero bytes they hold
 * before writing (0 in a pristine sandbox: the image never wrote that heap), fill them with a
 * seed-derived pattern (never zero), free them all. 2^63 + mib if an allocation fails. */
static int Churn(const glint_guest_val *a, glint_guest_val *r)
{
    enum { MAX = 64 };
    uint8_t *blocks[MAX];
    uint32_t n = a[0].u32 < MAX ? a[0].u32 : MAX;
    uint64_t nonzero = 0, seed = a[1].u64;
    for (uint32_t i = 0; i < n; i++) {
        blocks[i] = malloc(BLOCK);
        if (!blocks[i]) {
            r->u64 = (1ull << 63) + i;
            for (uint32_t j = 0; j < i; j++)
                free(blocks[j]);
            return 0;
        }
        const volatile uint8_t *p = blocks[i];
        for (uint32_t k = 0; k < BLOCK; k++)
            nonzero += p[k] != 0;
        for (uint32_t k = 0; k < BLOCK; k += 8) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t v = seed | 1; /* every word non-zero */
            memcpy(blocks[i] + k, &v, sizeof v);
        }
    }
    for (uint32_t i = 0; i < n; i++)
        free(blocks[i]);
    r->u64 = nonzero;
    return 0;
}
GLINT_GUEST_EXPORT(Churn, GLINT_GUEST_U64, GLINT_GUEST_U32, GLINT_GUEST_U64);
