"""Dtype codes shared with csrc/fastinit.h and the per-call parameter resolution that both
backends must compute identically (the C entry points do the same in C)."""
from __future__ import annotations

import functools
import math

import numpy as np

from . import _mathspec as spec
from ._npmath import norm_cdf

# must match enum fi_dtype in csrc/fastinit.h
FLOAT32, FLOAT64, BFLOAT16, FLOAT16, UINT32, UINT64 = range(6)
DTYPE_NAMES = {
    FLOAT32: "float32",
    FLOAT64: "float64",
    BFLOAT16: "bfloat16",
    FLOAT16: "float16",
    UINT32: "uint32",
    UINT64: "uint64",
}
FLOAT_DTYPES = (FLOAT32, FLOAT64, BFLOAT16, FLOAT16)
BITS_DTYPES = (UINT32, UINT64)
# largest finite value of each float dtype
FINITE_MAX = {
    FLOAT32: float.fromhex("0x1.fffffep127"),
    FLOAT64: float.fromhex("0x1.fffffffffffffp1023"),
    BFLOAT16: float.fromhex("0x1.fep127"),
    FLOAT16: 65504.0,
}
ITEMSIZE = {FLOAT32: 4, FLOAT64: 8, BFLOAT16: 2, FLOAT16: 2, UINT32: 4, UINT64: 8}

TRUNC_MIN_MASS = spec.scalar("TRUNC_MIN_MASS")


@functools.lru_cache(maxsize=4096)
def trunc_normal_params(mean: float, std: float, a: float, b: float) -> tuple[float, float, float]:
    """(Phi(alpha), Phi(beta) - Phi(alpha), sign) as the kernels use them, or ValueError.

    alpha = (a - mean) / std, beta = (b - mean) / std. An interval above the mean
    (alpha > 0) is mirrored below it (sign = -1) so that Phi is evaluated in the lower tail,
    where it keeps full relative precision. Cached: model initialization repeats the same
    few parameter sets, and Phi in pure Python costs tens of microseconds.
    """
    if std == 0.0:
        if not (a <= mean <= b):
            raise ValueError(
                f"trunc_normal: std=0 puts all mass at mean={mean!r}, outside [a, b] = [{a!r}, {b!r}]"
            )
        alpha, beta = -math.inf, math.inf
    else:
        alpha, beta = (a - mean) / std, (b - mean) / std
    sign = 1.0
    if alpha > 0.0:
        alpha, beta, sign = -beta, -alpha, -1.0
    pa = norm_cdf(alpha)
    mass = norm_cdf(beta) - pa
    if not mass >= TRUNC_MIN_MASS:
        raise ValueError(
            f"trunc_normal: the interval [a, b] = [{a!r}, {b!r}] has negligible probability mass "
            f"({mass:.3g} < 2^-960) under N(mean={mean!r}, std={std!r}^2)"
        )
    return pa, mass, sign


# Contract v2: how a truncated normal of 32- and 16-bit outputs is evaluated (docs/stream-contract.md)
TN_F64, TN_NORMAL, TN_F32 = 0, 1, 2  # must match FI_TN_* in csrc/fi_internal.h
_F32_MAX = float.fromhex("0x1.fffffep127")


def _f32_at_least(x: float) -> np.float32:
    """The smallest float32 >= x (-inf for -inf)."""
    if x == -math.inf:
        return np.float32(-np.inf)
    if x < -_F32_MAX:
        return np.float32(-_F32_MAX)
    if x > _F32_MAX:
        return np.float32(np.inf)
    f = np.float32(x)
    return np.nextafter(f, np.float32(np.inf)) if float(f) < x else f


def _f32_at_most(x: float) -> np.float32:
    """The largest float32 <= x (+inf for +inf)."""
    return -_f32_at_least(-x)


@functools.lru_cache(maxsize=4096)
def trunc_normal_params32(mean: float, std: float, a: float, b: float) -> tuple:
    """(mode, P2A, M2, Q2B, signed std, a32, b32) of a 32- or 16-bit truncated normal (v2).

    mode TN_NORMAL: both bounds beyond NORMAL_F32_REACH std (farther than any value of the
    float32 normal generator): normal_(mean, std)'s elements, clamped into [a32, b32];
    TN_F32: the float32 inverse CDF with P2A = 2 Phi(alpha), M2 = 2 mass, Q2B = 2 Phi(-beta)
    (mirrored frame) rounded to float32; TN_F64: v1's float64 evaluation. a32 is the smallest
    float32 >= a, b32 the largest <= b. Raises ValueError as trunc_normal_params does.
    """
    pa, mass, sign = trunc_normal_params(mean, std, a, b)
    if std == 0.0:
        alpha, beta = -math.inf, math.inf
    else:
        alpha, beta = (a - mean) / std, (b - mean) / std
        if sign < 0:
            alpha, beta = -beta, -alpha
    qb = norm_cdf(-beta)
    reach = spec.scalar("NORMAL_F32_REACH")
    if alpha <= -reach and beta >= reach:
        mode = TN_NORMAL
    elif mass >= spec.scalar("TRUNC_F32_MIN_MASS") and mass >= spec.scalar("TRUNC_F32_MIN_REL") * min(pa, qb):
        mode = TN_F32
    else:
        mode = TN_F64
    f32 = np.float32
    return (mode, f32(2.0 * pa), f32(2.0 * mass), f32(2.0 * qb), f32(sign) * f32(std),
            _f32_at_least(a), _f32_at_most(b))
