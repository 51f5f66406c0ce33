/* AVX2 (+F16C) instantiation of the SIMD kernels (fi_simd_template.h): 8 lanes of 32 bits, 2 Philox
 * blocks per vector. Compiled for the AVX2 target by the pragma below (the rest of the
 * library stays baseline x86-64); only called when dispatch.c has checked the CPU and OS. */
#include "fi_internal.h"
#include "fi_simd_available.h"

#if FI_HAVE_X86_SIMD

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,f16c")
/* Register-pressure-aware scheduling before allocation (off by default on x86): with 16 ymm
 * registers the Box-Muller step of 8 Philox vectors spilled 26 vectors a step; scheduled this
 * way the float32 normal runs 1.22x faster (tools/kernel_ab.sh, same bits; docs/performance.md).
 * Scheduling only: no change to any result. */
#pragma GCC optimize("schedule-insns", "sched-pressure")
#endif

#include "fi_x86_intrin.h" /* <immintrin.h>, complete under clang-cl too */

#define FI_VBYTES 32
#define FI_ISA_NAME avx2
#ifndef FI_NV
#define FI_NV 8 /* independent Philox chains a step: measured best (docs/performance.md) */
#endif
#include "fi_simd_types.h"
#define FI_HAVE_CVT_U64 0

/* Philox4x32-10 rounds 1..9 on FI_NV vectors of two blocks each, in memory order
 * (x0 x1 x2 x3 | x0 x1 x2 x3), their rounds interleaved so the multiply chains overlap
 * (round 0 is fi_philox_first_v, see vstream in fi_simd_template.h). In each round
 * mul_epu32 multiplies lanes x0 and x2 by (M0, M1) into 64-bit products (lo0 hi0 lo1 hi1);
 * the dword shuffle 0x1B turns them into (hi1 lo1 hi0 lo0), and the xor with (x1 0 x3 0)
 * and the round key (k0 0 k1 0) gives the next state (hi1^x1^k0, lo1, hi0^x3^k1, lo0). */
static inline void fi_philox_key_block(uint32_t k0, uint32_t k1, uint32_t words[4])
{
    /* every round: (k0, 0, k1, 0) */
    words[0] = k0;
    words[1] = 0;
    words[2] = k1;
    words[3] = 0;
}

/* Round 0 (see vstream in fi_simd_template.h): r0 = (lo(M0 x0), hi(M0 x0), 0, 0) per block is
 * shuffled to (0, 0, hi, lo) and xored with (c0, c1, c2, 0) = (y0, y1, x3 ^ k1, 0). */
static inline void fi_philox_first_block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t words[4])
{
    words[0] = c0;
    words[1] = c1;
    words[2] = c2;
    words[3] = 0;
}

static inline fi_vu fi_philox_first_v(fi_vq r0, fi_vu c)
{
    return (fi_vu)_mm256_xor_si256(_mm256_shuffle_epi32((__m256i)r0, 0x1E), (__m256i)c);
}

static inline void fi_philox_rounds_v(fi_vu x[FI_NV], const fi_vu *round_key)
{
    const __m256i mul = _mm256_set_epi32(0, (int)FI_PHILOX_M1, 0, (int)FI_PHILOX_M0,
                                         0, (int)FI_PHILOX_M1, 0, (int)FI_PHILOX_M0);
#pragma GCC unroll 9
    for (int r = 1; r < FI_PHILOX_ROUNDS; r++) {
        const __m256i key = (__m256i)round_key[r];
        for (int h = 0; h < FI_NV; h++) {
            const __m256i p = _mm256_mul_epu32((__m256i)x[h], mul);
            x[h] = (fi_vu)_mm256_xor_si256(_mm256_xor_si256(_mm256_shuffle_epi32(p, 0x1B),
                                                            _mm256_srli_epi64((__m256i)x[h], 32)), key);
        }
    }
}

/* The rounds leave memory order. */
static inline fi_vu fi_words_v(fi_vu x) { return x; }
static inline fi_vu fi_words_shr8_v(fi_vu x) { return x >> 8; }

static inline fi_vf fi_vsqrt_f(fi_vf x) { return (fi_vf)_mm256_sqrt_ps((__m256)x); }
static inline fi_vd fi_vsqrt_d(fi_vd x) { return (fi_vd)_mm256_sqrt_pd((__m256d)x); }
static inline fi_vf fi_vmin_f(fi_vf a, fi_vf b) { return (fi_vf)_mm256_min_ps((__m256)a, (__m256)b); }
static inline fi_vd fi_vmin_d(fi_vd a, fi_vd b) { return (fi_vd)_mm256_min_pd((__m256d)a, (__m256d)b); }
static inline int fi_any_l(fi_vl mask) { return _mm256_movemask_pd((__m256d)mask) != 0; }
static inline fi_vh fi_cvt_f16(fi_vf x) { return (fi_vh)_mm256_cvtps_ph((__m256)x, _MM_FROUND_TO_NEAREST_INT); }
#define FI_HAVE_BLEND_SIGN 1 /* vblendvps: b where m's sign bit is set */
static inline fi_vf fi_vblend_sign_f(fi_vf a, fi_vf b, fi_vi m)
{
    return (fi_vf)_mm256_blendv_ps((__m256)a, (__m256)b, (__m256)m);
}

#define FI_IDX_EVEN32 0, 2, 4, 6, 8, 10, 12, 14
#define FI_IDX_ODD32 1, 3, 5, 7, 9, 11, 13, 15
#define FI_IDX_EVEN32_RAW FI_IDX_EVEN32 /* the rounds leave memory order */
#define FI_IDX_ODD32_RAW FI_IDX_ODD32
#define FI_IDX_ILV_LO32 0, 8, 1, 9, 2, 10, 3, 11
#define FI_IDX_ILV_HI32 4, 12, 5, 13, 6, 14, 7, 15
#define FI_IDX_LO_HALF32 0, 1, 2, 3
#define FI_IDX_HI_HALF32 4, 5, 6, 7
#define FI_IDX_CONCAT32 0, 1, 2, 3, 4, 5, 6, 7
#define FI_IDX_EVEN64 0, 2, 4, 6
#define FI_IDX_ODD64 1, 3, 5, 7
#define FI_IDX_ILV_LO64 0, 4, 1, 5
#define FI_IDX_ILV_HI64 2, 6, 3, 7

#include "fi_simd_template.h"

static const fi_isa_table fi_table_avx2 = FI_SIMD_TABLE("avx2");

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const fi_isa_table *fi_isa_table_avx2(void) { return &fi_table_avx2; }

#else

const fi_isa_table *fi_isa_table_avx2(void) { return 0; }

#endif
