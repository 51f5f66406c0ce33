"""Fills of tensors whose memory is not one contiguous CPU buffer of their logical shape:
DTensor parameters (torch.distributed.tensor: Shard, Replicate, FSDP2's padded Shard(0),
uneven last shards, FSDP2 + TP's ``_StridedShard``) and tensors on an accelerator.

A DTensor's rank fills its local shard, in place, with exactly the values the unsharded tensor
holds there; a device tensor is filled on its device by the torch-ops backend
(``fastinit._torchops``), with the same bits as the C backend. Neither ever materializes the
logical tensor.

How: a fill is a resolved call of ``fastinit._call`` (distribution and parameters checked
and resolved once, fans from the global shape) plus (seed, stream, offset). ``fill_resolved``
runs it on each run of the local shard (``_shards.runs``), at the run's global element
offset, on the shard's own memory (``_call.fill_raw`` for CPU memory, the torch-ops backend on
a device). ``fill_`` gets the resolved call out of fastinit.torch's fill closures (see below).
So the stream is the parameter's, every check is the core's, and the values are those of
the whole tensor, for any placement and world size.
"""
from __future__ import annotations

import contextlib
import mmap
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from .. import _api, _backend, _call, _numpy
from .._params import BFLOAT16, FLOAT16, FLOAT32, FLOAT64

_CODES = {torch.float32: FLOAT32, torch.float64: FLOAT64, torch.bfloat16: BFLOAT16, torch.float16: FLOAT16}
_NP_TYPES = {FLOAT32: np.float32, FLOAT64: np.float64, BFLOAT16: np.uint16, FLOAT16: np.uint16}
_MAP_NORESERVE = 0x4000 if sys.platform.startswith("linux") else 0  # Linux <sys/mman.h>

def _dtensor_type() -> Any:
    """torch.distributed.tensor.DTensor if that module is imported (else no tensor can be
    one; importing it here would cost the first fill of every process seconds)."""
    module = sys.modules.get("torch.distributed.tensor")
    return getattr(module, "DTensor", None) if module is not None else None


# MPS has no float64 and compiles its kernels with fast math: its tensors are filled on the
# CPU and copied, as before the torch-ops backend existed.
_FILLED_ON_CPU = ("cpu", "mps")
_torch_ops_on_cpu = False  # tests: CPU tensors take the device path (the torch-ops backend)


def needs_routing(tensor: torch.Tensor) -> bool:
    """True for a DTensor or a tensor on a device other than the CPU (and meta)."""
    if type(tensor) is not torch.Tensor:
        dtensor = _dtensor_type()
        if dtensor is not None and isinstance(tensor, dtensor):
            return True
    device = tensor.device.type
    return device not in ("cpu", "meta") or (_torch_ops_on_cpu and device == "cpu")


# ------------------------------------------------------------- global coordinates


