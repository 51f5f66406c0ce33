"""The drop-in functions: every public function of ``torch.nn.init``, same name, signature,
defaults and return value, filled by the fastinit core."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import _api, _call, _contract, _params
from .._fans import calculate_gain as _calculate_gain
from .._fans import fans
from .._generator import resolve
from .._params import BFLOAT16, FLOAT16, FLOAT32, FLOAT64
from . import _dtensor  # dist (issue 13)
from ._streams import _FixedStream, _naming, _stream_args, draw_seed_stream

_CODES = {torch.float32: FLOAT32, torch.float64: FLOAT64, torch.bfloat16: BFLOAT16, torch.float16: FLOAT16}
_TORCH_INIT = torch.nn.init
# torch's own functions, captured before any patching (eye_ and dirac_ draw no random numbers)
_ORIGINAL = {name: getattr(_TORCH_INIT, name) for name in (
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
    "sparse_",
)}

_PLAIN = (torch.Tensor, torch.nn.Parameter)
# distribution codes of the core's raw entry (fastinit._call.fill_raw)
UNIFORM, NORMAL, TRUNC_NORMAL, CONSTANT = _contract.UNIFORM, _contract.NORMAL, _contract.TRUNC_NORMAL, _contract.CONSTANT


def resolved_tuple(dist: int, code: int, params: tuple[float, ...]) -> tuple:
    """A plan's (dist, params) for dtype code ``code`` as the resolved tuple of fastinit._call
    (dist, code, p0..p3), the unused parameters 0.0."""
    return (dist, code, *params, *_NO_PARAMS[len(params):])


def fill_at(dist: int, address: int, count: int, code: int, seed: int, stream: int, offset: int,
            params: tuple[float, ...]) -> None:
    """One checked fill of raw memory through the core's raw entry (fastinit._call.fill_raw)."""
    _call.fill_raw(address, count, code, seed, stream, offset, resolved_tuple(dist, code, params))


_NO_PARAMS = (0.0, 0.0, 0.0, 0.0)


class _Bound:
    """One checked fill: distribution code, parameters, seed and stream. Called with a raw
    target (what ``_raw`` gives) it fills it; ``at`` fills memory given by address."""

    __slots__ = ("dist", "params", "seed", "stream")

    def __init__(self, dist: int, params: tuple[float, ...], seed: int, stream: int):
        self.dist, self.params, self.seed, self.stream = dist, params, seed, stream

    def at(self, address: int, count: int, code: int, offset: int = 0) -> None:
        fill_at(self.dist, address, count, code, self.seed, self.stream, offset, self.params)

    def __call__(self, raw: Any) -> None:
        arr, code = (raw.arr, raw.code) if isinstance(raw, _api.RawBuffer) else (raw, _api._dtype_code(raw.dtype))
        self.at(arr.ctypes.data, arr.size, code)


def _bind(plan: tuple[int, tuple[float, ...]], stream_args: dict[str, Any]) -> _Bound:
    """The plan with explicit (seed, stream): a fastinit.Generator hands out its next stream."""
    seed = stream_args.get("seed")
    if seed is not None:
        return _Bound(plan[0], plan[1], seed, stream_args.get("stream", 0))
    seed, stream = resolve(None, None, stream_args["generator"])
    return _Bound(plan[0], plan[1], seed, stream)


# ---------------------------------------------------------------------------------- plans
# A plan is (distribution code, parameters), checked and resolved by fastinit._call's
# resolvers (nothing is re-checked here). Model construction repeats a few (kind, shape, dtype,
# arguments) many times, so plans are remembered (the calls branch's prepared calls may take
# this over).

_PLANS: dict[tuple, tuple[int, tuple[float, ...]]] = {}


def _resolve_plan(kind: str, shape: tuple[int, ...], code: int, args: tuple) -> tuple[int, tuple[float, ...]]:
    if kind == "uniform":
        r = _call.resolve_uniform(code, *args)
    elif kind == "normal":
        r = _call.resolve_normal(code, *args)
    elif kind == "trunc_normal":
        r = _call.resolve_trunc_normal(code, *args)
    elif kind == "constant":
        r = _call.resolve_constant(code, args[0])
    else:  # "variance": (scale, mode, distribution), fans from the shape in torch's layout
        r = _call.resolve_variance_scaling(tuple(shape), code, *args)
    return r[0], r[2:2 + _contract.PARAM_COUNT[r[0]]]


