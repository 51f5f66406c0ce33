"""The single specification of fastinit's math approximations (stream contract v2).

Every backend (C scalar, the SIMD kernels, and the NumPy backend) evaluates these exact
coefficients in the exact order documented beside each function, using only IEEE-754
+, -, *, /, sqrt and integer operations, so that all of them produce the same bits.
``csrc/fi_mathspec.h`` is generated from this file by ``tools/gen_mathspec_header.py``; a
test checks that the two agree. The values come from ``tools/fit_coefficients.py``
(near-minimax Chebyshev fits) and from Wichura's AS241.

Changing any value here changes the stream contract: bump ``CONTRACT_VERSION`` and the
frozen vectors in ``tests/vectors.txt``.
"""

CONTRACT_VERSION = 2

# --- float32 natural log -------------------------------------------------------------
# x = 2^e * m, m in (sqrt(1/2), sqrt(2)];  f = m - 1;  s = f / (2 + f);  z = s * s
# R = z * (LN_F32[0] + z * (LN_F32[1] + z * LN_F32[2]))
# ln x = e * LN2_HI_F32 + (f - (s * (f - R) - e * LN2_LO_F32))
LN_F32 = ("0x1.55555cp-1", "0x1.997c3p-2", "0x1.2ee61p-2")
LN2_HI_F32 = "0x1.62e4p-1"  # ln 2 with its low bits cleared: e * LN2_HI_F32 is exact
LN2_LO_F32 = "0x1.7f7d1cp-20"  # ln 2 - LN2_HI_F32, rounded to float32

# --- float64 natural log: same scheme, R = z * P(z) with P of degree 6 (Horner) -------
LN_F64 = (
    "0x1.5555555555558p-1",
    "0x1.99999999952e2p-2",
    "0x1.2492492df148dp-2",
    "0x1.c71c62e5800a1p-3",
    "0x1.7462b4ab2ef6bp-3",
    "0x1.39fe606542ddep-3",
    "0x1.2b584aae78a57p-3",
)
LN2_HI_F64 = "0x1.62e42feep-1"  # 32 significant bits: e * LN2_HI_F64 is exact
LN2_LO_F64 = "0x1.a39ef35793c76p-33"

# --- sin and cos of an angle given in quarter turns f in [-1/2, 1/2) -------------------
# t = f * f;  sin(pi/2 f) = f * (S[0] + t * (S[1] + t * (...)));
#             cos(pi/2 f) = 1 + t * (C[0] + t * (C[1] + t * (...)))
SIN_F32 = ("0x1.921fb6p+0", "-0x1.4abbbap-1", "0x1.465ec4p-4", "-0x1.2d9b4p-8")
COS_F32 = ("-0x1.3bd3ccp+0", "0x1.03c1eap-2", "-0x1.55cb98p-6", "0x1.db6492p-11")
SIN_F64 = (
    "0x1.921fb54442d18p+0",
    "-0x1.4abbce625be41p-1",
    "0x1.466bc677587f8p-4",
    "-0x1.32d2cce2e5b19p-8",
    "0x1.50782fda12d96p-13",
    "-0x1.e30071afc3e59p-19",
    "0x1.e3f38399551bfp-25",
)
COS_F64 = (
    "-0x1.3bd3cc9be45dep+0",
    "0x1.03c1f081b5ac0p-2",
    "-0x1.55d3c7e3cb241p-6",
    "0x1.e1f5068688d5bp-11",
    "-0x1.a6d1eef479be1p-16",
    "0x1.f9ce245cada0bp-22",
    "-0x1.b2f3eb054afcdp-28",
)

# --- exp (float64, used only by Phi, once per call) -------------------------------------
# k = nearest integer to x / ln 2;  r = (x - k * LN2_HI_F64) - k * LN2_LO_F64
# exp x = ldexp(EXP_F64[0] + r * (EXP_F64[1] + r * (...)), k)     (Taylor, 1/j!)
EXP_F64 = (
    "0x1.0000000000000p+0",
    "0x1.0000000000000p+0",
    "0x1.0000000000000p-1",
    "0x1.5555555555555p-3",
    "0x1.5555555555555p-5",
    "0x1.1111111111111p-7",
    "0x1.6c16c16c16c17p-10",
    "0x1.a01a01a01a01ap-13",
    "0x1.a01a01a01a01ap-16",
    "0x1.71de3a556c734p-19",
    "0x1.27e4fb7789f5cp-22",
    "0x1.ae64567f544e4p-26",
    "0x1.1eed8eff8d898p-29",
    "0x1.6124613a86d09p-33",
)
INV_LN2_F64 = "0x1.71547652b82fep+0"
INV_SQRT_2PI_F64 = "0x1.9884533d43651p-2"

