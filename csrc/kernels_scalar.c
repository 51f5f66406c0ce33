/* Scalar kernels: one per (distribution, dtype), the reference every SIMD path must match
 * bit for bit. Each fills out[0 .. count) with stream elements first .. first + count - 1
 * (docs/stream-contract.md): the word layout per dtype is
 *   32-bit words (float32, bfloat16, float16, uint32): element i uses word i = block i/4, lane i%4;
 *   float64 / uint64: element i uses words 2i, 2i+1 = block i/2, lanes 2(i%2) and 2(i%2)+1;
 *   Box-Muller, float32 (v2): elements 32g .. 32g+31 are the 16 pairs of words 32g+j (radius)
 *   and 32g+16+j (angle), j < 16: element 32g+j is r cos, element 32g+16+j is r sin;
 *   Box-Muller, float64: elements 2b, 2b+1 are the pair of block b.
 * Words are made FI_TILE_BLOCKS blocks at a time, their rounds interleaved (independent
 * multiply chains: several times faster than one block after another, and what a compiler
 * may vectorize), so a kernel walks tiles of 32 words. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fi_internal.h"
#include "fi_math.h"
#include "philox.h"

#define FI_TILE_BLOCKS 8
#define FI_TILE_WORDS (4 * FI_TILE_BLOCKS)

/* words of blocks block .. block + FI_TILE_BLOCKS - 1, in stream order (block < 2^62: no wrap) */
static inline void tile_words(const fi_call *call, uint64_t block, uint32_t w[FI_TILE_WORDS])
{
    uint32_t x0[FI_TILE_BLOCKS], x1[FI_TILE_BLOCKS], x2[FI_TILE_BLOCKS], x3[FI_TILE_BLOCKS];
    for (int b = 0; b < FI_TILE_BLOCKS; b++) {
        x0[b] = (uint32_t)(block + (uint64_t)b);
        x1[b] = (uint32_t)((block + (uint64_t)b) >> 32);
        x2[b] = call->stream[0];
        x3[b] = call->stream[1];
    }
    uint32_t k0 = call->key[0], k1 = call->key[1];
    for (int round = 0; round < FI_PHILOX_ROUNDS; round++) {
        if (round > 0) {
            k0 += FI_PHILOX_W0;
            k1 += FI_PHILOX_W1;
        }
        for (int b = 0; b < FI_TILE_BLOCKS; b++) { /* fi_philox_round on block b */
            const uint64_t p0 = (uint64_t)FI_PHILOX_M0 * x0[b];
            const uint64_t p1 = (uint64_t)FI_PHILOX_M1 * x2[b];
            const uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1[b] ^ k0;
            const uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3[b] ^ k1;
            x1[b] = (uint32_t)p1;
            x3[b] = (uint32_t)p0;
            x0[b] = y0;
            x2[b] = y2;
        }
    }
    for (int b = 0; b < FI_TILE_BLOCKS; b++) {
        w[4 * b] = x0[b];
        w[4 * b + 1] = x1[b];
        w[4 * b + 2] = x2[b];
        w[4 * b + 3] = x3[b];
    }
}

static inline uint64_t word64(const uint32_t *w, unsigned half)
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

/* Contract v2: Phi^-1(p2 / 2) in float32 from p2 = 2p and q2 = 2(1 - p) (fastinit/_mathspec.py) */
static inline float norm_ppf_f32(float p2, float q2)
{
    const float d = p2 - q2;
    const float w = -fi_log_f32(p2 * q2);
    if (w < FI_PPF32_SPLIT) { /* Estrin's scheme, as _mathspec orders it */
        const float x = w - FI_PPF32_C_CENTER, x2 = x * x, x4 = x2 * x2;
        const float a0 = FI_PPF32_C_0 + FI_PPF32_C_1 * x, a1 = FI_PPF32_C_2 + FI_PPF32_C_3 * x;
        const float a2 = FI_PPF32_C_4 + FI_PPF32_C_5 * x, a3 = FI_PPF32_C_6 + FI_PPF32_C_7 * x;
        const float b0 = a0 + a1 * x2, b1 = a2 + a3 * x2;
        return d * ((b0 + b1 * x4) + FI_PPF32_C_8 * (x4 * x4));
    }
    const float s = sqrtf(w);
    if (s < FI_PPF32_TAIL_SPLIT) {
        const float t = s - FI_PPF32_T1_CENTER;
        return d * (((((((((FI_PPF32_T1_9 * t + FI_PPF32_T1_8) * t + FI_PPF32_T1_7) * t + FI_PPF32_T1_6) * t
                          + FI_PPF32_T1_5) * t + FI_PPF32_T1_4) * t + FI_PPF32_T1_3) * t + FI_PPF32_T1_2) * t
                      + FI_PPF32_T1_1) * t + FI_PPF32_T1_0);
    }
    const float t = s - FI_PPF32_T2_CENTER;
    return d * (((((((FI_PPF32_T2_7 * t + FI_PPF32_T2_6) * t + FI_PPF32_T2_5) * t + FI_PPF32_T2_4) * t
                   + FI_PPF32_T2_3) * t + FI_PPF32_T2_2) * t + FI_PPF32_T2_1) * t + FI_PPF32_T2_0);
}

