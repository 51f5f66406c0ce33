/* Scalar kernels: one per (distribution, dtype), the reference every SIMD path must match
 * bit for bit. Each fills out[0 .. count) with stream elements first .. first + count - 1
 * (docs/stream-contract.md): the word layout per dtype is
 *   32-bit words (float32, bfloat16, float16, uint32): element i uses word i = block i/4, lane i%4;
 *   float64 / uint64: element i uses words 2i, 2i+1 = block i/2, lanes 2(i%2) and 2(i%2)+1;
 *   Box-Muller pairs: float32 elements 4b..4b+3 are the pairs of block b (lanes 0,1 and 2,3),
 *   float64 elements 2b, 2b+1 are the pair of block b. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fi_internal.h"
#include "fi_math.h"
#include "philox.h"

static inline void block_words(const fi_call *call, uint64_t block, uint32_t w[4])
{
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), call->stream[0], call->stream[1]};
    fi_philox4x32_10(ctr, call->key, w);
}

static inline uint64_t word64(const uint32_t w[4], unsigned half)
{
    return (uint64_t)w[2 * half] | ((uint64_t)w[2 * half + 1] << 32);
}

/* ---- per-element transforms (the contract: docs/stream-contract.md) ------------------ */

static inline float uniform_f32(uint32_t w, const fi_call *c)
{
    const float u = (float)(w >> 8) * 0x1.0p-24f;
    float x = c->low32 + c->range32 * u;
    if (x >= c->high32 && c->range32 > 0.0f)
        x = c->below_high32;
    return x;
}

static inline double uniform_f64(uint64_t w, const fi_call *c)
{
    const double u = (double)(w >> 11) * 0x1.0p-53;
    double x = c->low64 + c->range64 * u;
    if (x >= c->high64 && c->range64 > 0.0)
        x = c->below_high64;
    return x;
}

/* Box-Muller on one pair of words: r = sqrt(-2 ln u1), u1 in (0, 1]; angle 2 pi u2. */
static inline void box_muller_f32(uint32_t w0, uint32_t w1, const fi_call *c, float z[2])
{
    const float u1 = (float)((w0 >> 8) + 1) * 0x1.0p-24f;
    const float r = sqrtf(-2.0f * fi_log_f32(u1));
    float cs, sn;
    fi_sincos_turn_f32(w1 >> 8, &cs, &sn);
    z[0] = c->mean32 + c->std32 * (r * cs);
    z[1] = c->mean32 + c->std32 * (r * sn);
}

static inline void box_muller_f64(uint64_t w0, uint64_t w1, const fi_call *c, double z[2])
{
    const double u1 = (double)((w0 >> 11) + 1) * 0x1.0p-53;
    const double r = sqrt(-2.0 * fi_log_f64(u1));
    double cs, sn;
    fi_sincos_turn_f64(w1 >> 11, &cs, &sn);
    z[0] = c->mean64 + c->std64 * (r * cs);
    z[1] = c->mean64 + c->std64 * (r * sn);
}

/* Inverse-CDF truncated normal from a uniform u in (0, 1) (exact in double). */
static inline double trunc_normal_from_u(double u, const fi_call *c)
{
    const double p = c->tn_pa + u * c->tn_mass;
    const double z = c->tn_sign * fi_norm_ppf(p);
    double x = c->mean64 + c->std64 * z;
    if (x < c->tn_a)
        x = c->tn_a;
    if (x > c->tn_b)
        x = c->tn_b;
    return x;
}

/* ---- kernels --------------------------------------------------------------------------- */

/* Element stores through a byte pointer and memcpy: the buffer may be unaligned for its
 * element type (a NumPy view at an odd byte offset is C-contiguous and writable), and a store
 * through a misaligned float * is undefined behaviour in C even where x86 tolerates it
 * (UBSan reported it under tools/sanitize.sh). A fixed-size memcpy compiles to one store. */
