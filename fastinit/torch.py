"""fastinit for torch: a drop-in replacement for ``torch.nn.init``, fast model construction,
and per-name reproducible initialization.

Switching is one line::

    import fastinit.torch as init        # instead of: import torch.nn.init as init

Every public function of ``torch.nn.init`` exists here with the same name, signature,
defaults and return value, and draws from the same distribution with the same variance. The
values are not torch's bits: fastinit has its own generator (Philox4x32-10, see
docs/stream-contract.md). Differences from torch, all documented in docs/torch.md:

- ``generator`` may be a ``torch.Generator`` (or None for torch's default generator): one
  64-bit seed is drawn from it per call, so ``torch.manual_seed(s)`` followed by the same
  calls gives the same weights. A ``fastinit.Generator`` is used directly (next stream).
- Supported dtypes: float32, float64, bfloat16, float16. Non-contiguous tensors are filled in
  logical (row-major) order through a contiguous copy. Meta tensors are a no-op, as in
  torch. Tensors on other devices (CUDA, MPS) are filled on the CPU and copied over.
- Arguments are validated more strictly than torch does (e.g. ``std < 0``, ``a >= b`` raise
  ``ValueError`` before anything is written).

This module imports torch; ``import fastinit`` alone never does.
"""
from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import math
import sys
import threading
import warnings
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from . import _api
from ._fans import calculate_gain as _calculate_gain
from ._fans import fans
from ._generator import Generator
from ._params import BFLOAT16, FLOAT16, FLOAT32, FLOAT64

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_", "patch", "install", "uninstall", "init_model", "shard_",
    "stream_for_name",
]

_CODES = {torch.float32: FLOAT32, torch.float64: FLOAT64, torch.bfloat16: BFLOAT16, torch.float16: FLOAT16}
_TORCH_INIT = torch.nn.init
# torch's own functions, captured before any patching (eye_ and dirac_ draw no random numbers)
_ORIGINAL = {name: getattr(_TORCH_INIT, name) for name in (
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
    "sparse_",
)}


# ------------------------------------------------------------------ seeds and streams


def stream_for_name(name: str, index: int = 0) -> int:
    """The stream of a parameter from its qualified name: the first 8 bytes (little-endian) of
    BLAKE2b-64 of ``"{name}#{index}"`` (UTF-8). ``index`` counts earlier random fills of the same
    tensor within one ``init_model`` call. Stable across processes, versions and machines."""
    digest = hashlib.blake2b(f"{name}#{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class _Naming(threading.local):
    """While ``init_model`` runs: tensor id -> qualified name, and the model's seed."""

    def __init__(self) -> None:
        self.names: dict[int, str] | None = None
        self.seed = 0
        self.count: dict[int, int] = {}
        self.touched: set[int] = set()


_naming = _Naming()


class _FixedStream:
    """A 'generator' that pins the (seed, stream) already chosen for a call (so that a
    function built on another, like orthogonal_ on normal_, takes one stream, not two)."""

    def __init__(self, args: dict[str, Any]):
        self.args = args


def _stream_args(tensor: torch.Tensor, generator: Any) -> dict[str, Any]:
    """fastinit's seed/stream/generator keywords for one fill of ``tensor``."""
    if isinstance(generator, _FixedStream):
        return generator.args
    names = _naming.names
    if names is not None and id(tensor) in names and generator is None:
        key = id(tensor)
        index = _naming.count.get(key, 0)
        _naming.count[key] = index + 1
        return {"seed": _naming.seed, "stream": stream_for_name(names[key], index)}
    if isinstance(generator, Generator):
        return {"generator": generator}
    if generator is None or isinstance(generator, torch.Generator):
        # one draw from torch's generator: torch.manual_seed(s) + the same calls = same weights
        # (drawn on the generator's device, the CPU for the default one, whatever the default device)
        device = generator.device if generator is not None else "cpu"
        seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64, generator=generator, device=device))
        return {"seed": seed}
    raise TypeError(f"generator must be a torch.Generator or a fastinit.Generator, got {type(generator).__name__}")


