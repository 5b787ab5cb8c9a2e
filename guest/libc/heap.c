/* Guest libc heap: malloc/calloc/realloc/free over the single region given at start-up. */
#include "names.h"

/*
 * Design: boundary-tag allocator with segregated free lists.
 *
 * The region [start, end) is cut into blocks laid end to end, followed by a
 * 16-byte epilogue header (size 0, "in use") so that walking to the next
 * block never needs a bounds check. Every block starts 16-byte aligned with a
 * 16-byte header, so payloads are 16-byte aligned too:
 *
 *   in use:  [ head | check  | payload ...                         ]
 *   free:    [ head | prev   | next | ...                 | footer ]
 *
 *   head   = block size (multiple of 16, >= 32, header included)
 *            | IN_USE (bit 0) | PREV_IN_USE (bit 1)
 *   check  = MAGIC ^ payload address ^ size: a canary that free/realloc
 *            verify, so a pointer that malloc never returned, a double free
 *            or a trampled header is reported via glint__heap_corrupt()
 *   prev/next link the free block into its bin (doubly linked, LIFO)
 *   footer = copy of the size in the last word of a free block, so that
 *            free() can find the block before it when PREV_IN_USE is clear
 *
 * Invariant: no two free blocks are adjacent (free coalesces with both
 * neighbours at once), and PREV_IN_USE of every block tells the state of the
 * block before it.
 *
 * Free blocks are kept in 64 bins: sizes 32..496 have one exact bin per
 * 16-byte size, sizes >= 512 one bin per power of two (the last bin holds
 * everything >= 2^42). A 64-bit map marks the non-empty bins. malloc takes the
 * first block that fits in the request's own bin (any block of an exact bin
 * fits), otherwise the first block of the next non-empty bin, which always
 * fits; the block is split when the rest can hold a block of its own.
 * realloc shrinks in place, grows in place into a free successor, and only
 * then allocates, copies and frees.
 *
 * Out of memory (or an absurd size, or a heap never initialised) returns
 * NULL; nothing here ever traps. Minimum block: 32 bytes (16 usable).
 */

#define HDR         16u
#define MIN_BLOCK   32u
#define IN_USE      ((size_t)1)
#define PREV_IN_USE ((size_t)2)
#define FLAGS       ((size_t)15)
#define MAGIC       ((size_t)0x676c696e74a110c5ull)
#define NBINS       64
#define NEXACT      30 /* exact bins for 32..496 */

typedef struct __attribute__((may_alias)) blk {
    size_t head;
    union {
        size_t check;     /* in use */
        struct blk *prev; /* free */
    };
    struct blk *next; /* free only: first payload word */
} blk;

typedef size_t __attribute__((may_alias)) tag_t;

static struct {
    uintptr_t start; /* first block */
    uintptr_t end;   /* epilogue header */
    blk *bins[NBINS];
    uint64_t map; /* bit i: bins[i] non-empty */
    bool ready;
} heap;

static inline size_t bsize(const blk *b)
{
    return b->head & ~FLAGS;
}

static inline blk *at(uintptr_t a)
{
    return (blk *)a;
}

static inline blk *next_blk(const blk *b)
{
    return at((uintptr_t)b + bsize(b));
}

static inline size_t canary(const blk *b, size_t size)
{
    return MAGIC ^ ((uintptr_t)b + HDR) ^ size;
}

static inline void set_footer(blk *b, size_t size)
{
    *(tag_t *)((uintptr_t)b + size - sizeof(tag_t)) = size;
}

static unsigned bin_of(size_t size)
{
    if (size < 512)
        return (unsigned)(size / 16) - 2;
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)size); /* >= 9 */
    unsigned b = NEXACT + (lg - 9);
    return b < NBINS ? b : NBINS - 1;
}

static void bin_insert(blk *b)
{
    unsigned i = bin_of(bsize(b));
    b->prev = NULL;
    b->next = heap.bins[i];
    if (b->next)
        b->next->prev = b;
    heap.bins[i] = b;
    heap.map |= 1ull << i;
}

static void bin_remove(blk *b)
{
    unsigned i = bin_of(bsize(b));
    if (b->prev)
        b->prev->next = b->next;
    else
        heap.bins[i] = b->next;
    if (b->next)
        b->next->prev = b->prev;
    if (!heap.bins[i])
        heap.map &= ~(1ull << i);
}

/* Mark b (size bytes, PREV_IN_USE flag as given) in use and stamp the canary. */
static void set_used(blk *b, size_t size, size_t prev_flag)
{
    b->head = size | IN_USE | prev_flag;
    b->check = canary(b, size);
}

