"""fastinit's public initializers.

Every in-place fill (name ending in ``_``) checks all of its arguments before a single element
is written, resolves fans and gains once, and hands the buffer to one backend entry point per
distribution (C, or the bit-identical NumPy backend). The variance-scaling initializers are
one general function, ``variance_scaling_``, and one-line specialisations of it (JAX's
``jax.nn.initializers`` design).
"""
from __future__ import annotations

import functools
import numbers
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypedDict

import numpy as np

from . import _backend, _call
from ._call import DISTRIBUTIONS, TRUNCATED_NORMAL_STD_FACTOR  # noqa: F401 - public constants
from ._contract import NORMAL, TRUNC_NORMAL, UNIFORM
from ._generator import Generator, check_u64, default_generator, resolve
from ._params import (
    BFLOAT16,
    BITS_DTYPES,
    DTYPE_NAMES,
    FLOAT16,
    FLOAT32,
    FLOAT64,
    FLOAT_DTYPES,
    UINT32,
    UINT64,
    real,
    squared,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


class FillOptions(TypedDict, total=False):
    """Keyword-only options every random fill accepts."""

    seed: int | None
    stream: int | None
    offset: int
    generator: Generator | None


class FanOptions(FillOptions, total=False):
    """Options of the fan-based (variance-scaling) initializers."""

    fan_in: int | None
    fan_out: int | None
    layout: str
    in_axis: int | None
    out_axis: int | None
    batch_axis: int | Sequence[int]


# ------------------------------------------------------------------------------ buffers


class _Target:
    """The caller's buffer as a C-contiguous ndarray view, with its fi_dtype code."""

    __slots__ = ("arr", "code", "size")

    def __init__(self, arr: np.ndarray, code: int):
        self.arr = arr
        self.code = code
        self.size = arr.size

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.arr.shape)

    def raw(self) -> np.ndarray:
        """What the backends write: the array itself, or its uint16 bits for 16-bit floats."""
        return self.arr.view(np.uint16) if self.code in (BFLOAT16, FLOAT16) else self.arr


class RawBuffer:
    """A writable C-contiguous ndarray of a 16-bit float's storage (uint16) together with the
    dtype it holds, for callers that have no NumPy dtype for it (fastinit.torch's bfloat16
    tensors without ml_dtypes). Internal."""

    __slots__ = ("arr", "code")

    def __init__(self, arr: np.ndarray, code: int):
        self.arr = arr
        self.code = code


# native-order dtypes; bfloat16 (ml_dtypes) is recognised by name, without importing it
_CODES = {
    np.dtype(np.float32): FLOAT32,
    np.dtype(np.float64): FLOAT64,
    np.dtype(np.float16): FLOAT16,
    np.dtype(np.uint32): UINT32,
    np.dtype(np.uint64): UINT64,
}
_NON_NATIVE = ">" if np.little_endian else "<"

# The C backend's fast path for the common call (fastinit._core.try_fill): an ndarray of one
# of the dtypes above, plain float/int parameters and seed. It returns False, having written
# nothing, for anything else; the general path below then runs.
try:
    from . import _core  # type: ignore[attr-defined]
except ImportError:  # the pure-NumPy install
    _try_fill = _try_fill2 = _try_fill_resolved = None
else:
    _core.set_fast_path(_CODES, np.ndarray, _backend, default_generator)
    _try_fill, _try_fill2, _try_fill_resolved = _core.try_fill, _core.try_fill2, _core.try_fill_resolved


def _dtype_code(dtype: np.dtype) -> int | None:
    code = _CODES.get(dtype)
    if code is not None or dtype.byteorder == _NON_NATIVE:
        return code
    return BFLOAT16 if dtype.name == "bfloat16" else None


