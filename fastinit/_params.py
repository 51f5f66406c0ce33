"""Dtype codes shared with csrc/fastinit.h and the per-call parameter resolution that both
backends must compute identically (the C entry points do the same in C)."""
from __future__ import annotations

import functools
import math

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
