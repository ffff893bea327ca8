/*
 * alloc_hooks.c: the replacements that the GOT patcher (recorder/src/hooks/got.rs)
 * writes into every loaded object's GOT slots for the allocator functions.
 *
 * Each hook calls the original function and then adds the block's usable
 * size to this thread's counters.  The fast path takes no lock, never
 * allocates and touches only initial-exec TLS.  The profiler's own
 * allocations never come here: its library's GOT is not patched, and while
 * it runs code that calls into patched objects it raises `guard`.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdarg.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memprof.h"
#include "sites.h"

__attribute__((visibility("hidden"), tls_model("initial-exec")))
__thread struct memprof_tls memprof_tls_data;

struct memprof_tls *memprof_tls_get(void) { return &memprof_tls_data; }

/* The hooked functions: one list drives the originals, the replacements'
 * table and the patcher.  X(name, return type, parameters) */
#define MEMPROF_ALLOC_HOOKS(X)                                   \
    X(malloc, void *, (size_t))                                  \
    X(calloc, void *, (size_t, size_t))                          \
    X(realloc, void *, (void *, size_t))                         \
    X(free, void, (void *))                                      \
    X(posix_memalign, int, (void **, size_t, size_t))            \
    X(aligned_alloc, void *, (size_t, size_t))                   \
    X(memalign, void *, (size_t, size_t))                        \
    X(valloc, void *, (size_t))                                  \
    X(pvalloc, void *, (size_t))                                 \
    X(dlopen, void *, (const char *, int))                       \
    X(execv, int, (const char *, char *const[]))                 \
    X(execvp, int, (const char *, char *const[]))                \
    X(execve, int, (const char *, char *const[], char *const[])) \
    X(execl, int, (const char *, const char *, ...))             \
    X(_exit, void, (int))                                        \
    X(_Exit, void, (int))

#define DECLARE_ORIGINAL(name, ret, params) static ret(*orig_##name) params;
MEMPROF_ALLOC_HOOKS(DECLARE_ORIGINAL)
#undef DECLARE_ORIGINAL

/* Compile time: what the parser allocates belongs to the line it is on. */
static inline void follow_compile_line(struct memprof_tls *t)
{
    if (__builtin_expect(t->compile_line != NULL, 0) && *t->compile_line != t->cur_line)
        memprof_compile_line_moved(t);
}

void memprof_thread_first_alloc(struct memprof_tls *t);
void memprof_untracked_free(struct memprof_tls *t, void *p, uint64_t size);

static inline void count_alloc(struct memprof_tls *t, void *p)
{
    if (p == NULL || t->guard)
        return;
    if (__builtin_expect(t->thread_kind == MEMPROF_THREAD_UNKNOWN, 0))
        memprof_thread_first_alloc(t);
    if (t->sites != NULL)
        memprof_site_prefetch(t->sites, p);
    follow_compile_line(t);
    const uint64_t size = malloc_usable_size(p);
    t->alloc_bytes += size;
    t->alloc_count++;
    t->live += (int64_t)size;
    if (t->live > t->peak)
        t->peak = t->live;
    /* Native frames: credited now, to the C stack under the line. */
    if (__builtin_expect(t->native, 0))
        memprof_native_alloc(t, size);
    if (t->sites != NULL)
        memprof_site_alloc(t, t->sites, p, size);
    /* Long statements (a map over a million items) get timeline samples
     * too, not only statement boundaries. */
    if (t->sample_countdown != 0 && --t->sample_countdown == 0)
        memprof_rs_sample(t);
}

/* Must run before the block is handed back: its size is gone afterwards. */
static inline void count_free(struct memprof_tls *t, void *p)
{
    if (p == NULL || t->guard)
        return;
    if (t->sites != NULL)
        memprof_site_prefetch(t->sites, p);
    follow_compile_line(t);
    const uint64_t size = malloc_usable_size(p);
    t->free_bytes += size;
    t->free_count++;
    t->live -= (int64_t)size;
    if (t->sites != NULL)
        memprof_site_free(t->sites, p, size);
    else if (__builtin_expect(__atomic_load_n(&memprof_sites_shared, __ATOMIC_RELAXED), 0))
        memprof_untracked_free(t, p, size); /* maybe a perl thread's block */
}

