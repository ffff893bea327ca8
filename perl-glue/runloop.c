/*
 * runloop.c: the runloop that notices statement boundaries, and the fast
 * path of what happens at one.
 *
 * A statement boundary is a change of PL_curcop.  At each one the memory
 * moved since the previous boundary is credited to the location that was
 * executing (Rust: memprof_rs_flush), and the new location is resolved.
 * Three paths, cheapest first:
 *  - nothing moved and the frame is the same (same PL_comppad and
 *    stackinfo): only the file and line change, inline in the runloop;
 *  - the innermost frame changed by a return to a frame the recorder's
 *    shadow stack holds, or by a call whose node the recorder made before:
 *    memprof_shadow_step, without calling Rust;
 *  - anything else: the recorder (memprof_rs_sync) walks the context stack.
 * A COP's file comes from a small cache, so that Rust is called only when
 * something actually changed.
 */
#include "glue.h"
#include "alloc/sites.h"

/* The file cache's one hash: the runloop and the recorder (through
 * memprof_file_slot) both find a COP's slot here. */
static inline struct memprof_file_slot *file_slot(struct memprof_tls *t, const void *cop)
{
    /* The address's bits from the fourth up (a COP is bigger than 16
     * bytes): one AND in the quick boundary, where a multiplicative hash
     * cost the statement loop 0.7% for no fewer misses. */
    return &t->file_cache[((uintptr_t)cop >> 4) & (MEMPROF_FILE_CACHE_SIZE - 1)];
}

struct memprof_file_slot *memprof_file_slot(struct memprof_tls *t, const void *cop)
{
    return file_slot(t, cop);
}

/* Compile time: PL_compiling itself, or a copy of it on the C stack,
 * which op.c's S_fold_constants and S_gen_constant_list run folded
 * expressions under.  Only COPs outside the op slabs can be such copies. */
static inline int cop_is_compile_time(pTHX_ const COP *cop)
{
    /* The run-time COPs are slabbed, PL_compiling is not: one test for them. */
    return !cop->op_slabbed && (cop == &PL_compiling || PL_parser != NULL);
}

int memprof_cop_compile_time(void *interp, const void *cop)
{
    MP_dTHX(interp);
    return cop_is_compile_time(aTHX_(const COP *) cop);
}

int memprof_cop_cacheable(const void *cop)
{
    /* A COP outside the slabs may live on the C stack, where its address
     * comes back as another COP without being freed. */
    return ((const COP *)cop)->op_slabbed;
}

/* The innermost sub, format or eval context of a stackinfo, or -1.  cop.h
 * keeps it in si_cxsubix from 5.32 on (build.rs tests for the field);
 * before, search down the context stack as pp_ctl.c's dopoptosub_at does
 * (keeping regex code blocks' fake subs, as si_cxsubix does). */
static inline I32 memprof_cxsubix(const PERL_SI *si)
{
#ifdef MEMPROF_HAVE_CXSUBIX
    return si->si_cxsubix;
#else
    I32 ix = si->si_cxix;
    for (; ix >= 0; ix--) {
        const U8 type = CxTYPE(&si->si_cxstack[ix]);
        /* Every eval counts: try blocks, which si_cxsubix skips, came
         * after it (5.34). */
        if (type == CXt_SUB || type == CXt_FORMAT || type == CXt_EVAL)
            break;
    }
    return ix;
#endif
}

/* The CV of a sub-like context: its sub's or format's, or its eval's. */
static inline const void *frame_cv(const PERL_CONTEXT *cx)
{
    return CxTYPE(cx) == CXt_EVAL ? (const void *)cx->blk_eval.cv : (const void *)cx->blk_sub.cv;
}

/* Whether this thread's recorder profiles the running interpreter. */
static inline int memprof_ours(pTHX_ const struct memprof_tls *t)
{
    return t->recorder != NULL && t->interp == MP_INTERP;
}

/* The node memo's first slot for a call (the recorder fills it:
 * memprof_node_memo_slot; the second is its neighbour, slot ^ 1): the top
 * bits of a Fibonacci hash, as many as the memo's size has (64 - shift). */
static inline uint32_t node_memo_index(uint8_t shift, uint32_t parent, const void *oldcop, const void *cv)
{
    const uint64_t h = ((uint64_t)(uintptr_t)oldcop ^ ((uint64_t)(uintptr_t)cv << 7) ^ parent)
                       * UINT64_C(0x9E3779B97F4A7C15);
    return (uint32_t)(h >> shift);
}