# --- Phi (standard normal CDF, float64, once per call) ----------------------------------
# Upper tail Q(t) = 1 - Phi(t) for t >= 0:
#   t <  PHI_SPLIT: Q = 0.5 - phi(t) * sum_{n=0}^{PHI_SERIES_TERMS-1} t^(2n+1) / (2n+1)!!
#                   (Marsaglia, "Evaluating the Normal Distribution", J. Stat. Softw. 11(4), 2004)
#   t >= PHI_SPLIT: Q = phi(t) / K,  K = t + 1/(t + 2/(t + 3/(t + ...))) evaluated backwards from
#                   depth PHI_CF_DEPTH (Laplace's continued fraction for the Mills ratio)
#   phi(t) = exp(-(t * t) * 0.5) * INV_SQRT_2PI_F64
PHI_SPLIT = "0x1.0p+1"
PHI_SERIES_TERMS = 60
PHI_CF_DEPTH = 160

# --- Phi^-1 (float64): Wichura, "Algorithm AS 241: The Percentage Points of the Normal
# Distribution", Applied Statistics 37(3):477-484 (1988), PPND16 coefficients (lowest degree
# first; the denominators' leading 1 is implicit). Central region |p - 0.5| <= 0.425:
# q = p - 0.5, r = 0.180625 - q*q, z = q * A(r) / B(r). Tails: r = sqrt(-ln(min(p, 1 - p)));
# r <= 5: C(r - 1.6) / D(r - 1.6); else E(r - 5) / F(r - 5); negative for p < 0.5.
PPF_A = (
    "3.3871328727963666080e0", "1.3314166789178437745e+2", "1.9715909503065514427e+3",
    "1.3731693765509461125e+4", "4.5921953931549871457e+4", "6.7265770927008700853e+4",
    "3.3430575583588128105e+4", "2.5090809287301226727e+3",
)
PPF_B = (
    "1.0", "4.2313330701600911252e+1", "6.8718700749205790830e+2", "5.3941960214247511077e+3",
    "2.1213794301586595867e+4", "3.9307895800092710610e+4", "2.8729085735721942674e+4",
    "5.2264952788528545610e+3",
)
PPF_C = (
    "1.42343711074968357734e0", "4.63033784615654529590e0", "5.76949722146069140550e0",
    "3.64784832476320460504e0", "1.27045825245236838258e0", "2.41780725177450611770e-1",
    "2.27238449892691845833e-2", "7.74545014278341407640e-4",
)
PPF_D = (
    "1.0", "2.05319162663775882187e0", "1.67638483018380384940e0", "6.89767334985100004550e-1",
    "1.48103976427480074590e-1", "1.51986665636164571966e-2", "5.47593808499534494600e-4",
    "1.05075007164441684324e-9",
)
PPF_E = (
    "6.65790464350110377720e0", "5.46378491116411436990e0", "1.78482653991729133580e0",
    "2.96560571828504891230e-1", "2.65321895265761230930e-2", "1.24266094738807843860e-3",
    "2.71155556874348757815e-5", "2.01033439929228813265e-7",
)
PPF_F = (
    "1.0", "5.99832206555887937690e-1", "1.36929880922735805310e-1", "1.48753612908506148525e-2",
    "7.86869131145613259100e-4", "1.84631831751005468180e-5", "1.42151175831644588870e-7",
    "2.04426310338993978564e-15",
)
PPF_SPLIT1 = "0.425"
PPF_CONST1 = "0.180625"
PPF_SPLIT2 = "5.0"
PPF_CONST2 = "1.6"
# Smallest tail probability fed to ln: 2^-1022 (a p that rounds to exactly 1 maps here, and
# the result is then clamped into [a, b]).
PPF_QMIN = "0x1.0p-1022"
# A truncation interval whose mass Phi(beta) - Phi(alpha) is below this is rejected.
TRUNC_MIN_MASS = "0x1.0p-960"

