/* The SIMD kernels, written once with GCC/clang vector extensions and instantiated per
 * instruction set by kernels_avx2.c, kernels_avx512.c and kernels_neon.c (each compiled for its
 * target).
 *
 * Every operation here is the vector form of the scalar one in fi_math.h / kernels_scalar.c,
 * in the same order and precision, so each lane rounds exactly as the scalar code does:
 * the SIMD kernels are bit-identical to the scalar ones (tests/test_isa.py checks every ISA).
 *
 * The including file defines, before including this header:
 *   FI_VBYTES                vector width in bytes (16 NEON, 32 AVX2, 64 AVX-512)
 *   FI_ISA_NAME              token for kernel names (neon, avx2, avx512)
 *   FI_NV                    vectors per step (even): independent Philox chains
 *   fi_vu fi_philox_first_v(fi_vq r0, fi_vu c)
 *                            the state after round 0 (see vstream below) from r0 and the
 *                            constant words c, in the layout fi_philox_rounds_v expects
 *   void fi_philox_first_block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t words[4])
 *                            one block's lanes of c
 *   void fi_philox_rounds_v(fi_vu x[FI_NV], const fi_vu *round_keys)
 *                            rounds 1..9 of Philox4x32-10 on FI_NV vectors of FI_VBYTES/16
 *                            blocks each, x left in the ISA's own lane order
 *   fi_vu fi_words_v(fi_vu x), fi_vu fi_words_shr8_v(fi_vu x)
 *                            x in memory order (words 4b..4b+3 of each block), and the same
 *                            shifted right by 8 (the 24 bits of the float32 uniforms)
 *   void fi_philox_key_block(uint32_t k0, uint32_t k1, uint32_t words[4])
 *                            one block's lanes of a round key (k0, k1), the same lanes every
 *                            round, zero in the others (vstream_init adds these patterns)
 *   fi_vf fi_vsqrt_f(fi_vf), fi_vd fi_vsqrt_d(fi_vd)              correctly rounded sqrt
 *   fi_vf fi_vmin_f(fi_vf a, fi_vf b), fi_vd fi_vmin_d(...)      a < b ? a : b per lane (x86 min:
 *                                                                b when either is NaN)
 *   int fi_any_l(fi_vl mask)                                     any lane set
 *   fi_vh fi_cvt_f16(fi_vf)                                      float32 -> float16 bits (RNE)
 *   optional: FI_HAVE_BLEND_SIGN and fi_vf fi_vblend_sign_f(fi_vf a, fi_vf b, fi_vi m)
 *                            b where m's sign bit is set, else a (one x86 blendv); without it
 *                            a portable shift-and-select form below serves
 *   FI_HAVE_CVT_U64          1 if __builtin_convertvector of 64-bit integers to double is one
 *                            instruction (exact below 2^53), else 0
 *   FI_IDX_EVEN32 ... index lists for __builtin_shufflevector (see below); the _RAW ones
 *                            pick words 0, 2 (1, 3) of each block from the rounds' lane order
 * after defining the vector types with fi_simd_types.h.
 *
 * Philox layout: a vector of G = FI_VBYTES / 16 consecutive blocks b, b + 1, ...
 */
#ifndef FI_ISA_NAME
#error "define FI_ISA_NAME before including fi_simd_template.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fi_internal.h"
#include "fi_mathspec.h"

#define FI_CAT2(a, b) a##_##b
#define FI_CAT(a, b) FI_CAT2(a, b)
#define FI_K(name) FI_CAT(name, FI_ISA_NAME)

#define W32 (FI_VBYTES / 4) /* 32-bit lanes */
#define W64 (FI_VBYTES / 8) /* 64-bit lanes */
#define G (FI_VBYTES / 16)  /* Philox blocks per vector */

static inline fi_vf vsel_f(fi_vi mask, fi_vf a, fi_vf b) /* mask ? a : b */
{
    return (fi_vf)(((fi_vi)a & mask) | ((fi_vi)b & ~mask));
}

static inline fi_vd vsel_d(fi_vl mask, fi_vd a, fi_vd b)
{
    return (fi_vd)(((fi_vl)a & mask) | ((fi_vl)b & ~mask));
}

/* exact conversions --------------------------------------------------------------------- */

/* k < 2^52 to double: place k in the mantissa of 2^52 and subtract 2^52 (exact). */
static inline fi_vd u52_to_f64(fi_vq k)
{
    return (fi_vd)(k | UINT64_C(0x4330000000000000)) - 0x1.0p52;
}

/* k <= 2^53 to double, from two exact halves, or one exact hardware conversion where the
 * ISA has it (FI_HAVE_CVT_U64: AVX-512 DQ vcvtuqq2pd); both give k exactly. */
static inline fi_vd u53_to_f64(fi_vq k)
{
#if FI_HAVE_CVT_U64
    return __builtin_convertvector(k, fi_vd);
#else
    return u52_to_f64(k >> 26) * 0x1.0p26 + u52_to_f64(k & ((UINT64_C(1) << 26) - 1));
#endif
}

/* small signed integers (|e| < 2^51) to double */
static inline fi_vd small_i64_to_f64(fi_vl e)
{
    return (fi_vd)(e + INT64_C(0x4338000000000000)) - 0x1.8p52;
}

/* math: vector forms of fi_math.h ------------------------------------------------------- */

/* ln of 2^(e - bias) m from the bits of a positive normal float x = 2^(e - 127) m, on n vectors
 * (n <= FI_NV, a constant after inlining): bias 127 is fi_log_f32(x) per lane; a larger bias
 * lowers the exponent for free (the float32 normal's radius). Each stage runs over all n
 * vectors before the next, so the n dependency chains (the division above all) sit side by
 * side in program order: GCC did not interleave them on its own, and the float32 inverse-CDF
 * truncated normal, 8 logs a step, ran 1.39-1.43x faster staged (tools/kernel_ab.sh,
 * KAB_TRUNC_K=2, 1 MiB in cache; the same bits). */
