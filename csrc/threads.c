/* A small persistent thread pool (POSIX or Win32 threads, no OpenMP: its runtime clashes
 * with the ones torch and NumPy load). A fill large enough to pay for waking the workers is cut
 * into one contiguous part per thread; since every element is a pure function of its index,
 * the result does not depend on the thread count or on where the cuts fall.
 *
 * - The calling thread computes part 0 itself, the workers the others; it returns when all
 *   parts are written. Each thread writes only its part.
 * - Concurrent callers (several Python threads, the GIL released): one uses the pool, the
 *   others run single-threaded on their own thread rather than wait.
 * - fork(): the child starts with no workers and a fresh pool (pthread_atfork), so it works.
 * - Windows has no pthreads: the same pool runs on Win32 threads, slim reader/writer locks
 *   and condition variables (Vista and later), behind the few wrappers below.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <stdint.h>
#include <stdlib.h>

#include "fi_internal.h"

/* FI_MAX_THREADS, and FI_PARALLEL_MIN_BYTES: below it a fill runs on the calling thread
 * (waking a worker costs more); both from fi_contract.h (generated from fastinit/_contract.py). */
/* Parts start on multiples of this many elements (whole Philox blocks, SIMD steps, lines). */
#define FI_PART_ALIGN 256u

static int fi_threads_setting; /* 0: not yet resolved */

#if defined(_WIN32)

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

/* CPUs in this process's affinity mask (its processor group: at most 64) */
static int usable_cpus(void)
{
    DWORD_PTR process_mask, system_mask;
    if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask)) {
        int n = 0;
        for (; process_mask; process_mask &= process_mask - 1)
            n++;
        if (n > 0)
            return n;
    }
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return info.dwNumberOfProcessors > 0 ? (int)info.dwNumberOfProcessors : 1;
}

typedef SRWLOCK fi_mutex;
typedef CONDITION_VARIABLE fi_cond;
#define FI_MUTEX_INIT SRWLOCK_INIT
#define FI_COND_INIT CONDITION_VARIABLE_INIT
static void mutex_lock(fi_mutex *m) { AcquireSRWLockExclusive(m); }
static void mutex_unlock(fi_mutex *m) { ReleaseSRWLockExclusive(m); }
static int mutex_trylock(fi_mutex *m) { return TryAcquireSRWLockExclusive(m) ? 0 : 1; }
static void cond_wait(fi_cond *c, fi_mutex *m) { SleepConditionVariableSRW(c, m, INFINITE, 0); }
static void cond_signal(fi_cond *c) { WakeConditionVariable(c); }
static void cond_broadcast(fi_cond *c) { WakeAllConditionVariable(c); }

#else

#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#if defined(__linux__)
#include <errno.h>
#include <sys/mman.h>
#endif

