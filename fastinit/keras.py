"""fastinit.keras: Keras 3's built-in initializers, filled by the fastinit core.

Every class has Keras's name, constructor arguments, defaults, ``get_config`` and seed
behaviour; each one *is* a subclass of the Keras class of the same name (so ``isinstance``
checks and Keras's argument validation are Keras's own) whose ``__call__`` draws the values
from fastinit's Philox stream instead of ``keras.random``. One line makes Keras's string ids
and layer defaults ("glorot_uniform", "zeros", "orthogonal", ...) resolve to these classes::

    import fastinit.keras
    fastinit.keras.install()            # or: with fastinit.keras.install(): model = build()

Seeds, as in Keras 3.15.1 (``keras.src.initializers.random_initializers``): an int seed gives
the same values on every call; ``seed=None`` draws an int seed once, at construction, from
Python's ``random`` module (``keras.utils.set_random_seed`` governs it), so one instance also
repeats its values and two instances differ; a ``keras.random.SeedGenerator`` advances on
every call. Mapping to fastinit: int seed ``s`` -> (seed ``s mod 2**64``, stream 0); a
SeedGenerator's state ``[s, n]`` -> (seed ``s mod 2**32``, stream ``n mod 2**32``), so
``SeedGenerator(s)``'s first call equals ``seed=s`` as in Keras.

Works on Keras's torch, jax and numpy backends (any other through ``keras.ops``): the values
are written once into a CPU buffer, which is the returned tensor (numpy; torch on the CPU;
jax on the CPU, which takes over a 64-byte aligned buffer) or is copied once into the
backend's tensor (another device). dtypes fastinit does
not fill (integers, bool, float8) go to Keras's own implementation. Details: docs/keras.md.
"""
from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import keras
import keras.src.initializers as _keras_registry  # the table behind keras.initializers.get
import numpy as np

from . import _api
from ._fans import keras_fans
from ._orthogonal import orthogonal

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "LecunNormal",
    "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "Zeros", "install", "installed", "uninstall",
]

_FLOAT_DTYPES = ("float32", "float64", "bfloat16", "float16")
_U32 = 0xFFFFFFFF
_U64 = 1 << 64
# Keras-semantics fills of the core (fastinit.get): defaults, mean +- 2 std, layout="keras"
_FILL = {name: _api.get(name) for name in (
    "random_normal", "random_uniform", "truncated_normal", "variance_scaling", "zeros", "ones",
)}


def _register(cls: type) -> type:
    return keras.saving.register_keras_serializable(package="fastinit")(cls)


# ----------------------------------------------------------------- seeds and buffers


def _seed_args(seed: Any) -> dict[str, int]:
    """fastinit (seed, stream) for one call of an initializer whose ``self.seed`` is ``seed``."""
    if isinstance(seed, keras.random.SeedGenerator):
        state = keras.ops.convert_to_numpy(seed.next())  # advances the generator, as Keras does
        return {"seed": int(state[0]) & _U32, "stream": int(state[1]) & _U32}
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or a keras.random.SeedGenerator, got {type(seed).__name__}")
    return {"seed": int(seed) % _U64, "stream": 0}


def _dtype(dtype: Any) -> str:
    return keras.backend.standardize_dtype(dtype)  # None -> keras.config.floatx()


def _shape(shape: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in shape)


def _scalar(name: str, value: Any) -> Any:
    """A parameter given as a scalar backend tensor or NumPy scalar, as a Python number."""
    if isinstance(value, numbers.Number):
        return value
    try:
        array = keras.ops.convert_to_numpy(value)
    except Exception:  # not a tensor: let the core's check name it
        return value
    if array.ndim != 0:
        raise ValueError(f"{name} must be a scalar, got an array of shape {array.shape}")
    return array.item()


def _filled(shape: tuple[int, ...], dtype: str, fill: Callable[[Any], Any]) -> Any:
    """A backend tensor of ``shape`` and ``dtype`` that ``fill`` wrote in place on the CPU."""
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        from keras.src.backend.torch.core import get_device

        from .torch._functions import _fill  # torch tensor <-> core buffer, copy for other devices

        return _fill(torch.empty(shape, dtype=getattr(torch, dtype), device=get_device()), fill)
    if backend == "jax":
        import jax

        from .jax import host_empty

        # float64 is float32 unless jax_enable_x64, as for Keras's own ops: fill that directly
        host = host_empty(shape, jax.dtypes.canonicalize_dtype(_api._resolve_dtype(dtype)))
        fill(host)
        return jax.device_put(host)  # XLA:CPU takes the aligned buffer over: no copy
    host = np.empty(shape, _api._resolve_dtype(dtype))
    fill(host)
    if backend == "numpy":
        return host
    return keras.ops.convert_to_tensor(host, dtype=dtype)


