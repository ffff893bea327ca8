/*
 * sites.h: allocation-site tracking, the hot half (inlined into the
 * allocation hooks).
 *
 * Every block allocated while profiling is remembered in an open-addressing
 * table keyed by its address (linear probing, deletion by backward shift,
 * 16 bytes a slot, 3/5 to 3/4 full), with the site it was allocated at and
 * its birth number.  Each site keeps the bytes it has live now and a
 * snapshot of what it had live at the whole heap's latest peak, taken
 * lazily: a site's snapshot is refreshed only when the site itself next
 * changes (or when its change makes a new peak), so a new peak costs O(1).
 *
 * Sampled (sample=BYTES): a block is tracked when the bytes allocated since
 * the last tracked one pass an exponentially drawn interval (Poisson
 * sampling of bytes, as tcmalloc does); it then counts for
 * memprof_sample_weight() bytes, so that sums over sites are unbiased.
 *
 *   block table slot:  | address (8) | site (4) | birth (4) |
 */
#ifndef MEMPROF_SITES_H
#define MEMPROF_SITES_H

#include "memprof.h"

/* Grow the table (sites.c); returns 0 on success. */
int memprof_sites_grow(struct memprof_sites *s);

/* Non-zero once a thread was created (memprof_sites_share): the tables
 * are then locked, and a free that misses its thread's table searches the
 * others (sites.c).  A program without threads never leaves this path. */
extern int memprof_sites_shared;
void memprof_site_alloc_shared(struct memprof_sites *s, void *p, uint64_t size, uint32_t site);
/* s may be NULL: a thread that tracks nothing freeing another's block.
 * Returns 0 when s is NULL and no table had the block. */
int memprof_site_free_shared(struct memprof_sites *s, void *p, uint64_t size);

static inline uint64_t memprof_block_home(const struct memprof_sites *s, uint64_t addr)
{
    /* Neighbouring blocks in neighbouring slots: each 256 bytes of the
     * heap map to a group of 16 slots of their own (Fibonacci hashing,
     * scaled to the table by multiplication, so that any number of groups
     * works) and their 16-byte units follow in order, so the small blocks
     * malloc hands out one after another, and frees again, share a cache
     * line or two of the table rather than a random line each.  Longer
     * runs of the heap (4 KiB was measured) cluster the probes at 3/4
     * load, which costs more than the locality gains. */
    const uint64_t run = ((addr >> 8) * UINT64_C(0x9E3779B97F4A7C15)) >> 32;
    return ((run * s->groups) >> 32) * 16 + ((addr >> 4) & 15);
}

static inline uint64_t memprof_block_next(const struct memprof_sites *s, uint64_t i)
{
    return i + 1 == s->capacity ? 0 : i + 1;
}

/* Start loading a block's home slot: the table is too big for the caches
 * when many blocks are live, so the hooks ask for the line before the
 * bookkeeping that precedes the lookup (malloc_usable_size, counters). */
static inline void memprof_site_prefetch(const struct memprof_sites *s, const void *p)
{
    if (s->capacity != 0)
        __builtin_prefetch(&s->slots[memprof_block_home(s, (uint64_t)(uintptr_t)p)], 1);
}

/* Bring a site's peak snapshot up to the latest peak before it changes. */
static inline void memprof_site_touch(struct memprof_sites *s, struct memprof_site_stats *st)
{
    if (st->snapshot_seq != s->peak_seq) {
        st->peak_snapshot = st->live;
        st->snapshot_seq = s->peak_seq;
    }
}

/* A new high-water mark of `live` (the thread's heap): every site's live
 * bytes at this moment are what they hold until they next change. */
static inline void memprof_site_new_peak(struct memprof_sites *s, int64_t live)
{
    s->peak_live = live;
    s->peak_seq++;
    s->peak_births = s->births;
    s->untracked_free_at_peak = s->untracked_free_bytes;
}

static inline void memprof_site_insert(struct memprof_sites *s, void *p, uint64_t size, uint32_t site,
                                       int64_t live);

