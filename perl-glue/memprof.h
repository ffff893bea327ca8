/*
 * memprof.h: what the C glue and the Rust side of Devel::MemProf share.
 *
 * The C side holds only what must be C: the runloop, the allocation hooks
 * (initial-exec TLS, no locks), Perl's macro accessors and the XSUB
 * argument handling.  Everything else is Rust; this header is also the
 * input from which bindgen generates the Rust view of these structs.
 *
 * Every function that takes `void *interp` takes the running interpreter
 * (`aTHX` on a perl built with MULTIPLICITY, NULL otherwise), so that the
 * Rust signatures do not depend on how perl was built.
 */
#ifndef MEMPROF_H
#define MEMPROF_H

#include <stdint.h>
#include <stddef.h>

/* Size of the direct-mapped COP -> file id cache (2^bits slots: a big
 * program runs tens of thousands of statements, and a miss calls the
 * recorder). */
#define MEMPROF_FILE_CACHE_BITS 14
#define MEMPROF_FILE_CACHE_SIZE (1u << MEMPROF_FILE_CACHE_BITS)

struct memprof_file_slot {
    const void *cop;
    uint32_t file;
};

/* A block remembered by site tracking (sites.h). */
struct memprof_block {
    uint64_t addr; /* 0: a free slot */
    uint32_t site; /* entry index of the statement that allocated it */
    uint32_t birth; /* low bits of the allocation's sequence number */
};

/* What one site (an entry: stack, file, line) holds. */
struct memprof_site_stats {
    int64_t live;          /* bytes allocated here and not yet freed */
    int64_t peak_snapshot; /* `live` at the peak numbered snapshot_seq */
    uint64_t snapshot_seq;
    uint64_t alloc_bytes;  /* bytes ever allocated here: measure() reports a block's share */
};

/* Site tracking state of one thread's recorder. */
struct memprof_sites {
    struct memprof_block *slots; /* capacity slots, mmap'd */
    uint8_t *ctrl;               /* a byte a slot, after them in the mapping (sites.h) */
    uint64_t capacity;           /* 16 slots a group, or 0 */
    uint64_t groups;             /* capacity / 16 */
    uint64_t used;
    uint64_t tombstones;         /* slots freed inside full groups */
    struct memprof_site_stats *stats; /* one per entry, owned by the recorder */
    uint64_t births;                  /* blocks allocated so far */
    int64_t peak_live;                /* the thread's `live` at the latest peak */
    uint64_t peak_seq;                /* bumped at every new peak */
    uint64_t peak_births;             /* `births` at the latest peak */
    uint64_t untracked_free_bytes;    /* freed from blocks allocated before tracking */
    uint64_t untracked_free_at_peak;
    int failed;                       /* the table could not grow: tracking stopped */
    /* Sampled tracking (sample=BYTES): the mean bytes between two tracked
     * allocations, 0 to track every one; the bytes left until the next
     * tracked one; the random state drawing the intervals. */
    uint64_t sample_mean;
    int64_t sample_left;
    uint64_t sample_rng;
    /* Threads (sites.c): once a second interpreter exists every table is
     * shared, since a block may be freed by another thread than the one
     * that allocated it; `lock` then guards the table and its stats. */
    int32_t lock;
    /* Set under the lock by the owner once it takes the lock itself: before
     * that, it may still be in an unlocked update, and others keep out. */
    int32_t shared_seen;
    /* The bytes of this table's blocks still live, less what its thread
     * freed of untracked blocks: the thread's own heap, whoever frees. */
    int64_t owned_live;
};

/* Which frame is innermost: its stackinfo and index, its CV and its
 * caller's COP, and whether perl is compiling. */
struct memprof_identity {
    const void *si;
    /* PL_comppad then: a frame's pad (one per sub and recursion depth) is
     * constant while it runs, and every call and return changes it, so the
     * same pad and stackinfo at the next boundary mean the same frame.
     * NULL when the next boundary must look at the frame in full. */
    const void *pad;
    int32_t ix;
    uint8_t compiling;
    const void *cv;
    const void *oldcop;
};

/*
 * The recorder's shadow of perl's sub-like frames (stack/mod.rs), kept
 * where the runloop can read it: a call whose caller's last child had the
 * same identity, and a return to a frame already in it, are resolved in C
 * (runloop.c); everything else goes to the recorder.
 */
struct memprof_child_memo {
    /* The last child a frame called: its caller's COP, CV and first op. */
    const void *oldcop;
    const void *cv;
    const void *start;
    uint64_t generation; /* t->cop_generation then */
    uint32_t node;
    uint8_t compile_time;
    uint8_t valid;
};

