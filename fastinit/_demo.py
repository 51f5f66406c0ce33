"""``python -m fastinit demo``: why initialization matters, measured on a deep NumPy network.

For every (initializer, activation) pair this module

1. builds a deep fully connected stack (``layers`` layers of ``width`` units) with fastinit
   initializers, pushes a batch of N(0, 1) inputs through it, backpropagates a random upstream
   gradient, and records per layer the activation mean, std, fraction saturated (tanh, sigmoid)
   or dead (ReLU), a histogram of the activations, and the norm of the weight gradient;
2. trains a network of the same depth (``train_width`` units per layer, narrower by default so
   that all the runs fit in well under a minute on two cores) on a small two-dimensional data
   set made here (concentric circles or two spirals) with full-batch SGD with momentum, and
   records the loss curve, the test accuracy, the decision boundary, and whether the hidden
   units of every layer are still identical (symmetry never broken).

Everything is float64 NumPy with the formulas in the comments; nothing here imports tqdm at
module level (the progress bar is optional) and ``import fastinit`` does not import this module.

Weights are stored as (fan_in, fan_out) so that a layer is ``x @ W``: the Keras/JAX layout, and
every fan-based fill is called with ``layout="keras"``. Each layer's weight takes its own
fastinit stream (``stream = layer index`` for the signal-propagation stack, ``TRAIN_STREAM +
layer`` for the trained network), so all the normal-based initializers of one run scale the very
same standard normals, and the uniform ones the same uniforms: the comparison between them is
not blurred by different random draws. Biases start at zero.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _api

# ----------------------------------------------------------------------------- initializers

CONSTANT_VALUE = 0.05  # the "constant" initializer: every weight 0.05 (any single value breaks nothing)
SMALL_STD = 0.01       # "small random": N(0, 0.01^2)
LARGE_STD = 1.0        # "large random": N(0, 1)

Fill = Callable[[np.ndarray, int, int], np.ndarray]  # (weight, seed, stream) -> weight, in place


@dataclass(frozen=True)
class Initializer:
    name: str
    label: str        # how the table and the report name it
    formula: str      # the distribution, for the report
    fill: Fill
    sound: bool       # a variance-scaling scheme (solid lines in the report) or a cautionary one


INITIALIZERS: dict[str, Initializer] = {i.name: i for i in (
    Initializer("zeros", "zeros", "W = 0", lambda w, seed, stream: _api.zeros_(w), False),
    Initializer("constant", f"constant {CONSTANT_VALUE:g}", f"W = {CONSTANT_VALUE:g}",
                lambda w, seed, stream: _api.constant_(w, CONSTANT_VALUE), False),
    Initializer("small", f"N(0, {SMALL_STD:g}²)", f"N(0, {SMALL_STD:g}²)",
                lambda w, seed, stream: _api.normal_(w, 0.0, SMALL_STD, seed=seed, stream=stream), False),
    Initializer("large", f"N(0, {LARGE_STD:g})", f"N(0, {LARGE_STD:g})",
                lambda w, seed, stream: _api.normal_(w, 0.0, LARGE_STD, seed=seed, stream=stream), False),
    Initializer("glorot_uniform", "Glorot uniform", "U(±√(6/(fan_in+fan_out)))",
                lambda w, seed, stream: _api.glorot_uniform_(w, layout="keras", seed=seed, stream=stream), True),
    Initializer("glorot_normal", "Glorot normal", "N(0, 2/(fan_in+fan_out))",
                lambda w, seed, stream: _api.glorot_normal_(w, layout="keras", seed=seed, stream=stream), True),
    Initializer("he_uniform", "He uniform", "U(±√(6/fan_in))",
                lambda w, seed, stream: _api.he_uniform_(w, layout="keras", seed=seed, stream=stream), True),
    Initializer("he_normal", "He normal", "N(0, 2/fan_in)",
                lambda w, seed, stream: _api.he_normal_(w, layout="keras", seed=seed, stream=stream), True),
    Initializer("lecun_normal", "LeCun normal", "N(0, 1/fan_in)",
                lambda w, seed, stream: _api.lecun_normal_(w, layout="keras", seed=seed, stream=stream), True),
)}

# ----------------------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    # f'(a) written in terms of the output h = f(a) (and a, for ReLU), which backprop has at hand
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]
    # the fraction of a layer that no longer passes gradient: see saturated_fraction()
    hist_range: tuple[float, float] | None  # histogram x range; None: chosen from the data (ReLU)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-a), written so that neither branch overflows
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    ea = np.exp(a[~pos])
    out[~pos] = ea / (1.0 + ea)
    return out


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation("tanh", np.tanh, lambda a, h: 1.0 - h * h, (-1.0, 1.0)),          # tanh' = 1 - tanh²
    Activation("sigmoid", _sigmoid, lambda a, h: h * (1.0 - h), (0.0, 1.0)),     # σ' = σ(1 - σ)
    Activation("relu", lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(a.dtype), None),
)}

SATURATION = 0.99  # tanh |h| > 0.99 (|a| > 2.65), sigmoid h < 0.01 or h > 0.99 (|a| > 4.6)


def saturated_fraction(activation: str, h: np.ndarray) -> float:
    """tanh and sigmoid: the share of activations in the flat tails, where f'(a) < 0.02 (about);
    ReLU: the share of *dead units*, units that output 0 for every example of the batch (their
    gradient is 0 for all of them, so they never recover)."""
    if activation == "tanh":
        return float(np.mean(np.abs(h) > SATURATION))
    if activation == "sigmoid":
        return float(np.mean((h < 1.0 - SATURATION) | (h > SATURATION)))
    return float(np.mean(np.all(h <= 0.0, axis=0)))


# ----------------------------------------------------------------------------- the network


@dataclass
class Network:
    """A fully connected network: h_0 = x, a_l = h_{l-1} W_l + b_l, h_l = f(a_l) for the hidden
    layers; an optional linear output layer on top (``output=True``, for training)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activation: Activation
    output: bool  # the last layer is linear (a logit), not followed by f

    @classmethod
    def build(cls, sizes: Sequence[int], initializer: Initializer, activation: Activation, seed: int,
              first_stream: int, output: bool) -> Network:
        weights, biases = [], []
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            w = np.empty((fan_in, fan_out), np.float64)  # (fan_in, fan_out): x @ W, layout="keras"
            weights.append(initializer.fill(w, seed, first_stream + layer))
            biases.append(_api.zeros_(np.empty(fan_out, np.float64)))
        return cls(weights, biases, activation, output)

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(pre-activations a_1..a_n, outputs h_0 = x, h_1..h_n); the output layer's h is its a."""
        pre, outs = [], [x]
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            a = outs[-1] @ w + b                       # a_l = h_{l-1} W_l + b_l
            pre.append(a)
            outs.append(a if (self.output and layer == last) else self.activation.forward(a))
        return pre, outs

    def backward(self, pre: list[np.ndarray], outs: list[np.ndarray],
                 grad_top: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Weight and bias gradients given dL/dh_n (``grad_top``), by the chain rule:
        delta_l = dL/da_l = dL/dh_l * f'(a_l);  dL/dW_l = h_{l-1}^T delta_l;
        dL/db_l = sum over the batch of delta_l;  dL/dh_{l-1} = delta_l W_l^T."""
        grad_w: list[np.ndarray] = [np.empty(0)] * len(self.weights)
        grad_b: list[np.ndarray] = [np.empty(0)] * len(self.weights)
        grad_h = grad_top
        last = len(self.weights) - 1
        for layer in range(last, -1, -1):
            if self.output and layer == last:
                delta = grad_h                          # linear output: f' = 1
            else:
                delta = grad_h * self.activation.derivative(pre[layer], outs[layer + 1])
            grad_w[layer] = outs[layer].T @ delta
            grad_b[layer] = delta.sum(axis=0)
            if layer:
                grad_h = delta @ self.weights[layer].T
        return grad_w, grad_b


# ----------------------------------------------------------------------------- 1. signal propagation

HIST_BINS = 30


@dataclass
class LayerStats:
    mean: float
    std: float
    saturated: float           # saturated_fraction(): tanh/sigmoid tails, or ReLU dead units
    grad_norm: float           # ||dL/dW_l||_F
    zeros: float               # share of activations exactly 0 (ReLU's inactive units; left out of hist)
    hist: np.ndarray           # counts in HIST_BINS equal bins over hist_range
    hist_range: tuple[float, float]


def propagation(initializer: Initializer, activation: Activation, layers: int, width: int, batch: int,
                seed: int) -> list[LayerStats]:
    """One forward and one backward pass through ``layers`` layers of ``width`` units (no output
    layer) on a batch of N(0, 1) inputs. The backward pass starts from a random upstream gradient
    dL/dh_L ~ N(0, 1) / batch (the loss L = mean over the batch of g · h_L with g fixed), so what
    the gradient norms show is how each initializer carries a gradient down, not a particular loss."""
    net = Network.build([width] * (layers + 1), initializer, activation, seed, 0, output=False)
    x = _api.normal((batch, width), dtype=np.float64, seed=seed, stream=INPUT_STREAM)
    g = _api.normal((batch, width), dtype=np.float64, seed=seed, stream=INPUT_STREAM + 1) / batch
    with np.errstate(all="ignore"):
        pre, outs = net.forward(x)
        grad_w, _ = net.backward(pre, outs, g)
        hidden = outs[1:]
        if activation.hist_range is not None:
            span = activation.hist_range
        else:  # ReLU: one range for every layer, so growth and decay show; 0 and outliers clipped in
            stds = [float(np.std(h)) for h in hidden]
            finite = [v for v in stds if math.isfinite(v) and v > 0]  # an overflowing layer has std inf or nan
            top = 3.0 * max(finite) if finite else 1.0
            span = (0.0, top)
        stats = []
        for h, gw in zip(hidden, grad_w):
            zeros = float(np.mean(h == 0.0))
            values = h[h != 0.0] if activation.name == "relu" else h  # ReLU's zeros would dwarf the rest
            clipped = np.clip(np.nan_to_num(values, nan=span[0], posinf=span[1], neginf=span[0]), *span)
            counts, _ = np.histogram(clipped, bins=HIST_BINS, range=span)
            stats.append(LayerStats(float(np.mean(h)), float(np.std(h)), saturated_fraction(activation.name, h),
                                    float(np.linalg.norm(gw)), zeros, counts, span))
    return stats


INPUT_STREAM = 1 << 32     # streams of the random inputs and upstream gradient
TRAIN_STREAM = 1 << 20     # first stream of the trained network's weights
DATA_STREAM = 1 << 33      # streams of the data set

# ----------------------------------------------------------------------------- 2. training

DATASETS = ("circles", "spirals")


def make_dataset(name: str, n: int, seed: int, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points (x in R^2, label y in {0, 1}), half of each class, from fastinit streams.

    circles: class 0 on a ring of radius 0.5, class 1 of radius 1, radial noise N(0, 0.08²);
    spirals: two interleaved arms r = t, angle = 3.5 pi t (+ pi for class 1), t in [0.1, 1],
    noise N(0, 0.04²) on each coordinate. Both are scaled to about unit spread."""
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is not one of {', '.join(DATASETS)}")
    half = n // 2
    y = np.concatenate([np.zeros(half), np.ones(n - half)])
    u = _api.uniform((n,), dtype=np.float64, seed=seed, stream=stream)
    z = _api.normal((n, 2), dtype=np.float64, seed=seed, stream=stream + 1)
    if name == "circles":
        radius = np.where(y == 0, 0.5, 1.0) + 0.08 * z[:, 0]
        angle = 2.0 * math.pi * u
        x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    else:
        t = 0.1 + 0.9 * u
        angle = 3.5 * math.pi * t + math.pi * y
        x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) + 0.04 * z
    return 1.4 * x, y  # about unit standard deviation per coordinate