# --------------------------------------------------------------------- buffers


def _raw(tensor: torch.Tensor) -> Any:
    """A writable view of a contiguous CPU tensor for the fastinit core."""
    code = _CODES[tensor.dtype]
    if code in (BFLOAT16, FLOAT16):
        return _api.RawBuffer(tensor.view(torch.int16).numpy().view(np.uint16), code)
    return tensor.numpy()


def _fill(tensor: torch.Tensor, fill: Callable[[Any], Any]) -> torch.Tensor:
    """Run ``fill`` on the tensor's memory (or on a contiguous CPU copy, written back)."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.device.type == "meta":
        return tensor
    if tensor.dtype not in _CODES:
        raise TypeError(
            f"fastinit.torch fills float32, float64, bfloat16 and float16 tensors, got {tensor.dtype}"
        )
    with torch.no_grad():
        direct = tensor.device.type == "cpu" and tensor.is_contiguous()
        # device="cpu" explicitly: under torch.set_default_device("cuda") a bare torch.empty
        # would land on the GPU, where the fastinit core cannot write
        target = tensor.detach() if direct else torch.empty(tuple(tensor.shape), dtype=tensor.dtype, device="cpu")
        fill(_raw(target))
        if not direct:
            tensor.copy_(target)
    if _naming.names is not None:
        _naming.touched.add(id(tensor))
    return tensor


def _check_torch_mode(mode: str) -> str:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    return mode


def _fans_of(tensor: torch.Tensor) -> tuple[int, int]:
    """torch's fans of a weight (out, in, *kernel); ValueError below 2 dimensions, as torch."""
    return fans(tuple(tensor.shape), "torch")


