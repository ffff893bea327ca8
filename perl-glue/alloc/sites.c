/*
 * sites.c: allocation-site tracking, the cold half: growing the block
 * table and the queries the recorder makes of it.  The table lives in
 * mmap'd memory of its own, so it neither counts as nor disturbs perl's
 * heap.
 */
#include <malloc.h>
#include <math.h>
#include <sys/mman.h>

#include "sites.h"

static struct memprof_block *map_slots(uint64_t capacity)
{
    void *p = mmap(NULL, capacity * sizeof(struct memprof_block), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int memprof_sites_grow(struct memprof_sites *s)
{
    const uint32_t bits = s->capacity ? s->bits + 1 : 16;
    const uint64_t capacity = UINT64_C(1) << bits;
    struct memprof_block *slots = map_slots(capacity);
    if (slots == NULL) {
        s->failed = 1;
        return -1;
    }
    struct memprof_block *old = s->slots;
    const uint64_t old_capacity = s->capacity;
    s->slots = slots;
    s->capacity = capacity;
    s->bits = bits;
    const uint64_t mask = capacity - 1;
    for (uint64_t k = 0; k < old_capacity; k++) {
        if (old[k].addr == 0)
            continue;
        uint64_t i = memprof_block_home(s, old[k].addr);
        while (slots[i].addr != 0)
            i = (i + 1) & mask;
        slots[i] = old[k];
    }
    if (old != NULL)
        munmap(old, old_capacity * sizeof(struct memprof_block));
    return 0;
}

uint32_t memprof_sites_lookup(const struct memprof_sites *s, const void *block, uint32_t *birth)
{
    if (s->capacity == 0)
        return MEMPROF_NO_SITE;
    const uint64_t addr = (uint64_t)(uintptr_t)block;
    const uint64_t mask = s->capacity - 1;
    for (uint64_t i = memprof_block_home(s, addr);; i = (i + 1) & mask) {
        if (s->slots[i].addr == addr) {
            *birth = s->slots[i].birth;
            return s->slots[i].site;
        }
        if (s->slots[i].addr == 0)
            return MEMPROF_NO_SITE;
    }
}

void memprof_sites_clear(struct memprof_sites *s)
{
    if (s->slots != NULL)
        munmap(s->slots, s->capacity * sizeof(struct memprof_block));
    s->slots = NULL;
    s->capacity = 0;
    s->bits = 0;
    s->used = 0;
    s->failed = 0;
}

uint64_t memprof_sites_live_since(const struct memprof_sites *s, uint64_t since,
                                  int (*skip)(void *ctx, const void *block), void *ctx)
{
    uint64_t total = 0;
    /* Births are kept in 32 bits: compare ages, which is exact while fewer
     * than 2^32 blocks were allocated in between. */
    const uint32_t now = (uint32_t)s->births;
    const uint64_t window = s->births - since;
    for (uint64_t k = 0; k < s->capacity; k++) {
        const struct memprof_block *b = &s->slots[k];
        if (b->addr == 0 || (uint64_t)(uint32_t)(now - b->birth) > window)
            continue;
        if (skip != NULL && skip(ctx, (const void *)(uintptr_t)b->addr))
            continue;
        total += malloc_usable_size((void *)(uintptr_t)b->addr);
    }
    return total;
}

size_t memprof_block_size(const void *block)
{
    return malloc_usable_size((void *)block);
}

uint64_t memprof_sample_weight(const struct memprof_sites *s, uint64_t size)
{
    if (s->sample_mean == 0 || size == 0)
        return size;
    /* A block of `size` bytes is sampled with probability 1 - e^(-size/mean). */
    const double p = -expm1(-(double)size / (double)s->sample_mean);
    return (uint64_t)llround((double)size / p);
}

int64_t memprof_sample_interval(struct memprof_sites *s)
{
    /* xorshift64*: fast, and enough for drawing intervals. */
    uint64_t x = s->sample_rng ? s->sample_rng : UINT64_C(0x9E3779B97F4A7C15);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->sample_rng = x;
    /* 53 random bits: u in (0, 1]. */
    const double u = (double)(((x * UINT64_C(0x2545F4914F6CDD1D)) >> 11) + 1) / 9007199254740992.0;
    const double interval = -log(u) * (double)s->sample_mean;
    return interval < 1.0 ? 1 : (int64_t)interval;
}