static inline void v_log_bits_f32_n(const fi_vu *bits, const int bias, fi_vf *out, const int n)
{
    fi_vf f[FI_NV], s[FI_NV], ef[FI_NV];
    for (int h = 0; h < n; h++) {
        fi_vi e = (fi_vi)(bits[h] >> 23) - bias;
        fi_vu mbits = (bits[h] & 0x7FFFFFu) | 0x3F800000u;
        const fi_vi big = (fi_vi)(mbits > 0x3FB504F3u);
        mbits -= (fi_vu)big & 0x00800000u;
        e -= big;
        f[h] = (fi_vf)mbits - 1.0f;
        ef[h] = __builtin_convertvector(e, fi_vf);
    }
    for (int h = 0; h < n; h++)
        s[h] = f[h] / (2.0f + f[h]);
    for (int h = 0; h < n; h++) {
        const fi_vf z = s[h] * s[h];
        const fi_vf r = z * ((FI_LN_F32_2 * z + FI_LN_F32_1) * z + FI_LN_F32_0);
        out[h] = ef[h] * FI_LN2_HI_F32 + (f[h] - (s[h] * (f[h] - r) - ef[h] * FI_LN2_LO_F32));
    }
}

static inline fi_vd v_log_f64(fi_vd x)
{
    const fi_vq bits = (fi_vq)x;
    fi_vl e = (fi_vl)(bits >> 52) - 1023;
    fi_vq mbits = (bits & UINT64_C(0xFFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    const fi_vl big = (fi_vl)(mbits > UINT64_C(0x3FF6A09E667F3BCD));
    mbits -= (fi_vq)big & UINT64_C(0x0010000000000000);
    e -= big;
    const fi_vd f = (fi_vd)mbits - 1.0;
    const fi_vd s = f / (2.0 + f);
    const fi_vd z = s * s;
    const fi_vd p = (((((FI_LN_F64_6 * z + FI_LN_F64_5) * z + FI_LN_F64_4) * z + FI_LN_F64_3) * z
                      + FI_LN_F64_2) * z + FI_LN_F64_1) * z + FI_LN_F64_0;
    const fi_vd r = z * p;
    const fi_vd ef = small_i64_to_f64(e);
    return ef * FI_LN2_HI_F64 + (f - (s * (f - r) - ef * FI_LN2_LO_F64));
}

static inline void v_sincos_turn_f64(fi_vq k, fi_vd *cos_out, fi_vd *sin_out)
{
    fi_vq q = k >> 51;
    fi_vl r = (fi_vl)(k & ((UINT64_C(1) << 51) - 1));
    const fi_vl upper = r >= (INT64_C(1) << 50);
    r -= upper & (INT64_C(1) << 51);
    q = (q - (fi_vq)upper) & 3u;
    /* |r| < 2^50: exact through the small-integer conversion */
    const fi_vd f = small_i64_to_f64(r) * 0x1.0p-51;
    const fi_vd t = f * f;
    const fi_vd s = f * ((((((FI_SIN_F64_6 * t + FI_SIN_F64_5) * t + FI_SIN_F64_4) * t + FI_SIN_F64_3) * t
                          + FI_SIN_F64_2) * t + FI_SIN_F64_1) * t + FI_SIN_F64_0);
    const fi_vd c = 1.0 + t * ((((((FI_COS_F64_6 * t + FI_COS_F64_5) * t + FI_COS_F64_4) * t + FI_COS_F64_3) * t
                                + FI_COS_F64_2) * t + FI_COS_F64_1) * t + FI_COS_F64_0);
    const fi_vl odd = -(fi_vl)(q & 1u);
    const fi_vq cos_sign = ((q + 1u) & 2u) << 62;
    const fi_vq sin_sign = (q & 2u) << 62;
    *cos_out = (fi_vd)((fi_vq)vsel_d(odd, s, c) ^ cos_sign);
    *sin_out = (fi_vd)((fi_vq)vsel_d(odd, c, s) ^ sin_sign);
}

#define V_HORNER8(P, x) \
    (((((((P##_7 * (x) + P##_6) * (x) + P##_5) * (x) + P##_4) * (x) + P##_3) * (x) + P##_2) * (x) + P##_1) * (x) + P##_0)

/* fi_norm_ppf on every lane of n vectors at once (n <= 4, a constant after inlining): the
 * stages run over all n vectors before the next starts, so their long dependency chains
 * overlap. Each lane takes the branch the scalar code takes; the tail polynomials are
 * evaluated only when some lane needs them, and the three rationals share one division
 * (numerator and denominator are selected per lane first: the same bits). */
#define FI_PPF_MAX 4
static inline void v_norm_ppf_n(const fi_vd *p, fi_vd *z, const int n)
{
    fi_vd q[FI_PPF_MAX], num[FI_PPF_MAX], den[FI_PPF_MAX];
    fi_vl central[FI_PPF_MAX], any_tail = {0};
    for (int h = 0; h < n; h++) {
        q[h] = p[h] - 0.5;
        const fi_vd abs_q = (fi_vd)((fi_vq)q[h] & UINT64_C(0x7FFFFFFFFFFFFFFF));
        central[h] = abs_q <= FI_PPF_SPLIT1;
        any_tail |= ~central[h];
        const fi_vd rc = FI_PPF_CONST1 - q[h] * q[h];
        num[h] = q[h] * V_HORNER8(FI_PPF_A, rc);
        den[h] = V_HORNER8(FI_PPF_B, rc);
    }
    if (!fi_any_l(any_tail)) {
        for (int h = 0; h < n; h++)
            z[h] = num[h] / den[h];
        return;
    }
    fi_vd r[FI_PPF_MAX], tail_num[FI_PPF_MAX], tail_den[FI_PPF_MAX];
    fi_vl lower[FI_PPF_MAX], near[FI_PPF_MAX], any_far = {0};
    for (int h = 0; h < n; h++) {
        lower[h] = q[h] < 0.0;
        fi_vd t = vsel_d(lower[h], p[h], 1.0 - p[h]);
        t = vsel_d(t < FI_PPF_QMIN, (fi_vd){0} + FI_PPF_QMIN, t);
        r[h] = fi_vsqrt_d(-v_log_f64(t));
        near[h] = r[h] <= FI_PPF_SPLIT2;
        any_far |= ~near[h] & ~central[h];
        const fi_vd rn = r[h] - FI_PPF_CONST2;
        tail_num[h] = V_HORNER8(FI_PPF_C, rn);
        tail_den[h] = V_HORNER8(FI_PPF_D, rn);
    }
    if (fi_any_l(any_far)) {
        for (int h = 0; h < n; h++) {
            const fi_vd rf = r[h] - FI_PPF_SPLIT2;
            tail_num[h] = vsel_d(near[h], tail_num[h], V_HORNER8(FI_PPF_E, rf));
            tail_den[h] = vsel_d(near[h], tail_den[h], V_HORNER8(FI_PPF_F, rf));
        }
    }
    for (int h = 0; h < n; h++) {
        const fi_vd zz = vsel_d(central[h], num[h], tail_num[h]) / vsel_d(central[h], den[h], tail_den[h]);
        z[h] = vsel_d(central[h] | ~lower[h], zz, -zz);
    }
}

/* fi_f32_to_bf16 on lanes in 32 bits, for the values the kernels make: never NaN (finite
 * parameters; an overflow gives +-inf), so fi_f32_to_bf16's NaN case is left out (the same
 * argument as for the float16 hardware conversion in store_f16) */
static inline fi_vu v_f32_to_bf16_bits(fi_vf x)
{
    const fi_vu b = (fi_vu)x;
    return (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
}

/* Philox stream of vectors: G consecutive blocks per vector ------------------------------- */

/* Round 0 without a multiply. Block b of stream s has counter (x0, x1, x2, x3) =
 * (b mod 2^32, b >> 32, s mod 2^32, s >> 32), and its first round gives
 *   y0 = hi(M1 x2) ^ x1 ^ k0,  y1 = lo(M1 x2),  y2 = hi(M0 x0) ^ x3 ^ k1,  y3 = lo(M0 x0):
 * within a run of blocks with the same x1 only the 64-bit product M0 x0 changes, and it grows
 * by G M0 from one vector to the next. So the stream keeps r0 = (x0 M0, 0) per block as
 * 64-bit lanes, advanced by one add, and the ISA's fi_philox_first_v places its halves and
 * xors in the constant words (c0, c1, c2) = (y0, y1, x3 ^ k1): two instructions and an add
 * instead of a multiply round. The kernels split a range at every multiple of 2^32 blocks
 * (x1 changes there; 64 GiB of float32), so x0 + j never wraps within a run, except in the
 * blocks of a last partial step beyond the range, whose values are dropped. */
typedef struct fi_vstream {
    fi_vq r0;                            /* 64-bit lanes (x0 M0, 0, (x0 + 1) M0, 0, ...) */
    fi_vq r0_step;                       /* (G M0, 0, G M0, 0, ...) */
    fi_vu r0_const;                      /* per block as fi_philox_first_block lays it out */
    fi_vu round_key[FI_PHILOX_ROUNDS];                 /* round r's key, per block as fi_philox_key_block lays it out
                                            ([0] unused: round 0 goes through r0_const) */
} fi_vstream;

static inline void vstream_init(fi_vstream *vs, const fi_call *c, uint64_t block)
{
    const uint64_t m0 = FI_PHILOX_M0, m1 = FI_PHILOX_M1;
    const uint64_t x0 = (uint32_t)block, p1 = m1 * c->stream[0];
    const uint32_t x1 = (uint32_t)(block >> 32);
    uint64_t r0[W64], r0_step[W64];
    uint32_t words[W32];
    for (int j = 0; j < G; j++) {
        r0[2 * j] = (x0 + (uint64_t)j) * m0; /* x0 + j < 2^32 + 2^10, M0 < 0.83 * 2^32: no wrap */
        r0[2 * j + 1] = 0;
        r0_step[2 * j] = G * m0;
        r0_step[2 * j + 1] = 0;
        fi_philox_first_block((uint32_t)(p1 >> 32) ^ x1 ^ c->key[0], (uint32_t)p1, c->stream[1] ^ c->key[1],
                              words + 4 * j);
    }
    memcpy(&vs->r0, r0, sizeof r0);
    memcpy(&vs->r0_step, r0_step, sizeof r0_step);
    memcpy(&vs->r0_const, words, sizeof words);
    /* Round r's key is (k0 + r W0, k1 + r W1) mod 2^32 in the lanes fi_philox_key_block names
     * (zero elsewhere), so round_key[r] = round_key[0] + r (W0, W1 in those lanes) lane by lane.
     * Built by vector adds from two patterns: writing each round's words as scalars and
     * reading them back as a vector stalled store-to-load forwarding once a round, which was
     * most of a small fill's cost (a 64-element uniform: about 170 ns of a kernel call). */
    uint32_t step_words[W32];
    for (int j = 0; j < G; j++) {
        fi_philox_key_block(c->key[0], c->key[1], words + 4 * j);
        fi_philox_key_block(FI_PHILOX_W0, FI_PHILOX_W1, step_words + 4 * j);
    }
    fi_vu key, step;
    memcpy(&key, words, sizeof words);
    memcpy(&step, step_words, sizeof step_words);
    for (int r = 0; r < FI_PHILOX_ROUNDS; r++) {
        vs->round_key[r] = key;
        key += step;
    }
}

/* The next FI_NV vectors of words (FI_NV * G blocks), computed with their rounds interleaved
 * so the independent multiply chains overlap, in the ISA's lane order (fi_words_v and
 * fi_words_shr8_v put them in memory order). */
static inline void vstream_next_raw(fi_vstream *vs, fi_vu words[FI_NV])
{
    for (int h = 0; h < FI_NV; h++) {
        words[h] = fi_philox_first_v(vs->r0, vs->r0_const);
        vs->r0 += vs->r0_step;
    }
    fi_philox_rounds_v(words, vs->round_key);
}

/* The same in memory order */
static inline void vstream_next(fi_vstream *vs, fi_vu words[FI_NV])
{
    vstream_next_raw(vs, words);
    for (int h = 0; h < FI_NV; h++)
        words[h] = fi_words_v(words[h]);
}

/* Per-call constants, broadcast once before a kernel's loop into a local that stays in
 * registers (read through the fi_call pointer, they were reloaded at every step, since the
 * output stores might alias the call). A kernel uses a few fields; the others are dead code
 * after inlining. */
typedef struct fi_vconst {
    /* uniform float32: x = low + scale * k, k = w >> 8 and scale = range * 2^-24 (exact, see
     * vconst_init), then min(bound, x): bound = the largest float below high when low < high
     * (for x < high, x <= bound; x >= high gives bound, as the scalar clamp), else +inf */
    fi_vf low32, scale32, bound32;
    fi_vd low64, scale64, bound64; /* float64: the same with k = w >> 11, scale = range * 2^-53 */
    /* whether the min can change a value: x is non-decreasing in k (scale >= 0, rounding is
     * monotonic), so none reaches high when the largest k's does not (the usual case:
     * symmetric bounds like kaiming_uniform's); tested once a step */
    int clamp32, clamp64;
    fi_vf mean32, std32;
    fi_vd mean64, std64;
    fi_vd tn_pa, tn_mass, tn_sign, tn_a, tn_b;
    fi_vf tn_p2a, tn_m2, tn_q2b, tn_std32, tn_a32, tn_b32; /* contract v2, 32- and 16-bit outputs */
} fi_vconst;

/* Broadcasts that keep the sign of zero (adding the scalar to a zero vector would turn a
 * -0.0 parameter into +0.0). */
static inline fi_vf bcast_f(float x)
{
    fi_vf v;
    for (int j = 0; j < W32; j++)
        v[j] = x;
    return v;
}

static inline fi_vd bcast_d(double x)
{
    fi_vd v;
    for (int j = 0; j < W64; j++)
        v[j] = x;
    return v;
}

/* 0 when this call's parameters need the scalar kernel: a uniform range so small that
 * range * 2^-24 (2^-53) is not exact, below about 2^-102 (2^-969). Otherwise
 * (range * 2^-24) * k rounds the same real number range * (k * 2^-24) as the scalar code. */
static inline int vconst_init(fi_vconst *k, const fi_call *c, int dist, int dtype)
{
    const float scale32 = c->range32 * 0x1.0p-24f;
    const double scale64 = c->range64 * 0x1.0p-53;
    k->low32 = bcast_f(c->low32);
    k->scale32 = bcast_f(scale32);
    k->bound32 = bcast_f((c->range32 > 0.0f ? c->below_high32 : __builtin_inff()));
    k->low64 = bcast_d(c->low64);
    k->scale64 = bcast_d(scale64);
    k->bound64 = bcast_d((c->range64 > 0.0 ? c->below_high64 : __builtin_inf()));
    k->mean32 = bcast_f(c->mean32);
    k->std32 = bcast_f(c->std32);
    k->mean64 = bcast_d(c->mean64);
    k->std64 = bcast_d(c->std64);
    k->tn_pa = bcast_d(c->tn_pa);
    k->tn_mass = bcast_d(c->tn_mass);
    k->tn_sign = bcast_d(c->tn_sign);
    k->tn_a = bcast_d(c->tn_a);
    k->tn_b = bcast_d(c->tn_b);
    k->tn_p2a = bcast_f(c->tn_p2a);
    k->tn_m2 = bcast_f(c->tn_m2);
    k->tn_q2b = bcast_f(c->tn_q2b);
    k->tn_std32 = bcast_f(c->tn_std32);
    k->tn_a32 = bcast_f(c->tn_a32);
    k->tn_b32 = bcast_f(c->tn_b32);
    k->clamp32 = c->range32 > 0.0f && c->low32 + scale32 * 16777215.0f >= c->high32;
    k->clamp64 = c->range64 > 0.0 && c->low64 + scale64 * 9007199254740991.0 >= c->high64;
    if (dist != FI_DIST_UNIFORM)
        return 1;
    if (dtype == FI_FLOAT64)
        return scale64 * 0x1.0p53 == c->range64;
    return scale32 * 0x1.0p24f == c->range32;
}

/* Steps: each consumes FI_NV Philox vectors (FI_NV * G blocks) and yields FI_NV output
 * vectors ------------------------------------------------------------------------------ */

static inline fi_vf uniform_f32_v(fi_vu w_shr8, const fi_vconst *k)
{
    const fi_vf x = k->low32 + k->scale32 * __builtin_convertvector((fi_vi)w_shr8, fi_vf);
    return k->clamp32 ? fi_vmin_f(k->bound32, x) : x;
}

static inline void step_uniform_f32(fi_vstream *vs, const fi_vconst *k, fi_vf out[FI_NV])
{
    fi_vu w[FI_NV];
    vstream_next_raw(vs, w);
    for (int h = 0; h < FI_NV; h++)
        out[h] = uniform_f32_v(fi_words_shr8_v(w[h]), k);
}

/* b where the sign bit of m is set, else a: one instruction where the ISA has it (x86 blendv),
 * defined by the ISA file with FI_HAVE_BLEND_SIGN; this portable form otherwise */
#ifndef FI_HAVE_BLEND_SIGN
static inline fi_vf fi_vblend_sign_f(fi_vf a, fi_vf b, fi_vi m) { return vsel_f(m >> 31, b, a); }
#endif

/* fi_sincos_turn_f32 of k = w >> 8 on every lane, from the word w itself, with the same bits
 * in fewer operations: with v = w + 2^29 (mod 2^32), the quadrant q of fi_sincos_turn_f32
 * (after its fold) is v >> 30, and its signed fraction r is the low 22 bits of k read as
 * signed, (int32)(w << 2) >> 10. The quadrant's swap and signs come from the top bits of v. */
static inline void v_sincos_word_f32(fi_vu w, fi_vf *cos_out, fi_vf *sin_out)
{
    const fi_vu v = w + (1u << 29);
    const fi_vu v1 = v << 1;                            /* sign bit: q odd (swap) */
    const fi_vu sin_sign = v & 0x80000000u;             /* q = 2, 3 */
    const fi_vu cos_sign = (v ^ v1) & 0x80000000u;      /* q = 1, 2 */
    const fi_vi r = (fi_vi)(w << 2) >> 10;
    const fi_vf f = __builtin_convertvector(r, fi_vf) * 0x1.0p-22f;
    const fi_vf t = f * f;
    const fi_vf s = f * (((FI_SIN_F32_3 * t + FI_SIN_F32_2) * t + FI_SIN_F32_1) * t + FI_SIN_F32_0);
    const fi_vf c = 1.0f + t * (((FI_COS_F32_3 * t + FI_COS_F32_2) * t + FI_COS_F32_1) * t + FI_COS_F32_0);
    *cos_out = (fi_vf)((fi_vu)fi_vblend_sign_f(c, s, (fi_vi)v1) ^ cos_sign);
    *sin_out = (fi_vf)((fi_vu)fi_vblend_sign_f(s, c, (fi_vi)v1) ^ sin_sign);
}

/* Contract v2 pairing: in each group of 32 words, word j (j < 16) is the radius and word 16 + j
 * the angle of the pair whose r cos is element j and r sin element 16 + j. A group is 2 FI_NH
 * consecutive vectors, so the pairs are whole vectors: no shuffle (v1 paired neighbouring
 * words, which cost two shuffles in and two out per pair of vectors). */
#define FI_NH (16 / W32) /* vectors of one half group (16 words) */
#if FI_NV % (2 * FI_NH) != 0
#error "FI_NV must hold whole Box-Muller groups of 32 words"
#endif

/* Box-Muller on the step's pairs of vectors, each stage (log, square root, sine and cosine,
 * scaling) over all pairs before the next, for the same reason as v_log_bits_f32_n */
static inline void step_normal_f32(fi_vstream *vs, const fi_vconst *k, fi_vf out[FI_NV])
{
    fi_vu w[FI_NV];
    vstream_next_raw(vs, w);
    enum { NP = FI_NV / 2 }; /* pairs of vectors a step */
    fi_vf lg[NP], r[NP], cs[NP], sn[NP];
    int rad[NP], ang[NP];
    for (int j = 0, h = 0; h < FI_NV; h++) {
        if (h % (2 * FI_NH) < FI_NH) { /* a radius vector; its angle is FI_NH vectors on */
            rad[j] = h;
            ang[j++] = h + FI_NH;
        }
    }
    fi_vu nb[NP];
    /* ln(u1), u1 = n 2^-24 for n = k + 1 = 1 .. 2^24: fi_log_f32 of u1 from the bits of n as an
     * exact float, which are u1's with the exponent 24 higher, so the 2^-24 goes into the
     * exponent's bias instead of a multiply (the same bits) */
    for (int j = 0; j < NP; j++)
        nb[j] = (fi_vu)__builtin_convertvector((fi_vi)(fi_words_shr8_v(w[rad[j]]) + 1u), fi_vf);
    v_log_bits_f32_n(nb, 127 + 24, lg, NP);
    for (int j = 0; j < NP; j++)
        r[j] = fi_vsqrt_f(-2.0f * lg[j]);
    for (int j = 0; j < NP; j++)
        v_sincos_word_f32(fi_words_v(w[ang[j]]), &cs[j], &sn[j]);
    for (int j = 0; j < NP; j++) {
        out[rad[j]] = k->mean32 + k->std32 * (r[j] * cs[j]);
        out[ang[j]] = k->mean32 + k->std32 * (r[j] * sn[j]);
    }
}

/* the truncated normal whose bounds lie beyond the normal generator's reach: the normal's
 * elements, clamped into [a32, b32] (contract v2) */
static inline fi_vf clamp_f32_v(fi_vf x, const fi_vconst *k)
{
    x = vsel_f(x < k->tn_a32, k->tn_a32, x);
    return vsel_f(x > k->tn_b32, k->tn_b32, x);
}

static inline void step_trunc_reach_f32(fi_vstream *vs, const fi_vconst *k, fi_vf out[FI_NV])
{
    step_normal_f32(vs, k, out);
    for (int h = 0; h < FI_NV; h++)
        out[h] = clamp_f32_v(out[h], k);
}

static inline int fi_any_i(fi_vi mask) /* any 32-bit lane set, through the ISA's 64-bit test */
{
    return fi_any_l((fi_vl)mask != 0);
}

static inline fi_vf v_horner_f(const float *c, const int n, fi_vf x) /* c lowest degree first */
{
    fi_vf acc = bcast_f(c[n - 1]);
    for (int j = n - 2; j >= 0; j--)
        acc = acc * x + c[j];
    return acc;
}

static const float fi_ppf32_t1[10] = {FI_PPF32_T1_0, FI_PPF32_T1_1, FI_PPF32_T1_2, FI_PPF32_T1_3, FI_PPF32_T1_4,
                                      FI_PPF32_T1_5, FI_PPF32_T1_6, FI_PPF32_T1_7, FI_PPF32_T1_8, FI_PPF32_T1_9};
static const float fi_ppf32_t2[8] = {FI_PPF32_T2_0, FI_PPF32_T2_1, FI_PPF32_T2_2, FI_PPF32_T2_3,
                                     FI_PPF32_T2_4, FI_PPF32_T2_5, FI_PPF32_T2_6, FI_PPF32_T2_7};

/* d = p2 - q2 and p2 q2 of norm_ppf_f32 (kernels_scalar.c) from raw words */
static inline void trunc_f32_dp(fi_vu raw, const fi_vconst *k, fi_vf *d, fi_vf *prod)
{
    const fi_vi kk = (fi_vi)(fi_words_shr8_v(raw) >> 1); /* w >> 9 */
    const fi_vf u = (__builtin_convertvector(kk, fi_vf) + 0.5f) * 0x1.0p-23f;
    const fi_vf p2 = k->tn_p2a + u * k->tn_m2;
    const fi_vf q2 = k->tn_q2b + (1.0f - u) * k->tn_m2;
    *d = p2 - q2;
    *prod = p2 * q2;
}

/* norm_ppf_f32 on FI_NV vectors: the central polynomial (Estrin's scheme: a short dependency
 * chain) everywhere, the tail (a square root and two polynomials, selected per lane) only when
 * some lane of the step needs it, recomputing its inputs from the words (rare: +-3 std sends
 * about 4% of the steps there); each lane gets the scalar code's bits. */
static inline void step_trunc_f32(fi_vstream *vs, const fi_vconst *k, fi_vf out[FI_NV])
{
    fi_vu raw[FI_NV];
    vstream_next_raw(vs, raw);
    fi_vi tail = {0};
    fi_vf dd[FI_NV], ww[FI_NV], prod[FI_NV];
    for (int h = 0; h < FI_NV; h++)
        trunc_f32_dp(raw[h], k, &dd[h], &prod[h]);
    fi_vu pb[FI_NV];
    for (int h = 0; h < FI_NV; h++)
        pb[h] = (fi_vu)prod[h];
    v_log_bits_f32_n(pb, 127, ww, FI_NV); /* fi_log_f32 of each product */
    for (int h = 0; h < FI_NV; h++)
        ww[h] = -ww[h];
    for (int h = 0; h < FI_NV; h++) {
        const fi_vf d = dd[h], w = ww[h];
        tail |= w >= FI_PPF32_SPLIT;
        const fi_vf x = w - FI_PPF32_C_CENTER, x2 = x * x, x4 = x2 * x2;
        const fi_vf a0 = FI_PPF32_C_0 + FI_PPF32_C_1 * x, a1 = FI_PPF32_C_2 + FI_PPF32_C_3 * x;
        const fi_vf a2 = FI_PPF32_C_4 + FI_PPF32_C_5 * x, a3 = FI_PPF32_C_6 + FI_PPF32_C_7 * x;
        const fi_vf b0 = a0 + a1 * x2, b1 = a2 + a3 * x2;
        out[h] = d * ((b0 + b1 * x4) + FI_PPF32_C_8 * (x4 * x4));
    }
    if (fi_any_i(tail)) {
        for (int h = 0; h < FI_NV; h++) {
            const fi_vf d = dd[h], w = ww[h];
            const fi_vf s = fi_vsqrt_f(w);
            const fi_vf t1 = v_horner_f(fi_ppf32_t1, 10, s - FI_PPF32_T1_CENTER);
            const fi_vf t2 = v_horner_f(fi_ppf32_t2, 8, s - FI_PPF32_T2_CENTER);
            const fi_vf zt = d * vsel_f(s < FI_PPF32_TAIL_SPLIT, t1, t2);
            out[h] = vsel_f(w >= FI_PPF32_SPLIT, zt, out[h]);
        }
    }
    for (int h = 0; h < FI_NV; h++)
        out[h] = clamp_f32_v(k->mean32 + k->tn_std32 * out[h], k);
}

/* x = clamp(mean + std * sign * ppf(pa + u * mass), a, b) on n vectors of uniforms */
static inline void trunc_normal_from_u_n(const fi_vd *u, fi_vd *x, const int n, const fi_vconst *k)
{
    fi_vd p[FI_PPF_MAX], z[FI_PPF_MAX];
    for (int h = 0; h < n; h++)
        p[h] = k->tn_pa + u[h] * k->tn_mass;
    v_norm_ppf_n(p, z, n);
    for (int h = 0; h < n; h++) {
        fi_vd v = k->mean64 + k->std64 * (k->tn_sign * z[h]);
        v = vsel_d(v < k->tn_a, k->tn_a, v);
        x[h] = vsel_d(v > k->tn_b, k->tn_b, v);
    }
}

static inline void step_trunc_normal_f32(fi_vstream *vs, const fi_vconst *k, fi_vf out[FI_NV])
{
    fi_vu w[FI_NV];
    vstream_next_raw(vs, w);
    for (int g = 0; g < FI_NV; g += 2) {
        fi_vd u[4], x[4];
        for (int h = 0; h < 2; h++) {
            const fi_vi kw = (fi_vi)fi_words_shr8_v(w[g + h]);
            const fi_vi_half lo = __builtin_shufflevector(kw, kw, FI_IDX_LO_HALF32);
            const fi_vi_half hi = __builtin_shufflevector(kw, kw, FI_IDX_HI_HALF32);
            u[2 * h] = (__builtin_convertvector(lo, fi_vd) + 0.5) * 0x1.0p-24;
            u[2 * h + 1] = (__builtin_convertvector(hi, fi_vd) + 0.5) * 0x1.0p-24;
        }
        trunc_normal_from_u_n(u, x, 4, k);
        for (int h = 0; h < 2; h++) {
            const fi_vf_half lo = __builtin_convertvector(x[2 * h], fi_vf_half);
            const fi_vf_half hi = __builtin_convertvector(x[2 * h + 1], fi_vf_half);
            out[g + h] = __builtin_shufflevector(lo, hi, FI_IDX_CONCAT32);
        }
    }
}

static inline void step_bits_u32(fi_vstream *vs, const fi_vconst *k, fi_vu out[FI_NV])
{
    (void)k;
    vstream_next(vs, out);
}

static inline fi_vd uniform_f64_v(fi_vq w, const fi_vconst *k)
{
    const fi_vd x = k->low64 + k->scale64 * u53_to_f64(w >> 11);
    return k->clamp64 ? fi_vmin_d(k->bound64, x) : x;
}

static inline void step_uniform_f64(fi_vstream *vs, const fi_vconst *k, fi_vd out[FI_NV])
{
    fi_vu w[FI_NV];
    vstream_next(vs, w);
    for (int h = 0; h < FI_NV; h++)
        out[h] = uniform_f64_v((fi_vq)w[h], k);
}

static inline void step_normal_f64(fi_vstream *vs, const fi_vconst *k, fi_vd out[FI_NV])
{
    fi_vu w[FI_NV];
    vstream_next(vs, w);
    for (int h = 0; h < FI_NV; h += 2) {
        const fi_vq wa = (fi_vq)w[h], wb = (fi_vq)w[h + 1];
        const fi_vq w0 = __builtin_shufflevector(wa, wb, FI_IDX_EVEN64);
        const fi_vq w1 = __builtin_shufflevector(wa, wb, FI_IDX_ODD64);
        const fi_vd u1 = u53_to_f64((w0 >> 11) + 1u) * 0x1.0p-53;
        const fi_vd r = fi_vsqrt_d(-2.0 * v_log_f64(u1));
        fi_vd cs, sn;
        v_sincos_turn_f64(w1 >> 11, &cs, &sn);
        const fi_vd z0 = k->mean64 + k->std64 * (r * cs);
        const fi_vd z1 = k->mean64 + k->std64 * (r * sn);
        out[h] = __builtin_shufflevector(z0, z1, FI_IDX_ILV_LO64);
        out[h + 1] = __builtin_shufflevector(z0, z1, FI_IDX_ILV_HI64);
    }
}

static inline void step_trunc_normal_f64(fi_vstream *vs, const fi_vconst *k, fi_vd out[FI_NV])
{
    fi_vu w[FI_NV];
    vstream_next(vs, w);
    for (int g = 0; g < FI_NV; g += 2) {
        fi_vd u[2];
        for (int h = 0; h < 2; h++)
            u[h] = (u52_to_f64((fi_vq)w[g + h] >> 12) + 0.5) * 0x1.0p-52;
        trunc_normal_from_u_n(u, out + g, 2, k);
    }
}

static inline void step_bits_u64(fi_vstream *vs, const fi_vconst *k, fi_vq out[FI_NV])
{
    (void)k;
    fi_vu w[FI_NV];
    vstream_next(vs, w);
    for (int h = 0; h < FI_NV; h++)
        out[h] = (fi_vq)w[h];
}

/* Stores: one vector to (possibly unaligned) memory. Ordinary stores: non-temporal ones
 * measured no faster here, even for 512 MiB buffers, since the kernels are compute-bound
 * (docs/performance.md). -------------------------------------------------------------- */

static inline void store_f32(unsigned char *dst, fi_vf v) { memcpy(dst, &v, sizeof v); }
static inline void store_u32(unsigned char *dst, fi_vu v) { memcpy(dst, &v, sizeof v); }
static inline void store_f64(unsigned char *dst, fi_vd v) { memcpy(dst, &v, sizeof v); }
static inline void store_u64(unsigned char *dst, fi_vq v) { memcpy(dst, &v, sizeof v); }

static inline void store_bf16(unsigned char *dst, fi_vf v)
{
    const fi_vh narrow = __builtin_convertvector(v_f32_to_bf16_bits(v), fi_vh);
    memcpy(dst, &narrow, sizeof narrow);
}

/* float16 stores use the hardware conversion (F16C / AVX-512 vcvtps2ph, round to nearest
 * even): the same bits as fi_f32_to_f16 for every non-NaN value, and the kernels never
 * produce NaN (their parameters are finite). */
static inline void store_f16(unsigned char *dst, fi_vf v)
{
    const fi_vh narrow = fi_cvt_f16(v);
    memcpy(dst, &narrow, sizeof narrow);
}

/* Kernels: scalar head up to a block boundary, vector steps, then the last partial step
 * computed whole into a local buffer and copied (FI_NV vectors a step leave up to
 * FI_NV * G * per_block - 1 elements, too many for the scalar kernel, which is 3-7x slower).
 * A vector holds G * per_block elements; a step makes FI_NV vectors. The buffer is addressed
 * in bytes (never through a Tout *): it may be unaligned for Tout. */

#define FI_DEFINE_SIMD_KERNEL(kname, Tout, Tvec, per_block, step, store, dist, scalar_dtype) \
    FI_DEFINE_SIMD_KERNEL_ALIGNED(kname, Tout, Tvec, per_block, per_block, step, store, dist, scalar_dtype)

/* align: the vector steps start at a multiple of this many elements (a whole block, or a whole
 * Box-Muller group of 32 for the float32 normal) */
#define FI_DEFINE_SIMD_KERNEL_ALIGNED(kname, Tout, Tvec, per_block, align, step, store, dist, scalar_dtype) \
    static void FI_K(kname)(void *out, uint64_t count, uint64_t first, const fi_call *call)    \
    {                                                                                          \
        unsigned char *dst = out;                                                              \
        const fi_kernel scalar = fi_table_scalar.kernel[dist][scalar_dtype];                   \
        fi_vconst k;                                                                           \
        if (!vconst_init(&k, call, dist, scalar_dtype)) {                                      \
            scalar(dst, count, first, call);                                                   \
            return;                                                                            \
        }                                                                                      \
        enum { vector_elements = G * (per_block), step_elements = FI_NV * vector_elements };   \
        uint64_t i = ((align) - first % (align)) % (align);                                    \
        if (i > count)                                                                         \
            i = count;                                                                         \
        if (i > 0)                                                                             \
            scalar(dst, i, first, call);                                                       \
        if (i == count)                                                                        \
            return;                                                                            \
        const uint64_t block = (first + i) / (per_block), last_block = (first + count - 1) / (per_block); \
        if ((block >> 32) != (last_block >> 32)) { /* split at the next multiple of 2^32 blocks */ \
            const uint64_t part = (((block >> 32) + 1) << 32) * (per_block) - (first + i);           \
            FI_K(kname)(dst + i * sizeof(Tout), part, first + i, call);                            \
            FI_K(kname)(dst + (i + part) * sizeof(Tout), count - i - part, first + i + part, call); \
            return;                                                                            \
        }                                                                                      \
        fi_vstream vs;                                                                         \
        vstream_init(&vs, call, block);                                                        \
        Tvec values[FI_NV];                                                                    \
        while (count - i >= step_elements) {                                                   \
            step(&vs, &k, values);                                                             \
            for (int h = 0; h < FI_NV; h++)                                                    \
                store(dst + (i + (uint64_t)h * vector_elements) * sizeof(Tout), values[h]);    \
            i += step_elements;                                                                \
        }                                                                                      \
        if (i < count) {                                                                       \
            unsigned char last[step_elements * sizeof(Tout)];                                  \
            step(&vs, &k, values);                                                             \
            for (int h = 0; h < FI_NV; h++)                                                    \
                store(last + (size_t)h * vector_elements * sizeof(Tout), values[h]);           \
            memcpy(dst + i * sizeof(Tout), last, (size_t)(count - i) * sizeof(Tout));          \
        }                                                                                      \
    }

FI_DEFINE_SIMD_KERNEL(bits_u32, uint32_t, fi_vu, 4, step_bits_u32, store_u32, FI_DIST_BITS, FI_UINT32)
FI_DEFINE_SIMD_KERNEL(bits_u64, uint64_t, fi_vq, 2, step_bits_u64, store_u64, FI_DIST_BITS, FI_UINT64)
FI_DEFINE_SIMD_KERNEL(uniform_f32, float, fi_vf, 4, step_uniform_f32, store_f32, FI_DIST_UNIFORM, FI_FLOAT32)
FI_DEFINE_SIMD_KERNEL(uniform_bf16, uint16_t, fi_vf, 4, step_uniform_f32, store_bf16, FI_DIST_UNIFORM, FI_BFLOAT16)
FI_DEFINE_SIMD_KERNEL(uniform_f16, uint16_t, fi_vf, 4, step_uniform_f32, store_f16, FI_DIST_UNIFORM, FI_FLOAT16)
FI_DEFINE_SIMD_KERNEL(uniform_f64, double, fi_vd, 2, step_uniform_f64, store_f64, FI_DIST_UNIFORM, FI_FLOAT64)
FI_DEFINE_SIMD_KERNEL_ALIGNED(normal_f32, float, fi_vf, 4, 32, step_normal_f32, store_f32, FI_DIST_NORMAL, FI_FLOAT32)
FI_DEFINE_SIMD_KERNEL_ALIGNED(normal_bf16, uint16_t, fi_vf, 4, 32, step_normal_f32, store_bf16, FI_DIST_NORMAL,
                              FI_BFLOAT16)
FI_DEFINE_SIMD_KERNEL_ALIGNED(normal_f16, uint16_t, fi_vf, 4, 32, step_normal_f32, store_f16, FI_DIST_NORMAL,
                              FI_FLOAT16)
FI_DEFINE_SIMD_KERNEL(normal_f64, double, fi_vd, 2, step_normal_f64, store_f64, FI_DIST_NORMAL, FI_FLOAT64)
/* 32- and 16-bit truncated normals: one kernel per evaluation mode of contract v2, chosen per call */
#define FI_DEFINE_TRUNC32_KERNEL(suffix, Tout, store, scalar_dtype)                                          \
    FI_DEFINE_SIMD_KERNEL(trunc_v1_##suffix, Tout, fi_vf, 4, step_trunc_normal_f32, store, FI_DIST_TRUNC_NORMAL, \
                          scalar_dtype)                                                                      \
    FI_DEFINE_SIMD_KERNEL(trunc_f32_##suffix, Tout, fi_vf, 4, step_trunc_f32, store, FI_DIST_TRUNC_NORMAL,    \
                          scalar_dtype)                                                                      \
    FI_DEFINE_SIMD_KERNEL_ALIGNED(trunc_reach_##suffix, Tout, fi_vf, 4, 32, step_trunc_reach_f32, store,      \
                                  FI_DIST_TRUNC_NORMAL, scalar_dtype)                                        \
    static void FI_K(trunc_normal_##suffix)(void *out, uint64_t count, uint64_t first, const fi_call *call)   \
    {                                                                                                        \
        if (call->tn_mode == FI_TN_NORMAL)                                                                   \
            FI_K(trunc_reach_##suffix)(out, count, first, call);                                             \
        else if (call->tn_mode == FI_TN_F32)                                                                 \
            FI_K(trunc_f32_##suffix)(out, count, first, call);                                               \
        else                                                                                                 \
            FI_K(trunc_v1_##suffix)(out, count, first, call);                                                \
    }

FI_DEFINE_TRUNC32_KERNEL(f32, float, store_f32, FI_FLOAT32)
FI_DEFINE_TRUNC32_KERNEL(bf16, uint16_t, store_bf16, FI_BFLOAT16)
FI_DEFINE_TRUNC32_KERNEL(f16, uint16_t, store_f16, FI_FLOAT16)
FI_DEFINE_SIMD_KERNEL(trunc_normal_f64, double, fi_vd, 2, step_trunc_normal_f64, store_f64, FI_DIST_TRUNC_NORMAL,
                      FI_FLOAT64)

/* The table of this ISA. Constants are memory-bound: the scalar loops serve. */
#define FI_SIMD_TABLE(isa_string)                                                                      \
    {                                                                                                  \
        .name = isa_string,                                                                            \
        .kernel = {                                                                                    \
            [FI_DIST_BITS] = {[FI_UINT32] = FI_K(bits_u32), [FI_UINT64] = FI_K(bits_u64)},             \
            [FI_DIST_UNIFORM] = {[FI_FLOAT32] = FI_K(uniform_f32), [FI_FLOAT64] = FI_K(uniform_f64),   \
                                 [FI_BFLOAT16] = FI_K(uniform_bf16), [FI_FLOAT16] = FI_K(uniform_f16)},  \
            [FI_DIST_NORMAL] = {[FI_FLOAT32] = FI_K(normal_f32), [FI_FLOAT64] = FI_K(normal_f64),      \
                                [FI_BFLOAT16] = FI_K(normal_bf16), [FI_FLOAT16] = FI_K(normal_f16)},     \
            [FI_DIST_TRUNC_NORMAL] = {[FI_FLOAT32] = FI_K(trunc_normal_f32),                            \
                                      [FI_FLOAT64] = FI_K(trunc_normal_f64),                            \
                                      [FI_BFLOAT16] = FI_K(trunc_normal_bf16),                          \
                                      [FI_FLOAT16] = FI_K(trunc_normal_f16)},                           \
            [FI_DIST_CONSTANT] = {0},                                                                  \
        },                                                                                             \
    }