def _compress(indices: Any) -> list[tuple[int, int, int]]:
    """Global indices in local order -> segments (local start, global start, length) of
    consecutive indices."""
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size == 0:
        return []
    starts = np.flatnonzero(np.diff(indices) != 1) + 1
    bounds = np.concatenate(([0], starts, [indices.size]))
    return [(int(lo), int(indices[lo]), int(hi - lo)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def global_indices(global_shape: tuple[int, ...], mesh_shape: tuple[int, ...], coordinate: list[int],
                   placements: tuple[Any, ...]) -> list[np.ndarray]:
    """For each tensor dimension, the global indices the local shard holds, in local order.

    Placements are applied left to right, as DTensor does (``_StridedShard`` carries the
    right-to-left order of FSDP2 + TP in its split factor); each Shard keeps torch.chunk's
    split (uneven: full chunks first, then a short one, then empty ones). The local size and
    offsets come from the placements' own ``local_shard_size_and_offset``.
    """
    from torch.distributed.tensor.placement_types import Partial, Replicate, Shard, _StridedShard
    from torch.distributed.tensor.placement_types import _StridedShardOffsetMode

    indices = [np.arange(size, dtype=np.int64) for size in global_shape]
    for mesh_dim, placement in enumerate(placements):
        if isinstance(placement, Replicate):
            continue
        if isinstance(placement, Partial):
            raise ValueError(f"fastinit cannot fill a DTensor with a Partial placement ({placement}): "
                             "its local tensors are summands, not a shard of the values")
        if not isinstance(placement, (Shard, _StridedShard)):
            raise ValueError(f"fastinit does not know the placement {placement!r}")
        dim, current = placement.dim, indices[placement.dim]
        chunks, rank = int(mesh_shape[mesh_dim]), int(coordinate[mesh_dim])
        if isinstance(placement, _StridedShard):
            _, picked = placement.local_shard_size_and_offset(len(current), chunks, rank,
                                                              _StridedShardOffsetMode.ALL)
            indices[dim] = current[np.asarray(picked, dtype=np.int64)]
        else:
            size, start = Shard.local_shard_size_and_offset(len(current), chunks, rank)
            indices[dim] = current[int(start):int(start) + int(size)]
    return indices


def _dtensor_runs(tensor: Any) -> tuple[torch.Tensor, list[tuple[int, int, int]]]:
    """The local tensor of a DTensor and its runs in the global row-major order."""
    spec = tensor._spec
    shard_order = getattr(spec, "shard_order", None)
    if shard_order is not None and shard_order != type(spec).compute_default_shard_order(spec.placements):
        raise ValueError(f"fastinit fills DTensors sharded in the default (left-to-right) order; this one has "
                         f"shard_order={shard_order}")
    local = tensor._local_tensor
    mesh = spec.mesh
    coordinate = mesh.get_coordinate()
    if coordinate is None:  # this rank is not in the mesh: it holds nothing
        return local, []
    global_shape = tuple(int(d) for d in tensor.shape)
    indices = global_indices(global_shape, tuple(mesh.shape), coordinate, tuple(spec.placements))
    if tuple(len(ix) for ix in indices) != tuple(local.shape):
        raise ValueError(f"the placements {spec.placements} give a local shard of shape "
                         f"{tuple(len(ix) for ix in indices)}, but the local tensor has shape {tuple(local.shape)}")
    from ._shards import runs  # here: _shards imports _functions, which imports this module

    return local, runs(global_shape, [_compress(ix) for ix in indices])


# ------------------------------------------------------------------- the shard fill


def fill_resolved(tensor: torch.Tensor, resolved: Any, seed: int, stream: int, offset: int = 0) -> None:
    """Run a resolved call (``fastinit._call.resolve*``, resolved for the tensor's *logical*
    shape: a DTensor's global one) on the tensor's own memory: each run of a DTensor's local
    shard at its global element offset (``offset +`` its index in the whole tensor), a device
    tensor on its device. This is what the fill of a routed tensor comes down to; an adapter
    that resolves calls itself (fastinit.torch's ``_fill``) may call it directly."""
    dtensor = _dtensor_type()
    if dtensor is not None and isinstance(tensor, dtensor):
        local, shard_runs = _dtensor_runs(tensor)
    else:
        local, shard_runs = tensor, [(0, 0, tensor.numel())] if tensor.numel() else []
    if local.device.type == "meta" or not shard_runs:
        return
    local = local.detach()
    device = local.device.type
    on_device = device not in _FILLED_ON_CPU or (_torch_ops_on_cpu and device == "cpu")
    if local.is_contiguous() and (on_device or device == "cpu"):
        work = local
    else:  # a contiguous buffer on the device that fills it, copied into the tensor after
        work = torch.empty(tuple(local.shape), dtype=local.dtype, device=local.device if on_device else "cpu")
    code = _CODES[tensor.dtype]
    if on_device:
        from .. import _torchops

        flat = work.reshape(-1)
        for local_first, global_first, count in shard_runs:
            _torchops.fill(flat[local_first:local_first + count], resolved, seed, stream, offset + global_first)
    else:
        address, itemsize = work.data_ptr(), work.element_size()
        for local_first, global_first, count in shard_runs:
            _call.fill_raw(address + local_first * itemsize, count, code, seed, stream, offset + global_first,
                           resolved)
    if work is not local:
        local.copy_(work)


# ---------------------------------------------- the closures of fastinit.torch's _fill
# A fill of fastinit.torch today is a closure over fastinit._api, which checks the arguments,
# resolves fans from the buffer's shape and takes the stream. It runs once on a *virtual*
# buffer of the logical shape (an anonymous mapping that nothing touches: address space, no
# memory) while the active backend is wrapped in a router that, for that buffer only,
# records the resolved call instead of running it; fill_resolved then runs it on the shard.


def _virtual(shape: tuple[int, ...], code: int) -> Any:
    """A C-contiguous, writable NumPy buffer of ``shape`` that costs no memory: an anonymous
    mapping reserved without swap and never touched (the router sees to that)."""
    np_type = np.dtype(_NP_TYPES[code])
    nbytes = int(np.prod(shape, dtype=np.int64)) * np_type.itemsize
    if nbytes == 0:
        arr = np.empty(shape, np_type)
    else:
        if sys.platform == "win32":
            mapping = mmap.mmap(-1, nbytes)
        else:
            mapping = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE)
        arr = np.frombuffer(mapping, dtype=np_type).reshape(shape)
    return _api.RawBuffer(arr, code) if code in (BFLOAT16, FLOAT16) else arr


def _address(arr: Any) -> int | None:
    return int(arr.__array_interface__["data"][0]) if isinstance(arr, np.ndarray) else None


class _Router:
    """Stands in for the active backend while routed fills are captured: ``fill`` on a
    registered virtual buffer records (resolved, seed, stream, offset); every other call goes
    to the backend as ``fastinit._call`` would have sent it."""

    def __init__(self, backend: Any):
        self.backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def fill(self, out: Any, resolved: Any, seed: int, stream: int, offset: int) -> None:
        captured = _captures.get(_address(out))
        if captured is not None:
            captured.append((resolved, seed, stream, offset))
        elif self.backend is _numpy:
            _call._numpy_fill(out, resolved, seed, stream, offset)
        else:
            self.backend.fill(out, resolved, seed, stream, offset)

    def fill_raw(self, address: int, count: int, dtype: int, seed: int, stream: int, offset: int,
                 resolved: Any) -> None:
        if self.backend is _numpy:  # another thread's fill on the NumPy backend: as _call does
            with _unrouted():
                _call.fill_raw(address, count, dtype, seed, stream, offset, resolved)
        else:
            self.backend.fill_raw(address, count, dtype, seed, stream, offset, resolved)


_captures: dict[int | None, list] = {}
_route_lock = threading.RLock()
_route_depth = 0


@contextlib.contextmanager
def _capturing(virtual: Any) -> Iterator[list]:
    global _route_depth
    key = _address(virtual.arr if isinstance(virtual, _api.RawBuffer) else virtual)
    captured: list = []
    with _route_lock:
        if _route_depth == 0:
            _backend._active = _Router(_backend._active)
        _route_depth += 1
        _captures[key] = captured
    try:
        yield captured
    finally:
        with _route_lock:
            del _captures[key]
            _route_depth -= 1
            if _route_depth == 0 and isinstance(_backend._active, _Router):
                _backend._active = _backend._active.backend


@contextlib.contextmanager
def _unrouted() -> Iterator[None]:
    """The real backend for one call made through the router (under the routing lock)."""
    with _route_lock:
        router = _backend._active
        _backend._active = router.backend if isinstance(router, _Router) else router
        try:
            yield
        finally:
            _backend._active = router


def fill_(tensor: torch.Tensor, fill: Callable[[Any], Any]) -> None:
    """Run ``fill`` (a fill of fastinit.torch, given a raw buffer of the tensor's logical
    shape) so that it writes the tensor's own memory: a DTensor's local shard, element for
    element with the values of the whole, or a device tensor on its device. Called under
    ``torch.no_grad()`` by ``_functions._fill``."""
    code = _CODES[tensor.dtype]
    if all(hasattr(fill, name) for name in ("dist", "params", "seed", "stream")):
        # a checked fill that carries its call (the "intercept" helper's _Bound): no capture
        from ._functions import resolved_tuple  # imported here: _functions imports this module

        fill_resolved(tensor, resolved_tuple(fill.dist, code, tuple(fill.params)), fill.seed, fill.stream)
        return
    virtual = _virtual(tuple(int(d) for d in tensor.shape), code)
    with _capturing(virtual) as captured:
        fill(virtual)
    if tensor.numel() and not captured:
        raise RuntimeError("internal: a routed fill did not reach the backend router; the tensor was not written")
    for resolved, seed, stream, offset in captured:
        fill_resolved(tensor, resolved, seed, stream, offset)
