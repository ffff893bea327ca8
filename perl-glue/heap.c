/*
 * heap.c: the walker core of heap snapshots.
 *
 * Everything here is perl's macros (SvANY, HvARRAY, AvALLOC, CvPADLIST,
 * PadlistARRAY, magic chains, SvOOK offsets), millions of times a walk:
 * written against the target perl's own headers, each supported perl's
 * layout comes from them, and no call crosses into Rust per SV.  What the
 * walk keeps (the visited bitmap, the queue, the nodes, the tables) is in
 * mmap'd memory of its own: it never allocates through perl or malloc, and
 * never writes to perl's data.
 *
 * Phases:
 *   roots      the symbol tables from %main::, the main program's lexicals,
 *              the call stack's subs, the argument and mortal stacks, the
 *              shared string table and perl's own SVs;
 *   walk       breadth first, so each SV goes to the shortest path that
 *              reaches it (the first root on ties); an SV met again is
 *              counted as shared by the path that met it;
 *   sweep      every live SV of the arenas that nothing reached is
 *              "unreachable", grouped by type and by the line that
 *              allocated its first buffer.
 */
#define _GNU_SOURCE 1
#include <malloc.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "glue.h"
#include "perliol.h"

/* 5.38 on, HvHasAUX says whether a hash has its aux struct; before, SvOOK
 * did (build.rs tests for the flag). */
#ifdef MEMPROF_HAVE_HV_HAS_AUX
#define MP_HvHasAUX(hv) HvHasAUX(hv)
#else
#define MP_HvHasAUX(hv) SvOOK(hv)
#endif

#define NO_NODE UINT32_MAX
/* Paths deeper than this attribute what they hold to their deepest node. */
#define MAX_NODE_DEPTH 12
/* The most nodes one walk makes; beyond, children go to their parent. */
#define MAX_NODES (1u << 19)
/* A leaf (a plain scalar) in an array or hash gets a node of its own only
 * when it holds at least this much: small leaves count in their container. */
#define BIG_LEAF 65536

/* ---- mmap'd growable memory --------------------------------------------- */

struct mvec {
    char *p;
    size_t len;   /* elements */
    size_t cap;   /* elements */
    size_t elem;  /* bytes each */
};

static size_t mapped_now, mapped_max;

static void *map_bytes(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    mapped_now += bytes;
    if (mapped_now > mapped_max)
        mapped_max = mapped_now;
    return p;
}

static void unmap_bytes(void *p, size_t bytes)
{
    if (p != NULL) {
        munmap(p, bytes);
        mapped_now -= bytes;
    }
}