def _target(buf: Any, allowed: tuple[int, ...]) -> _Target:
    """Check that buf is writable, C-contiguous and of an allowed dtype."""
    if type(buf) is RawBuffer:
        if buf.code not in allowed or not buf.arr.flags.writeable or not buf.arr.flags.c_contiguous:
            raise ValueError("internal: RawBuffer of the wrong dtype, read-only or not contiguous")
        return _Target(buf.arr, buf.code)
    if isinstance(buf, np.ndarray):
        arr = buf
    else:
        try:
            arr = np.asarray(memoryview(buf))
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"buf must be a NumPy array or support the buffer protocol, got "
                f"{type(buf).__name__} ({exc})"
            ) from None
    code = _dtype_code(arr.dtype)
    if code not in allowed:
        names = ", ".join(DTYPE_NAMES[c] for c in allowed)
        order = " in native byte order" if arr.dtype.byteorder in "<>" else ""
        raise TypeError(f"buf has dtype {arr.dtype}; expected one of {names}{order}")
    flags = arr.flags
    if not flags.writeable:
        raise ValueError("buf is read-only; fastinit fills buffers in place")
    if not flags.c_contiguous:
        raise ValueError(
            f"buf must be C-contiguous (got strides {arr.strides} for shape {arr.shape}); "
            "fill a contiguous array and copy it, or pass np.ascontiguousarray(...)"
        )
    return _Target(arr, code)  # type: ignore[arg-type]


_U64 = 1 << 64


def _stream_of(
    t: _Target, seed: int | None, stream: int | None, offset: int, generator: Generator | None
) -> tuple[int, int, int]:
    """(seed, stream, offset) for this fill; run after every other check (takes a stream)."""
    if type(offset) is not int or not 0 <= offset < _U64:
        offset = check_u64("offset", offset)
    if offset + t.size > _U64:
        raise ValueError(
            f"offset={offset} + {t.size} elements overflows the element index (must be <= 2**64)"
        )
    if type(seed) is int and stream is None and generator is None and 0 <= seed < _U64:
        return seed, 0, offset  # the common explicit-seed case
    seed_, stream_ = resolve(seed, stream, generator)
    return seed_, stream_, offset


def _run(t: _Target, r: _call.Resolved, s: tuple[int, int, int]) -> None:
    if t.size:
        _call.fill(t.raw(), r, *s)


# -------------------------------------------------------------------------- basic fills


def uniform_(
    buf: Any,
    low: float = 0.0,
    high: float = 1.0,
    *,
    seed: int | None = None,
    stream: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
) -> Any:
    r"""Fill ``buf`` in place with values from the uniform distribution on [low, high).

    .. math:: x_i = \mathrm{low} + (\mathrm{high} - \mathrm{low})\, u_i, \quad
              u_i = \lfloor w_i / 2^8 \rfloor\, 2^{-24}

    (53-bit ``u`` for float64; a value that rounds up to ``high`` becomes the largest float
    below it). bfloat16/float16 get the float32 value rounded to nearest even, which may equal
    ``high``. Same as ``torch.nn.init.uniform_(tensor, a=low, b=high)`` in distribution.

    >>> import numpy as np, fastinit as fi
    >>> w = fi.uniform_(np.empty((3, 4), np.float32), -1.0, 1.0, seed=0)
    >>> bool(((w >= -1) & (w < 1)).all())
    True
    """
    if _try_fill2 is not None and _try_fill2(buf, UNIFORM, low, high, seed, stream, offset, generator):
        return buf
    t = _target(buf, FLOAT_DTYPES)
    r = _call.resolve_uniform(t.code, low, high)
    _run(t, r, _stream_of(t, seed, stream, offset, generator))
    return buf