def plan(kind: str, shape: tuple[int, ...], code: int, args: tuple) -> tuple[int, tuple[float, ...]]:
    """The checked fill of ``kind`` ("uniform" (low, high), "normal" (mean, std),
    "trunc_normal" (mean, std, a, b), "constant" (value,), "variance" (scale, mode,
    distribution)) for a tensor of this shape and dtype code. ValueError/TypeError as
    fastinit's core raises them, before anything is written."""
    key = _plan_key(kind, shape, code, args)
    found = _PLANS.get(key)
    if found is not None:
        return found
    found = _resolve_plan(kind, tuple(shape), code, args)
    if kind != "constant":  # constants: -0.0 == 0.0 would share an entry
        if len(_PLANS) >= 4096:
            _PLANS.clear()
        _PLANS[key] = found
    return found


def _plan_key(kind: str, shape: tuple[int, ...], code: int, args: tuple) -> tuple:
    # -0.0 and 0.0, or 1 and 1.0, share an entry: their plans give the same values (so
    # constants, where -0.0 and 0.0 differ, are never remembered)
    return (kind, shape if kind == "variance" else None, code, args)


# The same plans as fastinit._call's resolved tuples (dist, dtype code, p0..p3), for the
# fast path of _random: building the tuple on every call cost about 0.3 us of a 64-element
# fill's 2.5 us (benchmarks/test_torch_calls.py). Same keys, and filled only from plan().
_RESOLVED: dict[tuple, tuple] = {}


def resolved(kind: str, shape: tuple[int, ...], code: int, args: tuple) -> tuple:
    """``plan`` as the resolved tuple that ``fastinit._call.fill_raw`` takes."""
    key = _plan_key(kind, shape, code, args)
    found = _RESOLVED.get(key)
    if found is None:
        dist, params = plan(kind, shape, code, args)
        found = resolved_tuple(dist, code, params)
        if kind != "constant":  # as plan(): -0.0 == 0.0 would share an entry
            if len(_RESOLVED) >= 4096:
                _RESOLVED.clear()
            _RESOLVED[key] = found
    return found


def _raw(tensor: torch.Tensor) -> Any:
    """A writable view of a contiguous CPU tensor for the fastinit core."""
    code = _CODES[tensor.dtype]
    if code in (BFLOAT16, FLOAT16):
        return _api.RawBuffer(tensor.view(torch.int16).numpy().view(np.uint16), code)
    return tensor.numpy()


