/* Plain-C test driver for csrc/: checks the Philox known answers and the frozen regression
 * vectors of tests/vectors.txt through the public API (fastinit.h), under every instruction
 * set this CPU runs, plus the contract version, sharding and error statuses, with no Python
 * in the way.
 *
 *   cc -std=c99 -O2 -ffp-contract=off -Wall -Wextra -Werror -Icsrc tests/c/test_vectors.c csrc/[a-z]*.c -lm \
 *      -o test_vectors && ./test_vectors tests/vectors.txt
 *
 * With FASTINIT_ISA=name set, checks that level only (against the vectors and the scalar
 * kernels; exit 3 if this build or CPU cannot run it), so that one run per level under an
 * emulator tests each level forced the way users force it. The first line says the level in
 * use and the levels compiled in ("isa avx2 compiled scalar avx2 avx512"); the last,
 * "N passed, M failed"; the exit status is non-zero on any failure. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastinit.h"

#define MAX_VALUES 128

static int passed, failed;

/* The instruction sets checked: every one this CPU and build run, or, with FASTINIT_ISA set,
 * only that one (plus scalar, the reference), which must then be the one the library chose. */
static const char *forced_isa;

static int checked(const char *isa)
{
    if (!fi_isa_available(isa))
        return 0;
    return forced_isa == NULL || strcmp(isa, forced_isa) == 0 || strcmp(isa, "scalar") == 0;
}

static void report(int ok, const char *what, int line)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL line %d: %s\n", line, what);
    }
}

