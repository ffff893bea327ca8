/*
 * ledger.c: malloc's side of the ledger (recorder/src/recorder/ledger.rs):
 * its statistics, and how much bigger a block's chunk is than what the
 * block may use.  Includes no perl header: it reads malloc only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <stdint.h>
#include <string.h>

#include "memprof.h"

int memprof_malloc_stats(struct memprof_malloc_stats *out)
{
    memset(out, 0, sizeof *out);
#ifdef MEMPROF_HAVE_MALLINFO2
    /* Walks the arenas under their locks; allocates nothing. */
    const struct mallinfo2 m = mallinfo2();
    out->arena = m.arena;
    out->ordblks = m.ordblks;
    out->hblks = m.hblks;
    out->hblkhd = m.hblkhd;
    out->uordblks = m.uordblks;
    out->fordblks = m.fordblks;
    out->keepcost = m.keepcost;
    return 0;
#else
    /* mallinfo()'s int fields wrap at 2 GiB: no figure beats a wrong one. */
    return -1;
#endif
}

size_t memprof_chunk_overhead(const void *block, int *mmapped)
{
    *mmapped = 0;
#if defined(__GLIBC__)
    if (block == NULL)
        return 0;
    /* glibc's chunk header: the size word before the block, its low bits
     * flags (IS_MMAPPED is 2); malloc_usable_size reads the same word. */
    const size_t word = ((const size_t *)block)[-1];
    const size_t chunk = word & ~(size_t)7;
    const size_t usable = malloc_usable_size((void *)block);
    *mmapped = (word & 2) != 0;
    return chunk > usable ? chunk - usable : 0;
#else
    (void)block;
    return 0;
#endif
}
