"""fastinit.jax: ``jax.nn.initializers`` with the same names, arguments and call signature
``init(key, shape, dtype=None, out_sharding=None)``, filled by the fastinit core.

One line to change::

    import fastinit.jax as initializers    # instead of: from jax.nn import initializers
    layer = nnx.Linear(784, 256, kernel_init=initializers.glorot_uniform(), rngs=nnx.Rngs(0))

The values are a pure function of the key's bits and the arguments. Key -> fastinit stream:
the key's data words (``jax.random.key_data`` of a typed key, or a legacy ``uint32[2]``
``PRNGKey``) ``(w0, w1)`` give seed ``w0 * 2**32 + w1`` and stream 0, so
``jax.random.key(42)`` is fastinit's seed 42 (for a 4-word key, e.g. "rbg", seed
``w0 * 2**32 + w1`` and stream ``w2 * 2**32 + w3``). Keys from ``jax.random.split`` or
``fold_in`` are other seeds.

Eagerly, the values are written once into a 64-byte aligned host buffer, which XLA:CPU
takes over without a copy (one copy to an accelerator). Under
``jax.jit`` (a traced key) the fill runs on the host through ``jax.pure_callback``, with the
same values. With ``out_sharding`` (a ``jax.sharding.Sharding``, or a ``PartitionSpec`` of
the mesh set by ``jax.set_mesh``), ``jax.make_array_from_callback`` fills each device's
shard alone, at its global offsets, so the array is the same on any mesh. dtypes fastinit
does not fill (complex) go to ``jax.nn.initializers``. Details: docs/jax.md.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from . import _api, _params
from ._blocks import fill_block
from ._fans import fans
from ._orthogonal import orthogonal as _orthogonal_matrix

__all__ = [
    "Initializer", "constant", "host_empty", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "kaiming_normal", "kaiming_uniform", "key_to_seed", "lecun_normal", "lecun_uniform", "normal",
    "ones", "orthogonal", "truncated_normal", "uniform", "variance_scaling", "xavier_normal",
    "xavier_uniform", "zeros",
]

# XLA:CPU aliases a host buffer aligned to 64 bytes instead of copying it (jax.device_put):
# fastinit fills such a buffer, so on the CPU the array costs no copy at all
_XLA_CPU_ALIGN = 64
_FLOAT_DTYPES = {np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16), np.dtype(jnp.bfloat16)}
_KEY_WORDS = 2**32


class Initializer(Protocol):
    """What every fastinit.jax initializer is (``jax.nn.initializers.Initializer``)."""

    def __call__(self, key: Any, shape: Sequence[int], dtype: Any = None, out_sharding: Any = None) -> jax.Array:
        ...


# --------------------------------------------------------------------------- keys


def _key_words(key: Any) -> Any:
    """The key's data as uint32 words (a typed key's key_data, or the legacy uint32 array)."""
    if isinstance(key, (jax.Array, jax.core.Tracer)) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key, got a key array of shape {key.shape}")
        return jax.random.key_data(key)
    words = key if isinstance(key, jax.core.Tracer) else np.asarray(key)
    if words.dtype != np.uint32 or words.ndim != 1 or words.shape[0] not in (2, 4):
        raise TypeError(
            f"key must be a PRNG key (jax.random.key) or a uint32 array of 2 or 4 words "
            f"(jax.random.PRNGKey), got dtype {words.dtype} and shape {words.shape}"
        )
    return words


def key_to_seed(key: Any) -> tuple[int, int]:
    """fastinit's (seed, stream) of a concrete JAX key: words (w0, w1[, w2, w3]) ->
    (w0·2^32 + w1, w2·2^32 + w3 or 0).

    >>> key_to_seed(jax.random.key(42))
    (42, 0)
    """
    return _seed_of_words(np.asarray(_key_words(key)))


def _seed_of_words(words: np.ndarray) -> tuple[int, int]:
    w = [int(x) for x in np.asarray(words, np.uint32).reshape(-1)]
    if len(w) not in (2, 4):
        raise ValueError(f"a key has 2 or 4 uint32 words, got {len(w)}")
    return w[0] * _KEY_WORDS + w[1], (w[2] * _KEY_WORDS + w[3]) if len(w) == 4 else 0


# ------------------------------------------------------------------ array making


def _dtype(dtype: Any) -> np.dtype:
    """JAX's dtype of the result: the default float (float32, float64 under jax_enable_x64)."""
    return jax.dtypes.canonicalize_dtype(jnp.float_ if dtype is None else dtype)


