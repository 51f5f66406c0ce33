/* NEON (AArch64 Advanced SIMD) instantiation of the SIMD kernels (fi_simd_template.h): 4 lanes
 * of 32 bits, one Philox block per vector. NEON is part of the AArch64 baseline, so this file
 * needs no target flag or pragma; dispatch.c still reaches it through its descriptor ("neon").
 *
 * Philox: one block per 128-bit vector would spend most of a round moving words between
 * lanes, so the rounds work on groups of four blocks transposed into "one word per vector"
 * form (X0 = word 0 of blocks b..b+3, X1 = word 1, ...). A round is then
 *   lo0 = X0 * M0 (mul), hi0 = high halves of the 64-bit X0 * M0 (umull, umull2, uzp2),
 *   the same for X2 * M1, and X0' = hi1 ^ X1 ^ k0, X1' = lo1, X2' = hi0 ^ X3 ^ k1, X3' = lo0
 * (12 instructions for 16 words). Round 0 (see vstream in fi_simd_template.h) arrives as
 * one vector per block (lo(M0 x0), hi(M0 x0) ^ c2, c0, c1): two zips and two unzips give X3
 * and X2 of four blocks, and X0, X1 are its constant lanes c0, c1. After round 9 a 4 x 4
 * transpose puts every vector back in memory order (x0 x1 x2 x3 of one block).
 *
 * AArch64's Advanced SIMD arithmetic is IEEE 754 with the rounding and flush-to-zero modes of
 * FPCR (unlike ARMv7 NEON, which always flushed subnormals), so with the operating systems'
 * default FPCR (round to nearest, no flush) each lane rounds as the scalar code does; AArch64
 * has fused multiply-add in its baseline, which -ffp-contract=off keeps out. */
#include "fi_internal.h"
#include "fi_simd_available.h"

#if FI_HAVE_NEON_SIMD

#include <arm_neon.h>

#define FI_VBYTES 16
#define FI_ISA_NAME neon
#ifndef FI_NV
#define FI_NV 8 /* vectors (= blocks) a step: two groups of four in flight, which the 32 vector
                  registers hold; not tuned (no ARM hardware to time it on) */
#endif
#include "fi_simd_types.h"
#define FI_HAVE_CVT_U64 1 /* ucvtf v.2d: exact for the 53-bit integers the template converts */

#if FI_NV % 4 != 0
#error "the NEON Philox rounds transpose groups of four blocks: FI_NV must be a multiple of 4"
#endif

static inline void fi_philox_key_block(uint32_t k0, uint32_t k1, uint32_t words[4])
{
    /* every round: (k0, k1, -, -); the rounds broadcast lanes 0 and 1 */
    words[0] = k0;
    words[1] = k1;
    words[2] = 0;
    words[3] = 0;
}

/* r0 = (lo(M0 x0), hi(M0 x0), 0, 0) per block, xored with (0, c2, c0, c1) */
static inline void fi_philox_first_block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t words[4])
{
    words[0] = 0;
    words[1] = c2;
    words[2] = c0;
    words[3] = c1;
}

static inline fi_vu fi_philox_first_v(fi_vq r0, fi_vu c) { return (fi_vu)r0 ^ c; }

/* hi(a * m) of four 32-bit lanes: two widening multiplies and the odd halves */
static inline uint32x4_t mulhi_u32(uint32x4_t a, uint32x4_t m)
{
    const uint64x2_t lo = vmull_u32(vget_low_u32(a), vget_low_u32(m));
    const uint64x2_t hi = vmull_high_u32(a, m);
    return vuzp2q_u32(vreinterpretq_u32_u64(lo), vreinterpretq_u32_u64(hi));
}