class _FilledByFastinit:
    """``__call__`` of every class that fills in place: ``self._fill(shape)`` gives the fill of
    the buffer (None: leave this call to Keras), for the dtypes fastinit fills; Keras's own
    ``__call__`` for the others."""

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any] | None:
        raise NotImplementedError

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        dtype = _dtype(dtype)
        shape = _shape(shape)
        fill = self._fill(shape) if dtype in _FLOAT_DTYPES else None
        if fill is None:
            return super().__call__(shape, dtype)  # type: ignore[misc]
        return _filled(shape, dtype, fill)


# --------------------------------------------------------------------- constants


@_register
class Zeros(_FilledByFastinit, keras.initializers.Zeros):
    """Initializer that generates tensors of 0 (``keras.initializers.Zeros``).

    >>> tuple(Zeros()((2, 3)).shape)
    (2, 3)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any]:
        return _FILL["zeros"]


@_register
class Ones(_FilledByFastinit, keras.initializers.Ones):
    """Initializer that generates tensors of 1 (``keras.initializers.Ones``).

    >>> tuple(Ones()((2, 3)).shape)
    (2, 3)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any]:
        return _FILL["ones"]


@_register
class Constant(_FilledByFastinit, keras.initializers.Constant):
    """Initializer that generates tensors of one scalar ``value`` (``keras.initializers.Constant``).

    >>> tuple(Constant(0.5)((2,)).shape)
    (2,)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any] | None:
        value = self.value
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            return None  # tensors, arrays, ints: Keras's broadcasting and casting rules
        return lambda buf: _api.constant_(buf, value)


@_register
class Identity(keras.initializers.Identity):
    """``gain`` times the identity matrix (``keras.initializers.Identity``; 2-d shapes only).

    Nothing random: Keras's own ``ops.eye`` computes it. Here so that ``install()`` maps every
    built-in id and saved models name one package.

    Unlike Keras 3.15.1's (whose config is empty, so a saved model reloads it with gain 1),
    ``get_config`` keeps ``gain``.

    >>> tuple(Identity(2.0)((2, 2)).shape)
    (2, 2)
    """

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


# ---------------------------------------------------------------- random fills


@_register
class RandomNormal(_FilledByFastinit, keras.initializers.RandomNormal):
    r"""Normal initializer: :math:`x \sim \mathcal{N}(\mathrm{mean}, \mathrm{stddev}^2)`
    (``keras.initializers.RandomNormal``; Box-Muller on fastinit's stream).

    Args: mean=0.0, stddev=0.05, seed=None (int or ``keras.random.SeedGenerator``).

    >>> tuple(RandomNormal(stddev=0.02, seed=1)((3, 4)).shape)
    (3, 4)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any]:
        mean, std, stream = _scalar("mean", self.mean), _scalar("stddev", self.stddev), _seed_args(self.seed)
        return lambda buf: _FILL["random_normal"](buf, mean, std, **stream)


@_register
class TruncatedNormal(_FilledByFastinit, keras.initializers.TruncatedNormal):
    r"""Normal initializer truncated to mean ± 2 stddev (``keras.initializers.TruncatedNormal``).

    .. math:: x \sim \mathcal{N}(\mathrm{mean}, \mathrm{stddev}^2) \text{ conditioned on }
              |x - \mathrm{mean}| \le 2\,\mathrm{stddev}

    by inverse CDF: every value lies within the bounds (Keras 3.15.1's torch backend keeps a
    draw outside them when 4 resamples miss). stddev is the std *before* truncation, as in Keras.

    >>> tuple(TruncatedNormal(stddev=0.02, seed=1)((3, 4)).shape)
    (3, 4)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any]:
        mean, std, stream = _scalar("mean", self.mean), _scalar("stddev", self.stddev), _seed_args(self.seed)
        return lambda buf: _FILL["truncated_normal"](buf, mean, std, **stream)


@_register
class RandomUniform(_FilledByFastinit, keras.initializers.RandomUniform):
    r"""Uniform initializer on [minval, maxval) (``keras.initializers.RandomUniform``).

    Args: minval=-0.05, maxval=0.05, seed=None.

    >>> tuple(RandomUniform(-1.0, 1.0, seed=1)((3, 4)).shape)
    (3, 4)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any]:
        low, high, stream = _scalar("minval", self.minval), _scalar("maxval", self.maxval), _seed_args(self.seed)
        return lambda buf: _FILL["random_uniform"](buf, low, high, **stream)