def host_empty(shape: Sequence[int], dtype: Any) -> np.ndarray:
    """An uninitialized C-contiguous host array whose data is 64-byte aligned, so that
    ``jax.device_put`` on a CPU device takes it over without a copy (XLA:CPU copies a less
    aligned buffer). Never write to it once it has been handed to JAX.

    >>> host_empty((3, 5), np.float32).ctypes.data % 64
    0
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + _XLA_CPU_ALIGN, np.uint8)
    start = -raw.ctypes.data % _XLA_CPU_ALIGN
    return raw[start:start + nbytes].view(dtype).reshape(tuple(shape))


def _shape(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(d) for d in shape)


def _sharding(out_sharding: Any) -> jax.sharding.Sharding | None:
    if out_sharding is None or isinstance(out_sharding, jax.sharding.Sharding):
        return out_sharding
    if isinstance(out_sharding, jax.sharding.PartitionSpec):
        mesh = jax.sharding.get_mesh()
        if mesh is None or getattr(mesh, "empty", False):
            raise ValueError("out_sharding is a PartitionSpec but no mesh is set (jax.set_mesh(mesh))")
        return jax.sharding.NamedSharding(mesh, out_sharding)
    raise TypeError(f"out_sharding must be a jax.sharding.Sharding or PartitionSpec, got {type(out_sharding).__name__}")


def _make(
    key: Any,
    shape: tuple[int, ...],
    dtype: Any,
    out_sharding: Any,
    fill: Callable[[np.ndarray, dict[str, int], int], Any],
    jax_init: Callable[[], Initializer],
    whole: bool = False,
) -> jax.Array:
    """The array of ``shape`` whose elements ``fill(buf, {"seed", "stream"}, offset)`` writes.

    ``jax_init()`` builds JAX's own initializer for the dtypes fastinit does not fill (complex).
    ``whole``: the fill must see the whole array (orthogonal): shards are then slices of it.
    """
    if _dtype(dtype) not in _FLOAT_DTYPES:
        return jax_init()(key, shape, dtype, out_sharding=out_sharding)
    dtype = _dtype(dtype)
    words = _key_words(key)
    sharding = _sharding(out_sharding)
    if isinstance(words, jax.core.Tracer):
        if sharding is not None:
            raise NotImplementedError("fastinit.jax: out_sharding under jax.jit; call the initializer eagerly")

        def host(w: np.ndarray) -> np.ndarray:
            seed, stream = _seed_of_words(w)
            out = np.empty(shape, dtype)  # XLA copies a callback's result
            fill(out, {"seed": seed, "stream": stream}, 0)
            return out

        return jax.pure_callback(host, jax.ShapeDtypeStruct(shape, dtype), words)
    seed, stream = _seed_of_words(np.asarray(words))
    stream_args = {"seed": seed, "stream": stream}
    if sharding is None:
        out = host_empty(shape, dtype)
        fill(out, stream_args, 0)
        return jax.device_put(out)  # no copy on a CPU device, one to an accelerator
    if whole:
        full = host_empty(shape, dtype)
        fill(full, stream_args, 0)
        return jax.make_array_from_callback(shape, sharding, lambda index: full[index])

    def shard(index: tuple[slice, ...]) -> np.ndarray:
        block_shape = tuple(len(range(*sl.indices(n))) for sl, n in zip(index, shape)) + shape[len(index):]
        return fill_block(host_empty(block_shape, dtype), shape, index,
                          lambda run, offset: fill(run, stream_args, offset))

    return jax.make_array_from_callback(shape, sharding, shard)


# ------------------------------------------------------------------- constants


def zeros(key: Any, shape: Sequence[int], dtype: Any = None, out_sharding: Any = None) -> jax.Array:
    """An array of zeros (``jax.nn.initializers.zeros``; ``key`` is ignored, as in JAX).

    >>> zeros(jax.random.key(0), (2, 3)).sum()
    Array(0., dtype=float32)
    """
    return jax.nn.initializers.zeros(key, shape, dtype, out_sharding=out_sharding)


def ones(key: Any, shape: Sequence[int], dtype: Any = None, out_sharding: Any = None) -> jax.Array:
    """An array of ones (``jax.nn.initializers.ones``; ``key`` is ignored, as in JAX).

    >>> ones(jax.random.key(0), (2, 3)).sum()
    Array(6., dtype=float32)
    """
    return jax.nn.initializers.ones(key, shape, dtype, out_sharding=out_sharding)


def constant(value: Any, dtype: Any = None) -> Initializer:
    """An initializer of arrays full of ``value`` (``jax.nn.initializers.constant``).

    >>> constant(-7.0)(jax.random.key(0), (2,))
    Array([-7., -7.], dtype=float32)
    """
    return jax.nn.initializers.constant(value, dtype)


# ---------------------------------------------------------------- random fills


def _initializer(
    default_dtype: Any, fill: Callable[[np.ndarray, dict[str, int], int], Any], jax_init: Callable[[], Initializer]
) -> Initializer:
    """``init(key, shape, dtype=default_dtype, out_sharding=None)`` of an elementwise fill
    ``fill(buf, {"seed", "stream"}, offset)``."""

    def init(key: Any, shape: Sequence[int], dtype: Any = default_dtype, out_sharding: Any = None) -> jax.Array:
        return _make(key, _shape(shape), dtype, out_sharding, fill, jax_init)

    return init


def uniform(scale: float = 1e-2, dtype: Any = None) -> Initializer:
    r"""Uniform on [0, scale) (``jax.nn.initializers.uniform``): :math:`x = \mathrm{scale}\cdot u`.

    >>> w = uniform(2.0)(jax.random.key(0), (1000,))
    >>> bool((w >= 0).all() and (w < 2).all())
    True
    """
    return _initializer(dtype, lambda buf, s, offset: _api.uniform_(buf, 0.0, scale, offset=offset, **s),
                        lambda: jax.nn.initializers.uniform(scale))


def normal(stddev: float = 1e-2, dtype: Any = None) -> Initializer:
    r"""Normal N(0, stddev²) (``jax.nn.initializers.normal``; Box-Muller on fastinit's stream).

    >>> float(normal(1.0)(jax.random.key(0), (100_000,)).std().round(2))
    1.0
    """
    return _initializer(dtype, lambda buf, s, offset: _api.normal_(buf, 0.0, stddev, offset=offset, **s),
                        lambda: jax.nn.initializers.normal(stddev))


def truncated_normal(stddev: float = 1e-2, dtype: Any = None, lower: float = -2.0, upper: float = 2.0) -> Initializer:
    r"""N(0, stddev²) truncated to [lower·stddev, upper·stddev] (``jax.nn.initializers.truncated_normal``;
    ``stddev`` is the std before truncation, no 0.8796 correction, as in JAX). Inverse CDF:
    every value lies within the bounds.

    >>> w = truncated_normal(1.0)(jax.random.key(0), (10_000,))
    >>> bool((abs(w) <= 2).all())
    True
    """
    std, low, high = _params.real("stddev", stddev), _params.real("lower", lower), _params.real("upper", upper)
    return _initializer(dtype, lambda buf, s, offset: _api.trunc_normal_(
        buf, 0.0, std, low * std, high * std, offset=offset, **s),
        lambda: jax.nn.initializers.truncated_normal(stddev, None, lower, upper))


def variance_scaling(
    scale: float,
    mode: str,
    distribution: str,
    in_axis: int | Sequence[int] = -2,
    out_axis: int | Sequence[int] = -1,
    batch_axis: int | Sequence[int] = (),
    dtype: Any = None,
) -> Initializer:
    r"""Variance ``scale / n`` (``jax.nn.initializers.variance_scaling``), n = fan_in, fan_out,
    (fan_in + fan_out)/2 ("fan_avg") or sqrt(fan_in·fan_out) ("fan_geo_avg"); fans from
    ``in_axis``/``out_axis`` (axes or sequences of axes) times the receptive field (all other
    axes but ``batch_axis``).

    - "truncated_normal": cut at ±2 std, :math:`\mathrm{std} = \sqrt{\mathrm{scale}/n}/0.87962566103423978`;
    - "normal": N(0, scale/n);
    - "uniform": U(-limit, limit), :math:`\mathrm{limit} = \sqrt{3\,\mathrm{scale}/n}`.

    "Delving Deep into Rectifiers" - He, Zhang, Ren & Sun (2015); "Understanding the difficulty
    of training deep feedforward neural networks" - Glorot & Bengio (2010).

    >>> w = variance_scaling(2.0, "fan_in", "normal")(jax.random.key(0), (512, 256))
    >>> bool(abs(float(w.var()) * 512 / 2 - 1) < 0.02)
    True
    """
    default = dtype
    axes = {"in_axis": _axes_arg(in_axis), "out_axis": _axes_arg(out_axis), "batch_axis": _axes_arg(batch_axis)}

    def init(key: Any, shape: Sequence[int], dtype: Any = default, out_sharding: Any = None) -> jax.Array:
        shape = _shape(shape)
        fan_in, fan_out = fans(shape, "jax", **axes)  # of the whole array, for every shard
        return _make(key, shape, dtype, out_sharding, lambda buf, s, offset: _api.variance_scaling_(
            buf, scale, mode, distribution, fan_in=fan_in, fan_out=fan_out, offset=offset, **s),
            lambda: jax.nn.initializers.variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis))

    return init


def _axes_arg(value: int | Sequence[int]) -> int | tuple[int, ...]:
    return value if isinstance(value, int) else tuple(value)


def _named(scale: float, mode: str, distribution: str, name: str, formula: str, paper: str) -> Callable[..., Initializer]:
    def make(
        in_axis: int | Sequence[int] = -2,
        out_axis: int | Sequence[int] = -1,
        batch_axis: int | Sequence[int] = (),
        dtype: Any = None,
    ) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis, dtype)

    make.__name__ = make.__qualname__ = name
    make.__doc__ = (
        f"``jax.nn.initializers.{name}``: ``variance_scaling({scale}, {mode!r}, {distribution!r})``, "
        f"{formula}.\n\n{paper}.\n\n"
        f">>> {name}()(jax.random.key(0), (64, 32)).shape\n(64, 32)\n"
    )
    return make


_GLOROT = '"Understanding the difficulty of training deep feedforward neural networks" - Glorot & Bengio (2010)'
_HE = '"Delving Deep into Rectifiers" - He, Zhang, Ren & Sun (2015)'
_LECUN = '"Efficient BackProp" - LeCun, Bottou, Orr & Müller (1998)'
glorot_uniform = xavier_uniform = _named(1.0, "fan_avg", "uniform", "glorot_uniform",
                                         "U(±sqrt(6 / (fan_in + fan_out)))", _GLOROT)
glorot_normal = xavier_normal = _named(1.0, "fan_avg", "truncated_normal", "glorot_normal",
                                       "std sqrt(2 / (fan_in + fan_out)) / 0.8796 cut at ±2 std", _GLOROT)
he_uniform = kaiming_uniform = _named(2.0, "fan_in", "uniform", "he_uniform", "U(±sqrt(6 / fan_in))", _HE)
he_normal = kaiming_normal = _named(2.0, "fan_in", "truncated_normal", "he_normal",
                                    "std sqrt(2 / fan_in) / 0.8796 cut at ±2 std", _HE)
lecun_uniform = _named(1.0, "fan_in", "uniform", "lecun_uniform", "U(±sqrt(3 / fan_in))", _LECUN)
lecun_normal = _named(1.0, "fan_in", "truncated_normal", "lecun_normal",
                      "std sqrt(1 / fan_in) / 0.8796 cut at ±2 std", _LECUN)


def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = None) -> Initializer:
    r"""Uniformly distributed (semi-)orthogonal matrices times ``scale``
    (``jax.nn.initializers.orthogonal``): the array is viewed as (n_rows, n_cols) with
    n_cols = shape[column_axis], the Q factor of a Gaussian matrix (signs of R's diagonal folded
    in, Mezzadri (2007)); "Exact solutions to the nonlinear dynamics of learning in deep linear
    neural networks" - Saxe, McClelland & Ganguli (2014). With ``out_sharding`` each shard is a
    slice of the whole matrix.

    >>> q = orthogonal()(jax.random.key(0), (4, 3))
    >>> bool(jnp.allclose(q.T @ q, jnp.eye(3), atol=1e-5))
    True
    """
    default = dtype

    def init(key: Any, shape: Sequence[int], dtype: Any = default, out_sharding: Any = None) -> jax.Array:
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError("orthogonal initializer requires at least a 2D shape")
        if not -len(shape) <= column_axis < len(shape):
            raise ValueError(f"column_axis={column_axis} is out of range for a shape of {len(shape)} dimensions")
        axis = column_axis % len(shape)
        n_cols = shape[axis]
        n_rows = math.prod(shape) // n_cols if n_cols else 0
        moved = tuple(d for k, d in enumerate(shape) if k != axis) + (n_cols,)

        def fill(buf: np.ndarray, s: dict[str, int], offset: int) -> None:
            if buf.size == 0:
                return
            q = _orthogonal_matrix(n_rows, n_cols, scale, float64=buf.dtype == np.float64, **s)
            buf[...] = np.moveaxis(q.reshape(moved), -1, axis)

        return _make(key, shape, dtype, out_sharding, fill, lambda: jax.nn.initializers.orthogonal(scale, column_axis),
                     whole=True)

    return init
