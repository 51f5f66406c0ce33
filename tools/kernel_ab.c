/* A/B of two builds of the SIMD kernels in one process (tools/kernel_ab.sh builds it): the
 * "old" and "new" kernel tables, their fi_isa_table_* symbols renamed, run alternately on the
 * same buffer; the best time of each is kept, so a loaded machine skews both alike. First
 * checks that both give the same bits on small sizes, offsets around 2^34 (a 2^32-block
 * boundary) and several parameter sets, and exits 1 if not.
 *
 *   kernel_ab ISA DIST DTYPE [ELEMENTS [ROUNDS [THREADS]]]
 *   ISA avx512|avx2, DIST 0 bits 1 uniform 2 normal 3 trunc_normal, DTYPE as fi_dtype
 *   KAB_TRUNC_K=k (environment): DIST 3's timed run is the float32 inverse CDF at +-k std */
#define _POSIX_C_SOURCE 200112L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fi_internal.h"

const fi_isa_table *old_avx512(void);
const fi_isa_table *new_avx512(void);
const fi_isa_table *old_avx2(void);
const fi_isa_table *new_avx2(void);

typedef struct job {
    fi_kernel kernel;
    unsigned char *buf;
    uint64_t count, first;
    const fi_call *call;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    j->kernel(j->buf, j->count, j->first, j->call);
    return NULL;
}

/* the whole buffer, on one thread or split in two halves */
static void run(fi_kernel kernel, unsigned char *buf, uint64_t n, size_t elem, const fi_call *call, int threads)
{
    job a = {kernel, buf, threads == 1 ? n : n / 2, 0, call};
    job b = {kernel, buf + (n / 2) * elem, n - n / 2, n / 2, call};
    pthread_t t;
    if (threads > 1)
        pthread_create(&t, NULL, run_job, &b);
    run_job(&a);
    if (threads > 1)
        pthread_join(t, NULL);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void set_params(fi_call *c, double low, double high)
{
    memset(c, 0, sizeof *c);
    c->key[0] = 0x12345678u;
    c->key[1] = 0x9abcdef0u;
    c->stream[0] = 7;
    c->stream[1] = 3;
    c->low32 = (float)low;
    c->high32 = (float)high;
    c->range32 = c->high32 - c->low32;
    c->below_high32 = nextafterf(c->high32, -INFINITY);
    c->low64 = low;
    c->high64 = high;
    c->range64 = high - low;
    c->below_high64 = nextafter(high, -INFINITY);
    c->mean32 = (float)low;
    c->std32 = (float)fabs(high);
    c->mean64 = low;
    c->std64 = fabs(high);
}

/* The 32-bit truncated normal's float32 mode (FI_TN_F32) at mean 0, std 0.02, bounds +-k std,
 * with the constants as fastinit.c's trunc_normal_setup32 sets them (Phi by erfc): what the
 * timed run of DIST 3 measures when KAB_TRUNC_K is set (the bit checks above use other modes). */
static void set_trunc_f32(fi_call *c, double k)
{
    const double std = 0.02, pa = 0.5 * erfc(k / sqrt(2.0)), mass = 1.0 - 2.0 * pa;
    c->mean32 = 0.0f;
    c->std32 = (float)std;
    c->mean64 = 0.0;
    c->std64 = std;
    c->tn_mode = FI_TN_F32;
    c->tn_pa = pa;
    c->tn_mass = mass;
    c->tn_sign = 1.0;
    c->tn_a = -k * std;
    c->tn_b = k * std;
    c->tn_p2a = (float)(2.0 * pa);
    c->tn_m2 = (float)(2.0 * mass);
    c->tn_q2b = (float)(2.0 * pa);
    c->tn_std32 = (float)std;
    c->tn_a32 = (float)(-k * std);
    c->tn_b32 = (float)(k * std);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s avx512|avx2 DIST DTYPE [ELEMENTS [ROUNDS [THREADS]]]\n", argv[0]);
        return 2;
    }
    const int avx2 = strcmp(argv[1], "avx2") == 0;
    const int dist = atoi(argv[2]), dtype = atoi(argv[3]);
    const uint64_t n = argc > 4 ? strtoull(argv[4], NULL, 10) : (UINT64_C(1) << 18);
    const int rounds = argc > 5 ? atoi(argv[5]) : 30, threads = argc > 6 ? atoi(argv[6]) : 1;
    const fi_isa_table *old_table = avx2 ? old_avx2() : old_avx512();
    const fi_isa_table *new_table = avx2 ? new_avx2() : new_avx512();
    if (!old_table || !new_table || dist < 0 || dist > 3 || dtype < 0 || dtype >= FI_DTYPE_COUNT) {
        fprintf(stderr, "no such kernel\n");
        return 2;
    }
    const fi_kernel ka = old_table->kernel[dist][dtype], kb = new_table->kernel[dist][dtype];
    if (!ka || !kb) {
        fprintf(stderr, "no such kernel\n");
        return 2;
    }
    static const size_t sizes[FI_DTYPE_COUNT] = {4, 8, 2, 2, 4, 8};
    const size_t elem = sizes[dtype];
    const size_t bytes = (size_t)(n < 1024 ? 1024 : n) * elem + 64;
    void *xa, *xb;
    if (posix_memalign(&xa, 64, bytes) || posix_memalign(&xb, 64, bytes))
        return 2;
    unsigned char *a = xa, *b = xb;
    fi_call call;
    static const double params[][2] = {{-0.05, 0.05}, {0, 1}, {-3, 7}, {0.999, 1.0}, {2, 2}, {-1e30, 1e30}, {5e-40, 6e-40}};
    long mismatches = 0;
    for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
        set_params(&call, params[p][0], params[p][1]);
        for (uint64_t first = 0; first < 70; first += 13)
            for (uint64_t count = 0; count < 700; count += 37)
                for (int far = 0; far < 2; far++) {
                    const uint64_t at = first + (far ? (UINT64_C(1) << 34) - 100 : 0);
                    memset(a, 0xAB, count * elem + 64);
                    memset(b, 0xAB, count * elem + 64);
                    ka(a, count, at, &call);
                    kb(b, count, at, &call);
                    mismatches += memcmp(a, b, count * elem + 64) != 0;
                }
    }
    set_params(&call, -0.05, 0.05);
    const char *trunc_k = getenv("KAB_TRUNC_K");
    if (dist == FI_DIST_TRUNC_NORMAL && trunc_k) /* contract v2's float32 inverse CDF at +-k std */
        set_trunc_f32(&call, atof(trunc_k));
    run(ka, a, n, elem, &call, threads);
    run(kb, b, n, elem, &call, threads);
    mismatches += memcmp(a, b, n * elem) != 0;
    double ta = 1e30, tb = 1e30;
    for (int r = 0; r < rounds; r++) {
        const double t0 = now();
        run(ka, a, n, elem, &call, threads);
        const double t1 = now();
        run(kb, b, n, elem, &call, threads);
        const double t2 = now();
        ta = t1 - t0 < ta ? t1 - t0 : ta;
        tb = t2 - t1 < tb ? t2 - t1 : tb;
    }
    printf("%s %d thread(s) dist %d dtype %d, %llu elements: old %.3f GB/s, new %.3f GB/s, new/old %.3f, "
           "mismatches %ld\n",
           argv[1], threads, dist, dtype, (unsigned long long)n, (double)(n * elem) / ta * 1e-9,
           (double)(n * elem) / tb * 1e-9, ta / tb, mismatches);
    free(xa);
    free(xb);
    return mismatches != 0;
}
