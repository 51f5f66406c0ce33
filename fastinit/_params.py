"""Checks of the distribution parameters and their per-call resolution, the one place both
backends take them from (the C entry points check again, as a second line of defence, and
compute the same resolution in C; docs/architecture.md).

The dtype codes and sizes come from fastinit._contract (generated into csrc/fi_contract.h).
"""
from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np

from . import _mathspec as spec
from ._contract import (  # noqa: F401 - re-exported: the modules that need a code import it from here
    BFLOAT16,
    BITS_DTYPES,
    DTYPE_NAMES,
    FLOAT16,
    FLOAT32,
    FLOAT64,
    FLOAT_DTYPES,
    ITEMSIZE,
    UINT32,
    UINT64,
)
from ._npmath import norm_cdf

# largest finite value of each float dtype
FINITE_MAX = {
    FLOAT32: float.fromhex("0x1.fffffep127"),
    FLOAT64: float.fromhex("0x1.fffffffffffffp1023"),
    BFLOAT16: float.fromhex("0x1.fep127"),
    FLOAT16: 65504.0,
}

TRUNC_MIN_MASS = spec.scalar("TRUNC_MIN_MASS")


def real(name: str, value: Any) -> float:
    """value as a float (int, float, or any numbers.Real but bool), else TypeError naming it."""
    kind = type(value)
    if kind is float:  # the common case, without the ABC check
        return value
    if kind is not int and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:  # an int or Fraction beyond float64 (found by tools/fuzz_api.py)
        raise ValueError(f"{name} is too large for a float64 (a {type(value).__name__} beyond 1.8e308)") from None


def finite(name: str, value: Any, code: int = FLOAT64) -> float:
    """A finite real number, representable as a finite value of dtype ``code``."""
    v = real(name, value)
    limit = FINITE_MAX[code]
    if not -limit <= v <= limit:  # false for nan and inf too
        if not math.isfinite(v):
            raise ValueError(f"{name}={v!r} must be finite")
        raise ValueError(f"{name}={v!r} is outside the finite range of {DTYPE_NAMES[code]}")
    return v


def squared(name: str, value: Any) -> float:
    """value**2 of a finite real number, or ValueError if the square overflows float64."""
    v = finite(name, value)
    square = v * v
    if math.isinf(square):
        raise ValueError(f"{name}={v!r} is too large: its square overflows float64")
    return square


def check_std(value: Any, code: int) -> float:
    std = finite("std", value)
    if std < 0:
        raise ValueError(f"std={std!r} must be >= 0")
    if code != FLOAT64 and std > FINITE_MAX[FLOAT32]:
        raise ValueError(f"std={std!r} overflows float32 arithmetic")
    return std


# float32 subtraction overflows to inf from 2^128 - 2^103 on (the tie rounds to even, 2^128)
_F32_OVERFLOW = 2.0**128 - 2.0**103
_F32_SAFE = 2.0**126  # bounds within +-2^126: their float32 difference cannot overflow


def check_uniform(code: int, low: Any, high: Any) -> tuple[float, float]:
    low, high = finite("low", low, code), finite("high", high, code)
    if low > high:
        raise ValueError(f"low={low!r} must be <= high={high!r}")
    if -_F32_SAFE <= low and high <= _F32_SAFE:  # every dtype: the span fits its arithmetic
        return low, high
    if code == FLOAT64:
        span = high - low  # python floats are float64: overflows to inf exactly as C does
        overflow = not math.isfinite(span)
    else:
        import numpy as np

        span = float(np.float32(high)) - float(np.float32(low))  # exact in float64
        overflow = span >= _F32_OVERFLOW
    if overflow:
        raise ValueError(f"high - low = {high!r} - {low!r} overflows {DTYPE_NAMES[code]} arithmetic")
    return low, high


def check_trunc_normal(code: int, mean: Any, std: Any, a: Any, b: Any) -> tuple[float, float, float, float]:
    mean, std = finite("mean", mean, code), check_std(std, code)
    a, b = real("a", a), real("b", b)
    if math.isnan(a) or math.isnan(b):
        raise ValueError(f"a={a!r} and b={b!r} must not be NaN")
    if not a < b:
        raise ValueError(f"a={a!r} must be < b={b!r}")
    trunc_normal_params(mean, std, a, b)  # raises for a negligible interval mass
    return mean, std, a, b


@functools.lru_cache(maxsize=4096)
def trunc_normal_params(mean: float, std: float, a: float, b: float) -> tuple[float, float, float]:
    """(Phi(alpha), Phi(beta) - Phi(alpha), sign) as the kernels use them, or ValueError.

    alpha = (a - mean) / std, beta = (b - mean) / std. An interval above the mean
    (alpha > 0) is mirrored below it (sign = -1) so that Phi is evaluated in the lower tail,
    where it keeps full relative precision. Cached: model initialization repeats the same
    few parameter sets, and Phi in pure Python costs tens of microseconds. (The sign of a zero
    argument changes none of the three results, so the cache, which cannot tell -0.0 from
    0.0, is exact.)
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