def normal_(
    buf: Any,
    mean: float = 0.0,
    std: float = 1.0,
    *,
    seed: int | None = None,
    stream: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
) -> Any:
    r"""Fill ``buf`` in place with values from the normal distribution N(mean, std²).

    Box-Muller (Box & Muller, "A Note on the Generation of Random Normal Deviates", 1958) on
    word pairs: for elements 2m and 2m+1,

    .. math:: r = \sqrt{-2 \ln u_1},\; x_{2m} = \mathrm{mean} + \mathrm{std}\, r\cos 2\pi u_2,\;
              x_{2m+1} = \mathrm{mean} + \mathrm{std}\, r \sin 2\pi u_2

    with u1 in (0, 1] and u2 in [0, 1). Same as ``torch.nn.init.normal_`` in distribution.

    >>> import numpy as np, fastinit as fi
    >>> w = fi.normal_(np.empty(100_000, np.float32), 0.0, 0.02, seed=0)
    >>> bool(abs(w.std() - 0.02) < 0.001)
    True
    """
    if _try_fill2 is not None and _try_fill2(buf, NORMAL, mean, std, seed, stream, offset, generator):
        return buf
    t = _target(buf, FLOAT_DTYPES)
    r = _call.resolve_normal(t.code, mean, std)
    _run(t, r, _stream_of(t, seed, stream, offset, generator))
    return buf


def trunc_normal_(
    buf: Any,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    *,
    seed: int | None = None,
    stream: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
) -> Any:
    r"""Fill ``buf`` in place with N(mean, std²) truncated to [a, b] (absolute bounds, as torch).

    Inverse CDF: with :math:`\alpha = (a - \mathrm{mean})/\mathrm{std}`,
    :math:`\beta = (b - \mathrm{mean})/\mathrm{std}` and u in (0, 1),

    .. math:: x = \mathrm{mean} + \mathrm{std}\;\Phi^{-1}\big(\Phi(\alpha) + u\,(\Phi(\beta) - \Phi(\alpha))\big)

    computed from the nearer tail and clamped into [a, b], so narrow or one-sided intervals
    (e.g. [4, 5] std) stay exact and no value piles up at a bound. Note that, as in
    ``torch.nn.init.trunc_normal_``, ``a`` and ``b`` are values, not multiples of ``std``
    (Keras's ``TruncatedNormal`` cuts at mean +- 2 std: ``fastinit.get("truncated_normal")``).
    ``a`` or ``b`` may be infinite; ``std=0`` gives ``mean`` when it lies in [a, b].

    >>> import numpy as np, fastinit as fi
    >>> w = fi.trunc_normal_(np.empty(1000, np.float32), std=0.02, a=-0.04, b=0.04, seed=0)
    >>> bool((abs(w) <= 0.04).all())
    True
    """
    if _try_fill is not None and _try_fill(buf, TRUNC_NORMAL, mean, std, a, b, seed, stream, offset, generator):
        return buf
    t = _target(buf, FLOAT_DTYPES)
    r = _call.resolve_trunc_normal(t.code, mean, std, a, b)
    _run(t, r, _stream_of(t, seed, stream, offset, generator))
    return buf


def constant_(buf: Any, value: float) -> Any:
    """Fill ``buf`` in place with ``value`` (rounded to the buffer's dtype; bfloat16 and
    float16 via float32). As ``torch.nn.init.constant_``, any float is accepted, inf and nan
    included. Uses no random stream.

    >>> import numpy as np, fastinit as fi
    >>> fi.constant_(np.empty(3, np.float32), 0.5)
    array([0.5, 0.5, 0.5], dtype=float32)
    """
    t = _target(buf, FLOAT_DTYPES)
    _run(t, _call.resolve_constant(t.code, value), (0, 0, 0))
    return buf


def zeros_(buf: Any) -> Any:
    """Fill ``buf`` in place with 0 (``torch.nn.init.zeros_``)."""
    return constant_(buf, 0.0)


def ones_(buf: Any) -> Any:
    """Fill ``buf`` in place with 1 (``torch.nn.init.ones_``)."""
    return constant_(buf, 1.0)


def random_bits_(
    buf: Any,
    *,
    seed: int | None = None,
    stream: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
) -> Any:
    """Fill a uint32 or uint64 buffer in place with the raw Philox4x32-10 words.

    uint32 element i is word i of the stream; uint64 element i is words 2i (low half) and
    2i+1 (high half). The words are the stream every other distribution is built from.

    >>> import numpy as np, fastinit as fi
    >>> fi.random_bits_(np.empty(4, np.uint32), seed=0).dtype
    dtype('uint32')
    """
    t = _target(buf, BITS_DTYPES)
    _run(t, _call.resolve_bits(t.code), _stream_of(t, seed, stream, offset, generator))
    return buf


