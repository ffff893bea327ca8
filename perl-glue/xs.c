/*
 * xs.c: the XSUBs of Devel::MemProf.  They only unpack their arguments
 * (macros) and call into Rust.
 */
#include "glue.h"

static const char *string_arg(pTHX_ SV *sv, STRLEN *len)
{
    if (!SvOK(sv)) {
        *len = 0;
        return NULL;
    }
    return SvPV(sv, *len);
}

XS_EXTERNAL(XS_DB_enable_profile)
{
    dXSARGS;
    STRLEN len = 0;
    const char *file = NULL;
    if (items > 1)
        croak_xs_usage(cv, "[file]");
    if (items == 1)
        file = string_arg(aTHX_ ST(0), &len);
    memprof_rs_enable(MP_INTERP, file, len);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_DB_disable_profile)
{
    dXSARGS;
    if (items != 0)
        croak_xs_usage(cv, "");
    memprof_rs_disable(MP_INTERP);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_DB_finish_profile)
{
    dXSARGS;
    if (items != 0)
        croak_xs_usage(cv, "");
    memprof_rs_finish(MP_INTERP);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_Devel__MemProf_mark)
{
    dXSARGS;
    STRLEN len = 0;
    const char *label;
    if (items != 1)
        croak_xs_usage(cv, "label");
    label = string_arg(aTHX_ ST(0), &len);
    memprof_rs_mark(MP_INTERP, label ? label : "", len);
    XSRETURN_EMPTY;
}

/* snapshot($label): a heap snapshot now (heap.c, recorder/src/recorder/heap.rs). */
XS_EXTERNAL(XS_Devel__MemProf_snapshot)
{
    dXSARGS;
    STRLEN len = 0;
    const char *label = NULL;
    if (items > 1)
        croak_xs_usage(cv, "[label]");
    if (items == 1)
        label = string_arg(aTHX_ ST(0), &len);
    memprof_rs_snapshot(MP_INTERP, label ? label : "", len);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_Devel__MemProf__end_of_run)
{
    dXSARGS;
    PERL_UNUSED_VAR(items);
    memprof_rs_end_of_run(MP_INTERP);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_Devel__MemProf_set_callback)
{
    dXSARGS;
    SV *cb;
    if (items != 1)
        croak_xs_usage(cv, "coderef_or_undef");
    cb = ST(0);
    if (SvOK(cb) && !(SvROK(cb) && SvTYPE(SvRV(cb)) == SVt_PVCV))
        croak("Devel::MemProf::set_callback: not a code reference");
    memprof_rs_set_callback(MP_INTERP, SvOK(cb) ? (void *)SvRV(cb) : NULL);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_Devel__MemProf__sigexit_signals)
{
    dXSARGS;
    PERL_UNUSED_VAR(items);
    ST(0) = sv_2mortal(newSVpv(memprof_rs_sigexit_signals(MP_INTERP), 0));
    XSRETURN(1);
}

/* Devel::MemProf::CLONE, which perl_clone calls in the new interpreter
 * (threads->create), still on the creating thread. */
XS_EXTERNAL(XS_Devel__MemProf__cloned)
{
    dXSARGS;
    PERL_UNUSED_VAR(items);
    memprof_rs_cloned(MP_INTERP);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_Devel__MemProf__dump_signal)
{
    dXSARGS;
    PERL_UNUSED_VAR(items);
    ST(0) = sv_2mortal(newSVpv(memprof_rs_dump_signal(MP_INTERP), 0));
    XSRETURN(1);
}

/* A string the recorder returned (NULL: undef), as a mortal. */
static SV *returned_string(pTHX_ const char *s)
{
    return s ? sv_2mortal(newSVpv(s, 0)) : &PL_sv_undef;
}

XS_EXTERNAL(XS_Devel__MemProf_dump)
{
    dXSARGS;
    if (items != 0)
        croak_xs_usage(cv, "");
    ST(0) = returned_string(aTHX_ memprof_rs_dump(MP_INTERP));
    XSRETURN(1);
}