static int mvec_reserve(struct mvec *v, size_t want)
{
    if (want <= v->cap)
        return 0;
    size_t cap = v->cap ? v->cap : 4096 / v->elem + 1;
    /* By half again: mremap moves no bytes, so growing more often costs
     * little, and the walk's paths are mapped while the whole profile is
     * in memory (the end snapshot): a quarter spare on average, not half. */
    while (cap < want)
        cap += cap / 2 + 1;
    char *p;
    if (v->p == NULL) {
        p = map_bytes(cap * v->elem);
        if (p == NULL)
            return -1;
    } else {
        /* Grown in place or moved by the kernel: never two copies at once. */
        p = mremap(v->p, v->cap * v->elem, cap * v->elem, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return -1;
        mapped_now += (cap - v->cap) * v->elem;
        if (mapped_now > mapped_max)
            mapped_max = mapped_now;
    }
    v->p = p;
    v->cap = cap;
    return 0;
}

static void mvec_free(struct mvec *v)
{
    unmap_bytes(v->p, v->cap * v->elem);
    v->p = NULL;
    v->len = v->cap = 0;
}

/* ---- the walk's state ---------------------------------------------------- */

struct arena {
    const SV *start, *end; /* the arena's SV slots after its header */
    uint64_t base;         /* index of `start` in the visited bitmap */
};

struct queued {
    const SV *sv;
    uint32_t node;
} __attribute__((packed));

/* Open-addressing set of pointers (blocks counted once). */
struct pset {
    uintptr_t *slots;
    uint64_t cap, used;
};

struct walk {
    PerlInterpreter *interp;
    const struct memprof_sites *sites;
    uint32_t max_children;
    struct memprof_heap_result *out;
    struct mvec arenas;  /* struct arena, sorted by start */
    uint64_t n_slots;
    uint64_t *visited;   /* one bit per arena slot */
    size_t visited_bytes;
    struct mvec queue;   /* struct queued */
    size_t queue_head;
    struct mvec nodes;   /* struct memprof_heap_node */
    struct pset shared;  /* COW buffers, GPs, padname lists, regex programs */
    struct memprof_heap_line *lines;
    uint64_t lines_cap, lines_used;
    struct memprof_heap_class *classes;
    uint64_t classes_cap, classes_used;
    size_t last_arena;
    int failed;
    uint32_t strtab_node;
    /* The argument stacks' arrays: blocks of the arenas' list, not an AV's. */
    const void *stack_blocks[64];
    size_t n_stack_blocks;
    /* the SV being accounted: its type and class census slots */
    struct memprof_heap_count *cur_type;
    struct memprof_heap_class *cur_class;
    int cur_unreachable;
    /* unreachable groups: (type, site) -> node, in `ugroups` */
    struct memprof_heap_line *ugroups;
    uint64_t ugroups_cap, ugroups_used;
    /* the main program's COPs by sequence number, to give its lexicals a line */
    struct mvec cops; /* struct cop_line */
};

struct cop_line {
    U32 seq;
    const COP *cop;
};

/* A full mix (splitmix64's finaliser): the tables take the low bits. */
static inline uint64_t hash_ptr(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static int pset_grow(struct pset *s)
{
    uint64_t cap = s->cap ? s->cap * 2 : 4096;
    uintptr_t *slots = map_bytes(cap * sizeof *slots);
    if (slots == NULL)
        return -1;
    for (uint64_t k = 0; k < s->cap; k++) {
        if (s->slots[k] == 0)
            continue;
        uint64_t i = hash_ptr(s->slots[k]) & (cap - 1);
        while (slots[i] != 0)
            i = (i + 1) & (cap - 1);
        slots[i] = s->slots[k];
    }
    unmap_bytes(s->slots, s->cap * sizeof *slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

/* Add p; returns 1 if it was new, 0 if already there (or out of memory). */
static int pset_add(struct walk *w, struct pset *s, const void *p)
{
    if ((s->used + 1) * 2 > s->cap && pset_grow(s) != 0) {
        w->failed = 1;
        return 0;
    }
    const uintptr_t a = (uintptr_t)p;
    uint64_t i = hash_ptr(a) & (s->cap - 1);
    while (s->slots[i] != 0) {
        if (s->slots[i] == a)
            return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = a;
    s->used++;
    return 1;
}

/* (node, site) -> bytes tables: the lines, and the unreachable groups.
 * The last slots found are cached: a path's blocks mostly come from a few
 * lines, and a hash's shared keys are each moved off the string table's
 * root at the same site. */
#define LINE_CACHE 8
struct line_cache {
    const struct memprof_heap_line *table;
    uint32_t node, site;
    struct memprof_heap_line *slot;
};
static struct line_cache line_cache[LINE_CACHE];

static struct memprof_heap_line *line_slot(struct walk *w, struct memprof_heap_line **tab, uint64_t *cap,
                                           uint64_t *used, uint32_t node, uint32_t site)
{
    struct line_cache *c = &line_cache[(node * 31u + site) & (LINE_CACHE - 1)];
    if (c->table == *tab && c->node == node && c->site == site && c->slot != NULL)
        return c->slot;
    if ((*used + 1) * 2 > *cap) {
        memset(line_cache, 0, sizeof line_cache);
        const uint64_t ncap = *cap ? *cap * 2 : 4096;
        struct memprof_heap_line *n = map_bytes(ncap * sizeof *n);
        if (n == NULL) {
            w->failed = 1;
            return NULL;
        }
        for (uint64_t k = 0; k < ncap; k++)
            n[k].node = NO_NODE;
        for (uint64_t k = 0; k < *cap; k++) {
            if ((*tab)[k].node == NO_NODE)
                continue;
            uint64_t i = hash_ptr((uint64_t)(*tab)[k].node << 32 | (*tab)[k].site) & (ncap - 1);
            while (n[i].node != NO_NODE)
                i = (i + 1) & (ncap - 1);
            n[i] = (*tab)[k];
        }
        unmap_bytes(*tab, *cap * sizeof **tab);
        *tab = n;
        *cap = ncap;
    }
    uint64_t i = hash_ptr((uint64_t)node << 32 | site) & (*cap - 1);
    for (;;) {
        struct memprof_heap_line *l = &(*tab)[i];
        if (l->node == NO_NODE) {
            l->node = node;
            l->site = site;
            l->bytes = 0;
            (*used)++;
        }
        if (l->node == node && l->site == site) {
            *c = (struct line_cache){ *tab, node, site, l };
            return l;
        }
        i = (i + 1) & (*cap - 1);
    }
}

static struct memprof_heap_class *class_slot(struct walk *w, const void *stash)
{
    if ((w->classes_used + 1) * 2 > w->classes_cap) {
        const uint64_t ncap = w->classes_cap ? w->classes_cap * 2 : 256;
        struct memprof_heap_class *n = map_bytes(ncap * sizeof *n);
        if (n == NULL) {
            w->failed = 1;
            return NULL;
        }
        for (uint64_t k = 0; k < w->classes_cap; k++) {
            if (w->classes[k].stash == NULL)
                continue;
            uint64_t i = hash_ptr((uintptr_t)w->classes[k].stash) & (ncap - 1);
            while (n[i].stash != NULL)
                i = (i + 1) & (ncap - 1);
            n[i] = w->classes[k];
        }
        unmap_bytes(w->classes, w->classes_cap * sizeof *n);
        w->classes = n;
        w->classes_cap = ncap;
    }
    uint64_t i = hash_ptr((uintptr_t)stash) & (w->classes_cap - 1);
    while (w->classes[i].stash != NULL && w->classes[i].stash != stash)
        i = (i + 1) & (w->classes_cap - 1);
    if (w->classes[i].stash == NULL) {
        w->classes[i].stash = stash;
        w->classes_used++;
    }
    return &w->classes[i];
}

static inline struct memprof_heap_node *node_at(struct walk *w, uint32_t i)
{
    return &((struct memprof_heap_node *)w->nodes.p)[i];
}

static uint32_t new_node(struct walk *w, uint32_t parent, uint8_t kind, uint8_t sigil, const void *key,
                         uint64_t index)
{
    /* Roots always get a node; node 0 (the first root) takes what memory refused. */
    if (parent != NO_NODE && w->nodes.len >= MAX_NODES)
        return parent;
    if (mvec_reserve(&w->nodes, w->nodes.len + 1) != 0) {
        w->failed = 1;
        return parent != NO_NODE ? parent : 0;
    }
    const uint32_t i = (uint32_t)w->nodes.len++;
    struct memprof_heap_node *n = node_at(w, i);
    memset(n, 0, sizeof *n);
    n->parent = parent;
    n->kind = kind;
    n->sigil = sigil;
    n->key = key;
    n->index = index;
    n->depth = parent == NO_NODE ? 0 : (uint16_t)(node_at(w, parent)->depth + 1);
    if (parent != NO_NODE)
        node_at(w, parent)->children++;
    return i;
}

/* A child path of `parent`, or `parent` itself when it has too many or is too deep. */
static uint32_t child_node(struct walk *w, uint32_t parent, uint8_t kind, uint8_t sigil, const void *key,
                           uint64_t index)
{
    if (parent == NO_NODE)
        return new_node(w, parent, kind, sigil, key, index);
    struct memprof_heap_node *p = node_at(w, parent);
    if (p->kind == MEMPROF_HEAP_MORE || p->depth >= MAX_NODE_DEPTH || w->nodes.len >= MAX_NODES) {
        p->more++;
        return parent;
    }
    if (p->children >= w->max_children) {
        /* The rest of the children, together, in one node. */
        if (p->overflow == 0) {
            const uint32_t o = new_node(w, parent, MEMPROF_HEAP_MORE, 0, NULL, 0);
            if (o == parent)
                return parent;
            node_at(w, parent)->overflow = o;
        }
        struct memprof_heap_node *o = node_at(w, node_at(w, parent)->overflow);
        o->more++;
        return node_at(w, parent)->overflow;
    }
    return new_node(w, parent, kind, sigil, key, index);
}

/* ---- arenas and the visited set ------------------------------------------ */

/* An in-place heap sort: libc's qsort may allocate (msort), and nothing
 * here may reach malloc, hooked or not, while the site table is locked. */
static void heap_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    char *a = base;
    char tmp[32];
    if (size > sizeof tmp)
        return;
#define ELT(i) (a + (i) * size)
#define SWAP(i, j) (memcpy(tmp, ELT(i), size), memcpy(ELT(i), ELT(j), size), memcpy(ELT(j), tmp, size))
    for (size_t start = n / 2; start-- > 0;) {
        for (size_t root = start; 2 * root + 1 < n;) {
            size_t child = 2 * root + 1;
            if (child + 1 < n && cmp(ELT(child), ELT(child + 1)) < 0)
                child++;
            if (cmp(ELT(root), ELT(child)) >= 0)
                break;
            SWAP(root, child);
            root = child;
        }
    }
    for (size_t end = n; end-- > 1;) {
        SWAP(0, end);
        for (size_t root = 0; 2 * root + 1 < end;) {
            size_t child = 2 * root + 1;
            if (child + 1 < end && cmp(ELT(child), ELT(child + 1)) < 0)
                child++;
            if (cmp(ELT(root), ELT(child)) >= 0)
                break;
            SWAP(root, child);
            root = child;
        }
    }
#undef SWAP
#undef ELT
}

static int cmp_arena(const void *a, const void *b)
{
    const struct arena *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int collect_arenas(struct walk *w)
{
    dTHXa(w->interp);
    for (SV *sva = PL_sv_arenaroot; sva != NULL; sva = (SV *)SvANY(sva)) {
        if (mvec_reserve(&w->arenas, w->arenas.len + 1) != 0)
            return -1;
        struct arena *a = &((struct arena *)w->arenas.p)[w->arenas.len++];
        /* sv.c: sv_add_arena keeps the arena's slot count in its first SV's refcount. */
        a->start = sva + 1;
        a->end = sva + SvREFCNT(sva);
    }
    struct arena *as = (struct arena *)w->arenas.p;
    heap_sort(as, w->arenas.len, sizeof *as, cmp_arena);
    uint64_t base = 0;
    for (size_t i = 0; i < w->arenas.len; i++) {
        as[i].base = base;
        base += (uint64_t)(as[i].end - as[i].start);
    }
    w->n_slots = base;
    w->visited_bytes = (base / 64 + 1) * sizeof(uint64_t);
    w->visited = map_bytes(w->visited_bytes);
    return w->visited == NULL ? -1 : 0;
}

/* The bitmap index of an SV in the arenas, or -1 (perl's immortals). */
static inline int64_t sv_slot(struct walk *w, const SV *sv)
{
    const struct arena *as = (const struct arena *)w->arenas.p;
    const struct arena *a = &as[w->last_arena];
    if (w->arenas.len == 0)
        return -1;
    if (!(sv >= a->start && sv < a->end)) {
        size_t lo = 0, hi = w->arenas.len;
        while (lo < hi) {
            const size_t mid = (lo + hi) / 2;
            if (as[mid].end <= sv)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == w->arenas.len || sv < as[lo].start)
            return -1;
        w->last_arena = lo;
        a = &as[lo];
    }
    /* A pointer into the middle of a slot is no SV. */
    if (((const char *)sv - (const char *)a->start) % sizeof(SV) != 0)
        return -1;
    return (int64_t)(a->base + (uint64_t)(sv - a->start));
}

static inline int test_and_set(struct walk *w, int64_t i)
{
    const uint64_t bit = UINT64_C(1) << (i & 63);
    uint64_t *word = &w->visited[i >> 6];
    if (*word & bit)
        return 1;
    *word |= bit;
    return 0;
}

/* ---- sizes ----------------------------------------------------------------- */

/* A malloc'd block the SV being accounted owns, credited to `node`. */
static void add_block(struct walk *w, uint32_t node, const void *block)
{
    if (block == NULL)
        return;
    const uint64_t size = malloc_usable_size((void *)block);
    uint32_t site = MEMPROF_NO_SITE, birth = 0;
    if (w->sites != NULL)
        site = memprof_sites_lookup(w->sites, block, &birth);
    if (site == MEMPROF_NO_SITE) {
        int mmapped;
        w->out->totals.untracked_owned_bytes += size;
        w->out->totals.known_overhead_bytes += memprof_chunk_overhead(block, &mmapped);
    } else {
        w->out->totals.tracked_owned_bytes += size;
    }
    node_at(w, node)->bytes += size;
    struct memprof_heap_line *l = line_slot(w, &w->lines, &w->lines_cap, &w->lines_used, node, site);
    if (l != NULL)
        l->bytes += size;
    if (w->cur_unreachable) {
        w->out->totals.unreachable_bytes += size;
        w->cur_type->unreachable_bytes += size;
        if (w->cur_class)
            w->cur_class->c.unreachable_bytes += size;
    } else {
        w->out->totals.reached_bytes += size;
    }
    w->cur_type->bytes += size;
    if (w->cur_class)
        w->cur_class->c.bytes += size;
}

/* A shared key (a block of the string table) held by a hash: moved from
 * the table's root to the hash's path.  The table's root counts all its
 * entries (walk_roots), so this takes the block off it again; a hash met
 * in the sweep moves the bytes from reached to unreachable. */
static void claim_shared_key(struct walk *w, uint32_t node, const void *block)
{
    const uint64_t size = malloc_usable_size((void *)block);
    uint32_t site = MEMPROF_NO_SITE, birth = 0;
    if (w->sites != NULL)
        site = memprof_sites_lookup(w->sites, block, &birth);
    struct memprof_heap_line *l = line_slot(w, &w->lines, &w->lines_cap, &w->lines_used, node, site);
    if (l != NULL)
        l->bytes += size;
    l = line_slot(w, &w->lines, &w->lines_cap, &w->lines_used, w->strtab_node, site);
    if (l != NULL)
        l->bytes -= size;
    node_at(w, node)->bytes += size;
    node_at(w, w->strtab_node)->bytes -= size;
    if (w->cur_class)
        w->cur_class->c.bytes += size;
    if (w->cur_unreachable) {
        w->out->totals.reached_bytes -= size;
        w->out->totals.unreachable_bytes += size;
        w->cur_type->unreachable_bytes += size;
        if (w->cur_class)
            w->cur_class->c.unreachable_bytes += size;
    }
}

/* A block several SVs may share: counted the first time only. */
static void add_shared_block(struct walk *w, uint32_t node, const void *block)
{
    if (block == NULL)
        return;
    if (pset_add(w, &w->shared, block))
        add_block(w, node, block);
    else
        w->out->totals.shared_skipped++;
}

/* heap_core.c hands blocks to these. */
struct owner {
    struct walk *w;
    uint32_t node;
};

static void owned_shared_block(void *ctx, const void *block)
{
    const struct owner *o = ctx;
    add_shared_block(o->w, o->node, block);
}

static void owned_block(void *ctx, const void *block)
{
    const struct owner *o = ctx;
    add_block(o->w, o->node, block);
}

/* A handle's layers (perlio.c's PerlIO_push allocates each) and the
 * buffer of each that is a PerlIOBuf (perlio, crlf), told by its
 * get_base, the buffer's allocator; a read and a write handle may be one. */
static void add_perlio(struct walk *w, uint32_t node, PerlIO *f)
{
    dTHXa(w->interp);
    if (f == NULL)
        return;
    for (PerlIOl *l = *f; l != NULL; l = l->next) {
        if (!pset_add(w, &w->shared, l)) {
            w->out->totals.shared_skipped++;
            return;
        }
        add_block(w, node, l);
        if (l->tab != NULL && l->tab->Get_base == PerlIOBuf_get_base) {
            const PerlIOBuf *b = (const PerlIOBuf *)l;
            if (b->buf != NULL && b->buf != (const STDCHAR *)&b->oneword)
                add_block(w, node, b->buf);
        }
    }
}

/* The head and body of an SV in the arenas (what sv.c's bodies_by_type
 * allocates, less the parts of a body it does not allocate). */
static uint64_t arena_size(const SV *sv)
{
    uint64_t body;
    switch (SvTYPE(sv)) {
    case SVt_NULL:
    case SVt_IV:
        body = 0;
        break;
    case SVt_NV:
        body = sizeof(NV) <= sizeof(IV) ? 0 : sizeof(NV);
        break;
    case SVt_PV:
        body = sizeof(XPV) - STRUCT_OFFSET(XPV, xpv_cur);
        break;
    case SVt_PVIV:
        body = sizeof(XPVIV) - STRUCT_OFFSET(XPV, xpv_cur);
        break;
    case SVt_PVNV:
        body = sizeof(XPVNV) - STRUCT_OFFSET(XPV, xpv_cur);
        break;
    case SVt_PVMG:
        body = sizeof(XPVMG);
        break;
    case SVt_REGEXP:
        body = sizeof(regexp);
        break;
    case SVt_PVGV:
        body = sizeof(XPVGV);
        break;
    case SVt_PVLV:
        body = sizeof(XPVLV);
        break;
    case SVt_PVAV:
        body = sizeof(XPVAV);
        break;
    case SVt_PVHV:
#ifdef MEMPROF_HAVE_HV_WITH_AUX
        /* sv.c: hv_auxinit moves a hash to the larger body. */
        body = MP_HvHasAUX((const HV *)sv) ? sizeof(struct xpvhv_with_aux) : sizeof(XPVHV);
#else
        body = sizeof(XPVHV);
#endif
        break;
    case SVt_PVCV:
        body = sizeof(XPVCV);
        break;
    case SVt_PVFM:
        body = sizeof(XPVFM);
        break;
    case SVt_PVIO:
        body = sizeof(XPVIO);
        break;
    default:
        body = 0;
        break;
    }
    return sizeof(SV) + body;
}

/* Whether an SV holds nothing but its own buffer: no references to follow. */
static inline int is_leaf(const SV *sv)
{
    const svtype t = SvTYPE(sv);
    if (t >= SVt_PVAV || t == SVt_PVGV || t == SVt_PVLV || t == SVt_REGEXP)
        return 0;
    if (SvROK(sv))
        return 0;
    if (t >= SVt_PVMG && SvMAGIC(sv) != NULL)
        return 0;
    return 1;
}

static const void *pv_block(const SV *sv)
{
    const svtype t = SvTYPE(sv);
    if (t < SVt_PV || t >= SVt_PVAV || t == SVt_PVGV || t == SVt_REGEXP)
        return NULL;
    if (t == SVt_PVLV && isGV_with_GP(sv))
        return NULL;
    if (SvROK(sv) || SvPVX_const(sv) == NULL || SvLEN(sv) == 0)
        return NULL;
    const char *start = SvPVX_const(sv);
    if (SvOOK(sv)) {
        STRLEN offset;
        SvOOK_offset(sv, offset);
        start -= offset;
    }
    return start;
}

/* The block whose site names an unreachable SV's line. */
static const void *first_block(const SV *sv)
{
    switch (SvTYPE(sv)) {
    case SVt_PVAV:
        return AvALLOC((const AV *)sv);
    case SVt_PVHV:
        return HvARRAY((const HV *)sv);
    case SVt_PVCV:
    case SVt_PVFM:
        return CvISXSUB((const CV *)sv) ? NULL : (const void *)CvPADLIST((const CV *)sv);
    case SVt_PVGV:
        return isGV_with_GP(sv) ? (const void *)GvGP(sv) : NULL;
    default:
        return pv_block(sv);
    }
}

/* ---- the walk ---------------------------------------------------------------- */

static void account(struct walk *w, const SV *sv, uint32_t node);

/* Reach an SV from `node`: count it there the first time. */
static void reach(struct walk *w, const SV *sv, uint32_t node)
{
    while (sv != NULL) {
        const int64_t slot = sv_slot(w, sv);
        if (slot < 0 || SvTYPE(sv) == (svtype)SVTYPEMASK || test_and_set(w, slot))
            return;
        account(w, sv, node);
        /* A plain reference leads to one SV, of the same path: go there now
         * rather than through the queue, which then holds containers only. */
        if (SvTYPE(sv) < SVt_PVMG && SvROK(sv)) {
            if (SvWEAKREF(sv))
                return;
            sv = SvRV(sv);
            continue;
        }
        if (is_leaf(sv))
            return;
        if (w->queue.len == w->queue.cap && w->queue_head >= w->queue.len / 2) {
            /* Reuse the part already taken: the queue holds the frontier only. */
            memmove(w->queue.p, w->queue.p + w->queue_head * w->queue.elem,
                    (w->queue.len - w->queue_head) * w->queue.elem);
            w->queue.len -= w->queue_head;
            w->queue_head = 0;
        }
        if (mvec_reserve(&w->queue, w->queue.len + 1) != 0) {
            w->failed = 1;
            return;
        }
        struct queued *q = &((struct queued *)w->queue.p)[w->queue.len++];
        q->sv = sv;
        q->node = node;
        return;
    }
}

/* Count an SV's own memory (its malloc'd blocks and arena slot) at `node`. */
static void account(struct walk *w, const SV *sv, uint32_t node)
{
    dTHXa(w->interp);
    struct memprof_heap_node *n = node_at(w, node);
    const svtype t = SvTYPE(sv);
    uint64_t arena = arena_size(sv);
    /* A hash's entries are in perl's HE arenas (the string table's are
     * blocks of their own, with their keys). */
    if (t == SVt_PVHV && sv != (const SV *)PL_strtab)
        arena += (uint64_t)HvTOTALKEYS((const HV *)sv) * sizeof(HE);
    n->sv_count++;
    n->arena_bytes += arena;
    /* A named container's size: the first array or hash on its path. */
    if (!n->has_elements && (t == SVt_PVAV || t == SVt_PVHV) && n->kind != MEMPROF_HEAP_ROOT
        && n->kind != MEMPROF_HEAP_UNREACHABLE && n->kind != MEMPROF_HEAP_MORE) {
        n->has_elements = 1;
        n->elements = t == SVt_PVAV ? (uint64_t)(AvFILLp((const AV *)sv) + 1) : (uint64_t)HvUSEDKEYS((const HV *)sv);
    }
    if (SvREFCNT(sv) > 1)
        n->shared++;
    w->cur_type = &w->out->types[t < MEMPROF_HEAP_TYPES ? t : 0];
    w->cur_class = NULL;
    if (SvOBJECT(sv) && SvSTASH(sv) != NULL)
        w->cur_class = class_slot(w, SvSTASH(sv));
    w->cur_type->count++;
    w->cur_type->arena_bytes += arena;
    if (w->cur_class) {
        w->cur_class->c.count++;
        w->cur_class->c.arena_bytes += arena;
    }
    if (w->cur_unreachable) {
        w->out->totals.unreachable_svs++;
        w->out->totals.unreachable_arena_bytes += arena;
        w->cur_type->unreachable_count++;
        if (w->cur_class)
            w->cur_class->c.unreachable_count++;
    } else {
        w->out->totals.reached_svs++;
        w->out->totals.reached_arena_bytes += arena;
    }

    const void *pv = pv_block(sv);
    if (pv != NULL) {
        /* A copy-on-write buffer is shared by the SVs that copied it. */
        if (SvIsCOW(sv))
            add_shared_block(w, node, pv);
        else
            add_block(w, node, pv);
    }
    if (t >= SVt_PVMG) {
        for (const MAGIC *mg = SvMAGIC(sv); mg != NULL; mg = mg->mg_moremagic) {
            add_block(w, node, mg);
            /* As mg.c's mg_free_struct frees them. */
            if (mg->mg_ptr != NULL && (mg->mg_len > 0 || mg->mg_type == PERL_MAGIC_utf8))
                add_block(w, node, mg->mg_ptr);
        }
    }
    switch (t) {
    case SVt_PVAV: {
        const void *block = AvALLOC((const AV *)sv);
        for (size_t i = 0; i < w->n_stack_blocks; i++)
            if (w->stack_blocks[i] == block)
                block = NULL;
        add_block(w, node, block);
        break;
    }
    case SVt_PVHV: {
        const HV *hv = (const HV *)sv;
        if (HvARRAY(hv) == NULL)
            break;
        add_block(w, node, HvARRAY(hv));
        /* The shared string table's keys are its entries' blocks (walk_roots). */
        if (hv != PL_strtab) {
            const STRLEN max = HvMAX(hv);
            const int shared = HvSHAREKEYS(hv);
            for (STRLEN i = 0; i <= max; i++) {
                for (const HE *he = HvARRAY(hv)[i]; he != NULL; he = HeNEXT(he)) {
                    if (HeKLEN(he) == HEf_SVKEY)
                        continue;
                    if (!shared) {
                        add_block(w, node, HeKEY_hek(he));
                        continue;
                    }
                    /* A shared key is the string table's entry (hv.c's
                     * shared_he, one block): it goes to the first hash
                     * that holds it, the table keeps what no hash does.
                     * A key of one hash alone needs no remembering. */
                    const struct shared_he *she =
                        (const struct shared_he *)((const char *)HeKEY_hek(he)
                                                   - STRUCT_OFFSET(struct shared_he, shared_he_hek));
                    if (she->shared_he_he.he_valu.hent_refcount == 1 || pset_add(w, &w->shared, she))
                        claim_shared_key(w, node, she);
                }
            }
        }
        if (MP_HvHasAUX(hv) && HvAUX(hv)->xhv_mro_meta != NULL)
            add_block(w, node, HvAUX(hv)->xhv_mro_meta);
        break;
    }
    case SVt_PVCV:
    case SVt_PVFM: {
        const CV *cv = (const CV *)sv;
        if (CvISXSUB(cv))
            break;
        if (CvDYNFILE(cv))
            add_block(w, node, CvFILE(cv));
        /* Its ops, in slabs a closure shares with its prototype; the main
         * program's are PL_main_root's. */
        const OP *root = CvROOT(cv);
        if (root == NULL && cv == PL_main_cv)
            root = PL_main_root;
        struct owner owner = { w, node };
        memprof_heap_op_slabs(root, owned_shared_block, &owner);
        PADLIST *pl = CvPADLIST(cv);
        if (pl == NULL)
            break;
        add_block(w, node, pl);
        add_block(w, node, PadlistARRAY(pl));
        /* Closures share their prototype's pad names. */
        PADNAMELIST *pnl = PadlistNAMES(pl);
        if (pnl != NULL && pset_add(w, &w->shared, pnl)) {
            add_block(w, node, pnl);
            add_block(w, node, PadnamelistARRAY(pnl));
            for (SSize_t i = 0; i <= PadnamelistMAX(pnl); i++) {
                PADNAME *pn = PadnamelistARRAY(pnl)[i];
                if (pn == NULL || pn == &PL_padname_undef || pn == &PL_padname_const)
                    continue;
                /* Only a name more than one list holds needs remembering. */
                if (PadnameREFCNT(pn) == 1)
                    add_block(w, node, pn);
                else
                    add_shared_block(w, node, pn);
            }
        }
        break;
    }
    case SVt_PVGV:
        /* Aliased globs (*a = *b) share one GP. */
        if (isGV_with_GP(sv))
            add_shared_block(w, node, GvGP(sv));
        break;
    case SVt_PVIO: {
        const IO *io = (const IO *)sv;
        add_block(w, node, IoTOP_NAME(io));
        add_block(w, node, IoFMT_NAME(io));
        add_block(w, node, IoBOTTOM_NAME(io));
        add_perlio(w, node, IoIFP(io));
        add_perlio(w, node, IoOFP(io));
        break;
    }
    case SVt_REGEXP: {
        const struct regexp *rx = ReANY((const REGEXP *)sv);
        /* A copy of a qr// (mother_re) shares its mother's pattern string
         * (RX_WRAPPED: the PV from 5.28 on, a field of the body before)
         * and compiled program. */
        if (rx->mother_re == NULL)
            add_block(w, node, RX_WRAPPED((REGEXP *)sv));
        if (rx->mother_re == NULL && rx->pprivate != NULL && pset_add(w, &w->shared, rx->pprivate)) {
            add_block(w, node, rx->pprivate);
            struct owner owner = { w, node };
            memprof_heap_regex_blocks(sv, owned_block, &owner);
        }
        add_block(w, node, rx->offs);
        add_block(w, node, rx->substrs);
        /* The last match's copy of the string it matched (not a
         * copy-on-write one: that is saved_copy, an SV of its own). */
        if (RXp_MATCH_COPIED(rx))
            add_block(w, node, rx->subbeg);
        break;
    }
    default:
        break;
    }
}

static void reach_glob_slots(struct walk *w, const GV *gv);

/* Name a glob's slots and reach what they hold. */
static void reach_glob_slots(struct walk *w, const GV *gv)
{
    if (!isGV_with_GP(gv) || GvGP(gv) == NULL)
        return;
    struct {
        const SV *sv;
        uint8_t sigil;
    } slots[] = {
        { GvSV(gv), '$' },
        { (const SV *)GvAV(gv), '@' },
        { (const SV *)GvHV(gv), '%' },
        { (const SV *)GvCV(gv), '&' },
        { (const SV *)GvIOp(gv), 'I' },
        { (const SV *)GvFORM(gv), 'F' },
    };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        const SV *sv = slots[i].sv;
        if (sv == NULL)
            continue;
        const int64_t slot = sv_slot(w, sv);
        if (slot < 0 || SvTYPE(sv) == (svtype)SVTYPEMASK)
            continue;
        if (w->visited[slot >> 6] & (UINT64_C(1) << (slot & 63)))
            continue;
        const int is_stash = slots[i].sigil == '%' && HvNAME_get((const HV *)sv) != NULL;
        const uint32_t node = new_node(w, NO_NODE, is_stash ? MEMPROF_HEAP_STASH : MEMPROF_HEAP_GLOBAL,
                                       slots[i].sigil, is_stash ? (const void *)sv : (const void *)gv, 0);
        reach(w, sv, node);
    }
}

/* Reach a CV's pads, naming the lexicals of each depth. */
static void walk_pads(struct walk *w, const CV *cv, uint32_t node, int roots)
{
    dTHXa(w->interp);
    if (CvISXSUB(cv) || CvPADLIST(cv) == NULL)
        return;
    PADLIST *pl = CvPADLIST(cv);
    PADNAMELIST *pnl = PadlistNAMES(pl);
    for (SSize_t depth = 1; depth <= PadlistMAX(pl); depth++) {
        const AV *pad = (const AV *)PadlistARRAY(pl)[depth];
        if (pad == NULL)
            continue;
        const int64_t slot = sv_slot(w, (const SV *)pad);
        if (slot < 0)
            continue;
        /* The second pass over the main program's pad takes the rest. */
        if (roots != 2) {
            if (test_and_set(w, slot))
                continue;
            account(w, (const SV *)pad, node);
        }
        for (SSize_t i = 0; i <= AvFILLp(pad); i++) {
            const SV *e = AvARRAY(pad)[i];
            if (e == NULL)
                continue;
            PADNAME *pn = pnl != NULL && i <= PadnamelistMAX(pnl) ? PadnamelistARRAY(pnl)[i] : NULL;
            uint32_t at = node;
            const int named = pn != NULL && PadnamePV(pn) != NULL && PadnameLEN(pn) > 1 && PadnamePV(pn)[0] != '&';
            /* First pass over the main program's pad: its lexicals only,
             * not the globs its ops use (a threaded perl keeps them in
             * the pad), which the symbol tables name. */
            if (roots == 1 && !named)
                continue;
            if (named) {
                const int64_t es = sv_slot(w, e);
                if (es >= 0 && !(w->visited[es >> 6] & (UINT64_C(1) << (es & 63)))) {
                    at = roots == 1 ? new_node(w, NO_NODE, MEMPROF_HEAP_LEXICAL, 0, pn, (uint64_t)depth)
                               : child_node(w, node, MEMPROF_HEAP_LEXICAL, 0, pn, (uint64_t)depth);
                    if (at != node)
                        node_at(w, at)->cv = cv;
                }
            }
            reach(w, e, at);
        }
    }
}

/* The list of weak references to an SV (or a hash's): the array is its
 * owner's, the references in it are other paths' (sv.c keeps one weak
 * referrer itself, not in an array). */
static void reach_backrefs(struct walk *w, const SV *list, uint32_t node)
{
    if (list == NULL || SvTYPE(list) != SVt_PVAV)
        return;
    const int64_t slot = sv_slot(w, list);
    if (slot < 0 || test_and_set(w, slot))
        return;
    account(w, list, node);
}

/* Follow what a queued SV refers to. */
static void expand(struct walk *w, const SV *sv, uint32_t node)
{
    dTHXa(w->interp);
    const svtype t = SvTYPE(sv);
    if (t < SVt_PVAV || t == SVt_PVLV) {
        if (SvROK(sv) && !SvWEAKREF(sv) && !(t == SVt_PVLV && isGV_with_GP(sv)))
            reach(w, SvRV(sv), node);
    }
    if (t >= SVt_PVMG) {
        for (const MAGIC *mg = SvMAGIC(sv); mg != NULL; mg = mg->mg_moremagic) {
            if (mg->mg_type == PERL_MAGIC_backref) {
                if (mg->mg_flags & MGf_REFCOUNTED)
                    reach_backrefs(w, mg->mg_obj, node);
                continue;
            }
            if ((mg->mg_flags & MGf_REFCOUNTED) && mg->mg_obj != NULL)
                reach(w, mg->mg_obj, node);
            if (mg->mg_len == HEf_SVKEY && mg->mg_ptr != NULL)
                reach(w, (const SV *)mg->mg_ptr, node);
        }
    }
    switch (t) {
    case SVt_PVLV:
        if (!isGV_with_GP(sv) && LvTARG(sv) != NULL && LvTYPE(sv) != 't' && LvTYPE(sv) != 'T')
            reach(w, LvTARG(sv), node);
        if (isGV_with_GP(sv))
            reach_glob_slots(w, (const GV *)sv);
        break;
    case SVt_PVAV: {
        const AV *av = (const AV *)sv;
        if (AvARRAY(av) == NULL)
            break;
        for (SSize_t i = 0; i <= AvFILLp(av); i++) {
            const SV *e = AvARRAY(av)[i];
            /* As drain does: the heads a few elements on. */
            if (i + 8 <= AvFILLp(av) && AvARRAY(av)[i + 8] != NULL)
                __builtin_prefetch(AvARRAY(av)[i + 8]);
            if (e == NULL)
                continue;
            uint32_t at = node;
            const int64_t es = sv_slot(w, e);
            if (es >= 0 && !(w->visited[es >> 6] & (UINT64_C(1) << (es & 63))) && SvTYPE(e) != (svtype)SVTYPEMASK
                && (!is_leaf(e) || (pv_block(e) != NULL && SvLEN(e) >= BIG_LEAF)))
                at = child_node(w, node, MEMPROF_HEAP_INDEX, 0, NULL, (uint64_t)i);
            reach(w, e, at);
        }
        break;
    }
    case SVt_PVHV: {
        const HV *hv = (const HV *)sv;
        const int stash = HvNAME_get(hv) != NULL;
        if (MP_HvHasAUX(hv)) {
            struct xpvhv_aux *aux = HvAUX(hv);
            reach_backrefs(w, (const SV *)aux->xhv_backreferences, node);
            struct mro_meta *meta = aux->xhv_mro_meta;
            if (meta != NULL) {
                reach(w, (const SV *)meta->mro_linear_all, node);
                reach(w, meta->mro_linear_current, node);
                reach(w, (const SV *)meta->mro_nextmethod, node);
                reach(w, (const SV *)meta->isa, node);
            }
        }
        if (HvARRAY(hv) == NULL)
            break;
        const STRLEN max = HvMAX(hv);
        for (STRLEN i = 0; i <= max; i++) {
            /* As drain does: the entries a few buckets on, nearer their values. */
            if (i + 8 <= max && HvARRAY(hv)[i + 8] != NULL)
                __builtin_prefetch(HvARRAY(hv)[i + 8]);
            if (i + 4 <= max && HvARRAY(hv)[i + 4] != NULL)
                __builtin_prefetch(HeVAL(HvARRAY(hv)[i + 4]));
            for (const HE *he = HvARRAY(hv)[i]; he != NULL; he = HeNEXT(he)) {
                const SV *val = HeVAL(he);
                if (HeKLEN(he) == HEf_SVKEY)
                    reach(w, HeKEY_sv(he), node);
                if (val == NULL || val == &PL_sv_placeholder)
                    continue;
                if (stash) {
                    /* A symbol table's entries are globs (or, for subs
                     * perl stores compactly, a reference or a string). */
                    if (SvTYPE(val) == SVt_PVGV) {
                        reach(w, val, node);
                        reach_glob_slots(w, (const GV *)val);
                    } else if (SvROK(val)) {
                        reach(w, val, new_node(w, NO_NODE, MEMPROF_HEAP_STASH_SUB, '&', HeKEY_hek(he), 0));
                        node_at(w, (uint32_t)(w->nodes.len - 1))->cv = hv;
                    } else {
                        reach(w, val, node);
                    }
                    continue;
                }
                uint32_t at = node;
                const int64_t es = sv_slot(w, val);
                if (es >= 0 && !(w->visited[es >> 6] & (UINT64_C(1) << (es & 63)))
                    && SvTYPE(val) != (svtype)SVTYPEMASK
                    && (!is_leaf(val) || (pv_block(val) != NULL && SvLEN(val) >= BIG_LEAF)))
                    at = child_node(w, node, MEMPROF_HEAP_KEY, 0, HeKLEN(he) == HEf_SVKEY ? (const void *)he : HeKEY_hek(he),
                                    HeKLEN(he) == HEf_SVKEY);
                reach(w, val, at);
            }
        }
        break;
    }
    case SVt_PVCV:
    case SVt_PVFM: {
        const CV *cv = (const CV *)sv;
        if (CvCONST(cv) && CvISXSUB(cv))
            reach(w, (const SV *)CvXSUBANY(cv).any_ptr, node);
        walk_pads(w, cv, node, 0);
        break;
    }
    case SVt_PVGV:
        if (isGV_with_GP(sv) && GvGP(sv) != NULL) {
            /* A glob reached through a reference: its slots are its path's. */
            const GV *gv = (const GV *)sv;
            reach(w, GvSV(gv), node);
            reach(w, (const SV *)GvAV(gv), node);
            reach(w, (const SV *)GvHV(gv), node);
            reach(w, (const SV *)GvCV(gv), node);
            reach(w, (const SV *)GvIOp(gv), node);
            reach(w, (const SV *)GvFORM(gv), node);
        }
        break;
    case SVt_REGEXP: {
        const struct regexp *rx = ReANY((const REGEXP *)sv);
        reach(w, (const SV *)rx->mother_re, node);
        reach(w, (const SV *)rx->paren_names, node);
        reach(w, (const SV *)rx->qr_anoncv, node);
#ifdef PERL_ANY_COW
        reach(w, rx->saved_copy, node);
#endif
        if (rx->substrs != NULL)
            for (size_t i = 0; i < sizeof rx->substrs->data / sizeof rx->substrs->data[0]; i++) {
                reach(w, rx->substrs->data[i].substr, node);
                reach(w, rx->substrs->data[i].utf8_substr, node);
            }
        break;
    }
    case SVt_PVIO: {
        const IO *io = (const IO *)sv;
        reach(w, (const SV *)IoTOP_GV(io), node);
        reach(w, (const SV *)IoFMT_GV(io), node);
        reach(w, (const SV *)IoBOTTOM_GV(io), node);
        break;
    }
    default:
        break;
    }
}

static void drain(struct walk *w)
{
    /* The walk is bound by cache misses on SVs met in no useful order:
     * ask for the heads of the SVs a few places ahead in the queue, then,
     * nearer, for their bodies and what a container's body points to. */
    while (w->queue_head < w->queue.len && !w->failed) {
        const struct queued *const at = (const struct queued *)w->queue.p;
        const size_t head = w->queue_head++;
        if (head + 16 < w->queue.len)
            __builtin_prefetch(at[head + 16].sv);
        if (head + 8 < w->queue.len) {
            const SV *ahead = at[head + 8].sv;
            __builtin_prefetch(SvANY(ahead));
            if (SvTYPE(ahead) == SVt_PVAV)
                __builtin_prefetch(AvARRAY((const AV *)ahead));
            else if (SvTYPE(ahead) == SVt_PVHV)
                __builtin_prefetch(HvARRAY((const HV *)ahead));
        }
        expand(w, at[head].sv, at[head].node);
    }
    w->queue.len = w->queue_head = 0;
}

/* ---- roots ---------------------------------------------------------------- */

static int cmp_cop(const void *a, const void *b)
{
    const struct cop_line *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The main program's statements, by sequence number: a file-scope lexical
 * is introduced by the statement before the first one in its scope. */
static void collect_cops(struct walk *w, const OP *o, int depth)
{
    for (; o != NULL && depth < 10000; o = OpSIBLING(o)) {
        if (o->op_type == OP_NEXTSTATE || o->op_type == OP_DBSTATE) {
            if (mvec_reserve(&w->cops, w->cops.len + 1) != 0)
                return;
            struct cop_line *c = &((struct cop_line *)w->cops.p)[w->cops.len++];
            c->seq = ((const COP *)o)->cop_seq;
            c->cop = (const COP *)o;
        }
        if (o->op_flags & OPf_KIDS)
            collect_cops(w, cUNOPx(o)->op_first, depth + 1);
    }
}

static const COP *memprof_heap_lexical_cop(const struct memprof_heap_result *r, const void *padname)
{
    const struct walk *w = r->private_state;
    const PADNAME *pn = padname;
    if (w == NULL || w->cops.len == 0 || PadnameOUTER(pn))
        return NULL;
    const U32 low = COP_SEQ_RANGE_LOW(pn);
    const struct cop_line *cs = (const struct cop_line *)w->cops.p;
    const COP *best = NULL;
    for (size_t i = 0; i < w->cops.len && cs[i].seq <= low; i++)
        best = cs[i].cop;
    return best;
}

static void reach_stack(struct walk *w, SV **from, SV **to, uint32_t root)
{
    uint32_t node = NO_NODE;
    for (SV **p = from; p != NULL && p <= to; p++) {
        if (*p == NULL)
            continue;
        const int64_t s = sv_slot(w, *p);
        if (s < 0 || SvTYPE(*p) == (svtype)SVTYPEMASK || (w->visited[s >> 6] & (UINT64_C(1) << (s & 63))))
            continue;
        if (node == NO_NODE)
            node = new_node(w, NO_NODE, MEMPROF_HEAP_ROOT, 0, NULL, root);
        reach(w, *p, node);
    }
}

static void walk_roots(struct walk *w)
{
    dTHXa(w->interp);
    uint32_t main_node = 0;
    /* The shared string table's root first: hashes take their keys off it. */
    w->strtab_node = new_node(w, NO_NODE, MEMPROF_HEAP_ROOT, 0, NULL, MEMPROF_HEAP_ROOT_STRTAB);
    /* The main program's file-scope lexicals, first: a named sub that
     * uses one captures it, and the file's name is the one people wrote. */
    if (PL_main_cv != NULL) {
        if (PL_main_root != NULL) {
            collect_cops(w, PL_main_root, 0);
            heap_sort(w->cops.p, w->cops.len, sizeof(struct cop_line), cmp_cop);
        }
        main_node = new_node(w, NO_NODE, MEMPROF_HEAP_ROOT, 0, NULL, MEMPROF_HEAP_ROOT_MAIN);
        const int64_t s = sv_slot(w, (const SV *)PL_main_cv);
        if (s >= 0 && !test_and_set(w, s))
            account(w, (const SV *)PL_main_cv, main_node);
        walk_pads(w, PL_main_cv, main_node, 1);
        drain(w);
    }
    /* The symbol tables, from %main:: down. */
    const uint32_t main_stash = new_node(w, NO_NODE, MEMPROF_HEAP_STASH, '%', PL_defstash, 0);
    reach(w, (const SV *)PL_defstash, main_stash);
    drain(w);
    /* The rest of the main program's pad: its constants and targets. */
    if (PL_main_cv != NULL) {
        walk_pads(w, PL_main_cv, main_node, 2);
        drain(w);
    }
    /* The subs on the call stack (anonymous ones may be held nowhere else). */
    uint32_t calls = NO_NODE;
    for (const PERL_SI *si = PL_curstackinfo; si != NULL; si = si->si_prev) {
        for (I32 i = si->si_cxix; i >= 0; i--) {
            const PERL_CONTEXT *cx = &si->si_cxstack[i];
            if (CxTYPE(cx) != CXt_SUB && CxTYPE(cx) != CXt_FORMAT)
                continue;
            const SV *cv = (const SV *)cx->blk_sub.cv;
            const int64_t s = sv_slot(w, cv);
            if (s < 0 || (w->visited[s >> 6] & (UINT64_C(1) << (s & 63))))
                continue;
            if (calls == NO_NODE)
                calls = new_node(w, NO_NODE, MEMPROF_HEAP_ROOT, 0, NULL, MEMPROF_HEAP_ROOT_CALLSTACK);
            reach(w, cv, calls);
        }
        /* Each stackinfo's argument stack is an AV. */
        reach_stack(w, AvARRAY(si->si_stack), si == PL_curstackinfo ? PL_stack_sp : AvARRAY(si->si_stack) + AvFILLp(si->si_stack),
                    MEMPROF_HEAP_ROOT_ARGS);
    }
    drain(w);
    if (PL_tmps_stack != NULL)
        reach_stack(w, PL_tmps_stack, PL_tmps_stack + PL_tmps_ix, MEMPROF_HEAP_ROOT_MORTALS);
    drain(w);
    /* Perl's own SVs, outside the symbol tables. */
    const SV *internal[] = {
        (const SV *)PL_curstack,  (const SV *)PL_mainstack,  (const SV *)PL_modglobal,
        (const SV *)PL_stashcache, (const SV *)PL_isarev,    (const SV *)PL_beginav,
        (const SV *)PL_endav,     (const SV *)PL_checkav,    (const SV *)PL_initav,
        (const SV *)PL_unitcheckav, (const SV *)PL_beginav_save, (const SV *)PL_checkav_save,
        (const SV *)PL_unitcheckav_save, (const SV *)PL_fdpid, (const SV *)PL_preambleav,
        (const SV *)PL_main_cv,   (const SV *)PL_compcv,     (const SV *)PL_errors,
        (const SV *)PL_patchlevel, (const SV *)PL_registered_mros, (const SV *)PL_toptarget,
        (const SV *)PL_bodytarget, (const SV *)PL_formtarget, (const SV *)PL_rs,
        (const SV *)PL_statname,  (const SV *)PL_e_script,   (const SV *)PL_custom_op_names,
        (const SV *)PL_custom_op_descs, (const SV *)PL_subname,
        (const SV *)PL_incgv,     (const SV *)PL_hintgv,     (const SV *)PL_errgv,
        (const SV *)PL_argvgv,    (const SV *)PL_stdingv,    (const SV *)PL_stderrgv,
        (const SV *)PL_defgv,     (const SV *)PL_envgv,      (const SV *)PL_replgv,
        (const SV *)PL_DBgv,      (const SV *)PL_DBline,     (const SV *)PL_DBsub,
        (const SV *)PL_argvoutgv, (const SV *)PL_argvout_stack, (const SV *)PL_ofsgv,
#ifdef USE_ITHREADS
        (const SV *)PL_regex_padav,
#endif
    };
    uint32_t inode = NO_NODE;
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++) {
        const SV *sv = internal[i];
        if (sv == NULL)
            continue;
        const int64_t s = sv_slot(w, sv);
        if (s < 0 || SvTYPE(sv) == (svtype)SVTYPEMASK || (w->visited[s >> 6] & (UINT64_C(1) << (s & 63))))
            continue;
        if (inode == NO_NODE)
            inode = new_node(w, NO_NODE, MEMPROF_HEAP_ROOT, 0, NULL, MEMPROF_HEAP_ROOT_INTERNALS);
        reach(w, sv, inode);
    }
    for (size_t i = 0; i < SV_CONSTS_COUNT; i++) {
        if (PL_sv_consts[i] == NULL)
            continue;
        if (inode == NO_NODE)
            inode = new_node(w, NO_NODE, MEMPROF_HEAP_ROOT, 0, NULL, MEMPROF_HEAP_ROOT_INTERNALS);
        reach(w, PL_sv_consts[i], inode);
    }
    drain(w);
    /* The shared string table: its entries are blocks with their keys, no SVs. */
    if (PL_strtab != NULL) {
        const uint32_t node = w->strtab_node;
        const int64_t s = sv_slot(w, (const SV *)PL_strtab);
        if (s >= 0 && !test_and_set(w, s)) {
            account(w, (const SV *)PL_strtab, node);
            w->cur_type = &w->out->types[SVt_PVHV];
            w->cur_class = NULL;
            const HV *hv = PL_strtab;
            /* hv.c: share_hek_flags allocates each entry with its key (a shared_he). */
            if (HvARRAY(hv) != NULL)
                for (STRLEN i = 0; i <= HvMAX(hv); i++)
                    for (const HE *he = HvARRAY(hv)[i]; he != NULL; he = HeNEXT(he))
                        add_block(w, node, he);
        }
    }
}

/* Phase 3: what nothing reached, grouped by type and allocating line. */
static void sweep(struct walk *w)
{
    const struct arena *as = (const struct arena *)w->arenas.p;
    w->cur_unreachable = 1;
    for (size_t a = 0; a < w->arenas.len && !w->failed; a++) {
        for (const SV *sv = as[a].start; sv < as[a].end; sv++) {
            if (SvTYPE(sv) == (svtype)SVTYPEMASK)
                continue;
            const uint64_t slot = as[a].base + (uint64_t)(sv - as[a].start);
            if (w->visited[slot >> 6] & (UINT64_C(1) << (slot & 63)))
                continue;
            w->visited[slot >> 6] |= UINT64_C(1) << (slot & 63);
            const void *first = first_block(sv);
            /* MEMPROF_UNRESOLVED: no block of its own to tell a line by. */
            uint32_t site = first == NULL ? MEMPROF_UNRESOLVED : MEMPROF_NO_SITE, birth = 0;
            if (first != NULL && w->sites != NULL)
                site = memprof_sites_lookup(w->sites, first, &birth);
            const uint32_t type = SvTYPE(sv);
            struct memprof_heap_line *g =
                line_slot(w, &w->ugroups, &w->ugroups_cap, &w->ugroups_used, type, site);
            if (g == NULL)
                return;
            if (g->bytes == 0) {
                /* `bytes` holds the group's node + 1. */
                g->bytes = (uint64_t)new_node(w, NO_NODE, MEMPROF_HEAP_UNREACHABLE, (uint8_t)type, NULL, site) + 1;
            }
            account(w, sv, (uint32_t)(g->bytes - 1));
        }
    }
    w->cur_unreachable = 0;
}

struct tracked_sum {
    uint64_t bytes, overhead;
};

static void sum_tracked(void *ctx, const void *block, uint32_t site)
{
    (void)site;
    int mmapped;
    struct tracked_sum *ts = ctx;
    ts->bytes += malloc_usable_size((void *)block);
    ts->overhead += memprof_chunk_overhead(block, &mmapped);
}

struct arena_sum {
    struct walk *w;
};

/* Whether a block memprof_for_each_arena gives is one of perl's stacks
 * (accessors.c lists them first) rather than an arena. */
static int is_stack_block(struct walk *w, const void *block)
{
    dTHXa(w->interp);
    if (block == PL_tmps_stack || block == PL_markstack || block == PL_scopestack || block == PL_savestack)
        return 1;
    const PERL_SI *si = PL_curstackinfo;
    while (si != NULL && si->si_prev != NULL)
        si = si->si_prev;
    for (; si != NULL; si = si->si_next)
        if (block == si || block == si->si_cxstack
            || (si->si_stack != NULL && block == AvALLOC(si->si_stack)))
            return 1;
    return 0;
}

static void sum_arena(void *ctx, const void *block)
{
    struct walk *w = ((struct arena_sum *)ctx)->w;
    const uint64_t size = malloc_usable_size((void *)block);
    uint32_t birth = 0;
    w->out->totals.arena_blocks_bytes += size;
    if (is_stack_block(w, block))
        w->out->totals.stack_bytes += size;
    if (w->sites != NULL && memprof_sites_lookup(w->sites, block, &birth) != MEMPROF_NO_SITE) {
        w->out->totals.tracked_owned_bytes += size;
    } else {
        int mmapped;
        w->out->totals.untracked_owned_bytes += size;
        w->out->totals.known_overhead_bytes += memprof_chunk_overhead(block, &mmapped);
    }
}

static void release_scratch(struct walk *w);

int memprof_heap_walk(void *interp, const struct memprof_sites *sites, uint32_t max_children,
                      struct memprof_heap_result *out)
{
    MP_dTHX(interp);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(out, 0, sizeof *out);
    mapped_now = mapped_max = 0;
    memset(line_cache, 0, sizeof line_cache);
    struct walk *w = map_bytes(sizeof *w);
    if (w == NULL)
        return -1;
    memset(w, 0, sizeof *w);
#ifdef MULTIPLICITY
    w->interp = aTHX;
#else
    w->interp = NULL;
#endif
    w->sites = sites != NULL && sites->capacity > 0 ? sites : NULL;
    w->max_children = max_children ? max_children : 1000;
    w->out = out;
    w->arenas.elem = sizeof(struct arena);
    w->queue.elem = sizeof(struct queued);
    w->nodes.elem = sizeof(struct memprof_heap_node);
    w->cops.elem = sizeof(struct cop_line);
    out->private_state = w;
    for (const PERL_SI *si = PL_curstackinfo; si != NULL; si = si->si_prev)
        if (si->si_stack != NULL && w->n_stack_blocks < 64)
            w->stack_blocks[w->n_stack_blocks++] = AvALLOC(si->si_stack);
    for (const PERL_SI *si = PL_curstackinfo ? PL_curstackinfo->si_next : NULL; si != NULL; si = si->si_next)
        if (si->si_stack != NULL && w->n_stack_blocks < 64)
            w->stack_blocks[w->n_stack_blocks++] = AvALLOC(si->si_stack);
    if (collect_arenas(w) != 0) {
        w->failed = 1;
        return -1;
    }
    walk_roots(w);
    drain(w);
    sweep(w);
    struct arena_sum as = { w };
    memprof_for_each_arena(interp, sum_arena, &as);
    if (w->sites != NULL) {
        struct tracked_sum ts = { 0 };
        memprof_sites_for_each(w->sites, sum_tracked, &ts);
        out->totals.tracked_bytes = ts.bytes;
        out->totals.known_overhead_bytes += ts.overhead;
    }
    out->totals.sv_count = out->totals.reached_svs + out->totals.unreachable_svs;
    out->totals.perl_sv_count = (uint64_t)PL_sv_count;
    out->nodes = (struct memprof_heap_node *)w->nodes.p;
    out->n_nodes = (uint32_t)w->nodes.len;
    out->lines = w->lines;
    out->lines_cap = w->lines_cap;
    out->classes = w->classes;
    out->classes_cap = w->classes_cap;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->totals.seconds_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
    out->totals.walker_bytes = mapped_max;
    /* The visited set, the queue and the sets of what was counted are not
     * needed by the names: unmapped now, before the recorder builds the
     * snapshot beside the rest (the end snapshot is the run's peak). */
    release_scratch(w);
    return w->failed ? -1 : 0;
}

/* What only the walk itself uses; safe to call twice. */
static void release_scratch(struct walk *w)
{
    memset(line_cache, 0, sizeof line_cache);
    mvec_free(&w->arenas);
    mvec_free(&w->queue);
    unmap_bytes(w->visited, w->visited_bytes);
    w->visited = NULL;
    w->visited_bytes = 0;
    unmap_bytes(w->shared.slots, w->shared.cap * sizeof(uintptr_t));
    w->shared.slots = NULL;
    w->shared.cap = w->shared.used = 0;
    unmap_bytes(w->ugroups, w->ugroups_cap * sizeof *w->ugroups);
    w->ugroups = NULL;
    w->ugroups_cap = w->ugroups_used = 0;
}

void memprof_heap_free(struct memprof_heap_result *out)
{
    memset(line_cache, 0, sizeof line_cache);
    struct walk *w = out->private_state;
    if (w == NULL)
        return;
    release_scratch(w);
    mvec_free(&w->nodes);
    mvec_free(&w->cops);
    unmap_bytes(w->lines, w->lines_cap * sizeof *w->lines);
    unmap_bytes(w->classes, w->classes_cap * sizeof *w->classes);
    unmap_bytes(w, sizeof *w);
    memset(out, 0, sizeof *out);
}

/* ---- names ------------------------------------------------------------------ */

struct namebuf {
    char *buf;
    size_t cap, len;
    int utf8;
};

static void put(struct namebuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++, b->len++)
        if (b->len < b->cap)
            b->buf[b->len] = s[i];
}

static void puts_(struct namebuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_u64(struct namebuf *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0 && n < 24);
    while (n > 0)
        put(b, &tmp[--n], 1);
}

static void put_stash(struct namebuf *b, const HV *stash)
{
    const char *name = stash != NULL ? HvNAME_get(stash) : NULL;
    if (name == NULL) {
        puts_(b, "__ANON__");
        return;
    }
    if (HvNAMEUTF8(stash))
        b->utf8 = 1;
    put(b, name, HvNAMELEN_get(stash));
}

size_t memprof_heap_node_name(void *interp, const struct memprof_heap_result *r, uint32_t node, char *buf,
                              size_t cap, int *utf8)
{
    MP_dTHX(interp);
    struct namebuf b = { buf, cap, 0, 0 };
    const struct memprof_heap_node *n = &r->nodes[node];
    switch (n->kind) {
    case MEMPROF_HEAP_STASH:
        puts_(&b, "%");
        put_stash(&b, (const HV *)n->key);
        puts_(&b, "::");
        break;
    case MEMPROF_HEAP_GLOBAL: {
        const GV *gv = n->key;
        const char sigil[2] = { (char)(n->sigil == 'I' || n->sigil == 'F' ? '*' : n->sigil), 0 };
        puts_(&b, sigil);
        put_stash(&b, GvSTASH(gv));
        puts_(&b, "::");
        if (GvNAMEUTF8(gv))
            b.utf8 = 1;
        put(&b, GvNAME(gv), GvNAMELEN(gv));
        if (n->sigil == 'I')
            puts_(&b, "{IO}");
        if (n->sigil == 'F')
            puts_(&b, "{FORMAT}");
        break;
    }
    case MEMPROF_HEAP_LEXICAL: {
        const PADNAME *pn = n->key;
        if (PadnameUTF8(pn))
            b.utf8 = 1;
        if (!PadnameOUTER(pn))
            puts_(&b, PadnameIsOUR(pn) ? "our " : PadnameIsSTATE(pn) ? "state " : "my ");
        put(&b, PadnamePV(pn), PadnameLEN(pn));
        const COP *cop = n->cv == (const void *)PL_main_cv ? memprof_heap_lexical_cop(r, pn) : NULL;
        const CV *cv = n->cv;
        if (PadnameOUTER(pn) && cv != NULL && CvOUTSIDE(cv) == PL_main_cv && CvPADLIST(PL_main_cv) != NULL) {
            /* A file-scope lexical a sub captured: named as declared. */
            const PADNAMELIST *outer = PadlistNAMES(CvPADLIST(PL_main_cv));
            const PADNAME *decl =
                PARENT_PAD_INDEX(pn) <= (U32)PadnamelistMAX(outer) ? PadnamelistARRAY(outer)[PARENT_PAD_INDEX(pn)] : NULL;
            cop = decl != NULL && !PadnameOUTER(decl) ? memprof_heap_lexical_cop(r, decl) : NULL;
        }
        if (PadnameOUTER(pn) && cop != NULL) {
            const char *file = CopFILE(cop);
            b.len = 0;
            puts_(&b, "my ");
            put(&b, PadnamePV(pn), PadnameLEN(pn));
            puts_(&b, " (");
            if (file != NULL) {
                const char *slash = strrchr(file, '/');
                puts_(&b, slash ? slash + 1 : file);
            }
            puts_(&b, ":");
            put_u64(&b, CopLINE(cop));
            puts_(&b, ", captured)");
        } else if (PadnameOUTER(pn))
            puts_(&b, " (captured)");
        else if (cop != NULL) {
            const char *file = CopFILE(cop);
            puts_(&b, " (");
            if (file != NULL) {
                const char *slash = strrchr(file, '/');
                puts_(&b, slash ? slash + 1 : file);
            }
            puts_(&b, ":");
            put_u64(&b, CopLINE(cop));
            puts_(&b, ")");
        } else if (n->index > 1) {
            puts_(&b, " (depth ");
            put_u64(&b, n->index);
            puts_(&b, ")");
        }
        break;
    }
    case MEMPROF_HEAP_STASH_SUB: {
        const HEK *hek = n->key;
        puts_(&b, "&");
        put_stash(&b, (const HV *)n->cv);
        puts_(&b, "::");
        if (HEK_UTF8(hek))
            b.utf8 = 1;
        put(&b, HEK_KEY(hek), HEK_LEN(hek));
        break;
    }
    case MEMPROF_HEAP_KEY:
        puts_(&b, "{");
        if (n->index == 1) {
            /* A key held as an SV (HEf_SVKEY): a tied hash's. */
            STRLEN len = 0;
            const SV *k = HeKEY_sv((const HE *)n->key);
            if (k != NULL && SvPOK(k)) {
                len = SvCUR(k);
                put(&b, SvPVX_const(k), len);
                if (SvUTF8(k))
                    b.utf8 = 1;
            }
        } else {
            const HEK *hek = n->key;
            if (HEK_UTF8(hek))
                b.utf8 = 1;
            put(&b, HEK_KEY(hek), HEK_LEN(hek));
        }
        puts_(&b, "}");
        break;
    case MEMPROF_HEAP_INDEX:
        puts_(&b, "[");
        put_u64(&b, n->index);
        puts_(&b, "]");
        break;
    case MEMPROF_HEAP_ROOT: {
        static const char *const roots[] = {
            "(shared string table)", "(argument stack)", "(mortals)", "(call stack)", "(perl internals)", "(ops)",
            "(main program)",
        };
        puts_(&b, n->index < sizeof roots / sizeof roots[0] ? roots[n->index] : "(root)");
        break;
    }
    case MEMPROF_HEAP_UNREACHABLE:
        puts_(&b, "(unreachable) ");
        puts_(&b, memprof_heap_type_name(n->sigil));
        break;
    default:
        puts_(&b, "?");
        break;
    }
    *utf8 = b.utf8;
    return b.len;
}

const char *memprof_heap_class_name(const void *stash, size_t *len)
{
    const HV *hv = stash;
    const char *name = HvNAME_get(hv);
    *len = name ? HvNAMELEN_get(hv) : 0;
    return name;
}

const char *memprof_heap_type_name(uint32_t type)
{
    switch (type) {
    case SVt_NULL:
    case SVt_IV:
    case SVt_NV:
    case SVt_PV:
    case SVt_PVIV:
    case SVt_PVNV:
    case SVt_PVMG:
        return "SCALAR";
    case SVt_INVLIST:
        return "INVLIST";
    case SVt_REGEXP:
        return "REGEXP";
    case SVt_PVGV:
        return "GLOB";
    case SVt_PVLV:
        return "LVALUE";
    case SVt_PVAV:
        return "ARRAY";
    case SVt_PVHV:
        return "HASH";
    case SVt_PVCV:
        return "CODE";
    case SVt_PVFM:
        return "FORMAT";
    case SVt_PVIO:
        return "IO";
    default:
        return "OTHER";
    }
}

const char *memprof_heap_refusal(void *interp)
{
    MP_dTHX(interp);
    if (PL_phase == PERL_PHASE_DESTRUCT)
        return "not during global destruction (perl is freeing what it would walk)";
    if (PL_sv_arenaroot == NULL)
        return "perl has no SVs yet";
    return NULL;
}