/* The recorder's nodes by (parent node, caller's COP, CV, first op), as a
 * two-way cache the runloop looks in when a frame's last child was another
 * (a constructor calling one accessor after another): a call's two slots
 * are a pair, the latest first. */
struct memprof_node_memo {
    uint32_t parent;
    struct memprof_child_memo child;
};
/* Its size is 2^bits slots, from MIN_BITS up as the recorder makes nodes
 * (a Moose or Mojolicious program makes tens of thousands): what the
 * runloop misses here costs a call into the recorder. */
#define MEMPROF_NODE_MEMO_MIN_BITS 12
#define MEMPROF_NODE_MEMO_MAX_BITS 16

struct memprof_shadow_frame {
    const void *si;  /* the stackinfo, whose depth is `level` */
    uint32_t level;
    int32_t ix;      /* index in its context stack */
    uint8_t ctype;   /* the raw cx_type byte */
    /* A BEGIN or UNITCHECK block, or a require from the lexer: run by the
     * compiler, which resumes when it returns. */
    uint8_t compile_time;
    const void *cv;
    const void *oldcop;
    uint32_t node;
    struct memprof_child_memo memo;
};

/*
 * Per-thread state.  The allocation hooks update the counters; the runloop
 * (on the thread that runs the interpreter) reads them at statement
 * boundaries.  Lives in initial-exec TLS so the hooks reach it with one
 * %fs-relative load and never allocate.
 */
struct memprof_tls {
    /* Maintained by the allocation hooks. */
    uint64_t alloc_bytes;
    uint64_t alloc_count;
    uint64_t free_bytes;
    uint64_t free_count;
    int64_t live;   /* bytes allocated minus bytes freed since the thread began counting */
    int64_t peak;   /* highest value `live` has reached */
    uint32_t guard; /* non-zero while the profiler's own code runs: hooks don't count */

    /* Maintained by the runloop and the Rust recorder. */
    const void *last_cop;  /* PL_curcop at the last statement boundary */
    void *recorder;        /* the Rust Recorder of this thread's interpreter, or NULL */
    void *interp;          /* that interpreter: threads.xs destroys a joined
                            * thread's interpreter on the joining OS thread */
    uint64_t snap_alloc_count; /* counters when the last delta was credited */
    uint64_t snap_free_count;
    uint64_t snap_alloc_bytes;
    uint64_t snap_free_bytes;
    int64_t snap_sv_count;
    int64_t snap_peak;         /* `peak` when the last new peak was recorded */

    /* The innermost sub/eval/format frame at the last boundary. */
    struct memprof_identity id;
    /* The recorder's shadow stack (its buffer; the runloop may push within
     * shadow_cap and truncate), the top level's last child and node, and
     * whether the runloop may resolve frames itself (profiling runs). */
    struct memprof_shadow_frame *shadow;
    uint32_t shadow_len;
    uint32_t shadow_cap;
    struct memprof_child_memo root_memo;
    struct memprof_node_memo *node_memo; /* 2^(64 - node_memo_shift) slots, or NULL */
    uint8_t node_memo_shift;
    uint32_t main_node;
    uint8_t shadow_fast; /* MEMPROF_SHADOW_* */

    /* The location now executing: the recorder's frame node, file and line. */
    uint32_t cur_node;
    uint32_t cur_file;
    uint32_t cur_line;
    /* While perl compiles: its line counter (PL_compiling's cop_line), which
     * moves without a statement boundary.  The hooks credit what the parser
     * allocated so far to cur_line when it changes.  NULL otherwise. */
    const uint32_t *compile_line;

    struct memprof_file_slot *file_cache; /* MEMPROF_FILE_CACHE_SIZE slots */
    uint64_t cop_generation; /* bumped whenever a COP is freed */
    /* The first COPs of the subs whose frames the recorder caches, as bits
     * (memprof_frame_start_bit) of MEMPROF_FRAME_STARTS_WORDS words, or
     * NULL.  A freed COP whose bit is set goes to freed_starts for the
     * recorder, which forgets the frames of the sub it began (its op
     * tree, and so its name and place, are gone); past
     * MEMPROF_FREED_STARTS of them, freed_starts_lost says to forget all.
     * Other COPs come and go without costing the cache its names. */
    uint64_t *frame_starts;
    const void **freed_starts;
    uint32_t freed_starts_len;
    uint8_t freed_starts_lost;