/* Whether a node memo slot holds this call. */
static inline int node_memo_is(const struct memprof_node_memo *nm, uint32_t parent, const void *oldcop, const void *cv,
                               const void *start, uint64_t generation)
{
    return nm->child.valid && nm->parent == parent && nm->child.oldcop == oldcop && nm->child.cv == cv
           && nm->child.start == start && nm->child.generation == generation;
}

uint32_t memprof_node_memo_slot(uint8_t shift, uint32_t parent, const void *oldcop, const void *cv)
{
    return node_memo_index(shift, parent, oldcop, cv);
}

uint32_t memprof_frame_start_slot(const void *cop) { return memprof_frame_start_bit(cop); }

uint32_t memprof_entry_memo_slot(uint8_t shift, uint32_t node, uint32_t file, uint32_t line)
{
    return memprof_entry_memo_index(shift, node, file, line);
}

#ifdef MEMPROF_HAVE_CXSUBIX
/* eval {} and try blocks: frames of their own with their caller's node. */
#ifdef CXp_EVALBLOCK
#define MEMPROF_CXP_EVALBLOCK CXp_EVALBLOCK
#else
#define MEMPROF_CXP_EVALBLOCK CXp_TRYBLOCK
#endif
#ifdef CXp_TRY
#define MEMPROF_CXP_TRY CXp_TRY
#else
#define MEMPROF_CXP_TRY 0
#endif

/* Push the frame at (si, ix), called from the shadow's top frame (or from
 * the main program: memo is then the root's), as its node.  Returns 0
 * when the recorder must resolve it: a call the memos do not know. */
static inline __attribute__((always_inline)) int shadow_push(struct memprof_tls *t, uint32_t len,
                                                             const PERL_SI *si, uint32_t level, I32 ix,
                                                             const void *cv, const void *oldcop, int eval_block,
                                                             struct memprof_child_memo *memo, uint32_t parent)
{
    struct memprof_shadow_frame *const sh = t->shadow;
    const PERL_CONTEXT *const cx = &si->si_cxstack[ix];
    if (len >= t->shadow_cap)
        return 0;
    uint32_t node = parent;
    if (!eval_block) {
        const void *const start = (const void *)CvSTART((const CV *)cv);
        if (!memo->valid || memo->oldcop != oldcop || memo->cv != cv || memo->start != start
            || memo->generation != t->cop_generation) {
            /* Not the last child: maybe one the recorder resolved before,
             * in either of its call's two slots. */
            if (t->node_memo == NULL)
                return 0;
            const uint32_t slot = node_memo_index(t->node_memo_shift, parent, oldcop, cv);
            const struct memprof_node_memo *nm = &t->node_memo[slot];
            if (!node_memo_is(nm, parent, oldcop, cv, start, t->cop_generation)) {
                nm = &t->node_memo[slot ^ 1];
                if (!node_memo_is(nm, parent, oldcop, cv, start, t->cop_generation))
                    return 0;
            }
            *memo = nm->child;
        }
        if (memo->compile_time)
            return 0;
        node = memo->node;
    }
    /* The frame that last stood here keeps its memo if it had this node
     * (the recorder zeroes the buffer it publishes). */
    struct memprof_shadow_frame *const f = &sh[len];
    if (f->node != node)
        f->memo.valid = 0;
    f->si = si;
    f->level = level;
    f->ix = ix;
    f->ctype = cx->cx_type;
    f->compile_time = 0;
    f->cv = cv;
    f->oldcop = oldcop;
    f->node = node;
    t->shadow_len = len + 1;
    t->cur_node = node;
    return 1;
}

/* Back in the frame at the top of the first len of the shadow, if it is
 * the one there (the same kind of context, sub and call site). */
static inline __attribute__((always_inline)) int shadow_resume(struct memprof_tls *t, uint32_t len,
                                                               const PERL_CONTEXT *cx, const void *cv,
                                                               const void *oldcop)
{
    const struct memprof_shadow_frame *const top = &t->shadow[len - 1];
    if (top->ctype != cx->cx_type || top->cv != cv || top->oldcop != oldcop)
        return 0;
    t->shadow_len = len;
    t->cur_node = top->node;
    return 1;
}

