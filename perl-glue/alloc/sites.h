/*
 * sites.h: allocation-site tracking, the hot half (inlined into the
 * allocation hooks).
 *
 * Every block allocated while profiling is remembered in a hash table keyed
 * by its address (groups of 16 slots probed a group at a time, below; 16
 * bytes and a control byte a slot, 3/5 to 3/4 full), with the site it was
 * allocated at and its birth number.  Each site keeps the bytes it has
 * live now and a snapshot of what it had live at the whole heap's latest
 * peak, taken lazily: a site's snapshot is refreshed only when the site
 * itself next changes (or when its change makes a new peak), so a new
 * peak costs O(1).
 *
 * Sampled (sample=BYTES): a block is tracked when the bytes allocated since
 * the last tracked one pass an exponentially drawn interval (Poisson
 * sampling of bytes, as tcmalloc does); it then counts for
 * memprof_sample_weight() bytes, so that sums over sites are unbiased.
 *
 *   block table slot:  | address (8) | site (4) | birth (4) |
 *   and a control byte:  0 empty, 1 freed in a full group, 0x80 | tag
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

/*
 * The block table: groups of 16 slots, each with a control byte (in
 * s->ctrl, after the slots in the same mapping): 0 for an empty slot, 1
 * for one whose block was freed while its group was full, else the top
 * bit and a 7-bit tag of the address.  A block's group comes from the
 * 256 bytes of heap it lies in (Fibonacci hashing of addr >> 8, scaled to
 * the number of groups by multiplication), so the small blocks malloc
 * hands out one after another, and frees again, share a group: a line of
 * control bytes and one or two of slots, rather than a random line each.
 * (128 bytes made fewer full groups but cost 6% more time on a million
 * live blocks: twice the lines.)  Within the group a block takes the slot
 * of its 16-byte unit when that is free.  A lookup compares the tag with
 * the group's 16 control bytes at once (SSE2) and goes on to the next
 * group only while the group has no empty slot, as in a Swiss table: a
 * probe is one group however many heap regions share it, where probing
 * slot by slot went through runs of them (11 slots a lookup on
 * Mojolicious).
 */
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MEMPROF_CTRL_EMPTY 0
#define MEMPROF_CTRL_DELETED 1

static inline uint64_t memprof_block_run(uint64_t addr) { return ((addr >> 8) * UINT64_C(0x9E3779B97F4A7C15)) >> 32; }

static inline uint64_t memprof_block_group(const struct memprof_sites *s, uint64_t run)
{
    return (run * s->groups) >> 32;
}

/* Bits 4-10 of the address: the block's 16-byte unit, and the low 3 bits
 * of its region's number, which tell most blocks of other regions in the
 * same group apart (regions come to a group by hash, not by number). */
static inline uint8_t memprof_block_tag(uint64_t addr) { return (uint8_t)(0x80 | ((addr >> 4) & 0x7F)); }

/* Bit k set: the group's slot k has control byte c. */
static inline uint32_t memprof_group_match(const uint8_t *ctrl, uint8_t c)
{
#ifdef __SSE2__
    const __m128i g = _mm_load_si128((const __m128i *)(const void *)ctrl);
    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8((char)c)));
#else
    uint32_t m = 0;
    for (unsigned k = 0; k < 16; k++)
        m |= (uint32_t)(ctrl[k] == c) << k;
    return m;
#endif
}

/* Bit k set: the group's slot k holds a block. */
static inline uint32_t memprof_group_occupied(const uint8_t *ctrl)
{
#ifdef __SSE2__
    return (uint32_t)_mm_movemask_epi8(_mm_load_si128((const __m128i *)(const void *)ctrl));
#else
    uint32_t m = 0;
    for (unsigned k = 0; k < 16; k++)
        m |= (uint32_t)(ctrl[k] >> 7) << k;
    return m;
#endif
}

/* No slot: what the searches below return for a block not in the table. */
#define MEMPROF_NO_SLOT UINT64_MAX

static inline int memprof_group_has_empty(const uint8_t *ctrl)
{
    return memprof_group_match(ctrl, MEMPROF_CTRL_EMPTY) != 0;
}

/* The slot of group g that holds addr (tag is its tag), or MEMPROF_NO_SLOT. */
static inline uint64_t memprof_group_find(const struct memprof_sites *s, uint64_t g, uint8_t tag, uint64_t addr)
{
    for (uint32_t m = memprof_group_match(&s->ctrl[g * 16], tag); m != 0; m &= m - 1) {
        const uint64_t i = g * 16 + (uint64_t)__builtin_ctz(m);
        if (s->slots[i].addr == addr)
            return i;
    }
    return MEMPROF_NO_SLOT;
}

static inline uint64_t memprof_group_next(const struct memprof_sites *s, uint64_t g)
{
    return g + 1 == s->groups ? 0 : g + 1;
}

/* A free slot of group g for a block: its own unit's slot when free (so
 * that a region's blocks keep their order), else the first free one; 16
 * if the group is full. */