static int usable_cpus(void)
{
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
#endif
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

typedef pthread_mutex_t fi_mutex;
typedef pthread_cond_t fi_cond;
#define FI_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define FI_COND_INIT PTHREAD_COND_INITIALIZER
static void mutex_lock(fi_mutex *m) { pthread_mutex_lock(m); }
static void mutex_unlock(fi_mutex *m) { pthread_mutex_unlock(m); }
static int mutex_trylock(fi_mutex *m) { return pthread_mutex_trylock(m); }
static void cond_wait(fi_cond *c, fi_mutex *m) { pthread_cond_wait(c, m); }
static void cond_signal(fi_cond *c) { pthread_cond_signal(c); }
static void cond_broadcast(fi_cond *c) { pthread_cond_broadcast(c); }

#endif /* _WIN32 */

/* ---- first touch ---------------------------------------------------------------------
 *
 * A fill of fresh memory (torch.empty, to_empty, np.empty below NumPy's huge-page size) pays a
 * page fault per 4 KiB page on its first write, and in a VM a fault costs about as much as
 * computing the page's normal values. On Linux >= 5.14, madvise(MADV_POPULATE_WRITE) faults
 * a whole range in, "just as if manually writing to each page" (madvise(2)), for less than the
 * demand faults: 1 GiB float32 normal, 2 threads, fresh torch memory: 0.67-0.77 s with demand
 * faults, 0.54-0.60 s populating 4 MiB at a time before writing it (AMD EPYC Zen 3 guest).
 * So a thread populates each FI_POPULATE_BYTES piece of its range before the kernel writes it
 * (the piece is then still in cache). Populating pages that are already there costs as much
 * as a memset (62-68 ms per GiB), so a piece is populated only when its first whole page is
 * not resident (mincore): fresh memory is wholly absent, a re-initialized tensor wholly present.
 * Nothing else changes: the same pages end up written, each element by the same kernel.
 * Where the call fails (an older kernel: EINVAL) it is not tried again; FASTINIT_POPULATE=0
 * in the environment (read at the first large fill) turns it off, to measure or to rule it out. */
#define FI_POPULATE_BYTES (4u << 20)
#define FI_POPULATE_MIN_BYTES (1u << 20) /* smaller ranges are written directly */

#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
/* 0: not yet decided, 1: on, 2: off (FASTINIT_POPULATE=0, or madvise refused the advice);
 * relaxed atomic: threads that decide at once decide the same */
static int populate_state;

static int populate_enabled(void)
{
    int state = __atomic_load_n(&populate_state, __ATOMIC_RELAXED);
    if (state == 0) {
        const char *env = getenv("FASTINIT_POPULATE");
        state = env && env[0] == '0' && env[1] == '\0' ? 2 : 1;
        __atomic_store_n(&populate_state, state, __ATOMIC_RELAXED);
    }
    return state == 1;
}

static void populate(unsigned char *begin, size_t nbytes)
{
    const long page_size = sysconf(_SC_PAGESIZE); /* 4 KiB, or 16/64 KiB on some aarch64 kernels */
    if (page_size <= 0)
        return;
    const uintptr_t page = (uintptr_t)page_size;
    const uintptr_t lo = ((uintptr_t)begin + page - 1) & ~(page - 1), hi = ((uintptr_t)begin + nbytes) & ~(page - 1);
    if (hi <= lo || !populate_enabled())
        return;
    unsigned char resident = 0;
    if (mincore((void *)lo, page, &resident) != 0 || (resident & 1u))
        return;
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
        __atomic_store_n(&populate_state, 2, __ATOMIC_RELAXED);
}
#define FI_HAVE_POPULATE 1
#endif

/* The one place a thread writes a range: the kernel over it, populated piece by piece where
 * the platform can (see above). */
static void write_range(fi_kernel kernel, unsigned char *out, size_t elem_size, uint64_t count, uint64_t first,
                        const fi_call *call)
{
#if defined(FI_HAVE_POPULATE)
    if (count * elem_size >= FI_POPULATE_MIN_BYTES) {
        const uint64_t piece = FI_POPULATE_BYTES / elem_size; /* a multiple of every block size */
        for (uint64_t done = 0; done < count;) {
            const uint64_t n = count - done < piece ? count - done : piece;
            populate(out + done * elem_size, (size_t)(n * elem_size));
            kernel(out + done * elem_size, n, first + done, call);
            done += n;
        }
        return;
    }
#else
    (void)elem_size; /* only the populated pieces are cut by size */
#endif
    kernel(out, count, first, call);
}

typedef struct fi_job {
    fi_kernel kernel;
    unsigned char *out;
    size_t elem_size;
    uint64_t count, first, part;
    const fi_call *call;
    int nparts;
} fi_job;

static fi_mutex pool_owner = FI_MUTEX_INIT; /* held by the caller using the pool */
static fi_mutex pool_mutex = FI_MUTEX_INIT; /* guards the fields below */
static fi_cond work_ready = FI_COND_INIT;
static fi_cond work_done = FI_COND_INIT;
static fi_job job;
static uint64_t generation;
static int workers_started, workers_busy;

static void run_part(const fi_job *j, int index)
{
    const uint64_t start = (uint64_t)index * j->part;
    if (start >= j->count)
        return;
    const uint64_t left = j->count - start;
    const uint64_t n = left < j->part ? left : j->part;
    write_range(j->kernel, j->out + start * j->elem_size, j->elem_size, n, j->first + start, j->call);
}

static void worker_loop(int index) /* workers do parts 1, 2, ... */
{
    uint64_t seen = 0;
    mutex_lock(&pool_mutex);
    for (;;) {
        while (generation == seen)
            cond_wait(&work_ready, &pool_mutex);
        seen = generation;
        const fi_job mine = job;
        mutex_unlock(&pool_mutex);
        if (index < mine.nparts)
            run_part(&mine, index);
        mutex_lock(&pool_mutex);
        if (--workers_busy == 0)
            cond_signal(&work_done);
    }
}

#if defined(_WIN32)

static DWORD WINAPI worker_main(LPVOID arg)
{
    worker_loop((int)(intptr_t)arg);
    return 0;
}

/* Start one detached worker; 0 on success. */
static int start_worker(int index)
{
    HANDLE thread = CreateThread(NULL, 0, worker_main, (LPVOID)(intptr_t)index, 0, NULL);
    if (thread == NULL)
        return -1;
    CloseHandle(thread); /* the thread runs on; nobody joins it */
    return 0;
}

#else

static int atfork_registered;

static void *worker_main(void *arg)
{
    worker_loop((int)(intptr_t)arg);
    return NULL;
}

static void atfork_prepare(void) { pthread_mutex_lock(&pool_owner); }
static void atfork_parent(void) { pthread_mutex_unlock(&pool_owner); }
static void atfork_child(void)
{
    /* The workers do not exist in the child: start afresh. */
    pthread_mutex_init(&pool_mutex, NULL);
    pthread_cond_init(&work_ready, NULL);
    pthread_cond_init(&work_done, NULL);
    workers_started = 0;
    workers_busy = 0;
    generation = 0;
    pthread_mutex_init(&pool_owner, NULL);
}

/* Start one detached worker; 0 on success. */
static int start_worker(int index)
{
    if (!atfork_registered) {
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        atfork_registered = 1;
    }
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int rc = pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)index);
    pthread_attr_destroy(&attr);
    return rc;
}