/* Whether the context at (si, ix) is a frame the runloop may push: a sub
 * (not a regex code block's) or an eval {} or try block (*eval_block);
 * *caller is the sub-like context below it on its stackinfo, or -1. */
static inline int shadow_pushable(const PERL_CONTEXT *cx, int *eval_block, I32 *caller)
{
    *eval_block = CxTYPE(cx) == CXt_EVAL && (cx->cx_type & (MEMPROF_CXP_EVALBLOCK | MEMPROF_CXP_TRY));
    *caller = *eval_block ? cx->blk_eval.old_cxsubix : cx->blk_sub.old_cxsubix;
    return *eval_block || (CxTYPE(cx) == CXt_SUB && !(cx->cx_type & (CXp_SUB_RE | CXp_SUB_RE_FAKE)));
}

/* Back at the main program's top level, if the shadow holds nothing more
 * (the first len frames are all that is left) and the runloop may say so. */
static inline __attribute__((always_inline)) int shadow_to_main(struct memprof_tls *t, uint32_t len)
{
    if (len != 0 || t->shadow_fast != MEMPROF_SHADOW_ALL)
        return 0;
    t->shadow_len = 0;
    t->cur_node = t->main_node;
    return 1;
}

/* memprof_shadow_step across stackinfos.  The frames of a sort sub, a
 * MULTICALL block (List::Util's first and any), DESTROY, tie and overload
 * methods run on a stackinfo of their own, whose bottom frame's caller is
 * the innermost frame of the stackinfo below (as the recorder's walk
 * links them); a sort block has no frame and runs in that one.  Frames of
 * a stackinfo since popped are deeper than the current one's. */
static int memprof_shadow_step_outer(pTHX_ struct memprof_tls *t, const PERL_SI *si, I32 ix, const void *cv,
                                     const void *oldcop)
{
    const struct memprof_shadow_frame *const sh = t->shadow;
    uint32_t len = t->shadow_len;
    uint32_t level = 0; /* the stackinfo's depth, as the shadow counts it */
    for (const PERL_SI *s = si->si_prev; s != NULL; s = s->si_prev)
        level++;
    if (ix < 0 && si->si_prev != NULL) {
        do {
            si = si->si_prev;
            level--;
            ix = memprof_cxsubix(si);
        } while (ix < 0 && si->si_prev != NULL);
        if (ix >= 0) {
            const PERL_CONTEXT *const cx = &si->si_cxstack[ix];
            cv = frame_cv(cx);
            oldcop = cx->blk_oldcop;
        }
    }
    while (len > 0 && (sh[len - 1].level > level || (sh[len - 1].level == level && sh[len - 1].ix > ix))) {
        if (sh[len - 1].compile_time)
            return 0;
        len--;
    }
    if (ix < 0)
        return shadow_to_main(t, len);
    const PERL_CONTEXT *const cx = &si->si_cxstack[ix];
    if (len > 0 && sh[len - 1].si == si && sh[len - 1].level == level && sh[len - 1].ix == ix)
        return shadow_resume(t, len, cx, cv, oldcop);
    int eval_block;
    I32 caller;
    if (!shadow_pushable(cx, &eval_block, &caller))
        return 0;
    const PERL_SI *caller_si = si;
    uint32_t caller_level = level;
    while (caller < 0 && caller_si->si_prev != NULL) {
        caller_si = caller_si->si_prev;
        caller_level--;
        caller = memprof_cxsubix(caller_si);
    }
    if (len > 0 && sh[len - 1].si == caller_si && sh[len - 1].level == caller_level && sh[len - 1].ix == caller)
        return shadow_push(t, len, si, level, ix, cv, oldcop, eval_block, &t->shadow[len - 1].memo,
                           sh[len - 1].node);
    if (len == 0 && caller < 0)
        return shadow_push(t, len, si, level, ix, cv, oldcop, eval_block, &t->root_memo, t->main_node);
    return 0;
}

/* A change of the innermost frame resolved against the recorder's shadow
 * stack without calling it: a return to a frame the shadow holds, or a
 * call of the same sub from the same place as its caller's last call.
 * Frames can only leave perl's context stack at a boundary we see (a
 * return restores the caller's PL_curcop), so the shadow below the change
 * is still right.  What crosses stackinfos goes to the outer step; returns
 * 0 for anything else (evals, compile time, a first call), which the
 * recorder resolves. */