def _bce(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of sigmoid(logits) and its gradient with respect to the logits:
    L = mean(log(1 + e^z) - y z) (softplus written stably), dL/dz = (sigmoid(z) - y) / n."""
    z = logits[:, 0]
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    grad = (_sigmoid(z) - y) / len(y)
    return loss, grad[:, None]


@dataclass
class Training:
    losses: list[float]           # training loss before each step, then after the last
    accuracy: float               # on a held-out set from the same distribution
    train_accuracy: float
    boundary: np.ndarray          # P(class 1) on a GRID x GRID grid over ``extent``
    extent: tuple[float, float]   # the grid covers [lo, hi]^2
    points: np.ndarray            # training inputs, (n, 2)
    labels: np.ndarray
    symmetric: bool               # every hidden layer's units still identical after training
    diverged: bool                # a non-finite loss or weight appeared


GRID = 36
SYMMETRY_TOLERANCE = 1e-9  # relative: units whose incoming weights differ by less count as identical


def units_identical(weights: Sequence[np.ndarray]) -> bool:
    """True when, in every hidden layer, all units have the same incoming weights (the columns of
    W_l are equal up to SYMMETRY_TOLERANCE of the layer's largest weight): those units compute the
    same function, receive the same gradient, and stay copies of each other."""
    for w in weights:
        if not np.all(np.isfinite(w)):
            return False
        scale = max(float(np.max(np.abs(w))), 1e-300)
        if float(np.max(np.abs(w - w[:, :1]))) > SYMMETRY_TOLERANCE * scale:
            return False
    return True


def train(initializer: Initializer, activation: Activation, layers: int, width: int, steps: int, lr: float,
          momentum: float, dataset: str, points: int, seed: int,
          progress: Callable[[int], None] | None = None) -> Training:
    """Full-batch gradient descent with momentum on ``points`` training points:
    v <- momentum v - lr dL/dθ;  θ <- θ + v, for every weight and bias."""
    x, y = make_dataset(dataset, points, seed, DATA_STREAM)
    x_test, y_test = make_dataset(dataset, points, seed, DATA_STREAM + 2)
    net = Network.build([2] + [width] * layers + [1], initializer, activation, seed, TRAIN_STREAM, output=True)
    velocity = [np.zeros_like(p) for p in net.weights + net.biases]
    losses: list[float] = []
    diverged = False
    tick, reported = max(1, steps // 50), 0  # progress is told every `tick` steps
    with np.errstate(all="ignore"):
        for step in range(steps):
            pre, outs = net.forward(x)
            loss, grad_logits = _bce(outs[-1], y)
            losses.append(loss)
            if not math.isfinite(loss):
                diverged = True
                break
            grad_w, grad_b = net.backward(pre, outs, grad_logits)
            for param, grad, vel in zip(net.weights + net.biases, grad_w + grad_b, velocity):
                vel *= momentum
                vel -= lr * grad
                param += vel
            if progress is not None and (step + 1) % tick == 0:
                progress(tick)
                reported += tick
        if progress is not None and steps > reported:  # the rest, also after a divergence
            progress(steps - reported)
        if not diverged:
            losses.append(_bce(net.forward(x)[1][-1], y)[0])
            diverged = not math.isfinite(losses[-1])

        def predict(inputs: np.ndarray) -> np.ndarray:
            return _sigmoid(net.forward(inputs)[1][-1][:, 0])

        lo, hi = float(min(x.min(), x_test.min())) - 0.3, float(max(x.max(), x_test.max())) + 0.3
        axis = np.linspace(lo, hi, GRID)
        gx, gy = np.meshgrid(axis, axis[::-1])  # row 0 is the top of the picture (largest y)
        boundary = predict(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(GRID, GRID)
        accuracy = float(np.mean((predict(x_test) > 0.5) == (y_test == 1)))
        train_accuracy = float(np.mean((predict(x) > 0.5) == (y == 1)))
    diverged = diverged or not all(np.all(np.isfinite(w)) for w in net.weights)
    return Training(losses, accuracy, train_accuracy, boundary, (lo, hi), x, y,
                    units_identical(net.weights[:-1]), diverged)


# ----------------------------------------------------------------------------- the whole demo


@dataclass
class Config:
    layers: int = 10
    width: int = 256
    batch: int = 256
    train_width: int = 32
    steps: int = 300
    lr: float = 0.05
    momentum: float = 0.9
    dataset: str = "circles"
    points: int = 256
    seed: int = 0
    activations: list[str] = field(default_factory=lambda: list(ACTIVATIONS))
    initializers: list[str] = field(default_factory=lambda: list(INITIALIZERS))

    def check(self) -> None:
        """ValueError naming the first bad setting (before anything runs or is written)."""
        for name in ("layers", "width", "batch", "train_width", "points"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.points < 4:
            raise ValueError(f"points must be at least 4, got {self.points}")
        if not isinstance(self.steps, int) or self.steps < 0:
            raise ValueError(f"steps must be a non-negative integer, got {self.steps!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not 0 <= self.seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {self.seed}")
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset {self.dataset!r} is not one of {', '.join(DATASETS)}")
        for kind, chosen, known in (("activation", self.activations, ACTIVATIONS),
                                    ("initializer", self.initializers, INITIALIZERS)):
            if not chosen:
                raise ValueError(f"no {kind} chosen (known: {', '.join(known)})")
            for name in chosen:
                if name not in known:
                    raise ValueError(f"unknown {kind} {name!r} (known: {', '.join(known)})")


@dataclass
class Case:
    initializer: Initializer
    activation: Activation
    layers: list[LayerStats]
    training: Training | None


def run(config: Config, progress: bool = True) -> list[Case]:
    """Every (activation, initializer) case of ``config``: propagation statistics, then training
    (skipped when ``config.steps == 0``). A tqdm bar counts training steps when tqdm is installed
    and ``progress`` is true."""
    config.check()
    pairs = [(ACTIVATIONS[a], INITIALIZERS[i]) for a in config.activations for i in config.initializers]
    bar = _progress_bar(len(pairs) * config.steps) if progress and config.steps else None
    cases = []
    try:
        for activation, initializer in pairs:
            if bar is not None:
                bar.set_description(f"training {activation.name} {initializer.name}")
            stats = propagation(initializer, activation, config.layers, config.width, config.batch, config.seed)
            training = None
            if config.steps:
                training = train(initializer, activation, config.layers, config.train_width, config.steps,
                                 config.lr, config.momentum, config.dataset, config.points, config.seed,
                                 progress=None if bar is None else bar.update)
            cases.append(Case(initializer, activation, stats, training))
    finally:
        if bar is not None:
            bar.close()
    return cases


def _progress_bar(total: int) -> Any:
    """A tqdm bar on stderr, or None when tqdm is not installed (the demo runs the same)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="training", unit="step", file=sys.stderr)


# ----------------------------------------------------------------------------- the table


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf"
    if value == 0:
        return "0"
    return f"{value:.2e}" if (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3f}"


def table(cases: Sequence[Case]) -> str:
    """A Markdown table: one row per (activation, initializer)."""
    if not cases:
        return ""
    n = len(cases[0].layers)
    head = ["activation", "initializer", "std L1", f"std L{n}", f"std L{n}/L1", "sat./dead L1", f"sat./dead L{n}",
            "|dW| L1", f"|dW| L{n}", "loss", "test acc.", "units identical"]
    rows = []
    for c in cases:
        first, last = c.layers[0], c.layers[-1]
        ratio = last.std / first.std if first.std > 0 else float("nan")
        row = [c.activation.name, c.initializer.label, _fmt(first.std), _fmt(last.std), _fmt(ratio),
               f"{100 * first.saturated:.0f}%", f"{100 * last.saturated:.0f}%", _fmt(first.grad_norm),
               _fmt(last.grad_norm)]
        t = c.training
        if t is None:
            row += ["-", "-", "-"]
        else:
            row += ["diverged" if t.diverged else _fmt(t.losses[-1]), f"{100 * t.accuracy:.1f}%",
                    "yes" if t.symmetric else "no"]
        rows.append(row)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(cells, widths)) + " |"

    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def legend(config: Config) -> str:
    """What the table's columns mean, printed under it."""
    return (f"Signal propagation: {config.layers} layers of {config.width} units, a batch of {config.batch} "
            f"N(0,1) inputs, seed {config.seed}. std Lk: std of layer k's activations; sat./dead: tanh/sigmoid "
            f"share of |h| beyond {SATURATION} of its range, ReLU share of units at 0 on the whole batch; "
            f"|dW| Lk: Frobenius norm of layer k's weight gradient for a random upstream gradient.\n"
            f"Training: {config.layers} layers of {config.train_width} units, {config.steps} full-batch steps of "
            f"SGD (lr {config.lr:g}, momentum {config.momentum:g}) on {config.points} {config.dataset} points; loss: "
            f"final binary cross-entropy; test acc.: on {config.points} fresh points; units identical: every "
            f"hidden layer's units still have equal weights (symmetry never broken).")