@_register
class VarianceScaling(_FilledByFastinit, keras.initializers.VarianceScaling):
    r"""Variance ``scale / n`` with n = fan_in, fan_out or (fan_in + fan_out)/2
    (``keras.initializers.VarianceScaling``; Keras's fans: kernels ``(*receptive, in, out)``,
    or the products over ``input_axes``/``output_axes``).

    - "truncated_normal" (Keras maps "normal" to it): N(0, std²) cut at ±2 std with
      :math:`\mathrm{std} = \sqrt{\mathrm{scale}/n} / 0.87962566103423978`;
    - "untruncated_normal": N(0, scale/n);
    - "uniform": U(-limit, limit), :math:`\mathrm{limit} = \sqrt{3\,\mathrm{scale}/n}`.

    "Delving Deep into Rectifiers" - He, Zhang, Ren & Sun (2015) for the fan-scaled variance.

    >>> tuple(VarianceScaling(2.0, "fan_out", "uniform", seed=0)((64, 32)).shape)
    (64, 32)
    """

    def _fill(self, shape: tuple[int, ...]) -> Callable[[Any], Any]:
        fan_in, fan_out = keras_fans(shape, self.input_axes, self.output_axes)
        # Keras divides by max(1, fan); a fan of 0 means a zero-size tensor (nothing is written)
        fans = {"fan_in": max(1, fan_in), "fan_out": max(1, fan_out)}
        scale, mode, distribution, stream = self.scale, self.mode, self.distribution, _seed_args(self.seed)
        return lambda buf: _FILL["variance_scaling"](buf, scale, mode, distribution, **fans, **stream)


@_register
class GlorotUniform(VarianceScaling, keras.initializers.GlorotUniform):
    r"""Glorot uniform: U(-limit, limit), :math:`\mathrm{limit} = \sqrt{6/(\mathrm{fan\_in} + \mathrm{fan\_out})}`,
    Keras's default kernel initializer ("Understanding the difficulty of training deep
    feedforward neural networks" - Glorot & Bengio (2010)).

    >>> tuple(GlorotUniform(seed=0)((64, 32)).shape)
    (64, 32)
    """


@_register
class GlorotNormal(VarianceScaling, keras.initializers.GlorotNormal):
    r"""Glorot normal, truncated at ±2 std with :math:`\mathrm{std} = \sqrt{2/(\mathrm{fan\_in} +
    \mathrm{fan\_out})} / 0.8796` ("Understanding the difficulty of training deep feedforward
    neural networks" - Glorot & Bengio (2010)).

    >>> tuple(GlorotNormal(seed=0)((64, 32)).shape)
    (64, 32)
    """


@_register
class HeUniform(VarianceScaling, keras.initializers.HeUniform):
    r"""He uniform: U(-limit, limit), :math:`\mathrm{limit} = \sqrt{6/\mathrm{fan\_in}}`
    ("Delving Deep into Rectifiers" - He, Zhang, Ren & Sun (2015)).

    >>> tuple(HeUniform(seed=0)((64, 32)).shape)
    (64, 32)
    """


@_register
class HeNormal(VarianceScaling, keras.initializers.HeNormal):
    r"""He normal, truncated at ±2 std with :math:`\mathrm{std} = \sqrt{2/\mathrm{fan\_in}} / 0.8796`
    ("Delving Deep into Rectifiers" - He, Zhang, Ren & Sun (2015)).

    >>> w = keras.ops.convert_to_numpy(HeNormal(seed=21)((512, 384)))
    >>> bool(abs(w).max() <= 2 * (2 / 512) ** 0.5 / 0.87962566103423978)   # fan_in = 512
    True
    """


@_register
class LecunUniform(VarianceScaling, keras.initializers.LecunUniform):
    r"""LeCun uniform: U(-limit, limit), :math:`\mathrm{limit} = \sqrt{3/\mathrm{fan\_in}}`
    ("Efficient BackProp" - LeCun, Bottou, Orr & Müller (1998)).

    >>> tuple(LecunUniform(seed=0)((64, 32)).shape)
    (64, 32)
    """