#endif /* _WIN32 */

/* Start workers 1 .. wanted - 1 (with pool_mutex held). Returns how many threads exist,
 * the caller included. */
static int start_workers(int wanted)
{
    while (workers_started < wanted - 1 && start_worker(workers_started + 1) == 0)
        workers_started++;
    return workers_started + 1;
}

static int resolve_default_threads(void)
{
    const char *env = getenv("FASTINIT_NUM_THREADS");
    if (env && env[0]) {
        char *end;
        const long n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 1)
            return n > FI_MAX_THREADS ? FI_MAX_THREADS : (int)n;
    }
    const int n = usable_cpus();
    return n > FI_MAX_THREADS ? FI_MAX_THREADS : n;
}

/* fi_threads_setting is read by every fill and may be set from another thread meanwhile (a
 * Python thread calling set_num_threads while others fill): relaxed atomic accesses, since
 * any value read is a valid count and nothing else is ordered by it; the first resolution
 * of the default is a compare-and-swap, so it never overwrites a concurrent
 * fi_set_num_threads. Compilers without the GCC/clang builtins (MSVC) get plain int accesses,
 * single aligned loads and stores on their targets. */
#if defined(__GNUC__) || defined(__clang__)
#define FI_LOAD_SETTING() __atomic_load_n(&fi_threads_setting, __ATOMIC_RELAXED)
#define FI_STORE_SETTING(n) __atomic_store_n(&fi_threads_setting, (n), __ATOMIC_RELAXED)
#define FI_RESOLVE_SETTING(expected, n) \
    __atomic_compare_exchange_n(&fi_threads_setting, (expected), (n), 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
#else
#define FI_LOAD_SETTING() (*(volatile int *)&fi_threads_setting)
#define FI_STORE_SETTING(n) (*(volatile int *)&fi_threads_setting = (n))
#define FI_RESOLVE_SETTING(expected, n) ((void)(expected), FI_STORE_SETTING(n), 1)
#endif

int fi_get_num_threads(void)
{
    int n = FI_LOAD_SETTING();
    if (n == 0) {
        int expected = 0;
        n = resolve_default_threads();
        if (!FI_RESOLVE_SETTING(&expected, n))
            n = expected; /* set by another thread meanwhile: keep that */
    }
    return n;
}

int fi_set_num_threads(int n)
{
    if (n < 1 || n > FI_MAX_THREADS)
        return FI_E_PARAM;
    FI_STORE_SETTING(n);
    return FI_OK;
}

void fi_run_parallel(fi_kernel kernel, void *out, size_t elem_size, uint64_t count, uint64_t first,
                     const fi_call *call)
{
    const int threads = fi_get_num_threads();
    if (threads > 1 && count * elem_size >= FI_PARALLEL_MIN_BYTES && mutex_trylock(&pool_owner) == 0) {
        mutex_lock(&pool_mutex);
        const int available = start_workers(threads);
        int nparts = threads < available ? threads : available;
        uint64_t part = (count + (uint64_t)nparts - 1) / (uint64_t)nparts;
        part = (part + FI_PART_ALIGN - 1) / FI_PART_ALIGN * FI_PART_ALIGN;
        job = (fi_job){kernel, out, elem_size, count, first, part, call, nparts};
        workers_busy = workers_started;
        generation++;
        cond_broadcast(&work_ready);
        mutex_unlock(&pool_mutex);

        run_part(&job, 0);

        mutex_lock(&pool_mutex);
        while (workers_busy > 0)
            cond_wait(&work_done, &pool_mutex);
        mutex_unlock(&pool_mutex);
        mutex_unlock(&pool_owner);
        return;
    }
    write_range(kernel, out, elem_size, count, first, call);
}