# --- contract v2: the truncated normal of 32- and 16-bit outputs ---------------------------
# Per call, in float64 (mirrored frame of v1: pa = Phi(alpha), mass, qb = Phi(-beta) = 1 - Phi(beta)):
#   alpha <= -NORMAL_F32_REACH and beta >= NORMAL_F32_REACH: the bounds lie beyond every value
#       the float32 normal generator makes (|z| <= sqrt(-2 ln 2^-24) = 5.77): the elements are
#       normal_(mean, std)'s, clamped into [a32, b32] (the clamp changes nothing but roundings);
#   else mass >= TRUNC_F32_MIN_MASS and mass >= TRUNC_F32_MIN_REL * min(pa, qb): float32
#       evaluation below (p keeps >= 16 bits of u where it is the nearer tail);
#   else the v1 float64 evaluation, rounded to float32.
NORMAL_F32_REACH = "6.0"
TRUNC_F32_MIN_MASS = "0x1.0p-40"
TRUNC_F32_MIN_REL = "0x1.0p-8"
# The float32 evaluation, element by element (k = w >> 9, 23 bits; all float32):
#   u = (k + 0.5) * 2^-23;  p2 = P2A + u * M2;  q2 = Q2B + (1 - u) * M2
#       (P2A, M2, Q2B: 2 pa, 2 mass, 2 qb rounded to float32; p2 = 2p, q2 = 2(1 - p))
#   z = ppf_f32(p2, q2);  x = mean32 + (sign * std32) * z;  x = min(max(x, a32), b32)
#       (a32: the smallest float32 >= a, b32: the largest float32 <= b)
# ppf_f32(p2, q2) = Phi^-1(p2 / 2) from both tails at once, no division:
#   d = p2 - q2;  w = -ln(p2 * q2)      (ln: log_f32 above; w = -ln(4p(1-p)) >= 0)
#   w < PPF32_SPLIT:   z = d * C(w - PPF32_C_CENTER)
#   else: s = sqrt(w); s < PPF32_TAIL_SPLIT: z = d * T1(s - PPF32_T1_CENTER)
#                      else:                 z = d * T2(s - PPF32_T2_CENTER)
#   (C, T1, T2 approximate Phi^-1(p) / (2 (2p - 1)) as a function of w or s = sqrt(w),
#    Chebyshev fits from tools/fit_coefficients.py, lowest degree first. T1 and T2: Horner.
#    C (the hot one) by Estrin's scheme, whose dependency chain is 4 products deep instead
#    of 8: x2 = x*x; x4 = x2*x2; a_j = C[2j] + C[2j+1]*x (j = 0..3);
#    b0 = a0 + a1*x2; b1 = a2 + a3*x2;  C(x) = (b0 + b1*x4) + C[8]*(x4*x4).
#    The SIMD kernels evaluate the tail only when a lane of the step needs it.)
PPF32_SPLIT = "5.0"
PPF32_C_CENTER = "2.5"
PPF32_C = (
    "0x1.0fc8bcp+0", "0x1.652c8ap-3", "-0x1.832a16p-9", "-0x1.d0cd92p-11", "0x1.43bd14p-13",
    "-0x1.9fb8ecp-19", "-0x1.47e156p-19", "0x1.03d58cp-22", "0x1.129e12p-26",
)
PPF32_TAIL_SPLIT = "4.0"
PPF32_T1_CENTER = "3.125"
PPF32_T1 = (
    "0x1.0bc1aep+1", "0x1.6b628ep-1", "0x1.46aa02p-8", "-0x1.eb5018p-9", "0x1.5e6fp-9",
    "-0x1.d3471ap-10", "0x1.e65d16p-11", "-0x1.df63b4p-13", "-0x1.02cfdap-13", "0x1.7f4ed2p-14",
)
PPF32_T2_CENTER = "5.25"
PPF32_T2 = (
    "0x1.cdd2a6p+1", "0x1.6dbacep-1", "-0x1.968584p-13", "-0x1.bcd2fp-14", "0x1.43d7f6p-15",
    "-0x1.4d157p-17", "0x1.589274p-19", "-0x1.0e6ac8p-21",
)


def _value(text: str) -> float:
    return float.fromhex(text) if "x" in text else float(text)


def floats(name: str) -> tuple[float, ...]:
    """The named coefficient tuple as Python floats (float64)."""
    return tuple(_value(t) for t in globals()[name])


def scalar(name: str) -> float:
    return _value(globals()[name])
