/* Internal interface between the entry points (fastinit.c), the per-ISA kernel files and
 * the dispatcher (dispatch.c). Not installed, not part of the public API. */
#ifndef FI_INTERNAL_H
#define FI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fastinit.h"

/* The stream contract forbids fused multiply-add (each product is rounded before the add,
 * as in NumPy). GCC and clang get -ffp-contract=off from setup.py. MSVC's /fp:precise
 * contracts by default before Visual Studio 2022 17.0 (its fp_contract pragma page), so
 * every file turns it off here: all .c files include this header before any arithmetic. */
#if defined(_MSC_VER) && !defined(__clang__)
#pragma fp_contract(off)
#endif

/* fi_dist (FI_DIST_BITS ... FI_DIST_CONSTANT, FI_DIST_COUNT) comes from fi_contract.h. */

/* How a truncated normal of 32- and 16-bit outputs is evaluated (docs/stream-contract.md, v2);
 * must match TN_* in fastinit/_params.py */
typedef enum fi_tn_mode { FI_TN_F64 = 0, FI_TN_NORMAL = 1, FI_TN_F32 = 2 } fi_tn_mode;

/* Everything a kernel needs, resolved once per call by the entry point so that the hot loops
 * have no branch on arguments. */
typedef struct fi_call {
    uint32_t key[2];    /* (seed mod 2^32, seed >> 32) */
    uint32_t stream[2]; /* counter words 2 and 3: (stream mod 2^32, stream >> 32) */
    /* uniform: x = low + range * u; x >= high -> below_high (only when low < high) */
    float low32, range32, high32, below_high32;
    double low64, range64, high64, below_high64;
    /* normal: x = mean + std * z */
    float mean32, std32;
    double mean64, std64;
    /* truncated normal: p = tn_pa + u * tn_mass; z = tn_sign * ppf(p); x = clamp(mean + std z, a, b) */
    double tn_pa, tn_mass, tn_sign, tn_a, tn_b;
    /* truncated normal of 32- and 16-bit outputs (contract v2): tn_mode is an fi_tn_mode;
     * FI_TN_F32: p2 = tn_p2a + u * tn_m2, q2 = tn_q2b + (1 - u) * tn_m2,
     * x = min(max(mean32 + tn_std32 * ppf_f32(p2, q2), tn_a32), tn_b32) (tn_std32 = sign * std32);
     * FI_TN_NORMAL: normal_(mean32, std32)'s elements clamped into [tn_a32, tn_b32] */
    int tn_mode;
    float tn_p2a, tn_m2, tn_q2b, tn_std32, tn_a32, tn_b32;
    /* constant */
    float value32;
    double value64;
} fi_call;

typedef void (*fi_kernel)(void *out, uint64_t count, uint64_t first, const fi_call *call);

typedef struct fi_isa_table {
    const char *name;
    /* NULL in the scalar table: combination not supported; NULL in a SIMD table: the scalar
     * kernel serves (e.g. constants, which are memory-bound) */
    fi_kernel kernel[FI_DIST_COUNT][FI_DTYPE_COUNT];
} fi_isa_table;

extern const fi_isa_table fi_table_scalar;

const fi_isa_table *fi_active_table(void);

/* A prepared call: one fill, checked and resolved once by fi_prepare, then written by
 * fi_run_prepared over any number of sub-ranges (chunks) without another check. The caller
 * (fastinit/_core.pyx, or the fi_fill_* entry points) builds it on its stack. */
typedef struct fi_prepared {
    int dist, dtype;     /* fi_dist and fi_dtype codes */
    unsigned char *out;  /* element 0 of the whole target */
    uint64_t count;      /* elements of the whole target */
    uint64_t offset;     /* stream index of element 0 */
    size_t elem_size;    /* bytes per element */
    fi_kernel kernel;    /* the dispatched kernel (NULL when count is 0) */
    fi_call call;        /* the resolved parameters */
} fi_prepared;

/* Check every argument of one fill of count elements at out and resolve it into *prep:
 * dist is an fi_dist code, params holds the distribution's parameters (uniform: low, high;
 * normal: mean, std; truncated normal: mean, std, a, b; constant: value; bits: none; NULL
 * when there are none). Returns FI_OK or the status the matching fi_fill_* would return,
 * in the same order of checks (dtype, parameters, buffer and range); nothing is written. */
int fi_prepare(fi_prepared *prep, int dist, int dtype, void *out, uint64_t count, uint64_t seed,
               uint64_t stream, uint64_t offset, const double *params);

/* Set the (seed, stream) of a prepared fill (they take no part in its checks): for a caller
 * that takes a stream only once a call is known to be valid. */
void fi_prepared_key(fi_prepared *prep, uint64_t seed, uint64_t stream);

/* Write elements [begin, begin + n) of a prepared fill (stream indices offset + begin ...).
 * No check: the caller keeps begin + n <= prep->count. Releases nothing, allocates nothing;
 * may be called without the GIL and concurrently on disjoint sub-ranges. */
void fi_run_prepared(const fi_prepared *prep, uint64_t begin, uint64_t n);

/* Run kernel over count elements (elem_size bytes each), split over the thread pool when
 * the fill is large enough (threads.c). */
void fi_run_parallel(fi_kernel kernel, void *out, size_t elem_size, uint64_t count, uint64_t first,
                     const fi_call *call);

#endif /* FI_INTERNAL_H */