static int dtype_from_name(const char *name)
{
    static const char *const names[] = {"float32", "float64", "bfloat16", "float16", "uint32", "uint64"};
    for (int i = 0; i < FI_DTYPE_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static size_t itemsize(int dtype)
{
    static const size_t sizes[] = {4, 8, 2, 2, 4, 8};
    return sizes[dtype];
}

static uint64_t element_bits(const unsigned char *buf, int dtype, size_t i)
{
    const size_t w = itemsize(dtype);
    if (w == 2) { uint16_t v; memcpy(&v, buf + 2 * i, 2); return v; }
    if (w == 4) { uint32_t v; memcpy(&v, buf + 4 * i, 4); return v; }
    uint64_t v; memcpy(&v, buf + 8 * i, 8); return v;
}

static int fill(const char *dist, void *out, uint64_t n, int dtype, uint64_t seed, uint64_t stream,
                uint64_t offset, const double *p)
{
    if (strcmp(dist, "bits") == 0) return fi_fill_bits(out, n, dtype, seed, stream, offset);
    if (strcmp(dist, "uniform") == 0) return fi_fill_uniform(out, n, dtype, seed, stream, offset, p[0], p[1]);
    if (strcmp(dist, "normal") == 0) return fi_fill_normal(out, n, dtype, seed, stream, offset, p[0], p[1]);
    if (strcmp(dist, "trunc_normal") == 0)
        return fi_fill_trunc_normal(out, n, dtype, seed, stream, offset, p[0], p[1], p[2], p[3]);
    if (strcmp(dist, "constant") == 0) return fi_fill_constant(out, n, dtype, p[0]);
    return -100;
}

static int nparams(const char *dist)
{
    if (strcmp(dist, "bits") == 0) return 0;
    if (strcmp(dist, "constant") == 0) return 1;
    if (strcmp(dist, "trunc_normal") == 0) return 4;
    return 2;
}

static void check_philox(char *rest, int line)
{
    uint32_t v[10];
    char *tok = strtok(rest, " \t\n");
    for (int i = 0; i < 10 && tok; i++) {
        if (strcmp(tok, "->") == 0) tok = strtok(NULL, " \t\n");
        v[i] = (uint32_t)strtoul(tok, NULL, 16);
        tok = strtok(NULL, " \t\n");
    }
    uint32_t out[4];
    fi_philox4x32(v, v + 4, out);
    report(memcmp(out, v + 6, sizeof out) == 0, "philox known answer", line);
}

/* Check a frozen vector under every instruction set, then the same values split into two
 * shards at every cut. */
static void check_fill(char *rest, int line)
{
    char *save = rest;
    const char *dist = strtok(save, " \t\n");
    const char *dtype_name = strtok(NULL, " \t\n");
    const int dtype = dtype_from_name(dtype_name);
    const uint64_t seed = strtoull(strtok(NULL, " \t\n"), NULL, 10);
    const uint64_t stream = strtoull(strtok(NULL, " \t\n"), NULL, 10);
    const uint64_t offset = strtoull(strtok(NULL, " \t\n"), NULL, 10);
    double p[4] = {0, 0, 0, 0};
    for (int i = 0; i < nparams(dist); i++)
        p[i] = strtod(strtok(NULL, " \t\n"), NULL);
    strtok(NULL, " \t\n"); /* "->" */
    uint64_t expect[MAX_VALUES];
    size_t n = 0;
    for (char *tok = strtok(NULL, " \t\n"); tok && n < MAX_VALUES; tok = strtok(NULL, " \t\n"))
        expect[n++] = strtoull(tok, NULL, 16);

    const char *const before = fi_isa_name();
    for (int k = 0; fi_isa_at(k) != NULL; k++) {
        const char *const isa = fi_isa_at(k);
        if (!checked(isa))
            continue;
        fi_isa_select(isa);
        unsigned char whole[MAX_VALUES * 8], part[MAX_VALUES * 8];
        int status = fill(dist, whole, n, dtype, seed, stream, offset, p);
        int ok = status == FI_OK;
        for (size_t i = 0; ok && i < n; i++)
            ok = element_bits(whole, dtype, i) == expect[i];
        report(ok, isa, line);

        for (size_t cut = 1; cut < n; cut++) {
            const size_t w = itemsize(dtype);
            int s1 = fill(dist, part, cut, dtype, seed, stream, offset, p);
            int s2 = fill(dist, part + cut * w, n - cut, dtype, seed, stream, offset + cut, p);
            report(s1 == FI_OK && s2 == FI_OK && memcmp(part, whole, n * w) == 0, "shards equal whole", line);
        }
    }
    fi_isa_select(before);
}

/* Every instruction set this CPU runs gives the scalar bits, for many sizes and offsets. */
static void check_isas_agree(void)
{
    static const char *const dists[] = {"bits", "uniform", "normal", "trunc_normal"};
    static const double params[][4] = {{0, 0, 0, 0}, {-1.5, 2.25, 0, 0}, {0.5, 2.0, 0, 0}, {0.1, 1.5, -1.0, 3.0}};
    static const uint64_t sizes[] = {0, 1, 3, 17, 64, 131, 1000};
    static const uint64_t offsets[] = {0, 1, 2, 3, 5, 0xFFFFFFFFull, (1ull << 62) + 7};
    enum { MAX_N = 1000 };
    static unsigned char want[MAX_N * 8], got[MAX_N * 8];
    for (int k = 1; fi_isa_at(k) != NULL; k++) { /* level 0 is scalar itself */
        const char *const isa = fi_isa_at(k);
        if (!checked(isa))
            continue;
        for (size_t d = 0; d < 4; d++) {
            for (int dtype = 0; dtype < FI_DTYPE_COUNT; dtype++) {
                if ((d == 0) != (dtype == FI_UINT32 || dtype == FI_UINT64))
                    continue;
                for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                    for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
                        const uint64_t n = sizes[s], off = offsets[o];
                        fi_isa_select("scalar");
                        int s1 = fill(dists[d], want, n, dtype, 99, 5, off, params[d]);
                        fi_isa_select(isa);
                        int s2 = fill(dists[d], got, n, dtype, 99, 5, off, params[d]);
                        report(s1 == FI_OK && s2 == FI_OK && memcmp(want, got, n * itemsize(dtype)) == 0,
                               isa, __LINE__);
                    }
                }
            }
        }
    }
    fi_isa_select("scalar");
}

/* The thread pool (POSIX or Win32 threads) gives the single-threaded bits, with parts of
 * unequal length too (3 threads) and with an offset; big enough to be split. */
static void check_threads_agree(void)
{
    enum { N = (1 << 20) + 77 };
    float *one = malloc(N * sizeof *one), *many = malloc(N * sizeof *many);
    if (!one || !many) {
        report(0, "malloc", __LINE__);
        free(one);
        free(many);
        return;
    }
    const int saved = fi_get_num_threads();
    static const int counts[] = {2, 3, 4};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        fi_set_num_threads(1);
        int s1 = fi_fill_normal(one, N, FI_FLOAT32, 7, 3, 12345, 0.5, 2.0);
        fi_set_num_threads(counts[k]);
        memset(many, 0, N * sizeof *many);
        int s2 = fi_fill_normal(many, N, FI_FLOAT32, 7, 3, 12345, 0.5, 2.0);
        report(s1 == FI_OK && s2 == FI_OK && memcmp(one, many, N * sizeof *one) == 0, "threads", __LINE__);
    }
    fi_set_num_threads(saved);
    free(one);
    free(many);
}