static int memprof_shadow_step(pTHX_ struct memprof_tls *t, const PERL_SI *si, I32 ix, const void *cv,
                               const void *oldcop)
{
    struct memprof_shadow_frame *const sh = t->shadow;
    uint32_t len = t->shadow_len;
    while (len > 0 && sh[len - 1].si == si && sh[len - 1].ix > ix) {
        if (sh[len - 1].compile_time) /* the compiler resumes: the recorder knows how */
            return 0;
        len--;
    }
    if (ix < 0) {
        if (len != 0 || si->si_prev != NULL)
            return memprof_shadow_step_outer(aTHX_ t, si, ix, cv, oldcop);
        return shadow_to_main(t, 0);
    }
    const PERL_CONTEXT *const cx = &si->si_cxstack[ix];
    if (len > 0 && sh[len - 1].si == si && sh[len - 1].ix == ix)
        return shadow_resume(t, len, cx, cv, oldcop);
    int eval_block;
    I32 caller;
    if (!shadow_pushable(cx, &eval_block, &caller))
        return 0;
    if (len > 0 && sh[len - 1].si == si && sh[len - 1].ix == caller)
        return shadow_push(t, len, si, sh[len - 1].level, ix, cv, oldcop, eval_block, &sh[len - 1].memo,
                           sh[len - 1].node);
    if (len == 0 && caller < 0 && si->si_prev == NULL)
        return shadow_push(t, len, si, 0, ix, cv, oldcop, eval_block, &t->root_memo, t->main_node);
    return memprof_shadow_step_outer(aTHX_ t, si, ix, cv, oldcop);
}
#else
/* Without si_cxsubix the caller's index is a search away: the recorder
 * resolves every change. */
static inline int memprof_shadow_step(pTHX_ struct memprof_tls *t, const PERL_SI *si, I32 ix, const void *cv,
                                      const void *oldcop)
{
    PERL_UNUSED_ARG(t);
    PERL_UNUSED_ARG(si);
    PERL_UNUSED_ARG(ix);
    PERL_UNUSED_ARG(cv);
    PERL_UNUSED_ARG(oldcop);
    return 0;
}
#endif

/* Log what moved since the last credit as one record for the current
 * location, without calling the recorder; returns 0 when the recorder
 * must take it itself: the timeline's turn, and what happens while
 * threads share the tables (their merge reads the figures from another
 * thread). */