/*
 * OS threads that run no perl (a C library's workers) have no recorder:
 * each is registered at its first allocation, and what it allocated and
 * freed is added up when it ends (a thread-specific key's destructor) or
 * when the profile is written.  A perl thread also starts out here, until
 * its recorder starts (memprof_thread_is_perl).
 */
static pthread_mutex_t native_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t native_once = PTHREAD_ONCE_INIT;
static pthread_key_t native_key;
static int native_key_ok;
static struct memprof_tls **native_threads;
static size_t native_len, native_cap;
static struct memprof_native_totals native_ended;

static void native_forget_locked(struct memprof_tls *t)
{
    for (size_t i = 0; i < native_len; i++) {
        if (native_threads[i] == t) {
            native_threads[i] = native_threads[--native_len];
            return;
        }
    }
}

static void native_thread_ends(void *arg)
{
    struct memprof_tls *t = arg;
    pthread_mutex_lock(&native_mutex);
    native_forget_locked(t);
    if (t->thread_kind == MEMPROF_THREAD_NATIVE) {
        native_ended.alloc_bytes += t->alloc_bytes;
        native_ended.alloc_count += t->alloc_count;
        native_ended.free_bytes += t->free_bytes;
        native_ended.free_count += t->free_count;
        native_ended.untracked_free_bytes += t->native_untracked_free;
    }
    pthread_mutex_unlock(&native_mutex);
}

/* A free on a thread that tracks no sites: a perl thread's block is
 * forgotten from its site; what no table had is, on a native thread, the
 * untracked part of its frees. */
void memprof_untracked_free(struct memprof_tls *t, void *p, uint64_t size)
{
    /* A thread may free before it ever allocates. */
    if (t->thread_kind == MEMPROF_THREAD_UNKNOWN)
        memprof_thread_first_alloc(t);
    const int found = memprof_site_free_shared(NULL, p, size);
    if (t->thread_kind != MEMPROF_THREAD_NATIVE)
        return;
    if (found) {
        t->native_found_free_bytes += size;
        t->native_found_free_count++;
    } else {
        t->native_untracked_free += size;
    }
}

static void native_key_create(void) { native_key_ok = pthread_key_create(&native_key, native_thread_ends) == 0; }

/* The first allocation (or free) this OS thread makes. */
void memprof_thread_first_alloc(struct memprof_tls *t)
{
    if (t->recorder != NULL) {
        t->thread_kind = MEMPROF_THREAD_PERL;
        return;
    }
    t->thread_kind = MEMPROF_THREAD_NATIVE;
    /* Its frees must find perl's blocks in the site tables, and what it
     * frees of its own is told apart as untracked. */
    memprof_sites_share();
    t->guard++;
    pthread_once(&native_once, native_key_create);
    pthread_mutex_lock(&native_mutex);
    if (native_len == native_cap) {
        size_t cap = native_cap ? native_cap * 2 : 16;
        struct memprof_tls **grown = realloc(native_threads, cap * sizeof *grown);
        if (grown != NULL) {
            native_threads = grown;
            native_cap = cap;
        }
    }
    if (native_len < native_cap && native_key_ok) {
        native_threads[native_len++] = t;
        pthread_setspecific(native_key, t);
    }
    pthread_mutex_unlock(&native_mutex);
    t->guard--;
}

/* What it did until now is its recorder's to credit (threads.rs). */
void memprof_thread_is_perl(struct memprof_tls *t)
{
    pthread_mutex_lock(&native_mutex);
    native_forget_locked(t);
    pthread_mutex_unlock(&native_mutex);
    if (native_key_ok)
        pthread_setspecific(native_key, NULL);
    t->thread_kind = MEMPROF_THREAD_PERL;
}

