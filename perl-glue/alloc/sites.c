/*
 * sites.c: allocation-site tracking, the cold half: growing the block
 * table and the queries the recorder makes of it.  The table lives in
 * mmap'd memory of its own, so it neither counts as nor disturbs perl's
 * heap.
 */
#include <malloc.h>
#include <math.h>
#include <sched.h>
#include <sys/mman.h>

#include "sites.h"

/* The mapping of a table: its slots, then their control bytes. */
static uint64_t table_bytes(uint64_t capacity) { return capacity * (sizeof(struct memprof_block) + 1); }

uint64_t memprof_sites_table_bytes(const struct memprof_sites *s) { return table_bytes(s->capacity); }

static struct memprof_block *map_slots(uint64_t capacity)
{
    void *p = mmap(NULL, table_bytes(capacity), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Release what the rehash has read of the old table, a few pages at a
 * time: groups keep their order when the table grows (multiplicative
 * scaling), so the new table fills in step and the two are never both
 * resident in full. */
#define RELEASE_CHUNK (UINT64_C(1) << 16) /* slots: 1 MiB */

int memprof_sites_grow(struct memprof_sites *s)
{
    /* Doubled while small (rehashing less often costs at most 16 MiB),
     * then a quarter more each time: the table stays between 3/5 and 3/4
     * full (22 to 28 bytes a live block).  Slots freed in full groups
     * count towards the 3/4 until a rebuild; when the blocks themselves
     * fill less than 5/8, the table is rebuilt at the same size. */
    const uint64_t groups = s->groups == 0                    ? 4096
                            : s->used * 8 <= s->capacity * 5  ? s->groups
                            : s->groups < (UINT64_C(1) << 16) ? 2 * s->groups
                                                              : s->groups + s->groups / 4;
    const uint64_t capacity = groups * 16;
    struct memprof_block *slots = map_slots(capacity);
    if (slots == NULL) {
        s->failed = 1;
        return -1;
    }
    struct memprof_block *old = s->slots;
    const uint64_t old_capacity = s->capacity;
    s->slots = slots;
    s->ctrl = (uint8_t *)(slots + capacity);
    s->capacity = capacity;
    s->groups = groups;
    s->tombstones = 0;
    uint64_t released = 0;
    for (uint64_t k = 0; k < old_capacity; k++) {
        const uint64_t addr = old[k].addr;
        if (addr != 0) {
            /* No block is in the new table twice: no search for it. */
            const uint64_t run = memprof_block_run(addr);
            uint64_t g = memprof_block_group(s, run);
            unsigned i;
            while ((i = memprof_group_free_slot(&s->ctrl[g * 16], addr)) == 16)
                g = memprof_group_next(s, g);
            s->ctrl[g * 16 + i] = memprof_block_tag(addr);
            slots[g * 16 + i] = old[k];
        }
        if (k + 1 - released == RELEASE_CHUNK) {
            madvise(old + released, RELEASE_CHUNK * sizeof(struct memprof_block), MADV_DONTNEED);
            released = k + 1;
        }
    }
    if (old != NULL)
        munmap(old, table_bytes(old_capacity));
    return 0;
}

uint32_t memprof_sites_lookup(const struct memprof_sites *s, const void *block, uint32_t *birth)
{
    if (s->capacity == 0)
        return MEMPROF_NO_SITE;
    const uint64_t i = memprof_block_find(s, (uint64_t)(uintptr_t)block);
    if (i == MEMPROF_NO_SLOT)
        return MEMPROF_NO_SITE;
    *birth = s->slots[i].birth;
    return s->slots[i].site;
}

void memprof_sites_clear(struct memprof_sites *s)
{
    if (s->slots != NULL)
        munmap(s->slots, table_bytes(s->capacity));
    s->slots = NULL;
    s->ctrl = NULL;
    s->capacity = 0;
    s->groups = 0;
    s->used = 0;
    s->tombstones = 0;
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

/*
 * Threads.  Each perl thread's recorder has its own table, updated by
 * that thread alone until a thread is created; from then on a block may
 * be freed by another thread than its allocator's (a Thread::Queue hand-off,
 * threads::shared data, a joined thread's interpreter destroyed by the
 * joining one), so every table takes its lock, and a free that misses its
 * own table looks in the others.  That search takes the registry's mutex
 * and then one table's lock at a time; a table's owner never holds its
 * lock while it takes another, so no two locks are ever waited for in
 * opposite orders.
 */
#include <pthread.h>
#include <stdlib.h>

int memprof_sites_shared;

static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct memprof_sites **registry;
static size_t registry_len, registry_cap;
/* The table the last search found a block in: a joined thread's
 * interpreter frees thousands of blocks of the same table in a row. */
static size_t registry_last;

int memprof_sites_are_shared(void) { return __atomic_load_n(&memprof_sites_shared, __ATOMIC_RELAXED); }

/*
 * Which blocks some table may hold, by a hash of their address: how many
 * of the shared tables' blocks hash to each count (saturating at 255,
 * never lowered from there).  A free whose count is 0 is of no table's
 * block.  Under sampling that is nearly every free, which would otherwise
 * take its own table's lock and then every other thread's to search them
 * all.  A table's blocks are counted from the first time its owner takes
 * its lock (see_shared): until then the others keep out of it anyway.
 */
#define FILTER_BITS 20
static uint8_t *filter;

static uint8_t *filter_count(const void *p)
{
    return &filter[((uint64_t)(uintptr_t)p >> 4) * UINT64_C(0x9E3779B97F4A7C15) >> (64 - FILTER_BITS)];
}

static void filter_add(const void *p)
{
    uint8_t *c = filter_count(p);
    uint8_t v = __atomic_load_n(c, __ATOMIC_RELAXED);
    while (v < 255 && !__atomic_compare_exchange_n(c, &v, v + 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static void filter_remove(const void *p)
{
    uint8_t *c = filter_count(p);
    uint8_t v = __atomic_load_n(c, __ATOMIC_RELAXED);
    while (v != 0 && v < 255 && !__atomic_compare_exchange_n(c, &v, v - 1, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

/* No table holds p (the program's own synchronisation orders a block's
 * allocation, counted then, before any thread frees it). */
static int filter_says_absent(const void *p)
{
    return filter != NULL && __atomic_load_n(filter_count(p), __ATOMIC_RELAXED) == 0;
}

size_t memprof_sites_filter_bytes(void) { return filter != NULL ? (size_t)1 << FILTER_BITS : 0; }

void memprof_sites_share(void)
{
    if (__atomic_load_n(&filter, __ATOMIC_ACQUIRE) == NULL) {
        void *p = mmap(NULL, (size_t)1 << FILTER_BITS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint8_t *none = NULL;
        /* Without it every free searches the tables, as before there was one. */
        if (p != MAP_FAILED && !__atomic_compare_exchange_n(&filter, &none, p, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            munmap(p, (size_t)1 << FILTER_BITS);
    }
    __atomic_store_n(&memprof_sites_shared, 1, __ATOMIC_SEQ_CST);
}

/* The owner takes its table's lock: from now on others may search it, and
 * the filter must know its blocks.  Called with the lock held. */
static void see_shared(struct memprof_sites *s)
{
    if (s->shared_seen)
        return;
    if (filter != NULL)
        for (uint64_t k = 0; k < s->capacity; k++)
            if (s->slots[k].addr != 0)
                filter_add((const void *)(uintptr_t)s->slots[k].addr);
    s->shared_seen = 1;
}

void memprof_sites_lock(struct memprof_sites *s)
{
    while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&s->lock, __ATOMIC_RELAXED))
            sched_yield();
    }
}

void memprof_sites_unlock(struct memprof_sites *s) { __atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE); }

void memprof_sites_register(struct memprof_sites *s)
{
    pthread_mutex_lock(&registry_mutex);
    for (size_t i = 0; i < registry_len; i++) {
        if (registry[i] == s) {
            pthread_mutex_unlock(&registry_mutex);
            return;
        }
    }
    if (registry_len == registry_cap) {
        /* Our library's own calls are not hooked: this is libc's realloc. */
        size_t cap = registry_cap ? registry_cap * 2 : 16;
        struct memprof_sites **grown = realloc(registry, cap * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&registry_mutex);
            return;
        }
        registry = grown;
        registry_cap = cap;
    }
    registry[registry_len++] = s;
    pthread_mutex_unlock(&registry_mutex);
}

void memprof_sites_keep_only(struct memprof_sites *s)
{
    /* After fork the child's one thread runs this: the mutex may have been
     * held by a thread that no longer exists. */
    pthread_mutex_init(&registry_mutex, NULL);
    registry_len = 0;
    registry_last = 0;
    if (s != NULL && registry_cap > 0)
        registry[registry_len++] = s;
}

void memprof_site_alloc_shared(struct memprof_sites *s, void *p, uint64_t size, uint32_t site)
{
    memprof_sites_lock(s);
    see_shared(s);
    const uint64_t used = s->used;
    memprof_site_insert(s, p, size, site, s->owned_live + (int64_t)size);
    if (s->used != used && filter != NULL)
        filter_add(p);
    memprof_sites_unlock(s);
}

/* Forget a block of another thread's table; returns whether it was one. */
static int forget_elsewhere(const struct memprof_sites *own, void *p, uint64_t size)
{
    int found = 0;
    pthread_mutex_lock(&registry_mutex);
    for (size_t k = 0; k < registry_len && !found; k++) {
        const size_t i = (registry_last + k) % registry_len;
        struct memprof_sites *other = registry[i];
        if (other == own)
            continue;
        memprof_sites_lock(other);
        found = other->shared_seen && memprof_site_forget(other, p, size);
        memprof_sites_unlock(other);
        if (found) {
            registry_last = i;
            filter_remove(p);
        }
    }
    pthread_mutex_unlock(&registry_mutex);
    return found;
}

int memprof_site_free_shared(struct memprof_sites *s, void *p, uint64_t size)
{
    if (s != NULL) {
        memprof_sites_lock(s);
        see_shared(s);
        const int found = !filter_says_absent(p) && memprof_site_forget(s, p, size);
        memprof_sites_unlock(s);
        if (found) {
            filter_remove(p);
            return 1;
        }
    }
    if (!filter_says_absent(p) && forget_elsewhere(s, p, size))
        return 1;
    if (s == NULL)
        return 0;
    if (s->sample_mean == 0) {
        memprof_sites_lock(s);
        s->untracked_free_bytes += size;
        s->owned_live -= (int64_t)size;
        memprof_sites_unlock(s);
    }
    return 1;
}

void memprof_sites_for_each(const struct memprof_sites *s, void (*each)(void *ctx, const void *block, uint32_t site),
                            void *ctx)
{
    for (uint64_t k = 0; k < s->capacity; k++)
        if (s->slots[k].addr != 0)
            each(ctx, (const void *)(uintptr_t)s->slots[k].addr, s->slots[k].site);
}
