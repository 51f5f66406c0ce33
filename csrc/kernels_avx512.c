/* AVX-512 (F, BW, DQ, VL) instantiation of the SIMD kernels (fi_simd_template.h): 16 lanes
 * of 32 bits, 4 Philox blocks per vector; its three-instruction Philox round is below. */
#include "fi_internal.h"
#include "fi_simd_available.h"

#if FI_HAVE_X86_SIMD

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl")
#endif

#include "fi_x86_intrin.h" /* <immintrin.h>, complete under clang-cl too */

#define FI_VBYTES 64
#define FI_ISA_NAME avx512
#ifndef FI_NV
#define FI_NV 8 /* independent Philox chains a step: measured best (docs/performance.md) */
#endif
#include "fi_simd_types.h"
#define FI_HAVE_CVT_U64 1 /* vcvtuqq2pd (AVX-512 DQ) */

/* Philox4x32-10 rounds 1..9 on FI_NV vectors of four blocks each, their rounds interleaved
 * so the multiply chains overlap (round 0 is fi_philox_first_v, see vstream in
 * fi_simd_template.h). Three instructions a round (AVX2 needs five, kernels_avx2.c): between
 * rounds a block's state is kept as (x0, x3, x2, x1), so that after
 *   P = mul_epu32(x, (M0, M1))   = (lo0, hi0, lo1, hi1)  (x0 * M0 and x2 * M1, 64-bit)
 * one ternary xor masked to the odd lanes (vpternlogd with a merge mask) gives
 *   T = (lo0, hi0 ^ x3 ^ k1, lo1, hi1 ^ x1 ^ k0) = (y3, y2, y1, y0)
 * (the round key laid out (0, k1, 0, k0)), and one dword shuffle puts it back in that
 * layout (y0, y3, y2, y1); the last round leaves (y3, y2, y1, y0) for fi_words_v /
 * fi_words_shr8_v. */
static inline void fi_philox_key_block(uint32_t k0, uint32_t k1, uint32_t words[4])
{
    words[0] = 0;
    words[1] = k1;
    words[2] = 0;
    words[3] = k0;
}

/* Round 0 in the (y0, y3, y2, y1) layout: r0 = (lo(M0 x0), hi(M0 x0), 0, 0) per block is
 * shuffled to (0, lo, hi, 0) and xored with (c0, 0, c2, c1) = (y0, 0, x3 ^ k1, y1). */
static inline void fi_philox_first_block(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t words[4])
{
    words[0] = c0;
    words[1] = 0;
    words[2] = c2;
    words[3] = c1;
}

static inline fi_vu fi_philox_first_v(fi_vq r0, fi_vu c)
{
    return (fi_vu)_mm512_xor_si512(_mm512_shuffle_epi32((__m512i)r0, (_MM_PERM_ENUM)0xD2), (__m512i)c);
}

static inline void fi_philox_rounds_v(fi_vu x[FI_NV], const fi_vu *round_key)
{
    const __m512i mul = _mm512_set_epi32(0, (int)FI_PHILOX_M1, 0, (int)FI_PHILOX_M0, 0, (int)FI_PHILOX_M1, 0,
                                         (int)FI_PHILOX_M0, 0, (int)FI_PHILOX_M1, 0, (int)FI_PHILOX_M0, 0,
                                         (int)FI_PHILOX_M1, 0, (int)FI_PHILOX_M0);
    const __mmask16 odd = 0xAAAA;
    for (int r = 1; r < FI_PHILOX_ROUNDS; r++) {
        for (int h = 0; h < FI_NV; h++) {
            const __m512i p = _mm512_mul_epu32((__m512i)x[h], mul);
            const __m512i t = _mm512_mask_ternarylogic_epi32(p, odd, (__m512i)x[h], (__m512i)round_key[r], 0x96);
            x[h] = r < 9 ? (fi_vu)_mm512_shuffle_epi32(t, (_MM_PERM_ENUM)0x93) : (fi_vu)t;
        }
    }
}

/* After the last round a block is (y3, y2, y1, y0): reversed into memory order, or with one
 * byte shuffle into memory order and shifted right by 8 (zeroed top bytes). */
static inline fi_vu fi_words_v(fi_vu x) { return (fi_vu)_mm512_shuffle_epi32((__m512i)x, (_MM_PERM_ENUM)0x1B); }

static inline fi_vu fi_words_shr8_v(fi_vu x)
{
    /* byte 4j + i of the result (i = 0, 1, 2) is byte i + 1 of y_j = word 3 - j (source byte
     * 13 - 4j + i); byte 4j + 3 is zero (index with the top bit set) */
    const __m512i idx = _mm512_set4_epi32((int)0x80030201, (int)0x80070605, (int)0x800B0A09, (int)0x800F0E0D);
    return (fi_vu)_mm512_shuffle_epi8((__m512i)x, idx);
}

static inline fi_vf fi_vsqrt_f(fi_vf x) { return (fi_vf)_mm512_sqrt_ps((__m512)x); }
static inline fi_vd fi_vsqrt_d(fi_vd x) { return (fi_vd)_mm512_sqrt_pd((__m512d)x); }
static inline fi_vf fi_vmin_f(fi_vf a, fi_vf b) { return (fi_vf)_mm512_min_ps((__m512)a, (__m512)b); }
static inline fi_vd fi_vmin_d(fi_vd a, fi_vd b) { return (fi_vd)_mm512_min_pd((__m512d)a, (__m512d)b); }
static inline int fi_any_l(fi_vl mask) { return _mm512_movepi64_mask((__m512i)mask) != 0; }
static inline fi_vh fi_cvt_f16(fi_vf x) { return (fi_vh)_mm512_cvtps_ph((__m512)x, _MM_FROUND_TO_NEAREST_INT); }
#define FI_HAVE_BLEND_SIGN 1 /* vpmovd2m + masked blend: b where m's sign bit is set */
static inline fi_vf fi_vblend_sign_f(fi_vf a, fi_vf b, fi_vi m)
{
    return (fi_vf)_mm512_mask_blend_ps(_mm512_movepi32_mask((__m512i)m), (__m512)a, (__m512)b);
}

#define FI_IDX_EVEN32 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define FI_IDX_ODD32 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define FI_IDX_EVEN32_RAW 3, 1, 7, 5, 11, 9, 15, 13, 19, 17, 23, 21, 27, 25, 31, 29 /* (y3, y2, y1, y0) */
#define FI_IDX_ODD32_RAW 2, 0, 6, 4, 10, 8, 14, 12, 18, 16, 22, 20, 26, 24, 30, 28
#define FI_IDX_ILV_LO32 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define FI_IDX_ILV_HI32 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31
#define FI_IDX_LO_HALF32 0, 1, 2, 3, 4, 5, 6, 7
#define FI_IDX_HI_HALF32 8, 9, 10, 11, 12, 13, 14, 15
#define FI_IDX_CONCAT32 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
#define FI_IDX_EVEN64 0, 2, 4, 6, 8, 10, 12, 14
#define FI_IDX_ODD64 1, 3, 5, 7, 9, 11, 13, 15
#define FI_IDX_ILV_LO64 0, 8, 1, 9, 2, 10, 3, 11
#define FI_IDX_ILV_HI64 4, 12, 5, 13, 6, 14, 7, 15

#include "fi_simd_template.h"

static const fi_isa_table fi_table_avx512 = FI_SIMD_TABLE("avx512");

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const fi_isa_table *fi_isa_table_avx512(void) { return &fi_table_avx512; }

#else

const fi_isa_table *fi_isa_table_avx512(void) { return 0; }

#endif
