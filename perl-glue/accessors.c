/*
 * accessors.c: Perl's macro accessors, wrapped as functions for Rust.
 *
 * These are on the slow path only (frame naming, file look-ups, the
 * profile writer).  None of them allocates: naming a sub goes through
 * CvNAME_HEK/GvNAME/HvNAME, never through CvGV of a lexically named sub,
 * which would create a GV.
 */
#include "glue.h"

void *memprof_curcop(void *interp)
{
    MP_dTHX(interp);
    return PL_curcop;
}

void *memprof_compiling_cop(void *interp)
{
    MP_dTHX(interp);
    return &PL_compiling;
}

const uint32_t *memprof_compiling_line(void *interp)
{
    MP_dTHX(interp);
    /* line_t is U32 on every perl (cop.h). */
    return (const uint32_t *)&PL_compiling.cop_line;
}

void *memprof_curstackinfo(void *interp)
{
    MP_dTHX(interp);
    return PL_curstackinfo;
}

int memprof_parser_active(void *interp)
{
    MP_dTHX(interp);
    return PL_parser != NULL;
}

int memprof_phase(void *interp)
{
    MP_dTHX(interp);
    return (int)PL_phase;
}

int64_t memprof_sv_count(void *interp)
{
    MP_dTHX(interp);
    return (int64_t)PL_sv_count;
}

const char *memprof_cop_file(const void *cop)
{
    return CopFILE((const COP *)cop);
}

uint32_t memprof_cop_line(const void *cop)
{
    return (uint32_t)CopLINE((const COP *)cop);
}

const char *memprof_cv_name(void *interp, const void *cvp, const char **pkg, size_t *pkg_len,
                            size_t *name_len, int *is_anon, int *utf8)
{
    MP_dTHX(interp);
    CV *const cv = (CV *)cvp;
    const char *name = NULL;
    STRLEN len = 0;
    HV *stash = NULL;

    *pkg = NULL;
    *pkg_len = 0;
    *is_anon = CvANON(cv) ? 1 : 0;
    *utf8 = 0;
    if (CvNAMED(cv)) {
        HEK *const hek = CvNAME_HEK(cv);
        if (hek != NULL) {
            name = HEK_KEY(hek);
            len = HEK_LEN(hek);
            if (HEK_UTF8(hek))
                *utf8 |= MEMPROF_NAME_UTF8;
        }
        stash = CvSTASH(cv);
    } else {
        /* Not CvNAMED, so this reads the stored GV and creates nothing. */
        GV *const gv = CvGV(cv);
        if (gv != NULL && isGV_with_GP(gv)) {
            name = GvNAME(gv);
            len = GvNAMELEN(gv);
            stash = GvSTASH(gv);
            if (GvNAMEUTF8(gv))
                *utf8 |= MEMPROF_NAME_UTF8;
        }
        if (stash == NULL)
            stash = CvSTASH(cv);
    }
    if (stash != NULL && SvTYPE(stash) == SVt_PVHV) {
        const char *const hvname = HvNAME_get(stash);
        if (hvname != NULL) {
            *pkg = hvname;
            *pkg_len = HvNAMELEN_get(stash);
            if (HvNAMEUTF8(stash))
                *utf8 |= MEMPROF_PKG_UTF8;
        }
    }
    *name_len = len;
    return name;
}

const void *memprof_cv_start_op(const void *cvp)
{
    const CV *const cv = (const CV *)cvp;
    return CvISXSUB(cv) ? NULL : (const void *)CvSTART(cv);
}

const void *memprof_cv_name_id(void *interp, const void *cvp)
{
    MP_dTHX(interp);
    const CV *const cv = (const CV *)cvp;
#ifdef CvNAMED
    if (CvNAMED(cv))
        return (const void *)CvNAME_HEK((CV *)cv);
#endif
    return (const void *)CvGV(cv);
}

const void *memprof_cv_start_cop(const void *cvp)
{
    const CV *const cv = (const CV *)cvp;
    if (CvISXSUB(cv))
        return NULL;
    /* The body usually starts with a nextstate; signatures and
     * optimised-away ops can put a few ops before it. */
    const OP *o = CvSTART(cv);
    for (int i = 0; o != NULL && i < 8; i++, o = o->op_next)
        if (o->op_type == OP_NEXTSTATE || o->op_type == OP_DBSTATE)
            return o;
    return NULL;
}

const char *memprof_sv_pv(const void *svp, size_t *len)
{
    const SV *const sv = (const SV *)svp;
    if (sv == NULL || !SvPOK(sv))
        return NULL;
    *len = SvCUR(sv);
    return SvPVX_const(sv);
}

int memprof_origargc(void *interp)
{
    MP_dTHX(interp);
    return PL_origargc;
}

char **memprof_origargv(void *interp)
{
    MP_dTHX(interp);
    return PL_origargv;
}

const char *memprof_origfilename(void *interp)
{
    MP_dTHX(interp);
    return PL_origfilename;
}

const char *memprof_perl_version(void)
{
    return PERL_VERSION_STRING;
}

/* sv.c keeps these two private; their layout has not changed since 5.10.
 * Body arenas are listed in arena sets, each itself an allocation. */
struct memprof_arena_desc {
    char *arena;
    size_t size;
    svtype utype;
};

struct memprof_arena_set {
    struct memprof_arena_set *next;
    unsigned int set_size;
    unsigned int curr;
    struct memprof_arena_desc set[1];
};

/* The blocks perl keeps for reuse and never gives back while running: SV
 * head and body arenas, and its stacks (argument, context, mortal, mark,
 * scope and save stacks), which grow and never shrink. */
