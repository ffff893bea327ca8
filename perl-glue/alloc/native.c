/*
 * native.c: the C call stack of an allocation (MEMPROF=native=1), the cold
 * path the allocation hook branches to when native frames are on.
 *
 * The stack is unwound with libunwind's unw_backtrace, which reads the
 * unwind tables (.eh_frame), so libraries built without frame pointers
 * (all of Debian's) unwind too, and caches what it learns per return
 * address.  libunwind is opened with dlopen when native frames are first
 * asked for: building needs no libunwind, and a profile without native
 * frames neither needs nor loads it.  The recorder (Rust,
 * memprof_rs_native_site) decides which frames to keep and credits the
 * allocation.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>

#include "memprof.h"

/* Frames kept of one allocation's stack; deeper ones are cut off. */
#define MEMPROF_NATIVE_DEPTH 128

/* libgcc's view of an unwind table entry (unwind-dw2-fde.h): the start of
 * the function it covers is `func`. */
struct memprof_eh_bases {
    void *tbase;
    void *dbase;
    void *func;
};

static int (*native_backtrace)(void **, int);
static const void *(*native_find_fde)(void *, struct memprof_eh_bases *);

int memprof_native_init(void)
{
    if (native_backtrace != NULL)
        return 0;
    /* libunwind's unw_backtrace has a plain prototype: no header needed to
     * build, and only a profile with native frames needs the library. */
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        lib = dlopen("libunwind.so", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return -1;
    void *bt = dlsym(lib, "unw_backtrace");
    if (bt == NULL)
        return -1;
    /* Function starts come from the same unwind tables, through libgcc
     * (every glibc program can load it: pthread_cancel does). */
    void *gcc = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);
    if (gcc != NULL)
        native_find_fde = (const void *(*)(void *, struct memprof_eh_bases *))dlsym(gcc, "_Unwind_Find_FDE");
    native_backtrace = (int (*)(void **, int))bt;
    return 0;
}

uint64_t memprof_native_function_start(uint64_t pc)
{
    struct memprof_eh_bases bases = {NULL, NULL, NULL};
    if (native_find_fde == NULL || native_find_fde((void *)(uintptr_t)pc, &bases) == NULL)
        return 0;
    const uint64_t start = (uint64_t)(uintptr_t)bases.func;
    return start <= pc ? start : 0;
}

__attribute__((cold, noinline)) void memprof_native_alloc(struct memprof_tls *t, uint64_t size)
{
    void *pcs[MEMPROF_NATIVE_DEPTH];
    t->guard++;
    const int n = native_backtrace != NULL ? native_backtrace(pcs, MEMPROF_NATIVE_DEPTH) : 0;
    t->cur_site = memprof_rs_native_site(t, (const void *const *)pcs, n < 0 ? 0 : (uint32_t)n, size);
    t->guard--;
}

const char *memprof_native_symbol(uint64_t addr, const char **object, uint64_t *offset)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    *object = NULL;
    *offset = 0;
    if (!dladdr1((const void *)(uintptr_t)addr, &info, (void **)&sym, RTLD_DL_SYMENT))
        return NULL;
    *object = info.dli_fname;
    *offset = addr - (uint64_t)(uintptr_t)info.dli_fbase;
    /* dladdr names the nearest exported symbol below the address: only
     * trust it when the address is inside it (static functions are not in
     * .dynsym, and a stripped library has nothing else). */
    if (info.dli_sname == NULL || sym == NULL)
        return NULL;
    const uint64_t start = (uint64_t)(uintptr_t)info.dli_saddr;
    if (addr < start || (sym->st_size != 0 && addr >= start + sym->st_size) || (sym->st_size == 0 && addr != start))
        return NULL;
    return info.dli_sname;
}
