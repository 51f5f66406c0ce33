"""Prepared calls: the one place a fill's parameters are checked and resolved, and the two
ways to run one (on a buffer, or on raw memory for adapters).

A fill is (distribution, dtype code, parameters) resolved once, then (memory, count, seed,
stream, offset). ``resolve(dist, dtype, *params)`` checks the parameters against the dtype and
returns a *resolved call*, a plain tuple ``(dist, dtype, p0, p1, p2, p3)``; it raises the
user-facing TypeError/ValueError and writes nothing. ``fill`` runs it on a buffer,
``fill_raw`` on ``count`` elements at a memory address (fastinit.torch passes
``tensor.data_ptr()``: no NumPy view is built), both on the active backend. In the C backend
the tuple becomes an ``fi_prepared`` struct (csrc/fi_internal.h) that ``fi_prepare`` checks
once for the whole range and the chunks are written from without another check
(docs/architecture.md).

Fan-based initializers resolve their shape, fans, gain and bound into the same tuple,
remembered by their arguments (``resolve_variance_scaling``, ``resolve_kaiming``,
``resolve_glorot``): a model initializes a few shapes many times, and resolving costs more
than filling a small tensor.

>>> import numpy as np
>>> from fastinit import _call, _contract
>>> r = _call.resolve(_contract.UNIFORM, _contract.FLOAT32, -1.0, 1.0)
>>> w = np.empty(4, np.float32)
>>> _call.fill(w, r, 0, 0, 0)
>>> bool((abs(w) < 1).all())
True
"""
from __future__ import annotations

import math
from typing import Any, Sequence, Tuple

from . import _backend, _numpy
from ._contract import BITS, CONSTANT, ITEMSIZE, NORMAL, TRUNC_NORMAL, UNIFORM
from ._fans import MODES, calculate_gain, fan_for_mode, fans
from ._generator import check_u64
from ._params import (
    BITS_DTYPES,
    DTYPE_NAMES,
    FLOAT_DTYPES,
    check_std,
    check_trunc_normal,
    check_uniform,
    finite,
    real,
)

# (dist, dtype, p0, p1, p2, p3): the parameters in fi_prepare's order, unused ones 0.0
Resolved = Tuple[int, int, float, float, float, float]

# Keras/JAX: the std of a normal truncated at +-2 std is 0.87962566103423978 times the
# untruncated std, so truncated variance scaling divides by it to keep the target variance.
TRUNCATED_NORMAL_STD_FACTOR = 0.87962566103423978
DISTRIBUTIONS = ("truncated_normal", "normal", "untruncated_normal", "uniform")

_U64 = 1 << 64


def _check_dtype(dtype: Any, allowed: tuple[int, ...], what: str) -> int:
    if type(dtype) is not int or dtype not in allowed:
        names = ", ".join(DTYPE_NAMES[c] for c in allowed)
        raise TypeError(f"{what} fills dtype codes of {names}, got {dtype!r}")
    return dtype


def resolve_uniform(dtype: int, low: Any, high: Any) -> Resolved:
    """Uniform on [low, high): finite bounds of the dtype, low <= high, a span that does not
    overflow the dtype's arithmetic."""
    if dtype not in FLOAT_DTYPES:
        _check_dtype(dtype, FLOAT_DTYPES, "uniform")
    low, high = check_uniform(dtype, low, high)
    return (UNIFORM, dtype, low, high, 0.0, 0.0)


def resolve_normal(dtype: int, mean: Any, std: Any) -> Resolved:
    """Normal(mean, std^2): finite mean of the dtype, finite std >= 0."""
    if dtype not in FLOAT_DTYPES:
        _check_dtype(dtype, FLOAT_DTYPES, "normal")
    return (NORMAL, dtype, finite("mean", mean, dtype), check_std(std, dtype), 0.0, 0.0)


def resolve_trunc_normal(dtype: int, mean: Any, std: Any, a: Any, b: Any) -> Resolved:
    """Normal(mean, std^2) truncated to [a, b] (absolute bounds, either may be infinite)."""
    if dtype not in FLOAT_DTYPES:
        _check_dtype(dtype, FLOAT_DTYPES, "trunc_normal")
    return (TRUNC_NORMAL, dtype, *check_trunc_normal(dtype, mean, std, a, b))


def resolve_constant(dtype: int, value: Any) -> Resolved:
    """Every element ``value`` (any float, inf and nan included, as torch's constant_)."""
    if dtype not in FLOAT_DTYPES:
        _check_dtype(dtype, FLOAT_DTYPES, "constant")
    return (CONSTANT, dtype, real("value", value), 0.0, 0.0, 0.0)


def resolve_bits(dtype: int) -> Resolved:
    """The raw generator words (uint32 or uint64)."""
    if dtype not in BITS_DTYPES:
        _check_dtype(dtype, BITS_DTYPES, "random_bits")
    return (BITS, dtype, 0.0, 0.0, 0.0, 0.0)