void memprof_for_each_arena(void *interp, void (*each)(void *ctx, const void *block), void *ctx)
{
    MP_dTHX(interp);
    PERL_SI *si = PL_curstackinfo;
    while (si != NULL && si->si_prev != NULL)
        si = si->si_prev;
    for (; si != NULL; si = si->si_next) {
        each(ctx, si);
        if (si->si_cxstack != NULL)
            each(ctx, si->si_cxstack);
        if (si->si_stack != NULL && AvALLOC(si->si_stack) != NULL)
            each(ctx, AvALLOC(si->si_stack));
    }
    if (PL_tmps_stack != NULL)
        each(ctx, PL_tmps_stack);
    if (PL_markstack != NULL)
        each(ctx, PL_markstack);
    if (PL_scopestack != NULL)
        each(ctx, PL_scopestack);
    if (PL_savestack != NULL)
        each(ctx, PL_savestack);
    /* sv.c: sv_add_arena links SV head arenas through their first SV's SvANY. */
    for (SV *arena = PL_sv_arenaroot; arena != NULL; arena = (SV *)SvANY(arena))
        each(ctx, arena);
    for (struct memprof_arena_set *set = (struct memprof_arena_set *)PL_body_arenas; set != NULL;
         set = set->next) {
        each(ctx, set);
        for (unsigned int i = 0; i < set->curr && i < set->set_size; i++)
            if (set->set[i].arena != NULL)
                each(ctx, set->set[i].arena);
    }
}

/* The shared string table's bucket array: like the arenas it doubles as
 * the program's distinct hash keys grow and never shrinks, so a block that
 * made a thousand keys and freed them leaves it bigger (and whether it
 * doubles inside a block depends on how many keys, %ENV's among them, came
 * before). Kept apart from memprof_for_each_arena, which the heap walker
 * also uses: it accounts the table as a root of its own. */
const void *memprof_strtab_array(void *interp)
{
    MP_dTHX(interp);
    return PL_strtab != NULL ? (const void *)HvARRAY(PL_strtab) : NULL;
}

/* Call a Perl sub as ($package, $file, $line, $bytes), trapping any die. */
void memprof_call_trace_callback(void *interp, void *callback, const char *pkg, const char *file,
                                 uint32_t line, int64_t bytes)
{
    MP_dTHX(interp);
    dSP;
    ENTER;
    SAVETMPS;
    PUSHMARK(SP);
    EXTEND(SP, 4);
    PUSHs(sv_2mortal(newSVpv(pkg, 0)));
    PUSHs(sv_2mortal(newSVpv(file, 0)));
    PUSHs(sv_2mortal(newSVuv(line)));
    PUSHs(sv_2mortal(newSViv((IV)bytes)));
    PUTBACK;
    call_sv((SV *)callback, G_DISCARD | G_EVAL);
    FREETMPS;
    LEAVE;
}

void *memprof_sv_ref(void *interp, void *sv)
{
    MP_dTHX(interp);
    return SvREFCNT_inc((SV *)sv);
}

void memprof_sv_unref(void *interp, void *sv)
{
    MP_dTHX(interp);
    SvREFCNT_dec((SV *)sv);
}

/* Walk a stash and the stashes below it ("Foo::" entries) for XSUBs.  The
 * buckets are read directly, so no iterator the program uses is reset;
 * `budget` bounds the walk when stashes alias each other in a cycle. */
static void xsubs_in(pTHX_ HV *stash, int depth, long *budget,
                     void (*each)(void *, const void *, const char *, size_t, const char *, size_t),
                     void *ctx)
{
    if (depth > 32 || HvARRAY(stash) == NULL || HvNAME_HEK(stash) == NULL)
        return;
    const char *const pkg = HvNAME_get(stash);
    const size_t pkg_len = HvNAMELEN_get(stash);
    for (STRLEN i = 0; i <= HvMAX(stash); i++) {
        for (HE *he = HvARRAY(stash)[i]; he != NULL; he = HeNEXT(he)) {
            if (--*budget < 0)
                return;
            SV *const v = HeVAL(he);
            if (v == NULL || HeKLEN(he) < 0)
                continue;
            const char *const key = HeKEY(he);
            const size_t key_len = (size_t)HeKLEN(he);
            CV *cv = NULL;
            if (SvTYPE(v) == SVt_PVGV && isGV_with_GP(v)) {
                cv = GvCVu((GV *)v);
                HV *const sub = GvHV((GV *)v);
                if (key_len > 2 && key[key_len - 2] == ':' && key[key_len - 1] == ':' && sub != NULL
                    && sub != stash && sub != PL_defstash)
                    xsubs_in(aTHX_ sub, depth + 1, budget, each, ctx);
            } else if (SvROK(v) && SvTYPE(SvRV(v)) == SVt_PVCV) {
                cv = (CV *)SvRV(v);
            }
            if (cv != NULL && CvISXSUB(cv) && CvXSUB(cv) != NULL)
                each(ctx, (const void *)CvXSUB(cv), pkg, pkg_len, key, key_len);
        }
    }
}

void memprof_for_each_xsub(void *interp,
                           void (*each)(void *ctx, const void *fn, const char *pkg, size_t pkg_len,
                                        const char *name, size_t name_len),
                           void *ctx)
{
    MP_dTHX(interp);
    long budget = 1000000;
    if (PL_defstash != NULL)
        xsubs_in(aTHX_ PL_defstash, 0, &budget, each, ctx);
}
