"""``shard_``: fill one shard of a tensor with exactly the values of the whole; and the run
decomposition (which contiguous runs of the global row-major order a shard covers) that
``shard_`` and the DTensor fills (``_dtensor``) share."""
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

# One dimension of a shard: segments (local start, global start, length), in local order.
Segments = Sequence[tuple[int, int, int]]


def runs(global_shape: Sequence[int], segments: Sequence[Segments]) -> list[tuple[int, int, int]]:
    """The runs of a shard: ``(local_first, global_first, count)`` triples such that flat
    elements ``local_first .. local_first + count - 1`` of the (C-contiguous) shard are global
    row-major elements ``global_first ..`` of a tensor of ``global_shape``.

    ``segments[d]`` says which global indices of dimension d the shard holds: a list of
    ``(local_start, global_start, length)`` (a plain slice is one segment; a ``_StridedShard``
    of FSDP2 + TP several). The innermost dimensions the shard covers entirely merge with the
    last partial one into each run, so a row shard is one run and a column shard one run per
    row. Empty shards have no runs.
    """
    global_shape = tuple(int(d) for d in global_shape)
    ndim = len(global_shape)
    local_shape = tuple(sum(length for _, _, length in seg) for seg in segments)
    if len(segments) != ndim or 0 in local_shape:
        return []
    full = [len(seg) == 1 and seg[0] == (0, 0, size) for seg, size in zip(segments, global_shape)]
    inner = ndim
    while inner > 0 and full[inner - 1]:
        inner -= 1
    if inner == 0:
        return [(0, 0, math.prod(global_shape))]
    global_strides = [math.prod(global_shape[d + 1:]) for d in range(ndim)]
    local_strides = [math.prod(local_shape[d + 1:]) for d in range(ndim)]
    run_dim = inner - 1
    # every (local, global) index pair of each outer dimension, then the run dimension's segments
    outer = [[(ls + k, gs + k) for ls, gs, length in segments[d] for k in range(length)] for d in range(run_dim)]
    found = []
    for combo in np.ndindex(*(len(pairs) for pairs in outer)):
        local0 = sum(outer[d][i][0] * local_strides[d] for d, i in enumerate(combo))
        global0 = sum(outer[d][i][1] * global_strides[d] for d, i in enumerate(combo))
        for ls, gs, length in segments[run_dim]:
            found.append((local0 + ls * local_strides[run_dim], global0 + gs * global_strides[run_dim],
                          length * local_strides[run_dim]))
    return found


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
    any sharding, and the model is the same for 1, 2, 4 or 8 ranks. (DTensor parameters need
    none of this: every fill of fastinit.torch fills their local shard so; docs/distributed.md.)

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
    shard_runs = runs(global_shape, [[(0, start, stop - start)] for start, stop in bounds])

    def fill_target(raw: Any) -> None:
        if isinstance(raw, _api.RawBuffer):
            arr, code = raw.arr, raw.code
            wrap: Callable[[np.ndarray], Any] = lambda part: _api.RawBuffer(part, code)
        else:
            arr, wrap = raw, lambda part: part
        flat = arr.reshape(-1)
        for local_first, global_first, count in shard_runs:
            fill(wrap(flat[local_first:local_first + count]), *args, seed=seed, stream=stream,
                 offset=global_first, **fan_kwargs, **kwargs)

    return _fill(tensor, fill_target)