_RESOLVERS = {BITS: resolve_bits, UNIFORM: resolve_uniform, NORMAL: resolve_normal,
              TRUNC_NORMAL: resolve_trunc_normal, CONSTANT: resolve_constant}


def resolve(dist: int, dtype: int, *params: Any) -> Resolved:
    """A resolved call of distribution code ``dist`` (fastinit._contract: BITS, UNIFORM,
    NORMAL, TRUNC_NORMAL, CONSTANT) for dtype code ``dtype``, with the distribution's
    parameters (uniform: low, high; normal: mean, std; trunc_normal: mean, std, a, b;
    constant: value; bits: none). Raises TypeError/ValueError naming the bad argument."""
    try:
        resolver = _RESOLVERS[dist]
    except (KeyError, TypeError):
        raise ValueError(f"unknown distribution code {dist!r}") from None
    return resolver(dtype, *params)


# ----------------------------------------------------------------- running a call


def _numpy_fill(out: Any, r: Resolved, seed: int, stream: int, offset: int) -> None:
    dist, dtype = r[0], r[1]
    if dist == UNIFORM:
        _numpy.fill_uniform(out, dtype, seed, stream, offset, r[2], r[3])
    elif dist == NORMAL:
        _numpy.fill_normal(out, dtype, seed, stream, offset, r[2], r[3])
    elif dist == TRUNC_NORMAL:
        _numpy.fill_trunc_normal(out, dtype, seed, stream, offset, r[2], r[3], r[4], r[5])
    elif dist == CONSTANT:
        _numpy.fill_constant(out, dtype, r[2])
    else:
        _numpy.fill_bits(out, dtype, seed, stream, offset)


def fill(out: Any, resolved: Resolved, seed: int, stream: int, offset: int) -> None:
    """Run a resolved call on ``out``, a writable C-contiguous NumPy array of the call's dtype
    (uint16 storage for bfloat16/float16), on the active backend. seed, stream and offset are
    ints in [0, 2^64) with offset + out.size <= 2^64 (fastinit._api checks them)."""
    backend = _backend._active
    if backend is _numpy:
        _numpy_fill(out, resolved, seed, stream, offset)
    else:
        backend.fill(out, resolved, seed, stream, offset)


def fill_raw(address: int, count: int, dtype: int, seed: int, stream: int, offset: int,
             resolved: Resolved) -> None:
    """Fill ``count`` elements of dtype code ``dtype`` at memory ``address`` with a resolved
    call: element i gets stream index offset + i of (seed, stream).

    For adapters that hold raw memory (fastinit.torch: ``tensor.data_ptr()``,
    ``tensor.numel()``): no buffer object is built on the C backend. Every argument is checked
    before anything is written (TypeError/ValueError for a seed, stream, offset, count or
    address outside [0, 2^64), offset + count beyond 2^64, a dtype other than the resolved
    one); the memory must be valid and writable for ``count`` elements, which is the caller's
    promise. ``resolved`` comes from ``resolve`` or one of the ``resolve_*`` functions.
    """
    backend = _backend._active
    if backend is not _numpy:
        backend.fill_raw(address, count, dtype, seed, stream, offset, resolved)
        return
    if type(resolved) is not tuple or len(resolved) != 6:
        raise TypeError("resolved must be a tuple made by fastinit._call.resolve")
    if dtype != resolved[1]:
        raise ValueError(f"the call was resolved for dtype code {resolved[1]}, not {dtype}")
    count, address = check_u64("count", count), check_u64("address", address)
    seed, stream, offset = check_u64("seed", seed), check_u64("stream", stream), check_u64("offset", offset)
    if count and offset > _U64 - count:
        raise ValueError(f"offset={offset} + {count} elements overflows the element index (must be <= 2**64)")
    if count == 0:
        return
    if address == 0:
        raise ValueError("address is NULL")
    import ctypes

    import numpy as np

    storage = {1: np.float64, 4: np.uint32, 5: np.uint64}.get(dtype, np.float32 if dtype == 0 else np.uint16)
    nbytes = count * ITEMSIZE[dtype]
    out = np.frombuffer((ctypes.c_uint8 * nbytes).from_address(address), dtype=storage)
    _numpy_fill(out, resolved, seed, stream, offset)


# ------------------------------------------------ fans, gains and bounds, remembered