static void check_errors(void)
{
    float buf[4] = {7, 7, 7, 7};
    const float before[4] = {7, 7, 7, 7};
    report(fi_fill_uniform(buf, 4, FI_FLOAT32, 0, 0, 0, 1.0, 0.0) == FI_E_PARAM, "low > high", __LINE__);
    report(fi_fill_uniform(buf, 4, FI_FLOAT32, 0, 0, 0, 0.0, (double)INFINITY) == FI_E_PARAM, "inf high", __LINE__);
    report(fi_fill_normal(buf, 4, FI_FLOAT32, 0, 0, 0, 0.0, -1.0) == FI_E_PARAM, "std < 0", __LINE__);
    report(fi_fill_normal(buf, 4, FI_FLOAT32, 0, 0, 0, (double)NAN, 1.0) == FI_E_PARAM, "nan mean", __LINE__);
    report(fi_fill_trunc_normal(buf, 4, FI_FLOAT32, 0, 0, 0, 0.0, 1.0, 2.0, 2.0) == FI_E_PARAM, "a == b", __LINE__);
    report(fi_fill_trunc_normal(buf, 4, FI_FLOAT32, 0, 0, 0, 0.0, 1.0, 50.0, 60.0) == FI_E_PARAM,
           "negligible mass", __LINE__);
    report(fi_fill_bits(buf, 4, FI_FLOAT32, 0, 0, 0) == FI_E_DTYPE, "bits into float", __LINE__);
    report(fi_fill_normal(buf, 4, FI_UINT32, 0, 0, 0, 0.0, 1.0) == FI_E_DTYPE, "normal into uint", __LINE__);
    report(fi_fill_normal(buf, 4, 17, 0, 0, 0, 0.0, 1.0) == FI_E_DTYPE, "unknown dtype", __LINE__);
    report(fi_fill_uniform(buf, 4, FI_FLOAT32, 0, 0, UINT64_MAX - 2, 0.0, 1.0) == FI_E_RANGE,
           "offset overflow", __LINE__);
    report(fi_fill_uniform(NULL, 4, FI_FLOAT32, 0, 0, 0, 0.0, 1.0) == FI_E_NULL, "NULL buffer", __LINE__);
    report(memcmp(buf, before, sizeof buf) == 0, "failed calls wrote nothing", __LINE__);
    report(fi_fill_uniform(NULL, 0, FI_FLOAT32, 0, 0, 0, 0.0, 1.0) == FI_OK, "empty fill is a no-op", __LINE__);
    report(fi_isa_select("no-such-isa") == FI_E_ISA, "unknown ISA", __LINE__);
    report(fi_isa_select("scalar") == FI_OK && strcmp(fi_isa_name(), "scalar") == 0, "scalar ISA", __LINE__);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "tests/vectors.txt";
    const char *env_isa = getenv("FASTINIT_ISA");
    if (env_isa && env_isa[0]) {
        if (fi_isa_init() != FI_OK) {
            fprintf(stderr, "FASTINIT_ISA=%s: not available in this build or on this CPU\n", env_isa);
            return 3;
        }
        forced_isa = env_isa;
    }
    /* the level in use (what FASTINIT_ISA forced, else the best), and the levels compiled in */
    const char *const chosen = fi_isa_name();
    printf("isa %s compiled", chosen);
    for (int k = 0; fi_isa_at(k) != NULL; k++)
        if (fi_isa_compiled(fi_isa_at(k)))
            printf(" %s", fi_isa_at(k));
    printf("\n");
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 2;
    }
    char line[8192];
    int lineno = 0, vectors = 0, contracts = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "contract ", 9) == 0) { /* the contract version the vectors freeze */
            report(strtol(line + 9, NULL, 10) == fi_contract_version(), "contract version", lineno);
            contracts++;
        } else if (strncmp(line, "philox ", 7) == 0) {
            check_philox(line + 7, lineno);
            vectors++;
        } else if (strncmp(line, "fill ", 5) == 0) {
            check_fill(line + 5, lineno);
            vectors++;
        }
    }
    report(contracts == 1, "one contract line", lineno);
    fclose(f);
    check_errors();
    check_isas_agree();
    fi_isa_select(chosen); /* the thread pool runs the kernels of the level under test */
    check_threads_agree();
    if (vectors == 0) {
        fprintf(stderr, "no vectors found in %s\n", path);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
