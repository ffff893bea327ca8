/*
 * native.c: the C call stack of an allocation (MEMPROF=native=1), the cold
 * path the allocation hook branches to when native frames are on.
 *
 * The stack is unwound with libunwind's unw_backtrace, which reads the
 * unwind tables (.eh_frame), so libraries built without frame pointers
 * (all of Debian's) unwind too, and caches what it learns per return
 * address.  libunwind is opened with dlopen when native frames are first
 * asked for: a profile without them neither needs nor loads it.  The
 * recorder (Rust, memprof_rs_native_site) decides which frames to keep
 * and credits the allocation.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "memprof.h"

/* Frames kept of one allocation's stack; deeper ones are cut off. */
#define MEMPROF_NATIVE_DEPTH 128

#define MEMPROF_STR_(x) #x
#define MEMPROF_STR(x) MEMPROF_STR_(x)

static int (*native_backtrace)(void **, int);
static int (*native_proc_info)(unw_addr_space_t, unw_word_t, unw_proc_info_t *, void *);
static unw_addr_space_t *native_space;

int memprof_native_init(void)
{
    if (native_backtrace != NULL)
        return 0;
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        lib = dlopen("libunwind.so", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return -1;
    /* The local-only names (_ULx86_64_...), spelled by libunwind's own macros. */
    native_proc_info = (int (*)(unw_addr_space_t, unw_word_t, unw_proc_info_t *, void *))dlsym(
        lib, MEMPROF_STR(unw_get_proc_info_by_ip));
    native_space = (unw_addr_space_t *)dlsym(lib, MEMPROF_STR(unw_local_addr_space));
    void *bt = dlsym(lib, "unw_backtrace");
    if (bt == NULL || native_proc_info == NULL || native_space == NULL)
        return -1;
    native_backtrace = (int (*)(void **, int))bt;
    return 0;
}

uint64_t memprof_native_function_start(uint64_t pc)
{
    unw_proc_info_t info;
    if (native_proc_info == NULL || native_proc_info(*native_space, (unw_word_t)pc, &info, NULL) != 0)
        return 0;
    return info.start_ip <= pc && pc < info.end_ip ? info.start_ip : 0;
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