/* label($name) starts a run of $name; _restore_label($name) makes it
 * current again without counting one (with_label's end). */
static void set_label(pTHX_ CV *cv, SV **args, I32 items, int start)
{
    STRLEN len = 0;
    const char *name;
    if (items != 1)
        croak_xs_usage(cv, "name");
    name = string_arg(aTHX_ args[0], &len);
    memprof_rs_label(MP_INTERP, name, len, start);
}

XS_EXTERNAL(XS_Devel__MemProf_label)
{
    dXSARGS;
    set_label(aTHX_ cv, &ST(0), items, 1);
    XSRETURN_EMPTY;
}

XS_EXTERNAL(XS_Devel__MemProf__restore_label)
{
    dXSARGS;
    set_label(aTHX_ cv, &ST(0), items, 0);
    XSRETURN_EMPTY;
}

static void restore_label(pTHX_ void *saved)
{
    SV *old = (SV *)saved;
    STRLEN len = 0;
    const char *name = string_arg(aTHX_ old, &len);
    memprof_rs_label(MP_INTERP, name, len, 0);
    SvREFCNT_dec(old);
}

/* with_label($name, \&code): in XS so that it is no frame of the stacks
 * it labels.  The label before is restored when the code returns or dies
 * (the savestack is unwound either way). */
XS_EXTERNAL(XS_Devel__MemProf_with_label)
{
    dXSARGS;
    SV *code;
    const char *current;
    I32 count;
    const U8 gimme = GIMME_V;
    if (items != 2)
        croak_xs_usage(cv, "name, code");
    code = ST(1);
    if (!(SvROK(code) && SvTYPE(SvRV(code)) == SVt_PVCV))
        croak("Devel::MemProf::with_label: not a code reference");
    current = memprof_rs_current_label(MP_INTERP);
    ENTER;
    SAVEDESTRUCTOR_X(restore_label, current ? newSVpv(current, 0) : newSV(0));
    set_label(aTHX_ cv, &ST(0), 1, 1);
    SP = MARK;
    PUSHMARK(SP);
    PUTBACK;
    count = call_sv(code, gimme);
    LEAVE;
    XSRETURN(count);
}

XS_EXTERNAL(XS_Devel__MemProf_current_label)
{
    dXSARGS;
    if (items != 0)
        croak_xs_usage(cv, "");
    ST(0) = returned_string(aTHX_ memprof_rs_current_label(MP_INTERP));
    XSRETURN(1);
}

XS_EXTERNAL(XS_Devel__MemProf__start_profiling)
{
    dXSARGS;
    PERL_UNUSED_VAR(items);
    memprof_rs_start_profiling(MP_INTERP);
    XSRETURN_EMPTY;
}

/* measure(CODE): run CODE and return what it allocated, freed and left
 * allocated, as a hash. */