    /* Site tracking: NULL when off.  cur_site is the entry allocations are
     * credited to now, MEMPROF_UNRESOLVED until the first one. */
    struct memprof_sites *sites;
    uint32_t cur_site;
    /* Allocations until the next timeline sample check (0: not sampling). */
    uint32_t sample_countdown;
    /* A forked child that has not reached a statement boundary yet (the
     * child of system() or qx//, about to exec): it writes no profile. */
    uint8_t fresh_child;
    /* MEMPROF_SV_LOG_SIZE and MEMPROF_CREDIT_LOG_SIZE records while
     * profiling runs, else NULL. */
    struct memprof_sv_record *sv_log;
    uint32_t sv_log_len;
    /* While profiling runs, the change in SVs of each entry below
     * sv_by_entry_len not yet in its figures: a statement whose entry the
     * memo knows adds its change here, with no record for the recorder to
     * add up (most sub calls and returns change only PL_sv_count). */
    int64_t *sv_by_entry;
    uint32_t sv_by_entry_len;
    struct memprof_credit *credit_log;
    uint32_t credit_log_len;
    /* Whether the runloop may log what a statement allocated and freed
     * too, not only its change in SVs (profiling runs without a trace or
     * native frames), and how many such credits until the recorder's
     * next look at the clock (its timeline). */
    uint8_t credit_fast;
    uint32_t tick_countdown;
    /* A new peak the runloop noted (peak_noted): `live` then, the entry
     * and the time (CLOCK_MONOTONIC, ns), for the recorder to take.  At a
     * place the entry memo does not know (peak_entry MEMPROF_UNRESOLVED:
     * a line the compiler is reading) the place, for the recorder to find
     * or make its entry. */
    uint8_t peak_noted;
    uint32_t peak_entry;
    uint32_t peak_node;
    uint32_t peak_file;
    uint32_t peak_line;
    int64_t peak_live;
    uint64_t peak_ns;
    /* 2^(64 - entry_memo_shift) slots while profiling runs, else NULL. */
    struct memprof_entry_memo *entry_memo;
    uint8_t entry_memo_shift;
    uint32_t entry_generation;
    /* MEMPROF=native: every allocation takes the cold path that unwinds
     * its C stack (native.c).  Non-zero only while profiling runs. */
    uint8_t native;
    /* Threads: the lock of this thread's recorder (a Rust Mutex) when it is
     * a thread's, which the main thread takes to read it at the end; NULL
     * for the main thread's. */
    void *recorder_lock;
    /* MEMPROF_THREAD_*: whether this OS thread runs perl (it has or had a
     * recorder) or only C code (a library's worker), counted apart. */
    uint8_t thread_kind;
    /* While native: what it freed that no perl thread's table had, and
     * what it freed of blocks a table had. */
    uint64_t native_untracked_free;
    uint64_t native_found_free_bytes;
    uint64_t native_found_free_count;
};

/* t->shadow_fast: whether the runloop resolves frames itself; with CALLS
 * not a return to the main program's top level (before it runs: the
 * recorder patches its last op at the first). */
#define MEMPROF_SHADOW_OFF 0
#define MEMPROF_SHADOW_CALLS 1
#define MEMPROF_SHADOW_ALL 2

#define MEMPROF_THREAD_UNKNOWN 0
#define MEMPROF_THREAD_NATIVE 1
#define MEMPROF_THREAD_PERL 2

/* What the OS threads that run no perl allocated and freed. */
struct memprof_native_totals {
    uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
    uint64_t untracked_free_bytes; /* freed of blocks no perl thread's table had */
};

/* cur_site before the statement's first allocation, and when nothing is credited. */
#define MEMPROF_UNRESOLVED UINT32_MAX
#define MEMPROF_NO_SITE (UINT32_MAX - 1)

/* The entry of a (node, file, line) under the current label, as the
 * recorder last found it, so that the runloop and the hooks can credit a
 * statement without asking: valid while `generation` is the thread's
 * entry_generation (which the recorder bumps when labels or entries change,
 * or site tracking starts; 0 is never one). */
struct memprof_entry_memo {
    uint32_t node;
    uint32_t file;
    uint32_t line;
    uint32_t entry;
    uint32_t generation;
};

/* 2^bits slots, from MIN_BITS up as the recorder makes entries (a
 * Mojolicious app makes a hundred thousand): a miss costs a call into it. */
#define MEMPROF_ENTRY_MEMO_MIN_BITS 12
#define MEMPROF_ENTRY_MEMO_MAX_BITS 16

/* The top bits of a Fibonacci hash, as many as the memo has (64 - shift). */
static inline uint32_t memprof_entry_memo_index(uint8_t shift, uint32_t node, uint32_t file, uint32_t line)
{
    const uint64_t h = ((uint64_t)node << 40 ^ (uint64_t)file << 20 ^ line) * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> shift);
}

