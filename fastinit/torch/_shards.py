"""``shard_``: fill one shard of a tensor with exactly the values of the whole."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from .. import _api
from .._fans import fans
from ._functions import _check_torch_mode, _fill

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
            wrap: Callable[[np.ndarray], Any] = lambda row: _api.RawBuffer(row, code)
        else:
            arr, wrap = raw, lambda row: row
        view = arr.reshape(view_shape)
        for outer, first in runs:
            fill(wrap(view[outer]), *args, seed=seed, stream=stream, offset=first, **fan_kwargs, **kwargs)

    return _fill(tensor, fill_target)