# ----------------------------------------------------------------- variance scaling


def variance_scaling_(
    buf: Any,
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str = "truncated_normal",
    *,
    fan_in: int | None = None,
    fan_out: int | None = None,
    layout: str = "torch",
    in_axis: int | None = None,
    out_axis: int | None = None,
    batch_axis: int | Sequence[int] = (),
    seed: int | None = None,
    stream: int | None = None,
    offset: int = 0,
    generator: Generator | None = None,
) -> Any:
    r"""Fill ``buf`` in place with variance ``scale / fan`` (Keras/JAX ``VarianceScaling``).

    fan is fan_in, fan_out, (fan_in + fan_out)/2 ("fan_avg") or sqrt(fan_in fan_out)
    ("fan_geo_avg"), from ``fastinit.fans(shape, layout)`` unless given. Then

    - "truncated_normal": N(0, std²) truncated to ±2 std with
      :math:`\mathrm{std} = \sqrt{\mathrm{scale}/\mathrm{fan}} / 0.87962566103423978`
      (the truncation shrinks the std by that factor, so the result has variance scale/fan);
    - "normal" (or "untruncated_normal"): N(0, scale/fan);
    - "uniform": U(-limit, limit) with :math:`\mathrm{limit} = \sqrt{3\,\mathrm{scale}/\mathrm{fan}}`.

    Glorot/Xavier, He/Kaiming and LeCun are specialisations. ``layout`` is "torch"
    ((out, in, *kernel), the default) or "keras"/"jax" ((*kernel, in, out)); ``in_axis``,
    ``out_axis`` and ``batch_axis`` select any other layout as in JAX. ``fan_in``/``fan_out``
    override the shape's fans (e.g. to initialize a shard with the fans of the whole weight,
    together with ``offset``). ``scale=0`` fills zeros.

    >>> import numpy as np, fastinit as fi
    >>> w = fi.variance_scaling_(np.empty((512, 256), np.float32), 2.0, "fan_in", "normal", seed=0)
    >>> bool(abs(w.var() / (2.0 / 256) - 1) < 0.02)
    True
    """
    if _try_fill_resolved is not None and type(buf) is np.ndarray:
        code = _CODES.get(buf.dtype)
        if code is not None and code in FLOAT_DTYPES:
            try:
                r = _call.resolve_variance_scaling(buf.shape, code, scale, mode, distribution, fan_in, fan_out,
                                                   layout, in_axis, out_axis, batch_axis)
            except (TypeError, ValueError):  # raised below, after the buffer's own checks
                pass
            else:
                if _try_fill_resolved(buf, r, seed, stream, offset, generator):
                    return buf
    t = _target(buf, FLOAT_DTYPES)
    r = _call.resolve_variance_scaling(t.arr.shape, t.code, scale, mode, distribution, fan_in, fan_out, layout,
                                       in_axis, out_axis, batch_axis)
    _run(t, r, _stream_of(t, seed, stream, offset, generator))
    return buf


def glorot_uniform_(buf: Any, gain: float = 1.0, **options: Unpack[FanOptions]) -> Any:
    r"""Glorot/Xavier uniform: U(-limit, limit) with

    .. math:: \mathrm{limit} = \mathrm{gain}\,\sqrt{6 / (\mathrm{fan\_in} + \mathrm{fan\_out})}

    "Understanding the difficulty of training deep feedforward neural networks" - Glorot &
    Bengio (2010). Reproduces ``torch.nn.init.xavier_uniform_`` (alias ``xavier_uniform_``) and,
    with ``layout="keras"``, Keras ``GlorotUniform``. Variance gain² · 2/(fan_in + fan_out).

    >>> import numpy as np, fastinit as fi
    >>> w = fi.xavier_uniform_(np.empty((300, 200), np.float32), seed=0)
    >>> bool(abs(w).max() <= (6 / 500) ** 0.5)
    True
    """
    return variance_scaling_(buf, squared("gain", gain), "fan_avg", "uniform", **options)