/* The current location's entry, or MEMPROF_UNRESOLVED. */
static inline uint32_t memprof_entry_memo_find(const struct memprof_tls *t)
{
    if (t->entry_memo == NULL)
        return MEMPROF_UNRESOLVED;
    const struct memprof_entry_memo *m =
        &t->entry_memo[memprof_entry_memo_index(t->entry_memo_shift, t->cur_node, t->cur_file, t->cur_line)];
    if (m->generation == t->entry_generation && m->node == t->cur_node && m->file == t->cur_file
        && m->line == t->cur_line)
        return m->entry;
    return MEMPROF_UNRESOLVED;
}

#define MEMPROF_FRAME_STARTS_WORDS 16384 /* 2^20 bits: 128 KiB */
#define MEMPROF_FREED_STARTS 512

/* The bit of t->frame_starts that stands for a COP (runloop.c has it for
 * the recorder as memprof_frame_start_slot). */
static inline uint32_t memprof_frame_start_bit(const void *cop)
{
    return (uint32_t)(((uint64_t)(uintptr_t)cop * UINT64_C(0x9E3779B97F4A7C15)) >> 44);
}

/* What moved during one statement, logged by the runloop without calling
 * into Rust; the recorder adds the logs up when one is full or when
 * something reads the figures.  A change in PL_sv_count alone at a
 * location the entry memo does not know (t->sv_by_entry takes the others)
 * is a small record: */
struct memprof_sv_record {
    uint32_t node;
    uint32_t file;
    uint32_t line;
    int32_t delta;
};

#define MEMPROF_SV_LOG_SIZE 4096

/* With credit_fast, what a statement allocated and freed, at its entry
 * (cur_site, or from the entry memo; MEMPROF_UNRESOLVED when neither
 * knew it, and the recorder finds it by node, file and line). */
struct memprof_credit {
    uint32_t node;
    uint32_t file;
    uint32_t line;
    uint32_t entry;
    int64_t sv_delta;
    uint64_t alloc_bytes;
    uint64_t alloc_count;
    uint64_t free_bytes;
    uint64_t free_count;
};

#define MEMPROF_CREDIT_LOG_SIZE 4096

/* One hooked libc function: the name its GOT slots are bound to, our
 * replacement, and where the original address is kept. */
struct memprof_hook {
    const char *name;
    void *replacement;
    void **original;
};

/* --- C side, called from Rust ------------------------------------------- */

/* This thread's state (never NULL). */
struct memprof_tls *memprof_tls_get(void);
/* The slot of t->file_cache that caches a COP's file id. */
struct memprof_file_slot *memprof_file_slot(struct memprof_tls *t, const void *cop);
/* The parser's line counter moved while it allocates (runloop.c): logs
 * what moved to the line before, or calls memprof_rs_compile_line. */
void memprof_compile_line_moved(struct memprof_tls *t);
/* Site table queries for the recorder (sites.c). */
uint32_t memprof_sites_lookup(const struct memprof_sites *s, const void *block, uint32_t *birth);
/* What a tracked block of `size` bytes stands for: its size, or under
 * sampling the unbiased estimate size / P(a block of that size is sampled). */
uint64_t memprof_sample_weight(const struct memprof_sites *s, uint64_t size);
/* Draw the bytes until the next sampled allocation (exponentially
 * distributed with mean s->sample_mean). */
int64_t memprof_sample_interval(struct memprof_sites *s);
void memprof_sites_clear(struct memprof_sites *s);
/* The bytes the block table maps (slots and their control bytes). */
uint64_t memprof_sites_table_bytes(const struct memprof_sites *s);
/* Sum of the usable sizes of tracked blocks born at or after `since`
 * (a births count), and the number of them; arena blocks are skipped by
 * the caller through `skip`, which may be NULL. */
uint64_t memprof_sites_live_since(const struct memprof_sites *s, uint64_t since,
                                  int (*skip)(void *ctx, const void *block), void *ctx);
/* Call `each` with every block perl keeps for reuse: SV head arenas, body
 * arenas and the arena sets holding them (sv.c), and perl's stacks.  The
 * profile calls these "arena" bytes. */
void memprof_for_each_arena(void *interp, void (*each)(void *ctx, const void *block), void *ctx);
const void *memprof_strtab_array(void *interp);
/* Call a trace callback as ($package, $file, $line, $bytes), trapping die. */
void memprof_call_trace_callback(void *interp, void *callback, const char *pkg, const char *file,
                                 uint32_t line, int64_t bytes);