static inline void put_u16(void *out, uint64_t i, uint16_t v) { memcpy((unsigned char *)out + 2 * i, &v, 2); }
static inline void put_u32(void *out, uint64_t i, uint32_t v) { memcpy((unsigned char *)out + 4 * i, &v, 4); }
static inline void put_u64(void *out, uint64_t i, uint64_t v) { memcpy((unsigned char *)out + 8 * i, &v, 8); }
static inline void put_f32(void *out, uint64_t i, float v) { memcpy((unsigned char *)out + 4 * i, &v, 4); }
static inline void put_f64(void *out, uint64_t i, double v) { memcpy((unsigned char *)out + 8 * i, &v, 8); }

/* Walk the 32-bit-word layout: element first + i is lane (first + i) % 4 of block (first + i) / 4. */
#define FOR_EACH_WORD32(first, count, ELEMENT)                                   \
    do {                                                                         \
        uint64_t i_ = 0;                                                         \
        while (i_ < (count)) {                                                   \
            const uint64_t idx_ = (first) + i_;                                  \
            uint32_t w_[4];                                                      \
            block_words(call, idx_ >> 2, w_);                                    \
            for (unsigned lane_ = (unsigned)(idx_ & 3); lane_ < 4 && i_ < (count); lane_++, i_++) { \
                const uint32_t word = w_[lane_];                                 \
                const unsigned lane = lane_;                                     \
                (void)lane;                                                      \
                ELEMENT;                                                         \
            }                                                                    \
        }                                                                        \
    } while (0)

/* Walk the 64-bit-word layout: element first + i is half (first + i) % 2 of block (first + i) / 2. */
#define FOR_EACH_WORD64(first, count, ELEMENT)                                   \
    do {                                                                         \
        uint64_t i_ = 0;                                                         \
        while (i_ < (count)) {                                                   \
            const uint64_t idx_ = (first) + i_;                                  \
            uint32_t w_[4];                                                      \
            block_words(call, idx_ >> 1, w_);                                    \
            for (unsigned half_ = (unsigned)(idx_ & 1); half_ < 2 && i_ < (count); half_++, i_++) { \
                const uint64_t word = word64(w_, half_);                         \
                const unsigned half = half_;                                     \
                (void)half;                                                      \
                ELEMENT;                                                         \
            }                                                                    \
        }                                                                        \
    } while (0)

static void bits_u32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    FOR_EACH_WORD32(first, count, put_u32(out, i_, word));
}

static void bits_u64_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    FOR_EACH_WORD64(first, count, put_u64(out, i_, word));
}

static void uniform_f32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    FOR_EACH_WORD32(first, count, put_f32(out, i_, uniform_f32(word, call)));
}

static void uniform_f64_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    FOR_EACH_WORD64(first, count, put_f64(out, i_, uniform_f64(word, call)));
}

static void normal_f32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    uint64_t i = 0;
    while (i < count) {
        const uint64_t idx = first + i;
        uint32_t w[4];
        float z[4];
        block_words(call, idx >> 2, w);
        box_muller_f32(w[0], w[1], call, z);
        box_muller_f32(w[2], w[3], call, z + 2);
        for (unsigned lane = (unsigned)(idx & 3); lane < 4 && i < count; lane++, i++)
            put_f32(out, i, z[lane]);
    }
}

static void normal_f64_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    uint64_t i = 0;
    while (i < count) {
        const uint64_t idx = first + i;
        uint32_t w[4];
        double z[2];
        block_words(call, idx >> 1, w);
        box_muller_f64(word64(w, 0), word64(w, 1), call, z);
        for (unsigned half = (unsigned)(idx & 1); half < 2 && i < count; half++, i++)
            put_f64(out, i, z[half]);
    }
}

static void trunc_normal_f32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    /* u = ((w >> 8) + 0.5) 2^-24: 25 significant bits at most, exact in double */
    FOR_EACH_WORD32(first, count,
                    put_f32(out, i_, (float)trunc_normal_from_u(((double)(word >> 8) + 0.5) * 0x1.0p-24, call)));
}

