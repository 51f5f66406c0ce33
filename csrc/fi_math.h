/* fastinit's own math approximations, scalar C (stream contract v2; its float32 Phi^-1 is
 * norm_ppf_f32 in kernels_scalar.c).
 *
 * The coefficients and the evaluation order are specified once, in fastinit/_mathspec.py
 * (constants generated into fi_mathspec.h); fastinit/_npmath.py evaluates the same
 * operations in NumPy. Only +, -, *, /, sqrt and integer operations are used, never a libm
 * transcendental, and the build uses -ffp-contract=off, so every backend rounds identically.
 * Accuracy (tests/test_math_accuracy.py): float32 ln within 1 ulp and sin/cos within 2 ulp of
 * the correctly rounded result over every input the kernels use; float64 within 2 ulp.
 */
#ifndef FI_MATH_H
#define FI_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fi_mathspec.h"

static inline uint32_t fi_f32_bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float fi_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static inline uint64_t fi_f64_bits(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static inline double fi_bits_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* ln x for positive normal float32 x. x = 2^e m with m in (sqrt(1/2), sqrt(2)]; f = m - 1;
 * ln(1 + f) = 2 atanh(s) = f - s (f - R(s^2)), s = f / (2 + f) (Cody & Waite 1980);
 * e ln 2 is added in two parts (hi part exact). */
static inline float fi_log_f32(float x)
{
    const uint32_t bits = fi_f32_bits(x);
    int32_t e = (int32_t)(bits >> 23) - 127;
    uint32_t mbits = (bits & UINT32_C(0x7FFFFF)) | UINT32_C(0x3F800000);
    if (mbits > UINT32_C(0x3FB504F3)) { /* m > sqrt(2) */
        mbits -= UINT32_C(0x00800000);
        e += 1;
    }
    const float f = fi_bits_f32(mbits) - 1.0f;
    const float s = f / (2.0f + f);
    const float z = s * s;
    const float r = z * ((FI_LN_F32_2 * z + FI_LN_F32_1) * z + FI_LN_F32_0);
    const float ef = (float)e;
    return ef * FI_LN2_HI_F32 + (f - (s * (f - r) - ef * FI_LN2_LO_F32));
}

static inline double fi_log_f64(double x)
{
    const uint64_t bits = fi_f64_bits(x);
    int64_t e = (int64_t)(bits >> 52) - 1023;
    uint64_t mbits = (bits & UINT64_C(0xFFFFFFFFFFFFF)) | UINT64_C(0x3FF0000000000000);
    if (mbits > UINT64_C(0x3FF6A09E667F3BCD)) {
        mbits -= UINT64_C(0x0010000000000000);
        e += 1;
    }
    const double f = fi_bits_f64(mbits) - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    const double p = (((((FI_LN_F64_6 * z + FI_LN_F64_5) * z + FI_LN_F64_4) * z + FI_LN_F64_3) * z
                       + FI_LN_F64_2) * z + FI_LN_F64_1) * z + FI_LN_F64_0;
    const double r = z * p;
    const double ef = (double)e;
    return ef * FI_LN2_HI_F64 + (f - (s * (f - r) - ef * FI_LN2_LO_F64));
}

/* cos and sin of 2 pi k / 2^24 for 0 <= k < 2^24. The turn splits exactly into a quadrant
 * q (top two bits) and a signed quarter-turn fraction f in [-1/2, 1/2), so there is no
 * rounding in the argument reduction; then cos/sin(pi/2 f) by polynomials and a swap. */
static inline void fi_sincos_turn_f32(uint32_t k, float *cos_out, float *sin_out)
{
    uint32_t q = k >> 22;
    int32_t r = (int32_t)(k & UINT32_C(0x3FFFFF));
    if (r >= (INT32_C(1) << 21)) {
        r -= INT32_C(1) << 22;
        q = (q + 1) & 3;
    }
    const float f = (float)r * 0x1.0p-22f;
    const float t = f * f;
    const float s = f * (((FI_SIN_F32_3 * t + FI_SIN_F32_2) * t + FI_SIN_F32_1) * t + FI_SIN_F32_0);
    const float c = 1.0f + t * (((FI_COS_F32_3 * t + FI_COS_F32_2) * t + FI_COS_F32_1) * t + FI_COS_F32_0);
    /* quadrant q: (c, s), (-s, c), (-c, -s), (s, -c), without a branch (q is random: a switch
     * mispredicted most pairs); a negation is the sign bit flipped */
    const uint32_t swap = UINT32_C(0) - (q & 1), sb = fi_f32_bits(s), cb = fi_f32_bits(c);
    const uint32_t cos_sign = ((q + 1) & 2) << 30, sin_sign = (q & 2) << 30;
    *cos_out = fi_bits_f32(((sb & swap) | (cb & ~swap)) ^ cos_sign);
    *sin_out = fi_bits_f32(((cb & swap) | (sb & ~swap)) ^ sin_sign);
}

/* cos and sin of 2 pi k / 2^53 for 0 <= k < 2^53. */
static inline void fi_sincos_turn_f64(uint64_t k, double *cos_out, double *sin_out)
{
    uint64_t q = k >> 51;
    int64_t r = (int64_t)(k & ((UINT64_C(1) << 51) - 1));
    if (r >= (INT64_C(1) << 50)) {
        r -= INT64_C(1) << 51;
        q = (q + 1) & 3;
    }
    const double f = (double)r * 0x1.0p-51;
    const double t = f * f;
    const double s = f * ((((((FI_SIN_F64_6 * t + FI_SIN_F64_5) * t + FI_SIN_F64_4) * t + FI_SIN_F64_3) * t
                            + FI_SIN_F64_2) * t + FI_SIN_F64_1) * t + FI_SIN_F64_0);
    const double c = 1.0 + t * ((((((FI_COS_F64_6 * t + FI_COS_F64_5) * t + FI_COS_F64_4) * t + FI_COS_F64_3) * t
                                  + FI_COS_F64_2) * t + FI_COS_F64_1) * t + FI_COS_F64_0);
    switch (q) {
    case 0: *cos_out = c; *sin_out = s; break;
    case 1: *cos_out = -s; *sin_out = c; break;
    case 2: *cos_out = -c; *sin_out = -s; break;
    default: *cos_out = s; *sin_out = -c; break;
    }
}

#define FI_HORNER8(P, x) \
    (((((((P##_7 * (x) + P##_6) * (x) + P##_5) * (x) + P##_4) * (x) + P##_3) * (x) + P##_2) * (x) + P##_1) * (x) + P##_0)

/* Standard normal quantile of p in (0, 1), float64: Wichura's AS241 (PPND16) rational
 * approximations, with fastinit's own ln. A tail probability is floored at FI_PPF_QMIN. */
static inline double fi_norm_ppf(double p)
{
    const double q = p - 0.5;
    if (fabs(q) <= FI_PPF_SPLIT1) {
        const double r = FI_PPF_CONST1 - q * q;
        return q * FI_HORNER8(FI_PPF_A, r) / FI_HORNER8(FI_PPF_B, r);
    }
    double t = q < 0.0 ? p : 1.0 - p;
    if (t < FI_PPF_QMIN)
        t = FI_PPF_QMIN;
    double r = sqrt(-fi_log_f64(t));
    double z;
    if (r <= FI_PPF_SPLIT2) {
        r = r - FI_PPF_CONST2;
        z = FI_HORNER8(FI_PPF_C, r) / FI_HORNER8(FI_PPF_D, r);
    } else {
        r = r - FI_PPF_SPLIT2;
        z = FI_HORNER8(FI_PPF_E, r) / FI_HORNER8(FI_PPF_F, r);
    }
    return q < 0.0 ? -z : z;
}

/* exp x for x <= 0: x = k ln2 + r (Cody-Waite), Taylor polynomial in r, then an exact
 * power-of-two scaling (ldexp). Used only for Phi, once per call. Below -746 exp(x) is under
 * half the smallest subnormal, so the result is +0 (the polynomial path gives exactly +0
 * there too while k*ln2 splits exactly); returning early also keeps k within int64 (a
 * Phi(-1e10) once cast 7e19 to int64_t: undefined behaviour, and garbage; found by fuzzing). */
static inline double fi_exp_f64(double x)
{
    if (!(x >= -746.0))
        return 0.0;
    const int64_t k = -(int64_t)(-x * FI_INV_LN2_F64 + 0.5);
    const double kd = (double)k;
    const double r = (x - kd * FI_LN2_HI_F64) - kd * FI_LN2_LO_F64;
    static const double coeff[14] = {FI_EXP_F64_0, FI_EXP_F64_1, FI_EXP_F64_2, FI_EXP_F64_3, FI_EXP_F64_4,
                                     FI_EXP_F64_5, FI_EXP_F64_6, FI_EXP_F64_7, FI_EXP_F64_8, FI_EXP_F64_9,
                                     FI_EXP_F64_10, FI_EXP_F64_11, FI_EXP_F64_12, FI_EXP_F64_13};
    double acc = coeff[13];
    for (int j = 12; j >= 0; j--) /* Horner, highest degree first, as _npmath.exp_scalar */
        acc = acc * r + coeff[j];
    return ldexp(acc, (int)k);
}

/* Q(t) = 1 - Phi(t) for t >= 0 (Marsaglia's series below FI_PHI_SPLIT, Laplace's continued
 * fraction for the Mills ratio above). */
static inline double fi_norm_upper_tail(double t)
{
    if (isinf(t))
        return 0.0;
    const double pdf = fi_exp_f64(-(t * t) * 0.5) * FI_INV_SQRT_2PI_F64;
    if (t < FI_PHI_SPLIT) {
        double term = t, total = t;
        const double tt = t * t;
        for (int n = 1; n < FI_PHI_SERIES_TERMS; n++) {
            term = term * tt / (double)(2 * n + 1);
            total = total + term;
        }
        return 0.5 - pdf * total;
    }
    double k = t;
    for (int n = FI_PHI_CF_DEPTH; n > 0; n--)
        k = t + (double)n / k;
    return pdf / k;
}

static inline double fi_norm_cdf(double x)
{
    return x < 0.0 ? fi_norm_upper_tail(-x) : 1.0 - fi_norm_upper_tail(x);
}

/* float32 -> bfloat16 and float16 bits, round to nearest even (NaN stays NaN, quiet). */
static inline uint16_t fi_f32_to_bf16(float x)
{
    const uint32_t b = fi_f32_bits(x);
    if ((b & UINT32_C(0x7FFFFFFF)) > UINT32_C(0x7F800000))
        return (uint16_t)((b >> 16) | 0x0040);
    return (uint16_t)((b + UINT32_C(0x7FFF) + ((b >> 16) & 1)) >> 16);
}

static inline uint16_t fi_f32_to_f16(float x)
{
    const uint32_t b = fi_f32_bits(x);
    const uint16_t sign = (uint16_t)((b >> 16) & 0x8000);
    const uint32_t a = b & UINT32_C(0x7FFFFFFF);
    if (a > UINT32_C(0x7F800000))
        return (uint16_t)(sign | 0x7E00);          /* NaN */
    if (a >= UINT32_C(0x477FF000))
        return (uint16_t)(sign | 0x7C00);          /* >= 65520 rounds to infinity */
    if (a >= UINT32_C(0x38800000)) {               /* normal half: rebias 127 -> 15 */
        const uint32_t r = a - UINT32_C(0x38000000);
        return (uint16_t)(sign | ((r + UINT32_C(0xFFF) + ((r >> 13) & 1)) >> 13));
    }
    if (a <= UINT32_C(0x33000000))                 /* <= 2^-25 rounds to zero (tie to even) */
        return sign;
    /* subnormal half: value = m 2^(e - 150) in units of 2^-24 is m >> (126 - e) */
    const uint32_t e = a >> 23;
    const uint32_t m = (a & UINT32_C(0x7FFFFF)) | UINT32_C(0x800000);
    const uint32_t shift = 126 - e;
    uint32_t q = m >> shift;
    const uint32_t rem = m & ((UINT32_C(1) << shift) - 1);
    const uint32_t half = UINT32_C(1) << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
        q += 1;
    return (uint16_t)(sign | q);
}

#endif /* FI_MATH_H */