/* Keep or release a reference to an SV. */
void *memprof_sv_ref(void *interp, void *sv);
void memprof_sv_unref(void *interp, void *sv);
/* Threads: make every site table shared (locked, and searched by frees
 * that miss their own thread's table).  Called when a thread is created. */
void memprof_sites_share(void);
/* The mapping the shared tables' filter takes (sites.c), or 0. */
size_t memprof_sites_filter_bytes(void);
int memprof_sites_are_shared(void);
/* Add a thread's table to those a free from another thread searches. */
void memprof_sites_register(struct memprof_sites *s);
/* Forget every table but this one (a forked child has one thread). */
void memprof_sites_keep_only(struct memprof_sites *s);
void memprof_sites_lock(struct memprof_sites *s);
void memprof_sites_unlock(struct memprof_sites *s);
/* Threads that run no perl: what they allocated and freed so far
 * (alloc_hooks.c).  Reads the counters of threads still running. */
void memprof_native_totals(struct memprof_native_totals *out);
/* This OS thread runs perl: its counters are its recorder's. */
void memprof_thread_is_perl(struct memprof_tls *t);
/* A forked child forgets its parent's threads. */
void memprof_native_reset(void);
/* Usable size of a live heap block. */
size_t memprof_block_size(const void *block);

/* The table of hooked functions, terminated by an entry whose name is NULL. */
const struct memprof_hook *memprof_hook_table(void);
/* Resolve the original functions; returns 0 on success. */
int memprof_hooks_resolve(void);
/* exec (replacing, 1) or _exit (0) is about to end this process image:
 * write the profile if this process is profiling (implemented in Rust). */
void memprof_rs_process_ending(int replacing);
/* Attaching (memprof attach): the interpreter running on this thread, and
 * the runloop taking over from the op after the current one; 0 on success.
 * Detaching hands the runloop back. */
void *memprof_current_interp(void);
int memprof_attach_runloop(void *interp);
void memprof_detach_runloop(void *interp);

/* Called by the dlopen hook after a successful dlopen (implemented in Rust). */
void memprof_rs_after_dlopen(void);

/* Interpreter accessors (macros in Perl's headers). */
void *memprof_curcop(void *interp);
void *memprof_compiling_cop(void *interp);
/* The line counter of PL_compiling. */
const uint32_t *memprof_compiling_line(void *interp);
void *memprof_curstackinfo(void *interp);
int memprof_parser_active(void *interp);
int memprof_phase(void *interp);
int64_t memprof_sv_count(void *interp);
const char *memprof_cop_file(const void *cop);
uint32_t memprof_cop_line(const void *cop);
/* Whether a COP means perl is compiling: &PL_compiling or a copy of it. */
int memprof_cop_compile_time(void *interp, const void *cop);
/* Whether a COP's address identifies it until op_free (it is in an op slab). */
int memprof_cop_cacheable(const void *cop);
/* A CV's CvSTART op, as an identity (NULL for an XSUB). */
const void *memprof_cv_start_op(const void *cv);
/* What a CV's name comes from (its GV, or its name HEK), as an identity:
 * Sub::Util::set_subname changes it. */
const void *memprof_cv_name_id(void *interp, const void *cv);
/* runloop.c: the node memo's slot for (parent node, caller's COP, CV). */
uint32_t memprof_node_memo_slot(uint8_t shift, uint32_t parent, const void *oldcop, const void *cv);
/* The bit of t->frame_starts for a sub's first COP. */
uint32_t memprof_frame_start_slot(const void *cop);
uint32_t memprof_entry_memo_slot(uint8_t shift, uint32_t node, uint32_t file, uint32_t line);
/* Name parts of a CV without creating a GV: *pkg may be NULL.  Returns the
 * sub's own name (or "__ANON__") and sets *is_anon, and in *utf8 which of
 * the two are UTF-8 (else they are Latin-1: perl stores a name whose
 * characters all fit in a byte that way, even under `use utf8`). */
#define MEMPROF_NAME_UTF8 1
#define MEMPROF_PKG_UTF8 2
const char *memprof_cv_name(void *interp, const void *cv, const char **pkg, size_t *pkg_len,
                            size_t *name_len, int *is_anon, int *utf8);
/* The first COP of a CV's body, or NULL. */
const void *memprof_cv_start_cop(const void *cv);
/* String value of an SV if it already has one (never upgrades or allocates). */
const char *memprof_sv_pv(const void *sv, size_t *len);
/* argv of the perl process. */
int memprof_origargc(void *interp);
char **memprof_origargv(void *interp);