static inline unsigned memprof_group_free_slot(const uint8_t *ctrl, uint64_t addr)
{
    const uint32_t free = ~memprof_group_occupied(ctrl) & 0xFFFF;
    const unsigned own = (unsigned)(addr >> 4) & 15;
    if (free & (UINT32_C(1) << own))
        return own;
    return free ? (unsigned)__builtin_ctz(free) : 16;
}

/* The slot holding addr, or MEMPROF_NO_SLOT. */
static inline uint64_t memprof_block_find(const struct memprof_sites *s, uint64_t addr)
{
    const uint64_t run = memprof_block_run(addr);
    const uint8_t tag = memprof_block_tag(addr);
    uint64_t g = memprof_block_group(s, run);
    for (uint64_t n = 0; n < s->groups; n++, g = memprof_group_next(s, g)) {
        const uint64_t i = memprof_group_find(s, g, tag, addr);
        if (i != MEMPROF_NO_SLOT || memprof_group_has_empty(&s->ctrl[g * 16]))
            return i;
    }
    return MEMPROF_NO_SLOT;
}

/* Start loading what a block's lookup reads first, its group's control
 * bytes and its own unit's slot: the table is too big for the caches
 * when many blocks are live, so the hooks ask for the lines before the
 * bookkeeping that precedes the lookup (malloc_usable_size, counters). */
static inline void memprof_site_prefetch(const struct memprof_sites *s, const void *p)
{
    if (s->capacity != 0) {
        const uint64_t addr = (uint64_t)(uintptr_t)p;
        const uint64_t g = memprof_block_group(s, memprof_block_run(addr));
        __builtin_prefetch(&s->ctrl[g * 16], 1);
        __builtin_prefetch(&s->slots[g * 16 + ((addr >> 4) & 15)], 1);
    }
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
    /* Past 3/4 full counting freed slots of full groups, or when those
     * are a quarter of the table: they lengthen probes until a rebuild
     * (an eighth rebuilt the benchmark's allocations twice, for more than
     * the probes cost). */
    if (((s->used + s->tombstones + 1) * 4 > s->capacity * 3 || s->tombstones * 4 > s->capacity)
        && memprof_sites_grow(s) != 0)
        return;
    const uint64_t addr = (uint64_t)(uintptr_t)p;
    const uint64_t run = memprof_block_run(addr);
    const uint8_t tag = memprof_block_tag(addr);
    uint64_t g = memprof_block_group(s, run);
    uint64_t target = MEMPROF_NO_SLOT;
    /* The usual case: its own slot is empty, so the probe ends in this
     * group, and no slot of it holds the block already. */
    const unsigned own = (unsigned)(addr >> 4) & 15;
    if (s->ctrl[g * 16 + own] == MEMPROF_CTRL_EMPTY && memprof_group_find(s, g, tag, addr) == MEMPROF_NO_SLOT) {
        target = g * 16 + own;
        s->ctrl[target] = tag;
        s->used++;
        goto store;
    }
    /* The block may be in the table still (a free we never saw): it is
     * replaced where it is, so the search goes on to the end of the
     * probe, past the first free slot. */
    for (uint64_t n = 0; n < s->groups; n++, g = memprof_group_next(s, g)) {
        const uint8_t *ctrl = &s->ctrl[g * 16];
        const uint64_t held = memprof_group_find(s, g, tag, addr);
        if (held != MEMPROF_NO_SLOT) {
            target = held;
            goto store;
        }
        if (target == MEMPROF_NO_SLOT) {
            const unsigned k = memprof_group_free_slot(ctrl, addr);
            if (k < 16)
                target = g * 16 + k;
        }
        if (memprof_group_has_empty(ctrl))
            break;
    }
    if (target == MEMPROF_NO_SLOT) /* full: cannot happen below 3/4 */
        return;
    if (s->ctrl[target] == MEMPROF_CTRL_DELETED)
        s->tombstones--;
    s->ctrl[target] = tag;
    s->used++;
store:
    s->slots[target].addr = addr;
    s->slots[target].site = site;
    s->slots[target].birth = (uint32_t)s->births++;

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
    /* Most blocks are in their own unit's slot of their group; and when
     * that slot is empty, the probe ends in the group (under sampling,
     * most frees are of blocks the table never had). */
    const uint64_t g = memprof_block_group(s, memprof_block_run(addr));
    uint64_t i = g * 16 + ((addr >> 4) & 15);
    if (s->slots[i].addr != addr) {
        i = s->ctrl[i] == MEMPROF_CTRL_EMPTY ? memprof_group_find(s, g, memprof_block_tag(addr), addr)
                                             : memprof_block_find(s, addr);
        if (i == MEMPROF_NO_SLOT)
            return MEMPROF_NO_SITE;
    }
    const uint32_t site = s->slots[i].site;
    s->slots[i].addr = 0;
    /* A group with an empty slot ends every probe that reaches it, so no
     * probe passes through it: the slot can be empty again.  In a full
     * group it must go on saying "look further". */
    uint8_t *ctrl = &s->ctrl[i & ~(uint64_t)15];
    if (memprof_group_has_empty(ctrl)) {
        ctrl[i & 15] = MEMPROF_CTRL_EMPTY;
    } else {
        ctrl[i & 15] = MEMPROF_CTRL_DELETED;
        s->tombstones++;
    }
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
