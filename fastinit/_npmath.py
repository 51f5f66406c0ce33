"""NumPy evaluation of the math specification in ``_mathspec`` (bit-exact with csrc/fi_math.h).

Every function here performs, element by element, the same IEEE-754 operations in the same
order as the C code, on arrays of the same precision, so the results agree bit for bit. No
NumPy transcendental function is used: only +, -, *, /, sqrt and integer operations.
The scalar float64 functions (exp, Phi) use Python floats, which are IEEE doubles.
"""
from __future__ import annotations

import math

import numpy as np

from . import _mathspec as spec

F32 = np.float32
F64 = np.float64

_LN_F32 = tuple(F32(c) for c in spec.floats("LN_F32"))
_LN_F64 = tuple(F64(c) for c in spec.floats("LN_F64"))
_SIN_F32 = tuple(F32(c) for c in spec.floats("SIN_F32"))
_COS_F32 = tuple(F32(c) for c in spec.floats("COS_F32"))
_SIN_F64 = tuple(F64(c) for c in spec.floats("SIN_F64"))
_COS_F64 = tuple(F64(c) for c in spec.floats("COS_F64"))
_LN2_HI_F32 = F32(spec.scalar("LN2_HI_F32"))
_LN2_LO_F32 = F32(spec.scalar("LN2_LO_F32"))
_LN2_HI_F64 = F64(spec.scalar("LN2_HI_F64"))
_LN2_LO_F64 = F64(spec.scalar("LN2_LO_F64"))
_PPF = {k: tuple(spec.floats(f"PPF_{k}")) for k in "ABCDEF"}
_PPF32 = {k: tuple(F32(c) for c in spec.floats(f"PPF32_{k}")) for k in ("C", "T1", "T2")}
_PPF32_AT = {k: F32(spec.scalar(f"PPF32_{k}")) for k in ("SPLIT", "C_CENTER", "TAIL_SPLIT", "T1_CENTER", "T2_CENTER")}


def _horner(coeffs, x):
    """coeffs lowest degree first; evaluates (((c[n]*x + c[n-1])*x + ...)*x + c[0])."""
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * x + c
    return acc


# ----------------------------------------------------------------------------- ln


def log_f32(x: np.ndarray) -> np.ndarray:
    """ln of positive normal float32 values (spec: _mathspec LN_F32)."""
    bits = np.ascontiguousarray(x, dtype=F32).view(np.uint32)
    e = (bits >> np.uint32(23)).astype(np.int32) - np.int32(127)
    mbits = (bits & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)
    big = mbits > np.uint32(0x3FB504F3)  # m > sqrt(2): halve m, bump e
    mbits = np.where(big, mbits - np.uint32(0x00800000), mbits)
    e = e + big.astype(np.int32)
    m = mbits.view(F32)
    f = m - F32(1.0)
    s = f / (F32(2.0) + f)
    z = s * s
    r = z * _horner(_LN_F32, z)
    ef = e.astype(F32)
    return ef * _LN2_HI_F32 + (f - (s * (f - r) - ef * _LN2_LO_F32))