/* Install the runloop, block hooks and op-free hook into an interpreter. */
void memprof_install_perl_hooks(void *interp);
/* Take a statement boundary now, as if PL_curcop had changed. */
void memprof_force_boundary(void *interp);
/* Wrap the main program's final op so its scope teardown goes to "(exit)". */
void memprof_patch_main_leave(void *interp);
/* Write the profile from perl_destruct's exit list if nothing else did. */
void memprof_register_exit(void *interp);
/* "5.36.0" */
const char *memprof_perl_version(void);
/* The script's name as perl reports it in $0 at startup. */
const char *memprof_origfilename(void *interp);

/* The XS boot body: registers the XSUBs, then calls rs_boot (Rust), which
 * returns 0 when the profiler is installed. */
void memprof_xs_boot(void *interp, int (*rs_boot)(void *));

/* Native frames (native.c): open libunwind (0 on success); the start of
 * the function holding a code address (0 if unknown); the cold path of an
 * allocation whose C stack is wanted. */
int memprof_native_init(void);
uint64_t memprof_native_function_start(uint64_t pc);
void memprof_native_alloc(struct memprof_tls *t, uint64_t size);
/* The exported symbol holding a code address, or NULL; *object is the
 * file of the object holding it (or NULL) and *offset the address's
 * offset from that object's load address. */
const char *memprof_native_symbol(uint64_t addr, const char **object, uint64_t *offset);
/* Call `each` with every XSUB perl knows by name: its C function, package and name. */
void memprof_for_each_xsub(void *interp,
                           void (*each)(void *ctx, const void *fn, const char *pkg, size_t pkg_len,
                                        const char *name, size_t name_len),
                           void *ctx);

/* --- Rust side, called from C -------------------------------------------- */

/* An allocation of `size` bytes with its C stack, `pcs[0]` innermost:
 * credit it and return the site (entry) it belongs to. */
uint32_t memprof_rs_native_site(struct memprof_tls *t, const void *const *pcs, uint32_t n, uint64_t size);

/* Credit the counters' movement since the last credit to the current location. */
void memprof_rs_flush(void *interp, struct memprof_tls *t, int64_t sv_count);
/* The innermost frame changed: recompute t->cur_node.  Returns non-zero
 * when it also set t->cur_file and t->cur_line (compiling, or a
 * pseudo-location), zero when they are the COP's. */
int memprof_rs_sync(void *interp, struct memprof_tls *t, const void *cop);
/* The line perl is compiling moved on (t->compile_line): credit what moved
 * so far to the line before, and make the new one current. */
void memprof_rs_compile_line(struct memprof_tls *t);
/* Every few thousand allocations: a timeline sample may be due. */
void memprof_rs_sample(struct memprof_tls *t);
/* The entry that allocations are credited to now, or MEMPROF_NO_SITE. */
uint32_t memprof_rs_current_site(struct memprof_tls *t);
/* File id for a COP not in the cache. */
uint32_t memprof_rs_file_id(void *interp, struct memprof_tls *t, const void *cop);
/* A string eval or require is about to be compiled (block hook bhk_eval). */
void memprof_rs_eval_compile(void *interp, struct memprof_tls *t);
/* The main program's last op is about to run. */
void memprof_rs_main_done(void *interp, struct memprof_tls *t);
/* A runloop starts on an OS thread with no recorder: a new ithread's
 * interpreter, whose recorder starts here. */
void memprof_rs_thread_start(void *interp, struct memprof_tls *t);

/* One line's share of a measured block: what it allocated inside the
 * block and what of that is still allocated after it (arenas apart).
 * The strings are not NUL-terminated.  stack holds the subs inside the
 * block (outside a profile) or the whole stack (in one). */
struct memprof_measure_site {
    const char *file;
    size_t file_len;
    uint32_t line;
    const char *stack; /* frames, innermost first, joined by " < " */
    size_t stack_len;
    uint64_t alloc_bytes;
    uint64_t retained_bytes;
    uint64_t retained_blocks;
};

/* What measure() reports. */
struct memprof_measurement {
    uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
    uint64_t retained_bytes, retained_arena_bytes;
    int64_t peak_bytes; /* the block's high-water mark of live bytes above where it started */
    int64_t sv_delta;   /* change in perl's count of live SVs */
    /* By line, valid until memprof_rs_measure_release. */
    const struct memprof_measure_site *sites;
    size_t n_sites;
    /* Set by measure_begin: run the block under memprof_measure_runops,
     * which tells the hooks where each statement starts (no profile is
     * running, so nothing else does). */
    int line_runloop;
    /* private to the recorder */
    uint64_t start_alloc_bytes, start_alloc_count, start_free_bytes, start_free_count, start_births;
    int64_t start_live, saved_peak, start_sv_count;
    void *private_state;
    int tracking_was_off;
};