def glorot_normal_(
    buf: Any, gain: float = 1.0, *, distribution: str = "normal", **options: Unpack[FanOptions]
) -> Any:
    r"""Glorot/Xavier normal: :math:`\mathrm{std} = \mathrm{gain}\sqrt{2/(\mathrm{fan\_in} + \mathrm{fan\_out})}`.

    "Understanding the difficulty of training deep feedforward neural networks" - Glorot &
    Bengio (2010). By default untruncated, reproducing ``torch.nn.init.xavier_normal_`` (alias
    ``xavier_normal_``). Keras ``GlorotNormal`` is truncated at ±2 std with the std divided by
    0.8796: ``distribution="truncated_normal", layout="keras"`` (or ``fastinit.get("glorot_normal")``).

    >>> import numpy as np, fastinit as fi
    >>> w = fi.xavier_normal_(np.empty((400, 400), np.float32), seed=0)
    >>> bool(abs(w.var() / (2 / 800) - 1) < 0.02)
    True
    """
    return variance_scaling_(buf, squared("gain", gain), "fan_avg", distribution, **options)


def kaiming_uniform_(
    buf: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    **options: Unpack[FanOptions],
) -> Any:
    r"""He/Kaiming uniform: U(-bound, bound), :math:`\mathrm{bound} = \mathrm{gain}\sqrt{3/\mathrm{fan\_mode}}`.

    "Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet
    Classification" - He, Zhang, Ren & Sun (2015). gain = ``calculate_gain(nonlinearity, a)``,
    so the defaults (leaky_relu, a=0) give sqrt(2): variance 2/fan_in. Reproduces
    ``torch.nn.init.kaiming_uniform_`` (alias ``he_uniform_``); with ``layout="keras"`` Keras
    ``HeUniform``. ``nn.Linear``'s default is ``kaiming_uniform_(w, a=math.sqrt(5))``.

    >>> import numpy as np, fastinit as fi
    >>> w = fi.kaiming_uniform_(np.empty((128, 64), np.float32), seed=0)
    >>> bool(abs(w).max() <= (6 / 64) ** 0.5)
    True
    """
    return variance_scaling_(buf, _call.gain_squared(nonlinearity, a), mode, "uniform", **options)


def kaiming_normal_(
    buf: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    distribution: str = "normal",
    **options: Unpack[FanOptions],
) -> Any:
    r"""He/Kaiming normal: :math:`\mathrm{std} = \mathrm{gain}/\sqrt{\mathrm{fan\_mode}}`.

    "Delving Deep into Rectifiers" - He, Zhang, Ren & Sun (2015). By default untruncated,
    reproducing ``torch.nn.init.kaiming_normal_`` (alias ``he_normal_``). Keras ``HeNormal`` is
    truncated: ``distribution="truncated_normal", layout="keras"`` (or ``fastinit.get("he_normal")``).

    >>> import numpy as np, fastinit as fi
    >>> w = fi.he_normal_(np.empty((256, 512), np.float32), seed=0)
    >>> bool(abs(w.var() / (2 / 512) - 1) < 0.02)
    True
    """
    return variance_scaling_(buf, _call.gain_squared(nonlinearity, a), mode, distribution, **options)


def lecun_uniform_(buf: Any, **options: Unpack[FanOptions]) -> Any:
    r"""LeCun uniform: U(-limit, limit), :math:`\mathrm{limit} = \sqrt{3/\mathrm{fan\_in}}` (variance 1/fan_in).

    "Efficient BackProp" - LeCun, Bottou, Orr & Müller (1998). As Keras ``LecunUniform``
    (with ``layout="keras"``) and JAX ``lecun_uniform``; torch has no named equivalent.

    >>> import numpy as np, fastinit as fi
    >>> w = fi.lecun_uniform_(np.empty((64, 300), np.float32), seed=0)
    >>> bool(abs(w).max() <= 0.1)
    True
    """
    return variance_scaling_(buf, 1.0, "fan_in", "uniform", **options)