static inline void fi_philox_rounds_v(fi_vu x[FI_NV], const fi_vu *round_key)
{
    enum { NG = FI_NV / 4 };
    const uint32x4_t m0 = vdupq_n_u32(FI_PHILOX_M0), m1 = vdupq_n_u32(FI_PHILOX_M1);
    uint32x4_t s[NG][4];
    for (int g = 0; g < NG; g++) { /* end of round 0, transposed */
        const uint32x4_t v[4] = {(uint32x4_t)x[4 * g], (uint32x4_t)x[4 * g + 1], (uint32x4_t)x[4 * g + 2],
                                 (uint32x4_t)x[4 * g + 3]};
        const uint32x4_t a = vreinterpretq_u32_u64(vzip1q_u64(vreinterpretq_u64_u32(v[0]), vreinterpretq_u64_u32(v[1])));
        const uint32x4_t b = vreinterpretq_u32_u64(vzip1q_u64(vreinterpretq_u64_u32(v[2]), vreinterpretq_u64_u32(v[3])));
        s[g][0] = vdupq_laneq_u32(v[0], 2);
        s[g][1] = vdupq_laneq_u32(v[0], 3);
        s[g][2] = vuzp2q_u32(a, b);
        s[g][3] = vuzp1q_u32(a, b);
    }
#pragma GCC unroll 9
    for (int r = 1; r < FI_PHILOX_ROUNDS; r++) {
        const uint32x4_t k0 = vdupq_laneq_u32((uint32x4_t)round_key[r], 0);
        const uint32x4_t k1 = vdupq_laneq_u32((uint32x4_t)round_key[r], 1);
        for (int g = 0; g < NG; g++) {
            const uint32x4_t x0 = s[g][0], x1 = s[g][1], x2 = s[g][2], x3 = s[g][3];
            s[g][0] = veorq_u32(veorq_u32(mulhi_u32(x2, m1), x1), k0);
            s[g][1] = vmulq_u32(x2, m1);
            s[g][2] = veorq_u32(veorq_u32(mulhi_u32(x0, m0), x3), k1);
            s[g][3] = vmulq_u32(x0, m0);
        }
    }
    for (int g = 0; g < NG; g++) { /* 4 x 4 transpose back to one block per vector */
        const uint32x4_t t0 = vtrn1q_u32(s[g][0], s[g][1]), t1 = vtrn2q_u32(s[g][0], s[g][1]);
        const uint32x4_t t2 = vtrn1q_u32(s[g][2], s[g][3]), t3 = vtrn2q_u32(s[g][2], s[g][3]);
        const uint64x2_t u0 = vreinterpretq_u64_u32(t0), u1 = vreinterpretq_u64_u32(t1);
        const uint64x2_t u2 = vreinterpretq_u64_u32(t2), u3 = vreinterpretq_u64_u32(t3);
        x[4 * g + 0] = (fi_vu)vreinterpretq_u32_u64(vzip1q_u64(u0, u2));
        x[4 * g + 1] = (fi_vu)vreinterpretq_u32_u64(vzip1q_u64(u1, u3));
        x[4 * g + 2] = (fi_vu)vreinterpretq_u32_u64(vzip2q_u64(u0, u2));
        x[4 * g + 3] = (fi_vu)vreinterpretq_u32_u64(vzip2q_u64(u1, u3));
    }
}

/* The rounds leave memory order. */
static inline fi_vu fi_words_v(fi_vu x) { return x; }
static inline fi_vu fi_words_shr8_v(fi_vu x) { return x >> 8; }

static inline fi_vf fi_vsqrt_f(fi_vf x) { return (fi_vf)vsqrtq_f32((float32x4_t)x); }
static inline fi_vd fi_vsqrt_d(fi_vd x) { return (fi_vd)vsqrtq_f64((float64x2_t)x); }
/* a < b ? a : b, as the x86 min (b when either is NaN; NEON's fmin would give NaN) */
static inline fi_vf fi_vmin_f(fi_vf a, fi_vf b)
{
    const float32x4_t va = (float32x4_t)a, vb = (float32x4_t)b;
    return (fi_vf)vbslq_f32(vcltq_f32(va, vb), va, vb);
}
static inline fi_vd fi_vmin_d(fi_vd a, fi_vd b)
{
    const float64x2_t va = (float64x2_t)a, vb = (float64x2_t)b;
    return (fi_vd)vbslq_f64(vcltq_f64(va, vb), va, vb);
}
static inline int fi_any_l(fi_vl mask) { return vmaxvq_u32((uint32x4_t)mask) != 0; }
/* fcvtn rounds by FPCR (round to nearest even, the AArch64 default and what Linux, macOS and
 * Windows run with); FZ16 is off there, so float16 subnormals are kept as F16C keeps them. */
static inline fi_vh fi_cvt_f16(fi_vf x) { return (fi_vh)vreinterpret_u16_f16(vcvt_f16_f32((float32x4_t)x)); }

#define FI_IDX_EVEN32 0, 2, 4, 6
#define FI_IDX_ODD32 1, 3, 5, 7
#define FI_IDX_EVEN32_RAW FI_IDX_EVEN32 /* the rounds leave memory order */
#define FI_IDX_ODD32_RAW FI_IDX_ODD32
#define FI_IDX_ILV_LO32 0, 4, 1, 5
#define FI_IDX_ILV_HI32 2, 6, 3, 7
#define FI_IDX_LO_HALF32 0, 1
#define FI_IDX_HI_HALF32 2, 3
#define FI_IDX_CONCAT32 0, 1, 2, 3
#define FI_IDX_EVEN64 0, 2
#define FI_IDX_ODD64 1, 3
#define FI_IDX_ILV_LO64 0, 2
#define FI_IDX_ILV_HI64 1, 3

#include "fi_simd_template.h"

static const fi_isa_table fi_table_neon = FI_SIMD_TABLE("neon");

const fi_isa_table *fi_isa_table_neon(void) { return &fi_table_neon; }

#else

const fi_isa_table *fi_isa_table_neon(void) { return 0; }

#endif