static inline void memprof_site_alloc(struct memprof_tls *t, struct memprof_sites *s, void *p, uint64_t size)
{
    uint64_t weight = size;
    if (s->sample_mean != 0) {
        s->sample_left -= (int64_t)size;
        if (__builtin_expect(s->sample_left > 0, 1)) {
            if (t->live > s->peak_live)
                memprof_site_new_peak(s, t->live);
            return;
        }
        /* The next sampling point after this block: each block is then
         * sampled independently, with probability 1 - e^(-size/mean). */
        do
            s->sample_left += memprof_sample_interval(s);
        while (s->sample_left <= 0);
        weight = memprof_sample_weight(s, size);
    }
    uint32_t site = t->cur_site;
    if (site == MEMPROF_UNRESOLVED) {
        site = memprof_entry_memo_find(t);
        if (site == MEMPROF_UNRESOLVED)
            site = memprof_rs_current_site(t);
        t->cur_site = site;
    }
    if (site == MEMPROF_NO_SITE || s->failed)
        return;
    if (__builtin_expect(__atomic_load_n(&memprof_sites_shared, __ATOMIC_RELAXED), 0)) {
        memprof_site_alloc_shared(s, p, weight, site);
        return;
    }
    memprof_site_insert(s, p, weight, site, t->live);
}

/* Remember a block of `site`; `live` decides whether this is a new peak. */
static inline void memprof_site_insert(struct memprof_sites *s, void *p, uint64_t size, uint32_t site,
                                       int64_t live)
{
    if ((s->used + 1) * 4 > s->capacity * 3 && memprof_sites_grow(s) != 0)
        return;
    const uint64_t addr = (uint64_t)(uintptr_t)p;
    uint64_t i = memprof_block_home(s, addr);
    while (s->slots[i].addr != 0 && s->slots[i].addr != addr)
        i = memprof_block_next(s, i);
    if (s->slots[i].addr == 0)
        s->used++;
    s->slots[i].addr = addr;
    s->slots[i].site = site;
    s->slots[i].birth = (uint32_t)s->births++;

    struct memprof_site_stats *st = &s->stats[site];
    memprof_site_touch(s, st);
    st->live += (int64_t)size;
    st->alloc_bytes += size;
    s->owned_live += (int64_t)size;
    if (live > s->peak_live) {
        memprof_site_new_peak(s, live);
        st->peak_snapshot = st->live;
        st->snapshot_seq = s->peak_seq;
    }
}

/* Forget a block; returns its site, or MEMPROF_NO_SITE if it was not tracked. */
static inline uint32_t memprof_block_remove(struct memprof_sites *s, uint64_t addr)
{
    if (s->capacity == 0)
        return MEMPROF_NO_SITE;
    uint64_t i = memprof_block_home(s, addr);
    while (s->slots[i].addr != addr) {
        if (s->slots[i].addr == 0)
            return MEMPROF_NO_SITE;
        i = memprof_block_next(s, i);
    }
    const uint32_t site = s->slots[i].site;
    /* Backward-shift deletion: pull later entries of the probe run into
     * the hole unless that would move them before their home slot. */
    uint64_t j = i;
    for (;;) {
        j = memprof_block_next(s, j);
        if (s->slots[j].addr == 0)
            break;
        const uint64_t k = memprof_block_home(s, s->slots[j].addr);
        const int movable = (i <= j) ? (k <= i || k > j) : (k <= i && k > j);
        if (movable) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].addr = 0;
    s->used--;
    return site;
}

/* Forget a block of this table; returns whether it was one. */
static inline int memprof_site_forget(struct memprof_sites *s, void *p, uint64_t size)
{
    const uint32_t site = memprof_block_remove(s, (uint64_t)(uintptr_t)p);
    if (site == MEMPROF_NO_SITE)
        return 0;
    /* Under sampling a tracked block stands for its weight. */
    const uint64_t weight = s->sample_mean ? memprof_sample_weight(s, size) : size;
    struct memprof_site_stats *st = &s->stats[site];
    memprof_site_touch(s, st);
    st->live -= (int64_t)weight;
    s->owned_live -= (int64_t)weight;
    return 1;
}

static inline void memprof_site_free(struct memprof_sites *s, void *p, uint64_t size)
{
    if (__builtin_expect(__atomic_load_n(&memprof_sites_shared, __ATOMIC_RELAXED), 0)) {
        (void)memprof_site_free_shared(s, p, size);
        return;
    }
    /* Under sampling most blocks are not tracked: no telling which were
     * allocated before profiling. */
    if (!memprof_site_forget(s, p, size) && s->sample_mean == 0) {
        s->untracked_free_bytes += size;
        s->owned_live -= (int64_t)size;
    }
}

#endif
