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

XS_EXTERNAL(XS_Devel__MemProf__end_of_run)
{
    dXSARGS;
    PERL_UNUSED_VAR(items);
    memprof_rs_end_of_run(MP_INTERP);
    XSRETURN_EMPTY;
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
    newXS("Devel::MemProf::_end_of_run", XS_Devel__MemProf__end_of_run, __FILE__);
    if (rs_boot(MP_INTERP) != 0)
        XSRETURN_NO;
    XSRETURN_YES;
}