def _code_of(tensor: torch.Tensor) -> int | None:
    """The dtype code of a tensor to fill; None for a meta tensor (a no-op, as in torch)."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.is_meta:
        return None
    code = _CODES.get(tensor.dtype)
    if code is None:
        raise TypeError(
            f"fastinit.torch fills float32, float64, bfloat16 and float16 tensors, got {tensor.dtype}"
        )
    return code


def _fill(tensor: torch.Tensor, fill: Callable[[Any], Any]) -> torch.Tensor:
    """Run ``fill`` on the tensor's memory (or on a contiguous CPU copy, written back).

    The one place where a tensor becomes a raw target, but for two inlined copies of its
    direct case (a plain ``torch.Tensor``/``nn.Parameter``, contiguous, on the CPU: written by
    address) in ``_random`` and in a pending fill's write, for the per-call cost. Anything
    else (subclasses such as DTensor, other devices, non-contiguous views) comes here. ``fill``
    is a ``_Bound`` (a checked fill) or any callable taking what ``_raw`` gives."""
    code = _code_of(tensor)
    if code is None:
        return tensor
    if _dtensor.needs_routing(tensor):
        # dist (issue 13): a DTensor fills its local shard with the values of the whole, a
        # device tensor is filled on its device (fastinit.torch._dtensor)
        with torch.no_grad():
            _dtensor.fill_(tensor, fill)
        if _naming.names is not None:
            _naming.mark(tensor)
        return tensor
    direct = tensor.is_cpu and tensor.is_contiguous()
    if direct and type(fill) is _Bound:
        fill.at(tensor.data_ptr(), tensor.numel(), code)
    else:
        with torch.no_grad():
            # device="cpu" explicitly: under torch.set_default_device("cuda") a bare torch.empty
            # would land on the GPU, where the fastinit core cannot write
            target = tensor.detach() if direct else torch.empty(tuple(tensor.shape), dtype=tensor.dtype, device="cpu")
            fill(_raw(target))
            if not direct:
                tensor.copy_(target)
    if _naming.names is not None:
        _naming.mark(tensor)
    return tensor


# set by fastinit.torch._intercept: records the fill as pending when this thread is inside
# patch() and the tensor is a whole CPU tensor (returns True), else returns False
_defer: Callable[[torch.Tensor, _Bound], bool] = lambda tensor, bound: False


def _submit(tensor: torch.Tensor, bound: _Bound) -> torch.Tensor:
    """Fill now, or (inside patch()) record the fill as pending."""
    if not _defer(tensor, bound):
        _fill(tensor, bound)
    return tensor


class _NoIntercept:
    depth = 0


# fastinit.torch._intercept puts its per-thread state here (depth > 0: inside patch())
_intercept_state: Any = _NoIntercept()


def _random(tensor: torch.Tensor, kind: str, args: tuple, generator: Any, now: bool = False) -> torch.Tensor:
    """A fill of ``kind`` (see ``plan``): checks, then one seed/stream, then the fill (or,
    inside patch(), a pending fill; ``now`` writes at once, for a tensor read right after)."""
    if (generator is None and type(tensor) in _PLAIN and _naming.names is None and not _intercept_state.depth
            and tensor.is_cpu and tensor.is_contiguous() and not _dtensor._torch_ops_on_cpu):
        # the common case in one go: a contiguous CPU tensor, torch's default generator
        code = _CODES.get(tensor.dtype)
        if code is not None:
            # the shape only keys the fan-based plans (reading it costs 0.1-0.2 us)
            r = resolved(kind, tensor.shape if kind == "variance" else (), code, args)
            seed, stream = draw_seed_stream()
            _call.fill_raw(tensor.data_ptr(), tensor.numel(), code, seed, stream, 0, r)
            return tensor
    code = _code_of(tensor)
    if code is None:
        return tensor
    found = plan(kind, tensor.shape, code, args)
    bound = _bind(found, _stream_args(tensor, generator))
    if not now and _defer(tensor, bound):
        return tensor
    if (type(tensor) in _PLAIN and tensor.is_cpu and tensor.is_contiguous()
            and not _dtensor._torch_ops_on_cpu):  # _fill's direct case, inline
        bound.at(tensor.data_ptr(), tensor.numel(), code)
        if _naming.names is not None:
            _naming.mark(tensor)
        return tensor
    return _fill(tensor, bound)


def _check_torch_mode(mode: str) -> str:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    return mode


def _fans_of(tensor: torch.Tensor) -> tuple[int, int]:
    """torch's fans of a weight (out, in, *kernel); ValueError below 2 dimensions, as torch."""
    return fans(tuple(tensor.shape), "torch")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the recommended gain for a nonlinearity (torch's table; see fastinit.calculate_gain)."""
    return _calculate_gain(nonlinearity, param)


def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Fill ``tensor`` with values from :math:`\mathcal{U}(a, b)` (as ``torch.nn.init.uniform_``).

    >>> w = uniform_(torch.empty(3, 5), -1.0, 1.0)
    """
    return _random(tensor, "uniform", (a, b), generator)


def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Fill ``tensor`` with values from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`
    (as ``torch.nn.init.normal_``; Box-Muller on fastinit's stream).

    >>> w = normal_(torch.empty(3, 5), 0.0, 0.02)
    """
    return _random(tensor, "normal", (mean, std), generator)


def trunc_normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
    generator: Any = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with :math:`\mathcal{N}(\text{mean}, \text{std}^2)` truncated to [a, b]
    (absolute bounds, as ``torch.nn.init.trunc_normal_``), by inverse CDF from the nearer
    tail: no value piles up at a bound, even for ``std`` much smaller than ``b - a``.

    >>> w = trunc_normal_(torch.empty(3, 5), std=0.02, a=-0.04, b=0.04)
    """
    return _random(tensor, "trunc_normal", (mean, std, a, b), generator)


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill ``tensor`` with ``val`` (as ``torch.nn.init.constant_``)."""
    if not isinstance(tensor, torch.Tensor) or tensor.dtype not in _CODES or tensor.is_meta:
        return _ORIGINAL["constant_"](tensor, val)
    return _submit(tensor, _Bound(*plan("constant", (), _CODES[tensor.dtype], (val,)), 0, 0))


def ones_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill ``tensor`` with 1 (as ``torch.nn.init.ones_``)."""
    return constant_(tensor, 1.0)


def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill ``tensor`` with 0 (as ``torch.nn.init.zeros_``)."""
    return constant_(tensor, 0.0)


def eye_(tensor: torch.Tensor) -> torch.Tensor:
    """The identity matrix (torch's own ``eye_``: nothing random to speed up)."""
    return _ORIGINAL["eye_"](tensor)


def dirac_(tensor: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """The Dirac delta for convolutions (torch's own ``dirac_``: nothing random)."""
    return _ORIGINAL["dirac_"](tensor, groups)


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Glorot/Xavier uniform, :math:`\mathcal{U}(-a, a)` with
    :math:`a = \text{gain} \sqrt{6 / (\text{fan\_in} + \text{fan\_out})}` ("Understanding the
    difficulty of training deep feedforward neural networks" - Glorot & Bengio (2010)).

    >>> w = xavier_uniform_(torch.empty(3, 5), gain=calculate_gain("relu"))
    """
    return _random(tensor, "variance", (_params.squared("gain", gain), "fan_avg", "uniform"), generator)


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Glorot/Xavier normal (untruncated, as torch),
    :math:`\text{std} = \text{gain} \sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`.

    >>> w = xavier_normal_(torch.empty(3, 5))
    """
    return _random(tensor, "variance", (_params.squared("gain", gain), "fan_avg", "normal"), generator)


def _kaiming(distribution: str, tensor: torch.Tensor, a: float, mode: str, nonlinearity: str,
             generator: Any) -> torch.Tensor:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    mode = _check_torch_mode(mode)  # fans (and their errors) come with the plan, remembered per shape
    return _random(tensor, "variance", (_call.gain_squared(nonlinearity, a), mode, distribution), generator)


def kaiming_uniform_(
    tensor: torch.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> torch.Tensor:
    r"""He/Kaiming uniform, :math:`\mathcal{U}(-b, b)` with
    :math:`b = \text{gain} \sqrt{3 / \text{fan\_mode}}` ("Delving Deep into Rectifiers" - He
    et al. (2015)). ``nn.Linear`` uses ``a=math.sqrt(5)``.

    >>> w = kaiming_uniform_(torch.empty(3, 5), mode="fan_in", nonlinearity="relu")
    """
    return _kaiming("uniform", tensor, a, mode, nonlinearity, generator)


def kaiming_normal_(
    tensor: torch.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> torch.Tensor:
    r"""He/Kaiming normal (untruncated), :math:`\text{std} = \text{gain} / \sqrt{\text{fan\_mode}}`.

    >>> w = kaiming_normal_(torch.empty(3, 5), mode="fan_out", nonlinearity="relu")
    """
    return _kaiming("normal", tensor, a, mode, nonlinearity, generator)


def orthogonal_(tensor: torch.Tensor, gain: float = 1, generator: Any = None) -> torch.Tensor:
    r"""A (semi-)orthogonal matrix ("Exact solutions to the nonlinear dynamics of learning in
    deep linear neural networks" - Saxe, McClelland & Ganguli (2013)): the Q factor of a
    Gaussian matrix, with the signs of R's diagonal folded in so that Q is Haar-distributed
    (Mezzadri (2007)), times ``gain``. Tensors of more than 2 dimensions are flattened to
    (size(0), numel / size(0)).

    >>> w = orthogonal_(torch.empty(3, 5))
    """
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0 or tensor.device.type == "meta":
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    work_dtype = torch.float64 if tensor.dtype == torch.float64 else torch.float32
    gaussian = torch.empty((rows, cols), dtype=work_dtype, device="cpu")
    _random(gaussian, "normal", (0.0, 1.0), _child_generator(tensor, generator), now=True)
    if rows < cols:
        gaussian = gaussian.t()
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r, 0))
    if rows < cols:
        q = q.t()
    with torch.no_grad():
        tensor.copy_((q * gain).reshape(tensor.shape))
    _naming.mark(tensor)
    return tensor


def sparse_(tensor: torch.Tensor, sparsity: float, std: float = 0.01, generator: Any = None) -> torch.Tensor:
    r"""A sparse matrix ("Deep learning via Hessian-free optimization" - Martens (2010)): values
    from :math:`\mathcal{N}(0, \text{std}^2)`, and in each column ``ceil(sparsity * rows)``
    entries, chosen at random, set to zero.

    >>> w = sparse_(torch.empty(3, 5), sparsity=0.1)
    """
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    args = _stream_args(tensor, generator)
    _random(tensor, "normal", (0.0, std), _FixedStream(args), now=True)
    if num_zeros and tensor.device.type != "meta":
        # which rows are zeroed: the order of random keys, one independent stream per call
        keys = np.empty((rows, cols), np.uint64)
        _api.random_bits_(keys, **_next_stream(args))
        zero_rows = np.argsort(keys, axis=0, kind="stable")[:num_zeros]
        with torch.no_grad():
            mask = torch.zeros((rows, cols), dtype=torch.bool, device="cpu")
            mask[torch.from_numpy(zero_rows), torch.arange(cols, device="cpu")] = True
            tensor.masked_fill_(mask.to(tensor.device), 0)
    return tensor


def _next_stream(args: dict[str, Any]) -> dict[str, Any]:
    """A second, independent stream for the same call (a fastinit Generator gives its next)."""
    if "generator" in args:
        return {"generator": args["generator"]}
    return {"seed": args["seed"], "stream": (args.get("stream", 0) + 0x9E3779B97F4A7C15) % 2**64}


def _child_generator(tensor: torch.Tensor, generator: Any) -> _FixedStream:
    return _FixedStream(_stream_args(tensor, generator))