/* XSUB bodies. */
void memprof_rs_enable(void *interp, const char *file, size_t len);
void memprof_rs_disable(void *interp);
void memprof_rs_finish(void *interp);
void memprof_rs_mark(void *interp, const char *label, size_t len);
void memprof_rs_end_of_run(void *interp);
/* Devel::MemProf::CLONE: `interp`, a new thread's, was just cloned from
 * the interpreter of this OS thread's recorder. */
void memprof_rs_cloned(void *interp);
void memprof_rs_start_profiling(void *interp);
/* The signals MEMPROF's sigexit names, joined by commas ("" if none). */
const char *memprof_rs_sigexit_signals(void *interp);
/* dump_signal's signal name, or "". */
const char *memprof_rs_dump_signal(void *interp);
/* Write a dump of the profile so far; returns its path, or NULL when not
 * profiling.  The string lives until the next call. */
const char *memprof_rs_dump(void *interp);
/* Make `name` (`len` bytes; NULL: none) the current label; `start`
 * counts a run of it. */
void memprof_rs_label(void *interp, const char *name, size_t len, int start);
/* The current label, or NULL; the string lives until the next call. */
const char *memprof_rs_current_label(void *interp);
void memprof_rs_set_callback(void *interp, void *cv);
void memprof_rs_measure_begin(void *interp, struct memprof_measurement *m);
void memprof_rs_measure_end(void *interp, struct memprof_measurement *m);
/* Free what measure_end left in m->sites. */
void memprof_rs_measure_release(void *interp, struct memprof_measurement *m);


/* --- Heap snapshots (heap.c) ---------------------------------------------
 * A snapshot walks perl's data from its roots without writing to it or
 * allocating through perl or the hooked allocator: everything the walk
 * keeps is in mmap'd memory, released by memprof_heap_free. */

/* Kinds of path nodes; how memprof_heap_node_name spells each. */
#define MEMPROF_HEAP_GLOBAL 1   /* a glob's slot: %main::cache, *main::STDOUT{IO} */
#define MEMPROF_HEAP_STASH 2    /* a symbol table: %Foo:: */
#define MEMPROF_HEAP_LEXICAL 3  /* a pad entry: my $var, $count (captured) */
#define MEMPROF_HEAP_KEY 4      /* a hash element: {alice} */
#define MEMPROF_HEAP_INDEX 5    /* an array element: [3] */
#define MEMPROF_HEAP_ROOT 6     /* a root of perl's own: (argument stack) */
#define MEMPROF_HEAP_UNREACHABLE 7 /* live SVs nothing reached, by type and line */
#define MEMPROF_HEAP_STASH_SUB 8 /* a sub a symbol table holds as a reference: &main::foo */
#define MEMPROF_HEAP_MORE 9     /* the children of a path beyond the cap, together */

/* Roots of perl's own (MEMPROF_HEAP_ROOT's index). */
#define MEMPROF_HEAP_ROOT_STRTAB 0
#define MEMPROF_HEAP_ROOT_ARGS 1
#define MEMPROF_HEAP_ROOT_MORTALS 2
#define MEMPROF_HEAP_ROOT_CALLSTACK 3
#define MEMPROF_HEAP_ROOT_INTERNALS 4
#define MEMPROF_HEAP_ROOT_OPS 5
#define MEMPROF_HEAP_ROOT_MAIN 6

/* One path of the walk.  Its figures are its own (what was attributed to
 * it directly), not its subtree's. */
struct memprof_heap_node {
    uint32_t parent;      /* UINT32_MAX for a root */
    uint8_t kind;         /* MEMPROF_HEAP_* */
    uint8_t sigil;        /* '$', '@', '%', '&', '*' (IO, FORMAT: 'I', 'F'); a type for UNREACHABLE */
    uint16_t depth;       /* 0 for a root */
    const void *key;      /* GV, HEK, key SV, PADNAME, according to kind */
    uint64_t index;       /* array index; pad depth; root number; site of UNREACHABLE */
    uint64_t bytes;       /* malloc'd blocks at their usable size */
    uint64_t arena_bytes; /* SV heads and bodies */
    uint64_t sv_count;
    uint64_t shared;      /* SVs here that have other owners too (refcount > 1) */
    uint32_t children;    /* child nodes made */
    uint32_t more;        /* children counted here without nodes of their own */
    uint32_t overflow;    /* the MORE node holding the children beyond the cap, or 0 */
    uint32_t has_elements;
    uint64_t elements;    /* keys or elements of the path's array or hash */
    const void *cv;       /* LEXICAL: the CV whose pad it is; STASH_SUB: the stash */
};