XS_EXTERNAL(XS_Devel__MemProf_measure)
{
    dXSARGS;
    SV *code;
    struct memprof_measurement m;
    HV *result;
    AV *sites;
    size_t i;
    int died;
    runops_proc_t saved_runops = NULL;
    if (items != 1)
        croak_xs_usage(cv, "coderef");
    code = ST(0);
    if (!(SvROK(code) && SvTYPE(SvRV(code)) == SVt_PVCV))
        croak("Devel::MemProf::measure: not a code reference");
    SvREFCNT_inc_simple_void_NN(code);
    ENTER;
    SAVETMPS;
    memprof_rs_measure_begin(MP_INTERP, &m);
    if (m.line_runloop) {
        saved_runops = PL_runops;
        PL_runops = memprof_measure_runops;
    }
    PUSHMARK(SP);
    PUTBACK;
    call_sv(code, G_DISCARD | G_EVAL);
    SPAGAIN;
    if (m.line_runloop)
        PL_runops = saved_runops;
    died = SvTRUE(ERRSV);
    FREETMPS;
    LEAVE;
    memprof_rs_measure_end(MP_INTERP, &m);
    SvREFCNT_dec(code);
    if (died) {
        memprof_rs_measure_release(MP_INTERP, &m);
        croak_sv(ERRSV);
    }
    result = newHV();
    (void)hv_stores(result, "allocated", newSVuv(m.alloc_bytes));
    (void)hv_stores(result, "allocations", newSVuv(m.alloc_count));
    (void)hv_stores(result, "freed", newSVuv(m.free_bytes));
    (void)hv_stores(result, "frees", newSVuv(m.free_count));
    (void)hv_stores(result, "net", newSViv((IV)m.alloc_bytes - (IV)m.free_bytes));
    (void)hv_stores(result, "retained", newSVuv(m.retained_bytes));
    (void)hv_stores(result, "retained_arena", newSVuv(m.retained_arena_bytes));
    (void)hv_stores(result, "peak", newSViv((IV)m.peak_bytes));
    (void)hv_stores(result, "sv_delta", newSViv((IV)m.sv_delta));
    sites = newAV();
    for (i = 0; i < m.n_sites; i++) {
        const struct memprof_measure_site *s = &m.sites[i];
        HV *h = newHV();
        (void)hv_stores(h, "file", newSVpvn(s->file, s->file_len));
        (void)hv_stores(h, "line", newSVuv(s->line));
        (void)hv_stores(h, "stack", newSVpvn(s->stack, s->stack_len));
        (void)hv_stores(h, "allocated", newSVuv(s->alloc_bytes));
        (void)hv_stores(h, "retained", newSVuv(s->retained_bytes));
        (void)hv_stores(h, "retained_blocks", newSVuv(s->retained_blocks));
        av_push(sites, newRV_noinc((SV *)h));
    }
    (void)hv_stores(result, "sites", newRV_noinc((SV *)sites));
    memprof_rs_measure_release(MP_INTERP, &m);
    ST(0) = sv_2mortal(newRV_noinc((SV *)result));
    XSRETURN(1);
}

/* The body of boot_Devel__MemProf, which must itself be defined in Rust to
 * be exported from the cdylib. */
void memprof_xs_boot(void *interp, int (*rs_boot)(void *))
{
    MP_dTHX(interp);
    dXSARGS;
    PERL_UNUSED_VAR(items);
    newXS("DB::enable_profile", XS_DB_enable_profile, __FILE__);
    newXS("DB::disable_profile", XS_DB_disable_profile, __FILE__);
    newXS("DB::finish_profile", XS_DB_finish_profile, __FILE__);
    newXS("Devel::MemProf::mark", XS_Devel__MemProf_mark, __FILE__);
    newXS("Devel::MemProf::snapshot", XS_Devel__MemProf_snapshot, __FILE__);
    newXS("Devel::MemProf::_end_of_run", XS_Devel__MemProf__end_of_run, __FILE__);
    newXS("Devel::MemProf::_start_profiling", XS_Devel__MemProf__start_profiling, __FILE__);
    newXS("Devel::MemProf::_cloned", XS_Devel__MemProf__cloned, __FILE__);
    newXS("Devel::MemProf::set_callback", XS_Devel__MemProf_set_callback, __FILE__);
    newXS("Devel::MemProf::_sigexit_signals", XS_Devel__MemProf__sigexit_signals, __FILE__);
    newXS("Devel::MemProf::measure", XS_Devel__MemProf_measure, __FILE__);
    newXS("Devel::MemProf::_dump_signal", XS_Devel__MemProf__dump_signal, __FILE__);
    newXS("Devel::MemProf::dump", XS_Devel__MemProf_dump, __FILE__);
    newXS("Devel::MemProf::label", XS_Devel__MemProf_label, __FILE__);
    newXS("Devel::MemProf::_restore_label", XS_Devel__MemProf__restore_label, __FILE__);
    newXS("Devel::MemProf::current_label", XS_Devel__MemProf_current_label, __FILE__);
    newXS("Devel::MemProf::with_label", XS_Devel__MemProf_with_label, __FILE__);
    if (rs_boot(MP_INTERP) != 0)
        XSRETURN_NO;
    XSRETURN_YES;
}