static void trunc_normal_f64_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    /* u = ((w >> 12) + 0.5) 2^-52: 53 significant bits, exact in double, never 0 or 1 */
    FOR_EACH_WORD64(first, count,
                    put_f64(out, i_, trunc_normal_from_u(((double)(word >> 12) + 0.5) * 0x1.0p-52, call)));
}

static void constant_f32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    (void)first;
    for (uint64_t i = 0; i < count; i++)
        put_f32(out, i, call->value32);
}

static void constant_f64_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    (void)first;
    for (uint64_t i = 0; i < count; i++)
        put_f64(out, i, call->value64);
}

/* bfloat16 and float16: the float32 value of the same element, rounded to nearest even.
 * Generated a tile at a time into a stack buffer by the float32 kernel, then narrowed. */
#define FI_NARROW_TILE 512
#define DEFINE_NARROW_KERNEL(name, f32_kernel, convert)                             \
    static void name(void *out, uint64_t count, uint64_t first, const fi_call *call) \
    {                                                                               \
        float tile[FI_NARROW_TILE];                                                 \
        for (uint64_t done = 0; done < count;) {                                    \
            const uint64_t left = count - done;                                     \
            const unsigned n = left < FI_NARROW_TILE ? (unsigned)left : FI_NARROW_TILE; \
            f32_kernel(tile, n, first + done, call);                                \
            for (unsigned j = 0; j < n; j++)                                        \
                put_u16(out, done + j, convert(tile[j]));                           \
            done += n;                                                              \
        }                                                                           \
    }

DEFINE_NARROW_KERNEL(uniform_bf16_scalar, uniform_f32_scalar, fi_f32_to_bf16)
DEFINE_NARROW_KERNEL(uniform_f16_scalar, uniform_f32_scalar, fi_f32_to_f16)
DEFINE_NARROW_KERNEL(normal_bf16_scalar, normal_f32_scalar, fi_f32_to_bf16)
DEFINE_NARROW_KERNEL(normal_f16_scalar, normal_f32_scalar, fi_f32_to_f16)
DEFINE_NARROW_KERNEL(trunc_normal_bf16_scalar, trunc_normal_f32_scalar, fi_f32_to_bf16)
DEFINE_NARROW_KERNEL(trunc_normal_f16_scalar, trunc_normal_f32_scalar, fi_f32_to_f16)
DEFINE_NARROW_KERNEL(constant_bf16_scalar, constant_f32_scalar, fi_f32_to_bf16)
DEFINE_NARROW_KERNEL(constant_f16_scalar, constant_f32_scalar, fi_f32_to_f16)

const fi_isa_table fi_table_scalar = {
    .name = "scalar",
    .kernel = {
        [FI_DIST_BITS] = {[FI_UINT32] = bits_u32_scalar, [FI_UINT64] = bits_u64_scalar},
        [FI_DIST_UNIFORM] = {[FI_FLOAT32] = uniform_f32_scalar, [FI_FLOAT64] = uniform_f64_scalar,
                             [FI_BFLOAT16] = uniform_bf16_scalar, [FI_FLOAT16] = uniform_f16_scalar},
        [FI_DIST_NORMAL] = {[FI_FLOAT32] = normal_f32_scalar, [FI_FLOAT64] = normal_f64_scalar,
                            [FI_BFLOAT16] = normal_bf16_scalar, [FI_FLOAT16] = normal_f16_scalar},
        [FI_DIST_TRUNC_NORMAL] = {[FI_FLOAT32] = trunc_normal_f32_scalar,
                                  [FI_FLOAT64] = trunc_normal_f64_scalar,
                                  [FI_BFLOAT16] = trunc_normal_bf16_scalar,
                                  [FI_FLOAT16] = trunc_normal_f16_scalar},
        [FI_DIST_CONSTANT] = {[FI_FLOAT32] = constant_f32_scalar, [FI_FLOAT64] = constant_f64_scalar,
                              [FI_BFLOAT16] = constant_bf16_scalar, [FI_FLOAT16] = constant_f16_scalar},
    },
};
