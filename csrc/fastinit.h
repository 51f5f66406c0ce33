/* fastinit: fill buffers in place with initial weights from a counter-based generator.
 *
 * Public C API. Every fill is a pure function of (seed, stream, element index): element i
 * of the buffer gets the value of stream element offset + i, whatever the thread count, SIMD
 * width or chunking (the stream contract, docs/stream-contract.md). Functions return
 * FI_OK or a negative status and write nothing when they fail. Thread-safe: the only shared
 * state is the dispatch table, chosen once (fi_isa_select may be called before the first fill).
 */
#ifndef FASTINIT_H
#define FASTINIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FI_VERSION_MAJOR 0
#define FI_VERSION_MINOR 1

/* fi_dtype (FI_FLOAT32, FI_FLOAT64, FI_BFLOAT16, FI_FLOAT16, FI_UINT32, FI_UINT64), the element
 * sizes and the other contract constants, generated from fastinit/_contract.py. */
#include "fi_contract.h"

typedef enum fi_status {
    FI_OK = 0,
    FI_E_DTYPE = -1,  /* dtype not supported by this distribution */
    FI_E_PARAM = -2,  /* a distribution parameter is out of its domain */
    FI_E_RANGE = -3,  /* offset + count exceeds 2^64 */
    FI_E_NULL = -4,   /* NULL buffer with a nonzero count */
    FI_E_ISA = -5     /* unknown or unsupported instruction set */
} fi_status;

/* Raw generator words: uint32 element i is word i; uint64 element i is words 2i (low) and 2i+1. */
int fi_fill_bits(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream, uint64_t offset);

/* Uniform on [low, high): float dtypes. Requires finite low <= high and a finite high - low. */
int fi_fill_uniform(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                    uint64_t offset, double low, double high);

/* Normal(mean, std^2) by Box-Muller: float dtypes. Requires finite mean, finite std >= 0. */
int fi_fill_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                   uint64_t offset, double mean, double std);

/* Normal(mean, std^2) truncated to [a, b] (absolute bounds) by inverse CDF: float dtypes.
 * Requires a < b (either may be infinite), finite mean, finite std >= 0, and a probability
 * mass of [a, b] under the untruncated normal of at least 2^-960. */
int fi_fill_trunc_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                         uint64_t offset, double mean, double std, double a, double b);

/* Every element set to value (rounded to the dtype; bfloat16/float16 via float32): float dtypes. */
int fi_fill_constant(void *out, uint64_t count, int dtype, double value);

/* One Philox4x32-10 block: out = philox(counter, key). */
void fi_philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

/* Instruction sets. The kernel table is chosen once, at first use: the best level the CPU
 * and OS support ("avx512" > "avx2" > "scalar" on x86-64, "neon" > "scalar" on AArch64), or
 * the one named by FASTINIT_ISA. fi_isa_init runs that choice and returns FI_E_ISA if
 * FASTINIT_ISA names a level this CPU or build cannot run (the best available level is then
 * used). fi_isa_select forces a level by name (call it before fills start).
 * fi_isa_at(i) is the name of level i of every level fastinit knows, lowest first (NULL past
 * the end); fi_isa_compiled tells whether this build has its kernels, fi_isa_available
 * whether they are compiled in and this CPU runs them. */
int fi_isa_init(void);
const char *fi_isa_name(void);
int fi_isa_select(const char *name);
int fi_isa_available(const char *name);
const char *fi_isa_at(int index);
int fi_isa_compiled(const char *name);

/* Threads used by large fills: default FASTINIT_NUM_THREADS, else the usable CPUs.
 * fi_set_num_threads returns FI_E_PARAM outside [1, 256]. Output never depends on it. */
int fi_set_num_threads(int n);
int fi_get_num_threads(void);

/* Standard normal CDF and quantile as the kernels compute them (float64). */
double fi_normal_cdf(double x);
double fi_normal_ppf(double p);

const char *fi_status_string(int status);

/* The version of the stream contract (docs/stream-contract.md) this build implements: the
 * same arguments give the same bits in every build with the same contract version. */
int fi_contract_version(void);

#ifdef __cplusplus
}
#endif

#endif /* FASTINIT_H */