/* The float32 truncated normal of contract v2 from one word (k = w >> 9, 23 bits). */
static inline float trunc_normal_f32(uint32_t word, const fi_call *c)
{
    const float u = ((float)(word >> 9) + 0.5f) * 0x1.0p-23f; /* 24 bits: exact, and so is 1 - u */
    const float p2 = c->tn_p2a + u * c->tn_m2;
    const float q2 = c->tn_q2b + (1.0f - u) * c->tn_m2;
    float x = c->mean32 + c->tn_std32 * norm_ppf_f32(p2, q2);
    x = x < c->tn_a32 ? c->tn_a32 : x;
    return x > c->tn_b32 ? c->tn_b32 : x;
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

/* Walk the 32-bit-word layout: element first + i is word first + i, in tiles of 32 words. */
#define FOR_EACH_WORD32(first, count, ELEMENT)                                   \
    do {                                                                         \
        uint64_t i_ = 0;                                                         \
        while (i_ < (count)) {                                                   \
            const uint64_t idx_ = (first) + i_;                                  \
            uint32_t w_[FI_TILE_WORDS];                                          \
            tile_words(call, (idx_ >> 2) & ~(uint64_t)(FI_TILE_BLOCKS - 1), w_); \
            for (unsigned j_ = (unsigned)(idx_ % FI_TILE_WORDS); j_ < FI_TILE_WORDS && i_ < (count); j_++, i_++) { \
                const uint32_t word = w_[j_];                                    \
                ELEMENT;                                                         \
            }                                                                    \
        }                                                                        \
    } while (0)

/* Walk the 64-bit-word layout: element first + i is 64-bit word first + i, 16 to a tile. */
#define FOR_EACH_WORD64(first, count, ELEMENT)                                   \
    do {                                                                         \
        uint64_t i_ = 0;                                                         \
        while (i_ < (count)) {                                                   \
            const uint64_t idx_ = (first) + i_;                                  \
            uint32_t w_[FI_TILE_WORDS];                                          \
            tile_words(call, (idx_ >> 1) & ~(uint64_t)(FI_TILE_BLOCKS - 1), w_); \
            for (unsigned j_ = (unsigned)(idx_ % (FI_TILE_WORDS / 2)); j_ < FI_TILE_WORDS / 2 && i_ < (count); j_++, i_++) { \
                const uint64_t word = word64(w_ + 2 * j_, 0);                    \
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

/* v2 pairing: a tile of 32 words is one Box-Muller group (words j and 16 + j, j < 16) */
static void normal_f32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    uint64_t i = 0;
    while (i < count) {
        const uint64_t idx = first + i;
        uint32_t w[FI_TILE_WORDS];
        float z[FI_TILE_WORDS];
        tile_words(call, idx / FI_TILE_WORDS * FI_TILE_BLOCKS, w);
        for (int j = 0; j < FI_TILE_WORDS / 2; j++) {
            float pair[2];
            box_muller_f32(w[j], w[j + FI_TILE_WORDS / 2], call, pair);
            z[j] = pair[0];
            z[j + FI_TILE_WORDS / 2] = pair[1];
        }
        for (unsigned j = (unsigned)(idx % FI_TILE_WORDS); j < FI_TILE_WORDS && i < count; j++, i++)
            put_f32(out, i, z[j]);
    }
}

static void normal_f64_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    uint64_t i = 0;
    while (i < count) {
        const uint64_t idx = first + i;
        uint32_t w[FI_TILE_WORDS];
        tile_words(call, (idx >> 1) & ~(uint64_t)(FI_TILE_BLOCKS - 1), w);
        for (unsigned j = (unsigned)(idx % (2 * FI_TILE_BLOCKS)); j < 2 * FI_TILE_BLOCKS && i < count;) {
            double z[2];
            const unsigned b = j / 2; /* the pair of block b */
            box_muller_f64(word64(w + 4 * b, 0), word64(w + 4 * b, 1), call, z);
            for (unsigned half = j & 1; half < 2 && i < count; half++, i++, j++)
                put_f64(out, i, z[half]);
        }
    }
}

static void trunc_normal_f32_scalar(void *out, uint64_t count, uint64_t first, const fi_call *call)
{
    switch (call->tn_mode) {
    case FI_TN_NORMAL: /* the bounds lie beyond the normal generator's reach (contract v2) */
        normal_f32_scalar(out, count, first, call);
        for (uint64_t i = 0; i < count; i++) {
            float x;
            memcpy(&x, (unsigned char *)out + 4 * i, 4);
            x = x < call->tn_a32 ? call->tn_a32 : x;
            put_f32(out, i, x > call->tn_b32 ? call->tn_b32 : x);
        }
        return;
    case FI_TN_F32:
        FOR_EACH_WORD32(first, count, put_f32(out, i_, trunc_normal_f32(word, call)));
        return;
    default:
        /* v1: u = ((w >> 8) + 0.5) 2^-24: 25 significant bits at most, exact in double */
        FOR_EACH_WORD32(first, count,
                        put_f32(out, i_, (float)trunc_normal_from_u(((double)(word >> 8) + 0.5) * 0x1.0p-24, call)));
    }
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