/*
 * Turn [b, b+size) into a free block, merging it with the following block if
 * that one is free, and put it in its bin. The block before b must not be
 * free (callers merge backwards first); prev_flag tells whether it is in use.
 */
static void make_free(blk *b, size_t size, size_t prev_flag)
{
    blk *n = at((uintptr_t)b + size);
    if (!(n->head & IN_USE)) {
        bin_remove(n);
        size += bsize(n);
        n = at((uintptr_t)b + size);
    }
    b->head = size | prev_flag;
    set_footer(b, size);
    n->head &= ~PREV_IN_USE;
    bin_insert(b);
}

void GLINT_LIBC(glint__heap_init)(void *base, size_t size)
{
    uintptr_t lo = (uintptr_t)base, hi;

    for (unsigned i = 0; i < NBINS; i++)
        heap.bins[i] = NULL;
    heap.map = 0;
    heap.ready = false;
    if (!base)
        return;
    hi = size > UINTPTR_MAX - lo ? UINTPTR_MAX : lo + size;
    lo = (lo + 15) & ~(uintptr_t)15;
    hi &= ~(uintptr_t)15;
    if (hi < lo || hi - lo < MIN_BLOCK + HDR)
        return;

    heap.start = lo;
    heap.end = hi - HDR;
    blk *epi = at(heap.end);
    epi->head = IN_USE; /* size 0; PREV_IN_USE cleared by make_free */
    epi->check = 0;
    blk *first = at(lo);
    first->head = 0;
    make_free(first, heap.end - lo, PREV_IN_USE);
    heap.ready = true;
}