# ------------------------------------------------------------ torch.nn.init's functions


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Return the recommended gain for a nonlinearity (torch's table; see fastinit.calculate_gain)."""
    return _calculate_gain(nonlinearity, param)


def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Fill ``tensor`` with values from :math:`\mathcal{U}(a, b)` (as ``torch.nn.init.uniform_``).

    >>> w = uniform_(torch.empty(3, 5), -1.0, 1.0)
    """
    return _fill(tensor, lambda buf: _api.uniform_(buf, a, b, **_stream_args(tensor, generator)))


def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Fill ``tensor`` with values from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`
    (as ``torch.nn.init.normal_``; Box-Muller on fastinit's stream).

    >>> w = normal_(torch.empty(3, 5), 0.0, 0.02)
    """
    return _fill(tensor, lambda buf: _api.normal_(buf, mean, std, **_stream_args(tensor, generator)))


def trunc_normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
    generator: Any = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` with :math:`\mathcal{N}(\text{mean}, \text{std}^2)` truncated to [a, b]
    (absolute bounds, as ``torch.nn.init.trunc_normal_``), by inverse CDF from the nearer
    tail: no value piles up at a bound, even for ``std`` much smaller than ``b - a``.

    >>> w = trunc_normal_(torch.empty(3, 5), std=0.02, a=-0.04, b=0.04)
    """
    return _fill(tensor, lambda buf: _api.trunc_normal_(buf, mean, std, a, b, **_stream_args(tensor, generator)))


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill ``tensor`` with ``val`` (as ``torch.nn.init.constant_``)."""
    if tensor.dtype not in _CODES or tensor.device.type == "meta":
        return _ORIGINAL["constant_"](tensor, val)
    return _fill(tensor, lambda buf: _api.constant_(buf, float(val)))


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
    _fans_of(tensor)
    return _fill(tensor, lambda buf: _api.xavier_uniform_(buf, gain, **_stream_args(tensor, generator)))


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: Any = None) -> torch.Tensor:
    r"""Glorot/Xavier normal (untruncated, as torch),
    :math:`\text{std} = \text{gain} \sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`.

    >>> w = xavier_normal_(torch.empty(3, 5))
    """
    _fans_of(tensor)
    return _fill(tensor, lambda buf: _api.xavier_normal_(buf, gain, **_stream_args(tensor, generator)))


def _kaiming(fill: Callable[..., Any], tensor: torch.Tensor, a: float, mode: str, nonlinearity: str,
             generator: Any) -> torch.Tensor:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    mode = _check_torch_mode(mode)
    _fans_of(tensor)
    calculate_gain(nonlinearity, a)
    return _fill(tensor, lambda buf: fill(buf, a, mode, nonlinearity, **_stream_args(tensor, generator)))


def kaiming_uniform_(
    tensor: torch.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> torch.Tensor:
    r"""He/Kaiming uniform, :math:`\mathcal{U}(-b, b)` with
    :math:`b = \text{gain} \sqrt{3 / \text{fan\_mode}}` ("Delving Deep into Rectifiers" - He
    et al. (2015)). ``nn.Linear`` uses ``a=math.sqrt(5)``.

    >>> w = kaiming_uniform_(torch.empty(3, 5), mode="fan_in", nonlinearity="relu")
    """
    return _kaiming(_api.kaiming_uniform_, tensor, a, mode, nonlinearity, generator)


def kaiming_normal_(
    tensor: torch.Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> torch.Tensor:
    r"""He/Kaiming normal (untruncated), :math:`\text{std} = \text{gain} / \sqrt{\text{fan\_mode}}`.

    >>> w = kaiming_normal_(torch.empty(3, 5), mode="fan_out", nonlinearity="relu")
    """
    return _kaiming(_api.kaiming_normal_, tensor, a, mode, nonlinearity, generator)


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
    normal_(gaussian, 0.0, 1.0, generator=_child_generator(tensor, generator))
    if rows < cols:
        gaussian = gaussian.t()
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r, 0))
    if rows < cols:
        q = q.t()
    with torch.no_grad():
        tensor.copy_((q * gain).reshape(tensor.shape))
    if _naming.names is not None:
        _naming.touched.add(id(tensor))
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
    normal_(tensor, 0.0, std, generator=_FixedStream(args))
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


# ------------------------------------------------------------ patching torch.nn.init

_PATCHED = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)
_patch_lock = threading.RLock()
_patch_depth = 0
_patch_undo: list[tuple[Any, str, Any]] = []


def install() -> None:
    """Route ``torch.nn.init`` (and every module that imported its functions by name, such as
    ``torch.nn.modules.activation``) through fastinit. Nested calls are counted; each
    ``install`` needs one ``uninstall``."""
    global _patch_depth
    with _patch_lock:
        _patch_depth += 1
        if _patch_depth > 1:
            return
        mine = sys.modules[__name__]
        originals = {id(_ORIGINAL[name]): name for name in _PATCHED}
        for module in list(sys.modules.values()):
            if module is None or module is mine:
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attr, value in list(namespace.items()):
                name = originals.get(id(value))
                if name is not None and value is _ORIGINAL[name]:
                    _patch_undo.append((module, attr, value))
                    setattr(module, attr, getattr(mine, name))


def uninstall() -> None:
    """Undo one ``install`` (the originals come back when the outermost one is undone)."""
    global _patch_depth
    with _patch_lock:
        if _patch_depth == 0:
            return
        _patch_depth -= 1
        if _patch_depth:
            return
        while _patch_undo:
            module, attr, value = _patch_undo.pop()
            setattr(module, attr, value)


@contextlib.contextmanager
def patch() -> Iterator[None]:
    """Context manager: inside it, modules built with ``torch.nn.init`` use fastinit.

    >>> with patch():
    ...     layer = torch.nn.Linear(512, 512)
    """
    install()
    try:
        yield
    finally:
        uninstall()


# --------------------------------------------------------------------- init_model


def _reset_method(module: torch.nn.Module) -> Callable[[], Any] | None:
    for name in ("reset_parameters", "_reset_parameters"):
        method = getattr(module, name, None)
        if callable(method):
            return method
    return None


def _post_order(module: torch.nn.Module, prefix: str = "") -> Iterator[tuple[str, torch.nn.Module]]:
    for name, child in module.named_children():
        yield from _post_order(child, f"{prefix}{name}.")
    yield prefix.rstrip("."), module


def init_model(
    model: torch.nn.Module,
    seed: int = 0,
    scheme: Mapping[str | type, Callable[[Any], Any]] | None = None,
    progress: bool = True,
) -> torch.nn.Module:
    """(Re)initialize every parameter and buffer of ``model`` that torch would, reproducibly
    from ``seed`` and each tensor's qualified name.

    Each module's own ``reset_parameters()`` (or ``_reset_parameters()``) runs, children
    before parents (the order of construction), with torch.nn.init routed through fastinit;
    every random fill of a tensor draws from stream ``stream_for_name(name, k)`` (k: how many
    fills of that tensor came before in this call). So the weights do not depend on
    construction order, on building on ``device="meta"`` then ``to_empty``, or on the process.

    ``scheme`` overrides: a key that is a module type maps to ``fn(module)`` run instead of its
    reset; a string key is an fnmatch pattern of qualified parameter/buffer names mapping to
    ``fn(tensor)`` (e.g. ``{"*.c_proj.weight": lambda t: normal_(t, 0, 0.02 / math.sqrt(24))}``),
    applied after the resets, first match wins. Parameters that nothing initializes (a custom
    module without a reset method, not in ``scheme``) are listed in a warning.
    A progress bar (tqdm, if installed) is shown for models of more than 10M parameters.
    """
    scheme = dict(scheme or {})
    seed = _api.check_u64("seed", seed)
    names: dict[int, str] = {}
    for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
        names.setdefault(id(tensor), name)
    modules = list(_post_order(model))
    bar = _progress(model, len(modules)) if progress else None
    previous = (_naming.names, _naming.seed, _naming.count, _naming.touched)
    _naming.names, _naming.seed, _naming.count, _naming.touched = names, seed, {}, set()
    try:
        with patch():
            for _, module in modules:
                custom = next(
                    (fn for key, fn in scheme.items() if isinstance(key, type) and isinstance(module, key)), None
                )
                if custom is not None:
                    custom(module)
                else:
                    reset = _reset_method(module)
                    if reset is not None:
                        reset()
                if bar is not None:
                    bar.update(1)
            patterns = [(key, fn) for key, fn in scheme.items() if isinstance(key, str)]
            for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
                for pattern, fn in patterns:
                    if fnmatch.fnmatchcase(name, pattern):
                        fn(tensor)
                        _naming.touched.add(id(tensor))
                        break
            untouched = [n for n, p in model.named_parameters() if id(p) not in _naming.touched]
    finally:
        _naming.names, _naming.seed, _naming.count, _naming.touched = previous
        if bar is not None:
            bar.close()
    if untouched:
        shown = ", ".join(untouched[:5]) + (" ..." if len(untouched) > 5 else "")
        warnings.warn(
            f"init_model: {len(untouched)} parameter(s) have no reset_parameters() and match no "
            f"scheme entry, left as they were: {shown}",
            stacklevel=2,
        )
    return model


def _progress(model: torch.nn.Module, total: int) -> Any:
    if sum(p.numel() for p in model.parameters()) <= 10_000_000:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="fastinit.init_model", unit="module")


# ------------------------------------------------------------------------- shards

_SHARD_FILLS: dict[str, Callable[..., Any]] = {
    "uniform_": _api.uniform_, "normal_": _api.normal_, "trunc_normal_": _api.trunc_normal_,
    "xavier_uniform_": _api.xavier_uniform_, "xavier_normal_": _api.xavier_normal_,
    "kaiming_uniform_": _api.kaiming_uniform_, "kaiming_normal_": _api.kaiming_normal_,
}


def shard_(
    tensor: torch.Tensor,
    init: str,
    global_shape: Sequence[int],
    index: Sequence[slice],
    *args: Any,
    seed: int,
    stream: int = 0,
    **kwargs: Any,
) -> torch.Tensor:
    """Fill ``tensor``, the part ``global[index]`` of a tensor of ``global_shape``, with exactly
    the values that ``init`` would put there in the whole tensor (same seed and stream).

    ``init`` names a function of this module (``"kaiming_uniform_"``, ``"normal_"``, ...);
    ``args``/``kwargs`` are its parameters. Fans come from ``global_shape``. ``index`` holds
    one slice (step 1) per leading dimension. Every rank can so fill only its own shard, for
    any sharding, and the model is the same for 1, 2, 4 or 8 ranks.

    >>> whole = kaiming_uniform_(torch.empty(8, 6), generator=Generator(1))
    >>> rows = shard_(torch.empty(4, 6), "kaiming_uniform_", (8, 6), (slice(4, 8),), seed=1)
    """
    if init not in _SHARD_FILLS:
        raise ValueError(f"init={init!r} is not one of {', '.join(sorted(_SHARD_FILLS))}")
    fill: Callable[..., Any] = _SHARD_FILLS[init]
    global_shape = tuple(int(d) for d in global_shape)
    index = tuple(index) + (slice(None),) * (len(global_shape) - len(index))
    bounds = []
    for dim, (sl, size) in enumerate(zip(index, global_shape)):
        start, stop, step = sl.indices(size)
        if step != 1:
            raise ValueError(f"index[{dim}] must have step 1, got {sl}")
        bounds.append((start, stop))
    if tuple(tensor.shape) != tuple(stop - start for start, stop in bounds):
        raise ValueError(f"tensor of shape {tuple(tensor.shape)} does not match index {index} of {global_shape}")
    fan_kwargs = {}
    if init.startswith(("xavier", "kaiming")):
        fan_kwargs = dict(zip(("fan_in", "fan_out"), fans(global_shape, "torch")))
        if init.startswith("kaiming") and "mode" in kwargs:
            kwargs["mode"] = _check_torch_mode(kwargs["mode"])
    strides = [math.prod(global_shape[d + 1:]) for d in range(len(global_shape))]
    shard_shape = tuple(stop - start for start, stop in bounds)
    # The shard is a set of runs contiguous in the global row-major order: the innermost
    # dimensions it covers entirely, plus one partial dimension; one fill per run.
    inner = len(global_shape)
    while inner > 0 and bounds[inner - 1] == (0, global_shape[inner - 1]):
        inner -= 1
    if inner == 0:
        view_shape: tuple[int, ...] = (-1,)
        runs: list[tuple[tuple[int, ...], int]] = [((), 0)]
    else:
        run_dim = inner - 1
        outer_sizes = shard_shape[:run_dim]
        view_shape = outer_sizes + (-1,)
        base = bounds[run_dim][0] * strides[run_dim]
        runs = [(outer, base + sum((bounds[d][0] + outer[d]) * strides[d] for d in range(run_dim)))
                for outer in np.ndindex(*outer_sizes)]

    def fill_target(raw: Any) -> None:
        if isinstance(raw, _api.RawBuffer):
            arr, code = raw.arr, raw.code
            wrap: Callable[[np.ndarray], Any] = lambda row: _api.RawBuffer(row, code)  # noqa: E731
        else:
            arr, wrap = raw, lambda row: row
        view = arr.reshape(view_shape)
        for outer, first in runs:
            fill(wrap(view[outer]), *args, seed=seed, stream=stream, offset=first, **fan_kwargs, **kwargs)

    return _fill(tensor, fill_target)
