/* glue.h: definitions shared by the C files that include Perl's headers. */
#ifndef MEMPROF_GLUE_H
#define MEMPROF_GLUE_H

#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "XSUB.h"

#include "memprof.h"

#ifdef MULTIPLICITY
#define MP_INTERP ((void *)aTHX)
#define MP_dTHX(interp) dTHXa((PerlInterpreter *)(interp))
#else
#define MP_INTERP NULL
#define MP_dTHX(interp) dNOOP
/* runloop.c: the runloop measure() runs its block under outside a profile. */
int memprof_measure_runops(pTHX);

#endif

extern __thread struct memprof_tls memprof_tls_data
    __attribute__((visibility("hidden"), tls_model("initial-exec")));

/* runloop.c: the runloop measure() runs its block under outside a profile. */
int memprof_measure_runops(pTHX);

/* heap_core.c: blocks whose layout only perl's core headers give. */
void memprof_heap_op_slabs(const void *root, void (*each)(void *ctx, const void *block), void *ctx);
void memprof_heap_regex_blocks(const void *rx, void (*each)(void *ctx, const void *block), void *ctx);

#endif