def log_f64(x: np.ndarray) -> np.ndarray:
    """ln of positive normal float64 values (spec: _mathspec LN_F64)."""
    bits = np.ascontiguousarray(x, dtype=F64).view(np.uint64)
    e = (bits >> np.uint64(52)).astype(np.int64) - np.int64(1023)
    mbits = (bits & np.uint64(0xFFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000)
    big = mbits > np.uint64(0x3FF6A09E667F3BCD)
    mbits = np.where(big, mbits - np.uint64(0x0010000000000000), mbits)
    e = e + big.astype(np.int64)
    m = mbits.view(F64)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    r = z * _horner(_LN_F64, z)
    ef = e.astype(F64)
    return ef * _LN2_HI_F64 + (f - (s * (f - r) - ef * _LN2_LO_F64))


# ------------------------------------------------------------------------- sin/cos


def _quadrant_fold(k, frac_bits: int, itype):
    """Split a fixed-point turn k (frac_bits + 2 bits) into quadrant q and signed r."""
    q = (k >> (frac_bits)).astype(np.int64)
    r = (k & ((1 << frac_bits) - 1)).astype(np.int64)
    upper = r >= (1 << (frac_bits - 1))
    r = np.where(upper, r - (1 << frac_bits), r)
    q = (q + upper) & 3
    return q, r


def _place_quadrant(q, c, s):
    """cos and sin of (q quarter turns + angle) from cos c and sin s of the angle."""
    cos_out = np.select([q == 0, q == 1, q == 2], [c, -s, -c], s)
    sin_out = np.select([q == 0, q == 1, q == 2], [s, c, -s], -c)
    return cos_out, sin_out


def sincos_turn_f32(k24: np.ndarray):
    """(cos, sin) of 2*pi*k/2^24 for integers 0 <= k < 2^24, in float32."""
    q, r = _quadrant_fold(k24.astype(np.uint32), 22, np.int32)
    f = r.astype(F32) * F32(2.0**-22)
    t = f * f
    s = f * _horner(_SIN_F32, t)
    c = F32(1.0) + t * _horner(_COS_F32, t)
    return _place_quadrant(q, c, s)


def sincos_turn_f64(k53: np.ndarray):
    """(cos, sin) of 2*pi*k/2^53 for integers 0 <= k < 2^53, in float64."""
    q, r = _quadrant_fold(k53.astype(np.uint64), 51, np.int64)
    f = r.astype(F64) * F64(2.0**-51)
    t = f * f
    s = f * _horner(_SIN_F64, t)
    c = 1.0 + t * _horner(_COS_F64, t)
    return _place_quadrant(q, c, s)


# ------------------------------------------------------------- Phi^-1 (float64 arrays)


def norm_ppf(p: np.ndarray) -> np.ndarray:
    """Standard normal quantile of float64 p in (0, 1) (AS241 PPND16, own ln)."""
    p = np.asarray(p, dtype=F64)
    out = np.empty_like(p)
    q = p - 0.5
    central = np.abs(q) <= spec.scalar("PPF_SPLIT1")
    if central.any():
        qc = q[central]
        r = spec.scalar("PPF_CONST1") - qc * qc
        out[central] = qc * _horner(_PPF["A"], r) / _horner(_PPF["B"], r)
    tail = ~central
    if tail.any():
        pt = p[tail]
        lower = q[tail] < 0.0
        t = np.where(lower, pt, 1.0 - pt)
        t = np.maximum(t, spec.scalar("PPF_QMIN"))
        r = np.sqrt(-log_f64(t))
        near = r <= spec.scalar("PPF_SPLIT2")
        z = np.empty_like(r)
        rn = r[near] - spec.scalar("PPF_CONST2")
        z[near] = _horner(_PPF["C"], rn) / _horner(_PPF["D"], rn)
        rf = r[~near] - spec.scalar("PPF_SPLIT2")
        z[~near] = _horner(_PPF["E"], rf) / _horner(_PPF["F"], rf)
        out[tail] = np.where(lower, -z, z)
    return out


# ------------------------------------------- Phi^-1 in float32 (contract v2, truncated normal)


def _estrin9(c, x):
    """c[0] + c[1] x + ... + c[8] x^8 by Estrin's scheme, in the order _mathspec gives."""
    x2 = x * x
    x4 = x2 * x2
    a0, a1, a2, a3 = (c[2 * j] + c[2 * j + 1] * x for j in range(4))
    b0 = a0 + a1 * x2
    b1 = a2 + a3 * x2
    return (b0 + b1 * x4) + c[8] * (x4 * x4)


def norm_ppf_f32(p2: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Phi^-1(p) in float32 from p2 = 2p and q2 = 2(1 - p), both given with full relative
    precision (spec: _mathspec PPF32_*): d = p2 - q2, w = -ln(p2 q2), z = d * poly."""
    p2 = np.asarray(p2, dtype=F32)
    q2 = np.asarray(q2, dtype=F32)
    d = p2 - q2
    w = -log_f32(p2 * q2)
    z = d * _estrin9(_PPF32["C"], w - _PPF32_AT["C_CENTER"])
    tail = w >= _PPF32_AT["SPLIT"]
    if tail.any():
        s = np.sqrt(w[tail])
        near = s < _PPF32_AT["TAIL_SPLIT"]
        t1 = _horner(_PPF32["T1"], s - _PPF32_AT["T1_CENTER"])
        t2 = _horner(_PPF32["T2"], s - _PPF32_AT["T2_CENTER"])
        z[tail] = d[tail] * np.where(near, t1, t2)
    return z


# ----------------------------------------------------- scalar float64: exp and Phi

_EXP = spec.floats("EXP_F64")
_INV_LN2 = spec.scalar("INV_LN2_F64")
_INV_SQRT_2PI = spec.scalar("INV_SQRT_2PI_F64")
_LN2_HI = spec.scalar("LN2_HI_F64")
_LN2_LO = spec.scalar("LN2_LO_F64")


def exp_scalar(x: float) -> float:
    """exp(x) for x <= 0 (spec: EXP_F64); exact power-of-two scaling by ldexp; +0 below -746
    (as fi_exp_f64: the true value is under half the smallest subnormal there)."""
    if not x >= -746.0:
        return 0.0
    k = -int(-x * _INV_LN2 + 0.5)  # nearest integer (x <= 0), truncation as C's (int64_t)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    acc = _EXP[-1]
    for c in reversed(_EXP[:-1]):
        acc = acc * r + c
    return math.ldexp(acc, k)


def upper_tail(t: float) -> float:
    """Q(t) = 1 - Phi(t) for t >= 0 (spec: PHI_*)."""
    if t == math.inf:
        return 0.0
    pdf = exp_scalar(-(t * t) * 0.5) * _INV_SQRT_2PI
    if t < spec.scalar("PHI_SPLIT"):
        term = t
        total = t
        tt = t * t
        for n in range(1, spec.PHI_SERIES_TERMS):
            term = term * tt / (2 * n + 1)
            total = total + term
        return 0.5 - pdf * total
    k = t
    for n in range(spec.PHI_CF_DEPTH, 0, -1):
        k = t + n / k
    return pdf / k


def norm_cdf(x: float) -> float:
    """Phi(x) in float64 (own implementation, identical to fi_norm_cdf in C)."""
    if x < 0.0:
        return upper_tail(-x)
    return 1.0 - upper_tail(x)


# ------------------------------------------------- float32 -> bfloat16 / float16 bits


def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """Round float32 to bfloat16 (nearest even), as uint16 bit patterns."""
    b = np.ascontiguousarray(x, dtype=F32).view(np.uint32)
    rounded = (b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    nan = (b & np.uint32(0x7FFFFFFF)) > np.uint32(0x7F800000)
    quiet = (b >> np.uint32(16)) | np.uint32(0x0040)
    return np.where(nan, quiet, rounded).astype(np.uint16)


def f32_to_f16_bits(x: np.ndarray) -> np.ndarray:
    """Round float32 to IEEE binary16 (nearest even, subnormals included), as uint16 bits."""
    b = np.ascontiguousarray(x, dtype=F32).view(np.uint32)
    sign = (b >> np.uint32(16)) & np.uint32(0x8000)
    a = b & np.uint32(0x7FFFFFFF)
    # normal half: rebias the exponent 127 -> 15 and round off 13 mantissa bits
    r = a - np.uint32(0x38000000)
    normal = (r + np.uint32(0xFFF) + ((r >> np.uint32(13)) & np.uint32(1))) >> np.uint32(13)
    # subnormal half: m >> (126 - e), rounded to nearest even
    e = (a >> np.uint32(23)).astype(np.int64)
    m = ((a & np.uint32(0x7FFFFF)) | np.uint32(0x800000)).astype(np.int64)
    shift = np.clip(126 - e, 1, 31)
    q = m >> shift
    rem = m & ((np.int64(1) << shift) - 1)
    half = np.int64(1) << (shift - 1)
    q = q + ((rem > half) | ((rem == half) & ((q & 1) == 1)))
    out = np.where(a >= np.uint32(0x38800000), normal, q.astype(np.uint32))
    out = np.where(a <= np.uint32(0x33000000), np.uint32(0), out)
    out = np.where(a >= np.uint32(0x477FF000), np.uint32(0x7C00), out)
    out = np.where(a > np.uint32(0x7F800000), np.uint32(0x7E00), out)
    return (out | sign).astype(np.uint16)