/* Block size for a request of n bytes, or 0 if it can never fit. */
static size_t block_size(size_t n)
{
    if (n > heap.end - heap.start)
        return 0;
    size_t s = (n + HDR + 15) & ~(size_t)15;
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

static blk *find_fit(size_t size)
{
    unsigned i = bin_of(size);
    if (heap.map & (1ull << i)) {
        for (blk *b = heap.bins[i]; b; b = b->next) {
            if (bsize(b) >= size)
                return b;
        }
    }
    uint64_t higher = i + 1 < NBINS ? heap.map & (~0ull << (i + 1)) : 0;
    if (!higher)
        return NULL;
    return heap.bins[__builtin_ctzll(higher)];
}

void *GLINT_LIBC(malloc)(size_t n)
{
    if (!heap.ready)
        return NULL;
    size_t want = block_size(n);
    if (!want)
        return NULL;
    blk *b = find_fit(want);
    if (!b)
        return NULL;
    bin_remove(b);

    size_t have = bsize(b), prev_flag = b->head & PREV_IN_USE;
    if (have - want >= MIN_BLOCK) {
        /* Split: the rest stays free. Its successor is in use (no two free
         * blocks are adjacent) and already has PREV_IN_USE clear. */
        blk *rest = at((uintptr_t)b + want);
        rest->head = (have - want) | PREV_IN_USE;
        set_footer(rest, have - want);
        bin_insert(rest);
        have = want;
    } else {
        next_blk(b)->head |= PREV_IN_USE;
    }
    set_used(b, have, prev_flag);
    return (void *)((uintptr_t)b + HDR);
}

void *GLINT_LIBC(calloc)(size_t nmemb, size_t size)
{
    if (size && nmemb > (size_t)-1 / size)
        return NULL;
    size_t total = nmemb * size;
    void *p = GLINT_LIBC(malloc)(total);
    if (p)
        GLINT_LIBC(memset)(p, 0, total);
    return p;
}

/* The block of a pointer given to free/realloc, or NULL (reported) if invalid. */
static blk *owned_block(void *p)
{
    uintptr_t a = (uintptr_t)p;
    if (!heap.ready || (a & 15) || a < heap.start + HDR || a > heap.end) {
        GLINT_LIBC(glint__heap_corrupt)("free/realloc: pointer not from malloc");
        return NULL;
    }
    blk *b = at(a - HDR);
    size_t size = bsize(b);
    if (!(b->head & IN_USE)) {
        GLINT_LIBC(glint__heap_corrupt)("free/realloc: double free or invalid pointer");
        return NULL;
    }
    if (b->check != canary(b, size) || size < MIN_BLOCK || size > heap.end - (uintptr_t)b) {
        GLINT_LIBC(glint__heap_corrupt)("free/realloc: invalid pointer or damaged block header");
        return NULL;
    }
    return b;
}

void GLINT_LIBC(free)(void *p)
{
    if (!p)
        return;
    blk *b = owned_block(p);
    if (!b)
        return;

    size_t size = bsize(b), prev_flag = b->head & PREV_IN_USE;
    /* Wipe the header now, even if b gets merged into the block before it:
     * a second free of p then finds IN_USE clear and is reported. */
    b->head = 0;
    b->check = 0;
    if (!prev_flag) {
        size_t psize = *(const tag_t *)((uintptr_t)b - sizeof(tag_t));
        uintptr_t pa = (uintptr_t)b - psize;
        blk *pb = at(pa);
        if (psize < MIN_BLOCK || (psize & FLAGS) || psize > (uintptr_t)b - heap.start ||
            bsize(pb) != psize || (pb->head & IN_USE)) {
            GLINT_LIBC(glint__heap_corrupt)("free: damaged free block before this one");
            return;
        }
        bin_remove(pb);
        size += psize;
        prev_flag = pb->head & PREV_IN_USE;
        b = pb;
    }
    make_free(b, size, prev_flag);
}

void *GLINT_LIBC(realloc)(void *p, size_t n)
{
    if (!p)
        return GLINT_LIBC(malloc)(n);
    if (n == 0) {
        GLINT_LIBC(free)(p);
        return NULL;
    }
    blk *b = owned_block(p);
    if (!b)
        return NULL;
    size_t want = block_size(n);
    if (!want)
        return NULL;

    size_t have = bsize(b), prev_flag = b->head & PREV_IN_USE;
    if (want <= have) {
        if (have - want >= MIN_BLOCK) {
            set_used(b, want, prev_flag);
            make_free(at((uintptr_t)b + want), have - want, PREV_IN_USE);
        }
        return p;
    }

    blk *n2 = next_blk(b);
    if (!(n2->head & IN_USE) && have + bsize(n2) >= want) {
        /* Grow into the free successor. */
        size_t total = have + bsize(n2);
        bin_remove(n2);
        if (total - want >= MIN_BLOCK) {
            blk *rest = at((uintptr_t)b + want);
            rest->head = (total - want) | PREV_IN_USE;
            set_footer(rest, total - want);
            bin_insert(rest);
            total = want;
        } else {
            at((uintptr_t)b + total)->head |= PREV_IN_USE;
        }
        set_used(b, total, prev_flag);
        return p;
    }

    void *q = GLINT_LIBC(malloc)(n);
    if (!q)
        return NULL;
    GLINT_LIBC(memcpy)(q, p, have - HDR);
    GLINT_LIBC(free)(p);
    return q;
}

int GLINT_LIBC(glint__heap_check)(size_t *free_bytes, size_t *largest_alloc)
{
    size_t nfree = 0, bytes = 0, largest = 0;

    if (free_bytes)
        *free_bytes = 0;
    if (largest_alloc)
        *largest_alloc = 0;
    if (!heap.ready)
        return -1;

    bool prev_used = true;
    uintptr_t a = heap.start;
    while (a < heap.end) {
        blk *b = at(a);
        size_t size = bsize(b);
        if (size < MIN_BLOCK || size > heap.end - a)
            return -1;
        if (!!(b->head & PREV_IN_USE) != prev_used)
            return -1;
        if (b->head & IN_USE) {
            if (b->check != canary(b, size))
                return -1;
            prev_used = true;
        } else {
            if (!prev_used) /* two adjacent free blocks: missed coalescing */
                return -1;
            if (*(const tag_t *)(a + size - sizeof(tag_t)) != size)
                return -1;
            nfree++;
            bytes += size - HDR;
            if (size - HDR > largest)
                largest = size - HDR;
            prev_used = false;
        }
        a += size;
    }
    if (a != heap.end)
        return -1;
    blk *epi = at(heap.end);
    if (bsize(epi) != 0 || !(epi->head & IN_USE) || !!(epi->head & PREV_IN_USE) != prev_used)
        return -1;

    /* Every free block is in exactly the right bin, links are consistent. */
    size_t listed = 0;
    for (unsigned i = 0; i < NBINS; i++) {
        if (!heap.bins[i] != !(heap.map & (1ull << i)))
            return -1;
        blk *prev = NULL;
        for (blk *b = heap.bins[i]; b; prev = b, b = b->next) {
            uintptr_t ba = (uintptr_t)b;
            if (ba < heap.start || ba >= heap.end || (ba & 15) || (b->head & IN_USE) ||
                bin_of(bsize(b)) != i || b->prev != prev || ++listed > nfree)
                return -1;
        }
    }
    if (listed != nfree)
        return -1;
    if (free_bytes)
        *free_bytes = bytes;
    if (largest_alloc)
        *largest_alloc = largest;
    return 0;
}