static inline __attribute__((always_inline)) int log_credit(struct memprof_tls *t, int64_t sv_count)
{
    const uint32_t entry = t->cur_site < MEMPROF_NO_SITE ? t->cur_site : memprof_entry_memo_find(t);
    if (t->credit_log == NULL || t->credit_log_len >= MEMPROF_CREDIT_LOG_SIZE || !t->credit_fast
        || t->tick_countdown == 0 || __atomic_load_n(&memprof_sites_shared, __ATOMIC_RELAXED))
        return 0;
    struct memprof_credit *r = &t->credit_log[t->credit_log_len++];
    r->node = t->cur_node;
    r->file = t->cur_file;
    r->line = t->cur_line;
    r->entry = entry;
    r->sv_delta = sv_count - t->snap_sv_count;
    r->alloc_bytes = t->alloc_bytes - t->snap_alloc_bytes;
    r->alloc_count = t->alloc_count - t->snap_alloc_count;
    r->free_bytes = t->free_bytes - t->snap_free_bytes;
    r->free_count = t->free_count - t->snap_free_count;
    t->snap_sv_count = sv_count;
    t->snap_alloc_bytes = t->alloc_bytes;
    t->snap_alloc_count = t->alloc_count;
    t->snap_free_bytes = t->free_bytes;
    t->snap_free_count = t->free_count;
    t->tick_countdown--;
    if (t->peak > t->snap_peak) {
        /* A new peak: noted for the recorder. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        t->snap_peak = t->peak;
        t->peak_live = t->peak;
        t->peak_entry = entry;
        t->peak_node = t->cur_node;
        t->peak_file = t->cur_file;
        t->peak_line = t->cur_line;
        t->peak_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        t->peak_noted = 1;
    }
    return 1;
}

/* The parser's line counter moved (the allocation hooks see it): what
 * moved so far belongs to the line before, logged as at a boundary. */
void memprof_compile_line_moved(struct memprof_tls *t)
{
    MP_dTHX(t->interp);
    if (t->recorder != NULL && log_credit(t, (int64_t)PL_sv_count)) {
        t->cur_line = *t->compile_line;
        t->cur_site = MEMPROF_UNRESOLVED;
        return;
    }
    memprof_rs_compile_line(t);
}

static void memprof_boundary(pTHX_ struct memprof_tls *t)
{
    const COP *const cop = PL_curcop;
    t->last_cop = cop;
    if (!memprof_ours(aTHX_ t)) {
        t->id.pad = NULL;
        return;
    }
    if (UNLIKELY(t->fresh_child))
        t->fresh_child = 0;

    const int64_t sv_count = (int64_t)PL_sv_count;
    const int moved = t->alloc_count != t->snap_alloc_count || t->free_count != t->snap_free_count;
    if (moved) {
        if (!log_credit(t, sv_count))
            memprof_rs_flush(MP_INTERP, t, sv_count);
    } else if (sv_count != t->snap_sv_count) {
        const uint32_t entry = memprof_entry_memo_find(t);
        if (entry < t->sv_by_entry_len) {
            t->sv_by_entry[entry] += sv_count - t->snap_sv_count;
            t->snap_sv_count = sv_count;
        } else if (t->sv_log != NULL && t->sv_log_len < MEMPROF_SV_LOG_SIZE) {
            struct memprof_sv_record *r = &t->sv_log[t->sv_log_len++];
            r->node = t->cur_node;
            r->file = t->cur_file;
            r->line = t->cur_line;
            r->delta = (int32_t)(sv_count - t->snap_sv_count);
            t->snap_sv_count = sv_count;
        } else {
            memprof_rs_flush(MP_INTERP, t, sv_count);
        }
    }
    if (t->recorder == NULL) /* the flush finished the profile */
        return;

    /* Identity of the innermost frame: its sub, format or eval context.
     * (Taking the same pad and stackinfo as the same frame here too, as
     * memprof_quick_boundary does, cost the calls more than it saved.) */
    const PERL_SI *const si = PL_curstackinfo;
    const I32 ix = memprof_cxsubix(si);
    const void *cv = NULL;
    const void *oldcop = NULL;
    const uint8_t compiling = cop_is_compile_time(aTHX_ cop);
    int resolved = compiling;
    if (ix >= 0) {
        const PERL_CONTEXT *const cx = &si->si_cxstack[ix];
        cv = frame_cv(cx);
        oldcop = cx->blk_oldcop;
    }
    struct memprof_identity *const id = &t->id;
    const void *const pad = PL_comppad;
    if (si != id->si || ix != id->ix || cv != id->cv || oldcop != id->oldcop || compiling != id->compiling) {
        if (!compiling && t->shadow_fast && memprof_shadow_step(aTHX_ t, si, ix, cv, oldcop)) {
            resolved = 0;
        } else {
            resolved = memprof_rs_sync(MP_INTERP, t, cop);
        }
        id->si = si;
        id->ix = ix;
        id->cv = cv;
        id->oldcop = oldcop;
        id->compiling = compiling;
    }
    /* Compile time is never the quick path's: perl's line moves under it. */
    id->pad = compiling ? NULL : pad;
    if (!resolved) {
        struct memprof_file_slot *slot = file_slot(t, cop);
        if (slot->cop == cop) {
            t->cur_file = slot->file;
        } else {
            t->cur_file = memprof_rs_file_id(MP_INTERP, t, cop);
            if (cop->op_slabbed) {
                slot->file = t->cur_file;
                slot->cop = cop;
            }
        }
        t->cur_line = CopLINE(cop);
        t->compile_line = NULL;
    }
    t->cur_site = MEMPROF_UNRESOLVED;
}

/* The usual boundary, inlined into the runloop: nothing was allocated,
 * freed or made since the last one and the frame is the same (its pad and
 * stackinfo are), so only the line moves.  Returns 0 for the full one. */
static inline int memprof_quick_boundary(pTHX_ struct memprof_tls *t)
{
    const COP *const cop = PL_curcop;
    if (t->alloc_count != t->snap_alloc_count || t->free_count != t->snap_free_count
        || (int64_t)PL_sv_count != t->snap_sv_count || PL_comppad != t->id.pad || t->id.pad == NULL
        || PL_curstackinfo != t->id.si || !cop->op_slabbed)
        return 0;
    const struct memprof_file_slot *const slot = file_slot(t, cop);
    if (slot->cop != cop)
        return 0;
    t->last_cop = cop;
    t->cur_file = slot->file;
    t->cur_line = CopLINE(cop);
    t->compile_line = NULL;
    t->cur_site = MEMPROF_UNRESOLVED;
    return 1;
}

void memprof_force_boundary(void *interp)
{
    MP_dTHX(interp);
    memprof_boundary(aTHX_ & memprof_tls_data);
}

/* run.c: Perl_runops_standard, plus one comparison per op. */
static int memprof_runops(pTHX)
{
    struct memprof_tls *const t = &memprof_tls_data;
    OP *op = PL_op;
    /* A new ithread's interpreter has our runloop (perl_clone copies
     * PL_runops) but its OS thread has no recorder yet. */
    if (UNLIKELY(t->recorder == NULL))
        memprof_rs_thread_start(MP_INTERP, t);
    if (PL_curcop != t->last_cop)
        memprof_boundary(aTHX_ t);
    while ((PL_op = op = op->op_ppaddr(aTHX))) {
        if (UNLIKELY(PL_curcop != t->last_cop) && !memprof_quick_boundary(aTHX_ t))
            memprof_boundary(aTHX_ t);
    }
    if (PL_curcop != t->last_cop)
        memprof_boundary(aTHX_ t);
    PERL_ASYNC_CHECK();
    TAINT_NOT;
    return 0;
}

/* The main program's last op (pp_leave of PL_main_root) frees the file's
 * lexicals: that belongs to the end of the run, not to its last statement. */
static OP *(*memprof_orig_main_leave)(pTHX);

static OP *memprof_pp_main_leave(pTHX)
{
    struct memprof_tls *const t = &memprof_tls_data;
    if (memprof_ours(aTHX_ t)) {
        memprof_boundary(aTHX_ t);
        memprof_rs_main_done(MP_INTERP, t);
    }
    return memprof_orig_main_leave(aTHX);
}

void memprof_patch_main_leave(void *interp)
{
    MP_dTHX(interp);
    if (PL_main_root != NULL && PL_main_root->op_ppaddr != memprof_pp_main_leave) {
        memprof_orig_main_leave = PL_main_root->op_ppaddr;
        PL_main_root->op_ppaddr = memprof_pp_main_leave;
    }
}

/* pp_ctl.c: S_doeval_compile calls this with PL_curcop already set to
 * &PL_compiling and the new eval context pushed: the compile starts here. */
static void memprof_bhk_eval(pTHX_ OP *const saveop)
{
    struct memprof_tls *const t = &memprof_tls_data;
    PERL_UNUSED_ARG(saveop);
    if (!memprof_ours(aTHX_ t))
        return;
    memprof_rs_eval_compile(MP_INTERP, t);
    memprof_boundary(aTHX_ t);
}

/* A freed COP's address can come back as another statement: forget it. */
static Perl_ophook_t memprof_prev_opfreehook;

static void memprof_opfreehook(pTHX_ OP *o)
{
    if (o->op_type == OP_NEXTSTATE || o->op_type == OP_DBSTATE) {
        struct memprof_tls *const t = &memprof_tls_data;
        if (t->file_cache != NULL) {
            struct memprof_file_slot *slot = file_slot(t, o);
            if (slot->cop == o)
                slot->cop = NULL;
        }
        if (t->last_cop == o)
            t->last_cop = NULL;
        t->cop_generation++;
        if (t->frame_starts != NULL) {
            const uint32_t bit = memprof_frame_start_bit(o);
            if (t->frame_starts[bit >> 6] & (UINT64_C(1) << (bit & 63))) {
                if (t->freed_starts_len < MEMPROF_FREED_STARTS)
                    t->freed_starts[t->freed_starts_len++] = o;
                else
                    t->freed_starts_lost = 1;
            }
        }
    }
    if (memprof_prev_opfreehook != NULL)
        memprof_prev_opfreehook(aTHX_ o);
}

static BHK memprof_bhk;

void memprof_install_perl_hooks(void *interp)
{
    MP_dTHX(interp);
    PL_runops = memprof_runops;
    if (!(BhkFLAGS(&memprof_bhk) & BHKf_bhk_eval)) {
        BhkENTRY_set(&memprof_bhk, bhk_eval, memprof_bhk_eval);
        Perl_blockhook_register(aTHX_ & memprof_bhk);
    }
    if (PL_opfreehook != memprof_opfreehook) {
        memprof_prev_opfreehook = PL_opfreehook;
        PL_opfreehook = memprof_opfreehook;
    }
}

/* perl_destruct runs PL_exitlist after END blocks and global destruction:
 * the fallback for runs whose END blocks never ran (perl -c, exit in a
 * BEGIN block before ours was compiled). */
static void memprof_atexit(pTHX_ void *arg)
{
    PERL_UNUSED_ARG(arg);
    memprof_rs_end_of_run(MP_INTERP);
}

void memprof_register_exit(void *interp)
{
    MP_dTHX(interp);
    Perl_call_atexit(aTHX_ memprof_atexit, NULL);
}

/* measure() outside a profile: nothing takes statement boundaries, so the
 * hooks would credit the whole block to one place.  This runloop only
 * tells them that a new statement began, so that the next allocation asks
 * the recorder for PL_curcop's line (memprof_rs_current_site). */
int memprof_measure_runops(pTHX)
{
    struct memprof_tls *const t = &memprof_tls_data;
    OP *op = PL_op;
    while ((PL_op = op = op->op_ppaddr(aTHX))) {
        if (UNLIKELY(PL_curcop != t->last_cop)) {
            t->last_cop = PL_curcop;
            t->cur_site = MEMPROF_UNRESOLVED;
        }
    }
    PERL_ASYNC_CHECK();
    TAINT_NOT;
    return 0;
}

/*
 * Attaching to a running perl (memprof attach).  The debugger stops the
 * process at a statement (Perl_pp_nextstate's entry) and calls
 * memprof_attach, which calls this.  The runloop already running cannot be
 * replaced, so the op it runs next runs memprof_attach_trampoline instead:
 * that op, and every op after it, then run under our loop.  When that loop
 * reaches the end of its level (NULL) it returns NULL, and the runloop
 * below ends as it would have; after a detach it hands the next op back,
 * and the runloop below goes on as if we had never been there.
 */
static OP *memprof_attach_op;
static OP *(*memprof_attach_op_ppaddr)(pTHX);
static int (*memprof_attach_prev_runops)(pTHX);
static volatile int memprof_detaching;

static OP *memprof_attach_trampoline(pTHX)
{
    struct memprof_tls *const t = &memprof_tls_data;
    OP *op = PL_op;
    if (op == memprof_attach_op && memprof_attach_op_ppaddr != NULL) {
        op->op_ppaddr = memprof_attach_op_ppaddr;
        memprof_attach_op_ppaddr = NULL;
    }
    if (PL_curcop != t->last_cop)
        memprof_boundary(aTHX_ t);
    op = op->op_ppaddr(aTHX);
    while (op != NULL && !memprof_detaching) {
        PL_op = op;
        if (UNLIKELY(PL_curcop != t->last_cop))
            memprof_boundary(aTHX_ t);
        op = op->op_ppaddr(aTHX);
    }
    return op;
}

void *memprof_current_interp(void)
{
#ifdef MULTIPLICITY
    return PERL_GET_THX;
#else
    return NULL;
#endif
}

int memprof_attach_runloop(void *interp)
{
    MP_dTHX(interp);
    OP *next = PL_op != NULL ? PL_op->op_next : NULL;
    if (next == NULL || next->op_ppaddr == memprof_attach_trampoline)
        return -1;
    memprof_detaching = 0;
    memprof_attach_prev_runops = PL_runops;
    memprof_attach_op = next;
    memprof_attach_op_ppaddr = next->op_ppaddr;
    next->op_ppaddr = memprof_attach_trampoline;
    return 0;
}

void memprof_detach_runloop(void *interp)
{
    MP_dTHX(interp);
    memprof_detaching = 1;
    if (memprof_attach_op_ppaddr != NULL) {
        /* Detached before the patched op ran. */
        memprof_attach_op->op_ppaddr = memprof_attach_op_ppaddr;
        memprof_attach_op_ppaddr = NULL;
    }
    if (memprof_attach_prev_runops != NULL && PL_runops == memprof_runops)
        PL_runops = memprof_attach_prev_runops;
}