@_register
class LecunNormal(VarianceScaling, keras.initializers.LecunNormal):
    r"""LeCun normal, truncated at ±2 std with :math:`\mathrm{std} = \sqrt{1/\mathrm{fan\_in}} / 0.8796`
    ("Self-Normalizing Neural Networks" - Klambauer, Unterthiner, Mayr & Hochreiter (2017)).

    >>> tuple(LecunNormal(seed=0)((64, 32)).shape)
    (64, 32)
    """


@_register
class Orthogonal(keras.initializers.Orthogonal):
    r"""A (semi-)orthogonal matrix times ``gain`` (``keras.initializers.Orthogonal``): the
    shape is flattened to (prod(shape[:-1]), shape[-1]); the Q factor of a Gaussian matrix of
    shape (max(rows, cols), min(rows, cols)) drawn from fastinit's stream, with the signs of
    R's diagonal folded in (Haar-distributed: "How to generate random matrices from the
    classical compact groups" - Mezzadri (2007)), transposed when rows < cols.
    "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks" -
    Saxe, McClelland & Ganguli (2014).

    >>> tuple(Orthogonal(seed=0)((4, 3)).shape)
    (4, 3)
    """

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        dtype = _dtype(dtype)
        if dtype not in _FLOAT_DTYPES:
            return super().__call__(shape, dtype)
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                f"The tensor to initialize must be at least two-dimensional. Received: shape={shape} "
                f"of rank {len(shape)}."
            )
        gain = _scalar("gain", self.gain)
        if math.prod(shape) == 0:
            return _filled(shape, dtype, _FILL["zeros"])
        q = orthogonal(math.prod(shape[:-1]), shape[-1], gain, float64=dtype == "float64", **_seed_args(self.seed))
        result = q.reshape(shape)
        if keras.backend.backend() == "numpy":
            return result.astype(_api._resolve_dtype(dtype), copy=False)
        return keras.ops.cast(keras.ops.convert_to_tensor(result), dtype)


# ------------------------------------------------------------ string ids, defaults

_CLASSES: tuple[type, ...] = (
    Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal,
)
# Keras class -> fastinit class (each fastinit class's first Keras base of the same name)
_BY_KERAS = {next(base for base in cls.__mro__ if base.__module__.startswith("keras")
                  and base.__name__ == cls.__name__): cls for cls in _CLASSES}
_TO_KERAS = {fi_cls: keras_cls for keras_cls, fi_cls in _BY_KERAS.items()}


def _swap(mapping: dict[type, type]) -> None:
    table = _keras_registry.ALL_OBJECTS_DICT
    for key, value in list(table.items()):
        if value in mapping:
            table[key] = mapping[value]


def installed() -> bool:
    """Whether Keras's string ids currently resolve to fastinit's classes."""
    return _keras_registry.ALL_OBJECTS_DICT.get("glorot_uniform") is GlorotUniform


class _Installation(contextlib.AbstractContextManager):
    """Returned by ``install()``: as a context manager, restores the previous state on exit."""

    def __init__(self, was_installed: bool):
        self._was_installed = was_installed

    def __exit__(self, *exc: Any) -> None:
        if not self._was_installed:
            uninstall()


def install() -> _Installation:
    """Make Keras's string ids and layer defaults resolve to fastinit's initializers.

    After ``fastinit.keras.install()``, ``keras.initializers.get("glorot_uniform")`` (and
    "GlorotUniform", "he_normal", "zeros", "ones", "orthogonal", "uniform", ... every alias of
    the 15 built-ins) returns the fastinit class, so ``Dense(64)`` (kernel "glorot_uniform",
    bias "zeros"), ``Embedding`` ("uniform"), ``LSTM`` ("orthogonal") and ``add_weight``'s
    defaults fill through fastinit. Layers look their initializers up when constructed: build
    the model after the call. Explicit instances (``keras.initializers.HeNormal()``) are left
    alone. Use as a statement or as a context manager that restores the previous state::

        with fastinit.keras.install():
            model = keras.Sequential([keras.layers.Dense(10)])

    >>> with install():
    ...     type(keras.initializers.get("glorot_uniform")).__module__
    'fastinit.keras'
    """
    was = installed()
    _swap(_BY_KERAS)
    return _Installation(was)


def uninstall() -> None:
    """Undo ``install()``: Keras's ids resolve to Keras's own classes again."""
    _swap(_TO_KERAS)