/* What a path holds, by the site (entry) that allocated it. */
struct memprof_heap_line {
    uint32_t node;   /* UINT32_MAX: empty slot */
    uint32_t site;   /* entry, or MEMPROF_NO_SITE for blocks from before tracking */
    uint64_t bytes;
};

/* Count and bytes of one SV type or class. */
struct memprof_heap_count {
    uint64_t count, bytes, arena_bytes;
    uint64_t unreachable_count, unreachable_bytes;
};

struct memprof_heap_class {
    const void *stash; /* NULL: empty slot */
    struct memprof_heap_count c;
};

#define MEMPROF_HEAP_TYPES 20

struct memprof_heap_totals {
    uint64_t sv_count;           /* SVs in the arenas: reached + unreachable */
    uint64_t perl_sv_count;      /* PL_sv_count when the walk ended */
    uint64_t reached_svs, unreachable_svs;
    uint64_t reached_bytes, unreachable_bytes;            /* malloc'd, owned by SVs */
    uint64_t reached_arena_bytes, unreachable_arena_bytes; /* their heads and bodies */
    uint64_t arena_blocks_bytes;  /* the arena and stack blocks themselves */
    uint64_t tracked_bytes;       /* every block the site table holds */
    uint64_t tracked_owned_bytes; /* of them, owned by SVs or arenas */
    uint64_t untracked_owned_bytes; /* owned blocks from before tracking began */
    uint64_t shared_skipped;      /* blocks met again (COW buffers, GPs...) and not recounted */
    uint64_t seconds_ns;          /* how long the walk took */
    uint64_t walker_bytes;        /* the most the walk mapped for itself */
    /* For the ledger: perl's stacks (of arena_blocks_bytes), and the chunk
     * overhead of every block counted in tracked_bytes and
     * untracked_owned_bytes (chunk size less usable size). */
    uint64_t stack_bytes;
    uint64_t known_overhead_bytes;
};

struct memprof_heap_result {
    struct memprof_heap_node *nodes;
    uint32_t n_nodes;
    struct memprof_heap_line *lines;
    uint64_t lines_cap;
    struct memprof_heap_count types[MEMPROF_HEAP_TYPES];
    struct memprof_heap_class *classes;
    uint64_t classes_cap;
    struct memprof_heap_totals totals;
    void *private_state;
};

/* Walk the interpreter's heap.  `sites` may be NULL (no site tracking).
 * `max_children`: child nodes a path gets before the rest are counted in
 * its `more`.  Returns 0, or -1 when memory could not be mapped. */
int memprof_heap_walk(void *interp, const struct memprof_sites *sites, uint32_t max_children,
                      struct memprof_heap_result *out);
void memprof_heap_free(struct memprof_heap_result *out);
/* The name of a node's own step ("{alice}", "my $var"), written into buf
 * (at most cap bytes, not NUL-terminated); returns its full length.
 * *utf8 says whether the name is UTF-8. */
size_t memprof_heap_node_name(void *interp, const struct memprof_heap_result *r, uint32_t node, char *buf,
                              size_t cap, int *utf8);
/* A blessed class's name. */
const char *memprof_heap_class_name(const void *stash, size_t *len);
/* SvTYPE's name: "SCALAR", "ARRAY", "HASH"... */
const char *memprof_heap_type_name(uint32_t type);
/* Call `each` with every block the site table holds, and its site. */
void memprof_sites_for_each(const struct memprof_sites *s, void (*each)(void *ctx, const void *block, uint32_t site),
                            void *ctx);
/* Whether it is safe to walk now (0), or why not (a message). */
const char *memprof_heap_refusal(void *interp);
/* --- The ledger (ledger.c) ----------------------------------------------- */

/* mallinfo2()'s figures (summed over malloc's arenas). */
struct memprof_malloc_stats {
    uint64_t arena, ordblks, hblks, hblkhd, uordblks, fordblks, keepcost;
};
/* Fill `out`; returns 0, or -1 where mallinfo2 does not exist. */
int memprof_malloc_stats(struct memprof_malloc_stats *out);
/* A live block's chunk size less its usable size (0 where unknown);
 * *mmapped says whether malloc got its chunk with mmap. */
size_t memprof_chunk_overhead(const void *block, int *mmapped);

/* Devel::MemProf::snapshot's body (Rust). */
void memprof_rs_snapshot(void *interp, const char *label, size_t len);

#endif