void memprof_native_totals(struct memprof_native_totals *out)
{
    pthread_mutex_lock(&native_mutex);
    *out = native_ended;
    for (size_t i = 0; i < native_len; i++) {
        const struct memprof_tls *t = native_threads[i];
        out->alloc_bytes += __atomic_load_n(&t->alloc_bytes, __ATOMIC_RELAXED);
        out->alloc_count += __atomic_load_n(&t->alloc_count, __ATOMIC_RELAXED);
        out->free_bytes += __atomic_load_n(&t->free_bytes, __ATOMIC_RELAXED);
        out->free_count += __atomic_load_n(&t->free_count, __ATOMIC_RELAXED);
        out->untracked_free_bytes += __atomic_load_n(&t->native_untracked_free, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&native_mutex);
}

void memprof_native_reset(void)
{
    /* A forked child: the threads were its parent's. */
    pthread_mutex_init(&native_mutex, NULL);
    native_len = 0;
    native_ended = (struct memprof_native_totals){0, 0, 0, 0, 0};
}

static void *memprof_hook_malloc(size_t n)
{
    void *p = orig_malloc(n);
    count_alloc(&memprof_tls_data, p);
    return p;
}

static void *memprof_hook_calloc(size_t n, size_t size)
{
    void *p = orig_calloc(n, size);
    count_alloc(&memprof_tls_data, p);
    return p;
}

/* A realloc is a free of the old block and an allocation of the new one. */
static void *memprof_hook_realloc(void *old, size_t n)
{
    struct memprof_tls *t = &memprof_tls_data;
    if (old == NULL || t->guard) {
        void *p = orig_realloc(old, n);
        count_alloc(t, p);
        return p;
    }
    const uint64_t old_size = malloc_usable_size(old);
    void *p = orig_realloc(old, n);
    if (p != NULL || n == 0) {
        /* glibc's realloc(p, 0) frees p and returns NULL.  The block moves
         * to the reallocating statement's site. */
        t->free_bytes += old_size;
        t->free_count++;
        t->live -= (int64_t)old_size;
        if (t->sites != NULL)
            memprof_site_free(t->sites, old, old_size);
        else if (__builtin_expect(__atomic_load_n(&memprof_sites_shared, __ATOMIC_RELAXED), 0))
            memprof_untracked_free(t, old, old_size);
        count_alloc(t, p);
    }
    return p;
}

static void memprof_hook_free(void *p)
{
    count_free(&memprof_tls_data, p);
    orig_free(p);
}

static int memprof_hook_posix_memalign(void **out, size_t align, size_t n)
{
    int rc = orig_posix_memalign(out, align, n);
    if (rc == 0)
        count_alloc(&memprof_tls_data, *out);
    return rc;
}

static void *memprof_hook_aligned_alloc(size_t align, size_t n)
{
    void *p = orig_aligned_alloc(align, n);
    count_alloc(&memprof_tls_data, p);
    return p;
}

static void *memprof_hook_memalign(size_t align, size_t n)
{
    void *p = orig_memalign(align, n);
    count_alloc(&memprof_tls_data, p);
    return p;
}

static void *memprof_hook_valloc(size_t n)
{
    void *p = orig_valloc(n);
    count_alloc(&memprof_tls_data, p);
    return p;
}

static void *memprof_hook_pvalloc(size_t n)
{
    void *p = orig_pvalloc(n);
    count_alloc(&memprof_tls_data, p);
    return p;
}

/*
 * dlopen looks up a bare library name in the RUNPATH of the object that
 * called it.  Once this hook is the caller, that object is ours, so when the
 * plain call fails for a name without a slash we retry along the search
 * path of the real caller.
 */
static void *dlopen_along_caller_path(const char *file, int flags, const void *caller)
{
    Dl_info info;
    struct link_map *map = NULL;
    if (!dladdr1(caller, &info, (void **)&map, RTLD_DL_LINKMAP) || map == NULL)
        return NULL;
    Dl_serinfo size;
    if (dlinfo(map, RTLD_DI_SERINFOSIZE, &size) != 0)
        return NULL;
    Dl_serinfo *paths = malloc(size.dls_size);
    if (paths == NULL)
        return NULL;
    void *handle = NULL;
    if (dlinfo(map, RTLD_DI_SERINFOSIZE, paths) == 0 && dlinfo(map, RTLD_DI_SERINFO, paths) == 0) {
        char buf[4096];
        for (unsigned i = 0; i < paths->dls_cnt && handle == NULL; i++) {
            int len = snprintf(buf, sizeof buf, "%s/%s", paths->dls_serpath[i].dls_name, file);
            if (len > 0 && (size_t)len < sizeof buf)
                handle = orig_dlopen(buf, flags);
        }
    }
    free(paths);
    return handle;
}

static void *memprof_hook_dlopen(const char *file, int flags)
{
    void *handle = orig_dlopen(file, flags);
    if (handle == NULL && file != NULL && strchr(file, '/') == NULL) {
        handle = dlopen_along_caller_path(file, flags, __builtin_return_address(0));
        if (handle == NULL)
            (void)orig_dlopen(file, flags); /* leave the original error for dlerror() */
    }
    if (handle != NULL)
        memprof_rs_after_dlopen();
    return handle;
}

/*
 * The process is about to be replaced or to end without END blocks
 * (exec, POSIX::_exit): write the profile first.
 */
static int memprof_hook_execv(const char *path, char *const argv[])
{
    memprof_rs_process_ending(1);
    return orig_execv(path, argv);
}

static int memprof_hook_execvp(const char *file, char *const argv[])
{
    memprof_rs_process_ending(1);
    return orig_execvp(file, argv);
}

static int memprof_hook_execve(const char *path, char *const argv[], char *const envp[])
{
    memprof_rs_process_ending(1);
    return orig_execve(path, argv, envp);
}

/* doio.c runs shell commands with execl(sh, "sh", "-c", cmd, NULL). */
static int memprof_hook_execl(const char *path, const char *arg, ...)
{
    char *argv[256];
    size_t n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a != NULL && n < 255; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    memprof_rs_process_ending(1);
    return orig_execv(path, argv);
}

static void memprof_hook__exit(int status)
{
    memprof_rs_process_ending(0);
    orig__exit(status);
    __builtin_unreachable();
}

static void memprof_hook__Exit(int status)
{
    memprof_rs_process_ending(0);
    orig__Exit(status);
    __builtin_unreachable();
}

#define TABLE_ENTRY(name, ret, params) {#name, (void *)memprof_hook_##name, (void **)&orig_##name},
static const struct memprof_hook hook_table[] = {
    MEMPROF_ALLOC_HOOKS(TABLE_ENTRY){NULL, NULL, NULL},
};
#undef TABLE_ENTRY

const struct memprof_hook *memprof_hook_table(void) { return hook_table; }

/*
 * The originals are what the global symbol search finds: libc's, or those
 * of an allocator preloaded before us (heaptrack, jemalloc).  A GOT slot's
 * current value is no substitute: under lazy binding it may still point at
 * the object's PLT stub.
 */
int memprof_hooks_resolve(void)
{
    for (const struct memprof_hook *h = hook_table; h->name != NULL; h++) {
        if (*h->original != NULL)
            continue;
        void *f = dlsym(RTLD_DEFAULT, h->name);
        if (f == h->replacement)
            return -1;
        /* Functions this libc lacks stay NULL; the patcher skips them. */
        *h->original = f;
    }
    return (orig_malloc && orig_free && orig_calloc && orig_realloc && orig_execv && orig__exit) ? 0 : -1;
}
