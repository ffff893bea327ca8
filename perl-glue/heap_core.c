/*
 * heap_core.c: the parts of a sub's and a regex's memory whose layout perl
 * keeps to its core (op.h's OPSLAB and OpSLAB, regcomp.h's
 * regexp_internal), for the heap walker (heap.c).  Only this file is
 * compiled as core, so that nothing else sees core-only macros; it only
 * reads.  perl's own headers give each version's layout.
 */
#define PERL_CORE
#define PERL_NO_GET_CONTEXT
#include "EXTERN.h"
#include "perl.h"
#include "regcomp.h"

#include "glue.h"

/* The slabs an op tree's ops live in: the head slab (OpSLAB, the same on
 * every perl that has slabs) and the ones chained to it.  Each is a block
 * of its own (op.c's S_new_slab). */
void memprof_heap_op_slabs(const void *root, void (*each)(void *ctx, const void *block), void *ctx)
{
    const OP *o = (const OP *)root;
    if (o == NULL || !o->op_slabbed)
        return;
    for (const OPSLAB *s = OpSLAB(o); s != NULL; s = s->opslab_next)
        each(ctx, s);
}

/* A compiled regex's blocks besides its program (in pprivate, counted by
 * the walker): the table of its data items and their kinds (regcomp.c's
 * S_add_data). */
void memprof_heap_regex_blocks(const void *rx, void (*each)(void *ctx, const void *block), void *ctx)
{
    const struct regexp *r = ReANY((const REGEXP *)rx);
    const regexp_internal *ri = (const regexp_internal *)r->pprivate;
    if (ri == NULL || ri->data == NULL)
        return;
    each(ctx, ri->data);
    if (ri->data->what != NULL)
        each(ctx, ri->data->what);
}
