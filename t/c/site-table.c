/*
 * t/89-site-table.t builds this against perl-glue/alloc/sites.c: the block
 * table driven by a random mix of what malloc's callers do (runs of
 * neighbouring blocks, blocks scattered over a wide range, frees in and
 * out of order, frees of blocks it never saw, an address coming back
 * while its first block is still recorded), checked after every step
 * against a plain list of what should be there.
 *
 *   site-table SEED STEPS [dense]   prints "ok" and what the table went
 *   through, or the first difference and exit 1
 *
 * dense: blocks 8 to 32 bytes apart (an allocator with small size classes
 * packs them so; glibc's are 32 apart at least), freed anywhere and all
 * at once now and then, so that groups are full, two blocks want the same
 * slot, and slots are freed in full groups until the table is rebuilt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sites.h"

/* The recorder's side, which the table's inline paths name but this
 * program never takes (no sampling, sites given). */
uint32_t memprof_rs_current_site(struct memprof_tls *t)
{
    (void)t;
    return 0;
}

#define SITES 8

struct model {
    uint64_t *addr;
    uint32_t *site;
    size_t len, cap;
};

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(0x2545F4914F6CDD1D);
}

static int by_addr(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void model_put(struct model *m, uint64_t a, uint32_t site)
{
    if (m->len == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->addr = realloc(m->addr, m->cap * sizeof *m->addr);
        m->site = realloc(m->site, m->cap * sizeof *m->site);
    }
    m->addr[m->len] = a;
    m->site[m->len++] = site;
}

static int fail(const char *what, uint64_t a, long step)
{
    printf("step %ld: %s (block 0x%llx)\n", step, what, (unsigned long long)a);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4)
        return 2;
    const int dense = argc == 4 && strcmp(argv[3], "dense") == 0;
    unsigned long rebuilds = 0, grown = 0;
    rng = strtoull(argv[1], NULL, 10) * 2 + 1;
    const long steps = strtol(argv[2], NULL, 10);
    struct memprof_site_stats stats[SITES];
    memset(stats, 0, sizeof stats);
    struct memprof_sites s;
    memset(&s, 0, sizeof s);
    s.stats = stats;
    struct model m = {0};
    int64_t live[SITES] = {0};
    uint64_t cursor = UINT64_C(0x555555554000), scattered = 0;
    for (long step = 0; step < steps; step++) {
        const uint64_t r = next() % 100, capacity = s.capacity, tombstones = s.tombstones,
                       births = s.births;
        /* Grow for a while, then shrink, so that groups fill, empty and
         * fill again (freed slots in full groups, rebuilds, growth). */
        if (dense && step % 250000 == 249999) {
            /* Everything freed at once (a big structure dropped): full
             * groups become all freed slots, until a rebuild. */
            while (m.len > 0) {
                m.len--;
                if (!memprof_site_forget(&s, (void *)(uintptr_t)m.addr[m.len], 100))
                    return fail("a recorded block was not found to forget", m.addr[m.len], step);
                live[m.site[m.len]] -= 100;
            }
        }
        const int growing = (step / 20000) % 3 != 2;
        if (r < (dense ? (growing ? 80u : 10u) : growing ? 60u : 35u)) {
            /* Every address new: the scattered ones are a bijection of a
             * counter (an odd multiplier modulo 2^30), the others follow
             * one another, in ranges apart. */
            uint64_t a;
            if (!dense && next() % 4 == 0) {
                a = UINT64_C(0x7f0000000000) + ((++scattered * UINT64_C(0x9E3779B9)) & ((UINT64_C(1) << 30) - 1)) * 16;
            } else {
                cursor += dense ? 8 * (1 + next() % 4) : 16 * (2 + next() % 6); /* the next chunk, as a fresh heap hands them out */
                a = cursor;
            }
            const uint32_t site = (uint32_t)(next() % SITES);
            memprof_site_insert(&s, (void *)(uintptr_t)a, 100, site, 0);
            model_put(&m, a, site);
            live[site] += 100;
        } else if (r < 95 && m.len > 0) {
            /* Mostly the newest blocks, as a program's temporaries go. */
            const size_t k = !dense && next() % 3 ? m.len - 1 - next() % (m.len < 64 ? m.len : 64) : next() % m.len;
            const uint64_t a = m.addr[k];
            const uint32_t site = m.site[k];
            if (!memprof_site_forget(&s, (void *)(uintptr_t)a, 100))
                return fail("a recorded block was not found to forget", a, step);
            live[site] -= 100;
            m.addr[k] = m.addr[m.len - 1];
            m.site[k] = m.site[m.len - 1];
            m.len--;
        } else if (r < 97 && m.len > 0) {
            /* An address that comes back while its block is recorded. */
            const size_t k = next() % m.len;
            const uint32_t site = (uint32_t)(next() % SITES);
            const uint64_t used = s.used;
            memprof_site_insert(&s, (void *)(uintptr_t)m.addr[k], 100, site, 0);
            if (s.used != used)
                return fail("a block recorded again took a second slot", m.addr[k], step);
            uint32_t birth;
            if (memprof_sites_lookup(&s, (void *)(uintptr_t)m.addr[k], &birth) != site)
                return fail("a block recorded again kept its first site", m.addr[k], step);
            /* The first site keeps the bytes: the table cannot know
             * when that free was. */
            live[site] += 100;
            m.site[k] = site;
        } else {
            /* A range no block of the list is in. */
            const uint64_t a = UINT64_C(0x600000000000) + (next() % (UINT64_C(1) << 20)) * 16;
            if (memprof_site_forget(&s, (void *)(uintptr_t)a, 100))
                return fail("a block never recorded was found", a, step);
        }
        if (s.used != m.len)
            return fail("the table's count differs from the list's", 0, step);
        grown += s.capacity != capacity;
        rebuilds += s.capacity == capacity && s.tombstones + 1 < tombstones;
        /* Inserts keep the table in shape (frees only free slots). */
        if (s.births != births && s.used + s.tombstones > s.capacity * 3 / 4 + 1)
            return fail("the table is fuller than 3/4", 0, step);
        if (s.births != births && s.tombstones > s.capacity / 4 + 1)
            return fail("a quarter of the table is slots freed in full groups", 0, step);
        if (m.len > 0 && step % 7 == 0) {
            const size_t k = next() % m.len;
            uint32_t birth;
            if (memprof_sites_lookup(&s, (void *)(uintptr_t)m.addr[k], &birth) != m.site[k])
                return fail("a recorded block's site is wrong", m.addr[k], step);
        }
    }
    /* Every slot against the list: nothing extra, nothing missing. */
    uint64_t *sorted = malloc((m.len + 1) * 2 * sizeof *sorted);
    for (size_t i = 0; i < m.len; i++) {
        sorted[2 * i] = m.addr[i];
        sorted[2 * i + 1] = m.site[i];
    }
    qsort(sorted, m.len, 2 * sizeof *sorted, by_addr);
    size_t held = 0;
    for (uint64_t k = 0; k < s.capacity; k++) {
        if (s.slots[k].addr == 0) {
            if (s.ctrl[k] >= 0x80)
                return fail("an empty slot is marked as holding a block", k, steps);
            continue;
        }
        held++;
        const uint64_t key[2] = {s.slots[k].addr, 0};
        const uint64_t *hit = bsearch(key, sorted, m.len, 2 * sizeof *sorted, by_addr);
        if (hit == NULL || hit[1] != s.slots[k].site)
            return fail("a slot holds a block the list does not", s.slots[k].addr, steps);
    }
    if (held != m.len)
        return fail("the slots hold a different number of blocks", 0, steps);
    for (unsigned i = 0; i < SITES; i++)
        if (stats[i].live != live[i])
            return fail("a site's live bytes are wrong", i, steps);
    printf("ok %zu blocks, %llu slots, grown %lu times, rebuilt %lu times\n", m.len, (unsigned long long)s.capacity,
           grown, rebuilds);
    return 0;
}
