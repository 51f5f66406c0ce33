"""Fans and gains: the one place that knows weight layouts and nonlinearity gains."""
from __future__ import annotations

import math
import operator
from typing import Any, Sequence

LAYOUTS = ("torch", "keras", "jax")
# (in_axis, out_axis) of each named layout: torch weights are (out, in, *kernel);
# Keras and JAX kernels are (*kernel, in, out).
_LAYOUT_AXES = {"torch": (1, 0), "keras": (-2, -1), "jax": (-2, -1)}


def fans(
    shape: Sequence[int],
    layout: str = "torch",
    *,
    in_axis: int | Sequence[int] | None = None,
    out_axis: int | Sequence[int] | None = None,
    batch_axis: int | Sequence[int] = (),
) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of the given shape.

    fan_in = shape[in_axis] * receptive field, fan_out = shape[out_axis] * receptive field,
    where the receptive field is the product of every other dimension except the batch axes
    (JAX's ``variance_scaling`` convention). As in JAX, ``in_axis`` and ``out_axis`` may each be
    a sequence of axes, whose sizes multiply. ``layout`` names the axes: "torch" weights are
    (out, in, *kernel), so in_axis=1, out_axis=0 (``torch.nn.init._calculate_fan_in_and_fan_out``);
    "keras" and "jax" kernels are (*kernel, in, out), so in_axis=-2, out_axis=-1.
    ``in_axis``/``out_axis`` given explicitly override the layout.

    >>> fans((64, 3, 3, 3))            # torch Conv2d(3, 64, 3)
    (27, 576)
    >>> fans((3, 3, 3, 64), "keras")   # Keras Conv2D(64, 3) on 3 channels
    (27, 576)
    """
    if layout not in _LAYOUT_AXES:
        raise ValueError(f"layout={layout!r} is not one of {', '.join(map(repr, LAYOUTS))}")
    shape = tuple(_as_int("shape", d) for d in _as_sequence("shape", shape))
    if any(d < 0 for d in shape):
        raise ValueError(f"shape {shape} has a negative dimension")
    ndim = len(shape)
    if ndim < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {shape}); pass fan_in= and fan_out= explicitly"
        )
    default_in, default_out = _LAYOUT_AXES[layout]
    groups = {}
    for label, value in (("in_axis", default_in if in_axis is None else in_axis),
                         ("out_axis", default_out if out_axis is None else out_axis),
                         ("batch_axis", batch_axis)):
        normalized = []
        for axis in _axes(label, value):
            if not -ndim <= axis < ndim:
                raise ValueError(f"{label}={axis} is out of range for a shape of {ndim} dimensions")
            normalized.append(axis % ndim)
        groups[label] = normalized
    i, o, batch = groups["in_axis"], groups["out_axis"], groups["batch_axis"]
    named = i + o + batch
    if len(set(named)) != len(named):
        raise ValueError(f"in_axis, out_axis and batch_axis must be distinct (got {i}, {o}, {sorted(batch)})")
    receptive = math.prod(d for k, d in enumerate(shape) if k not in named)
    return math.prod(shape[k] for k in i) * receptive, math.prod(shape[k] for k in o) * receptive


def keras_fans(
    shape: Sequence[int],
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> tuple[int, int]:
    """(fan_in, fan_out) by Keras 3's rule (``keras.src.initializers.compute_fans``).

    With both ``input_axes`` and ``output_axes`` given, fan_in and fan_out are the products of
    the sizes of those axes (no receptive field). Otherwise: a 0-d shape has fans (1, 1), a 1-d
    shape ``(n,)`` has (n, n), and from 2 dimensions on it is ``fans(shape, "keras")`` (kernels
    ``(*receptive, in, out)``). Keras divides by ``max(1, fan)``; a fan of 0 only arises for a
    shape with a zero dimension, which holds no element to fill.

    >>> keras_fans((5,))
    (5, 5)
    >>> keras_fans((3, 3, 16, 32))
    (144, 288)
    >>> keras_fans((8, 4, 6), input_axes=[0], output_axes=[1, 2])
    (8, 24)
    """
    shape = tuple(_as_int("shape", d) for d in _as_sequence("shape", shape))
    if any(d < 0 for d in shape):
        raise ValueError(f"shape {shape} has a negative dimension")
    ndim = len(shape)
    if input_axes is not None and output_axes is not None:
        products = []
        for label, value in (("input_axes", input_axes), ("output_axes", output_axes)):
            axes = _axes(label, value)
            for axis in axes:
                if not -ndim <= axis < ndim:
                    raise ValueError(f"{label}={list(axes)} is out of range for a shape of {ndim} dimensions")
            products.append(math.prod(shape[axis] for axis in axes))
        return products[0], products[1]
    if ndim == 0:
        return 1, 1
    if ndim == 1:
        return shape[0], shape[0]
    return fans(shape, "keras")


def _as_int(name: str, value: Any) -> int:
    """An int (or anything with __index__, e.g. numpy integers), never a bool or a float."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must hold ints, got a bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must hold ints, got {type(value).__name__}") from None


def _as_sequence(name: str, value: Any) -> tuple:
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of ints, got {type(value).__name__}") from None


def _axes(name: str, value: Any) -> tuple[int, ...]:
    """One axis or a sequence of them."""
    if hasattr(value, "__index__") and not isinstance(value, bool):
        return (_as_int(name, value),)
    return tuple(_as_int(name, a) for a in _as_sequence(name, value))


MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")


def fan_for_mode(fan_in: int, fan_out: int, mode: str) -> float:
    """The fan that a variance-scaling initializer divides by."""
    if mode == "fan_in":
        return float(fan_in)
    if mode == "fan_out":
        return float(fan_out)
    if mode == "fan_avg":
        return (fan_in + fan_out) / 2.0
    if mode == "fan_geo_avg":
        return math.sqrt(fan_in * fan_out)
    raise ValueError(f"mode={mode!r} is not one of {', '.join(map(repr, MODES))}")


# torch.nn.init.calculate_gain's table. Linear and convolution layers and sigmoid have gain 1;
# tanh 5/3; relu sqrt(2) (He et al. 2015); leaky_relu sqrt(2 / (1 + slope^2)); selu 3/4
# (chosen in torch to keep the variance of self-normalizing networks near 1).
_UNIT_GAIN = (
    "linear", "conv1d", "conv2d", "conv3d",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)
_CONSTANT_GAIN = {"tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
NONLINEARITIES = _UNIT_GAIN + tuple(_CONSTANT_GAIN) + ("leaky_relu",)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    ================= =====================================
    nonlinearity      gain
    ================= =====================================
    linear, conv*d,   1
    conv_transpose*d,
    sigmoid
    tanh              5/3
    relu              sqrt(2)
    leaky_relu        sqrt(2 / (1 + negative_slope^2)),
                      negative_slope = param (default 0.01)
    selu              3/4
    ================= =====================================

    >>> calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    if nonlinearity in _UNIT_GAIN:
        return 1
    if nonlinearity in _CONSTANT_GAIN:
        return _CONSTANT_GAIN[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            try:
                slope = float(param)
            except OverflowError:  # an int beyond float64
                raise ValueError("negative_slope not a valid number (an int beyond float64)") from None
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        try:
            return math.sqrt(2.0 / (1 + slope**2))
        except OverflowError:  # slope**2 overflows from |slope| ~ 1.3e154: the same without squaring
            return math.sqrt(2.0) / math.hypot(1.0, slope)
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