def _resolve_fans(
    shape: tuple[int, ...], fan_in: int | None, fan_out: int | None, layout: str, in_axis: int | None,
    out_axis: int | None, batch_axis: int | Sequence[int],
) -> tuple[int, int]:
    """(fan_in, fan_out): the overrides where given, else from the shape."""
    overrides = {}
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if value is not None:
            v = check_u64(name, value)
            if v == 0:
                raise ValueError(f"{name}=0: a fan must be positive")
            overrides[name] = v
    if len(overrides) == 2:
        return overrides["fan_in"], overrides["fan_out"]
    shape_fans = fans(shape, layout, in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
    return overrides.get("fan_in", shape_fans[0]), overrides.get("fan_out", shape_fans[1])


def _variance_scaling(
    shape: tuple[int, ...], dtype: int, scale: Any, mode: str, distribution: str, fan_in: int | None,
    fan_out: int | None, layout: str, in_axis: int | None, out_axis: int | None, batch_axis: int | Sequence[int],
) -> Resolved:
    scale = finite("scale", scale)
    if scale < 0:
        raise ValueError(f"scale={scale!r} must be >= 0")
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, MODES))}")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"distribution={distribution!r} is not one of {', '.join(map(repr, DISTRIBUTIONS))}"
        )
    if dtype not in FLOAT_DTYPES:
        _check_dtype(dtype, FLOAT_DTYPES, "variance_scaling")
    fi, fo = _resolve_fans(shape, fan_in, fan_out, layout, in_axis, out_axis, batch_axis)
    if math.prod(shape) == 0:
        return resolve_constant(dtype, 0.0)
    fan = fan_for_mode(fi, fo, mode)
    if fan <= 0:
        raise ValueError(f"{mode} is 0 for fans ({fi}, {fo}): cannot scale the variance by it")
    variance = scale / fan
    if variance == 0.0:
        return resolve_constant(dtype, 0.0)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)
        return resolve_uniform(dtype, -limit, limit)
    if distribution == "truncated_normal":
        std = math.sqrt(variance) / TRUNCATED_NORMAL_STD_FACTOR
        return resolve_trunc_normal(dtype, 0.0, std, -2.0 * std, 2.0 * std)
    return resolve_normal(dtype, 0.0, math.sqrt(variance))


# Resolved variance_scaling calls by their arguments, with the types of the numeric ones in
# the key (True == 1 but is refused). Only calls with the default axes are remembered. The
# sign of a zero scale changes no resolved value, so a -0.0 == 0.0 key is exact.
_PLANS: dict[tuple, Resolved] = {}
_PLAIN = (float, int, type(None))


def resolve_variance_scaling(
    shape: tuple[int, ...], dtype: int, scale: Any = 1.0, mode: str = "fan_in",
    distribution: str = "truncated_normal", fan_in: int | None = None, fan_out: int | None = None,
    layout: str = "torch", in_axis: int | None = None, out_axis: int | None = None,
    batch_axis: int | Sequence[int] = (),
) -> Resolved:
    """The resolved call of ``fastinit.variance_scaling_`` on a buffer of this shape (a tuple
    of ints: ``ndarray.shape``, ``torch.Size``) and dtype code; a zero-element shape or a zero
    scale gives a constant 0 fill. Remembered by arguments."""
    key = None
    if in_axis is None and out_axis is None and type(batch_axis) is tuple and not batch_axis:
        key = (shape, dtype, type(scale), scale, mode, distribution, layout, type(fan_in), fan_in,
               type(fan_out), fan_out)
        try:
            return _PLANS[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable argument: resolved (and refused) below, never cached
            key = None
    r = _variance_scaling(shape, dtype, scale, mode, distribution, fan_in, fan_out, layout, in_axis, out_axis,
                          batch_axis)
    if key is not None and type(scale) in _PLAIN and type(fan_in) in _PLAIN and type(fan_out) in _PLAIN:
        if len(_PLANS) >= 4096:
            _PLANS.clear()
        _PLANS[key] = r
    return r


_GAINS: dict[tuple, float] = {}


def gain_squared(nonlinearity: Any, param: Any) -> float:
    """calculate_gain(nonlinearity, param) ** 2, remembered for plain arguments."""
    key = (nonlinearity, type(param), param)
    try:
        return _GAINS[key]
    except (KeyError, TypeError):
        gain = calculate_gain(nonlinearity, param)
        if type(nonlinearity) is str and type(param) in (int, float, type(None)) and len(_GAINS) < 256:
            _GAINS[key] = gain * gain
        return gain * gain


def resolve_kaiming(
    shape: tuple[int, ...], dtype: int, a: Any = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    distribution: str = "uniform", layout: str = "torch",
) -> Resolved:
    """The resolved call of ``fastinit.kaiming_uniform_`` (distribution "uniform") or
    ``kaiming_normal_`` ("normal"): variance gain(nonlinearity, a)^2 / fan_mode."""
    return resolve_variance_scaling(shape, dtype, gain_squared(nonlinearity, a), mode, distribution, layout=layout)


def resolve_glorot(
    shape: tuple[int, ...], dtype: int, gain: Any = 1.0, distribution: str = "uniform", layout: str = "torch",
) -> Resolved:
    """The resolved call of ``fastinit.glorot_uniform_`` ("uniform") or ``glorot_normal_``
    ("normal"): variance gain^2 * 2 / (fan_in + fan_out)."""
    from ._params import squared

    return resolve_variance_scaling(shape, dtype, squared("gain", gain), "fan_avg", distribution, layout=layout)