def lecun_normal_(buf: Any, *, distribution: str = "normal", **options: Unpack[FanOptions]) -> Any:
    r"""LeCun normal: :math:`\mathrm{std} = 1/\sqrt{\mathrm{fan\_in}}`, the initialization of SELU
    networks ("Self-Normalizing Neural Networks" - Klambauer, Unterthiner, Mayr & Hochreiter
    (2017); "Efficient BackProp" - LeCun et al. (1998)).

    Untruncated by default, like the other fastinit ``*_normal_`` functions; Keras/JAX
    ``lecun_normal`` is truncated: ``distribution="truncated_normal", layout="keras"`` (or
    ``fastinit.get("lecun_normal")``).

    >>> import numpy as np, fastinit as fi
    >>> w = fi.lecun_normal_(np.empty((256, 400), np.float32), seed=0)
    >>> bool(abs(w.var() * 400 - 1) < 0.02)
    True
    """
    return variance_scaling_(buf, 1.0, "fan_in", distribution, **options)


xavier_uniform_ = glorot_uniform_
xavier_normal_ = glorot_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_


def philox4x32(counter: Sequence[int], key: Sequence[int]) -> tuple[int, int, int, int]:
    """One block of Philox4x32-10: 4 counter words and 2 key words in, 4 words out.

    For checking the generator against the Random123 known-answer vectors:

    >>> import fastinit as fi
    >>> [hex(w) for w in fi.philox4x32((0, 0, 0, 0), (0, 0))]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    counter, key = tuple(counter), tuple(key)
    if len(counter) != 4 or len(key) != 2:
        raise ValueError(f"counter must have 4 words and key 2 (got {len(counter)} and {len(key)})")
    for name, words in (("counter", counter), ("key", key)):
        for w in words:
            if isinstance(w, bool) or not isinstance(w, numbers.Integral) or not 0 <= int(w) < 1 << 32:
                raise ValueError(f"{name} words must be ints in [0, 2**32), got {w!r}")
    out = _backend.active().philox4x32(tuple(int(w) for w in counter), tuple(int(w) for w in key))
    return (int(out[0]), int(out[1]), int(out[2]), int(out[3]))


# ------------------------------------------------------------ new-array variants


def _resolve_dtype(dtype: Any) -> np.dtype:
    if isinstance(dtype, str) and dtype == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise TypeError("dtype='bfloat16' needs the ml_dtypes package (pip install ml_dtypes)") from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


def _new_array_variant(fill: Callable[..., Any], default_dtype: str) -> Callable[..., np.ndarray]:
    @functools.wraps(fill)
    def make(shape: int | Sequence[int], *args: Any, dtype: Any = default_dtype, **kwargs: Any) -> np.ndarray:
        out = np.empty(shape, dtype=_resolve_dtype(dtype))
        fill(out, *args, **kwargs)
        return out

    name = fill.__name__.rstrip("_")
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (
        f"Like ``{fill.__name__}``, but takes ``shape`` and ``dtype`` (default {default_dtype}) "
        f"and returns a new NumPy array.\n\nSee ``fastinit.{fill.__name__}``:\n\n{fill.__doc__}"
    )
    make.__wrapped__ = fill  # type: ignore[attr-defined]
    return make


uniform = _new_array_variant(uniform_, "float32")
normal = _new_array_variant(normal_, "float32")
trunc_normal = _new_array_variant(trunc_normal_, "float32")
constant = _new_array_variant(constant_, "float32")
zeros = _new_array_variant(zeros_, "float32")
ones = _new_array_variant(ones_, "float32")
random_bits = _new_array_variant(random_bits_, "uint32")
variance_scaling = _new_array_variant(variance_scaling_, "float32")
glorot_uniform = xavier_uniform = _new_array_variant(glorot_uniform_, "float32")
glorot_normal = xavier_normal = _new_array_variant(glorot_normal_, "float32")
he_uniform = kaiming_uniform = _new_array_variant(kaiming_uniform_, "float32")
he_normal = kaiming_normal = _new_array_variant(kaiming_normal_, "float32")
lecun_uniform = _new_array_variant(lecun_uniform_, "float32")
lecun_normal = _new_array_variant(lecun_normal_, "float32")


# --------------------------------------------------------------- Keras string ids


def _keras_random_normal_(buf: Any, mean: float = 0.0, std: float = 0.05, **options: Any) -> Any:
    """Keras ``RandomNormal(mean=0.0, stddev=0.05)``."""
    return normal_(buf, mean, std, **options)


def _keras_random_uniform_(buf: Any, low: float = -0.05, high: float = 0.05, **options: Any) -> Any:
    """Keras ``RandomUniform(minval=-0.05, maxval=0.05)``."""
    return uniform_(buf, low, high, **options)


def _keras_truncated_normal_(buf: Any, mean: float = 0.0, std: float = 0.05, **options: Any) -> Any:
    """Keras ``TruncatedNormal(mean=0.0, stddev=0.05)``: cut at mean +- 2 std."""
    mean, std = real("mean", mean), real("std", std)
    return trunc_normal_(buf, mean, std, mean - 2.0 * std, mean + 2.0 * std, **options)


def _keras_variance_scaling(scale: float, mode: str, distribution: str) -> Callable[..., Any]:
    return functools.partial(variance_scaling_, scale=scale, mode=mode, distribution=distribution, layout="keras")


_KERAS: dict[str, Callable[..., Any]] = {
    "glorot_uniform": _keras_variance_scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _keras_variance_scaling(1.0, "fan_avg", "truncated_normal"),
    "he_uniform": _keras_variance_scaling(2.0, "fan_in", "uniform"),
    "he_normal": _keras_variance_scaling(2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _keras_variance_scaling(1.0, "fan_in", "uniform"),
    "lecun_normal": _keras_variance_scaling(1.0, "fan_in", "truncated_normal"),
    "variance_scaling": functools.partial(variance_scaling_, layout="keras"),
    "zeros": zeros_,
    "ones": ones_,
    "constant": functools.partial(constant_, value=0.0),
    "random_normal": _keras_random_normal_,
    "random_uniform": _keras_random_uniform_,
    "truncated_normal": _keras_truncated_normal_,
}
# Keras also accepts the class names ("GlorotUniform", "HeNormal", "Zeros", ...).
_KERAS_CLASS_NAMES = {
    "".join(part.capitalize() for part in key.split("_")): key for key in _KERAS
}


def get(identifier: str | Callable[..., Any]) -> Callable[..., Any]:
    """Resolve a Keras initializer id to an in-place fastinit fill with Keras's semantics.

    Accepts the snake_case ids ("glorot_uniform", "he_normal", "lecun_normal", "zeros",
    "ones", "constant", "random_normal", "random_uniform", "truncated_normal",
    "variance_scaling") and the class names ("GlorotUniform", "HeNormal", ...). The returned
    callable fills a buffer in place with Keras's defaults: (*kernel, in, out) layout,
    truncated normals for the ``*_normal`` variance-scaling ids, std 0.05 for
    random_normal/truncated_normal, [-0.05, 0.05) for random_uniform. A callable is returned
    unchanged.

    >>> import numpy as np, fastinit as fi
    >>> init = fi.get("he_normal")
    >>> w = init(np.empty((3, 3, 16, 32), np.float32), seed=0)   # Keras Conv2D kernel
    >>> bool(abs(w).max() <= 2 * (2 / 144) ** 0.5 / 0.87962566103423978)
    True
    """
    if callable(identifier):
        return identifier
    if not isinstance(identifier, str):
        raise TypeError(f"initializer identifier must be a str or a callable, got {type(identifier).__name__}")
    key = _KERAS_CLASS_NAMES.get(identifier, identifier)
    if key not in _KERAS:
        known = ", ".join(sorted(_KERAS))
        raise ValueError(f"Unknown initializer {identifier!r}; known ids: {known}")
    return _KERAS[key]
