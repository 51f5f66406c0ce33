"""The drop-in functions: every public function of ``torch.nn.init``, same name, signature,
defaults and return value, filled by the fastinit core."""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import _api
from .._fans import calculate_gain as _calculate_gain
from .._fans import fans
from .._params import BFLOAT16, FLOAT16, FLOAT32, FLOAT64
from . import _dtensor  # dist (issue 13)
from ._streams import _FixedStream, _naming, _stream_args

_CODES = {torch.float32: FLOAT32, torch.float64: FLOAT64, torch.bfloat16: BFLOAT16, torch.float16: FLOAT16}
_TORCH_INIT = torch.nn.init
# torch's own functions, captured before any patching (eye_ and dirac_ draw no random numbers)
_ORIGINAL = {name: getattr(_TORCH_INIT, name) for name in (
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
    "sparse_",
)}


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
        # dist (issue 13): a DTensor fills its local shard with the values of the whole, a
        # device tensor is filled on its device (fastinit.torch._dtensor)
        if _dtensor.needs_routing(tensor):
            _dtensor.fill_(tensor, fill)
            if _naming.names is not None:
                _naming.touched.add(id(tensor))
            return tensor
        direct = tensor.device.type == "cpu" and tensor.is_contiguous()
        # device="cpu" explicitly: under torch.set_default_device("cuda") a bare torch.empty
        # would land on the GPU, where the fastinit core cannot write
        target = tensor.detach() if direct else torch.empty(tuple(tensor.shape), dtype=tensor.dtype, device="cpu")
        fill(_raw(target))
        if not direct:
            tensor.copy_(target)
    _naming.mark(tensor)
    return tensor


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
