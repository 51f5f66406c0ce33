"""Fills of tensors whose memory is not one contiguous CPU buffer of their logical shape:
DTensor parameters (torch.distributed.tensor: Shard, Replicate, FSDP2's padded Shard(0),
uneven last shards, FSDP2 + TP's ``_StridedShard``) and tensors on an accelerator.

A DTensor's rank fills its local shard, in place, with exactly the values the unsharded tensor
holds there; a device tensor is filled on its device by the torch-ops backend
(``fastinit._torchops``), with the same bits as the C backend. Neither ever materializes the
logical tensor.

How: the fill of fastinit.torch (a closure over ``fastinit._api``, which checks the
arguments, resolves fans from the shape it sees and takes the stream once) runs once, on a
*virtual* buffer of the logical (global) shape: an anonymous memory mapping that is never
touched, so it costs address space and no memory. While it runs, the backend of
``fastinit._backend`` is wrapped in a router; when the core hands the virtual buffer to the
backend (``fill_uniform(out, dtype, seed, stream, offset, low, high)``, ...), the router fills
instead each run of the local shard (``_shards.runs``) at its global offset, on the shard's
own memory (the C/NumPy backend for CPU memory, the torch-ops backend on a device). So fans
come from the global shape, the stream is the parameter's, every check is the core's, and
the values are those of the whole tensor, for any placement and world size.
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

from .. import _api, _backend
from .._params import BFLOAT16, FLOAT16, FLOAT32, FLOAT64

_CODES = {torch.float32: FLOAT32, torch.float64: FLOAT64, torch.bfloat16: BFLOAT16, torch.float16: FLOAT16}
_NP_TYPES = {FLOAT32: np.float32, FLOAT64: np.float64, BFLOAT16: np.uint16, FLOAT16: np.uint16}
_RANDOM_ENTRIES = ("fill_bits", "fill_uniform", "fill_normal", "fill_trunc_normal")
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


def _compress(indices: list[int]) -> list[tuple[int, int, int]]:
    """Sorted-by-position global indices -> segments (local start, global start, length)."""
    segments: list[tuple[int, int, int]] = []
    for position, index in enumerate(indices):
        if segments and segments[-1][1] + segments[-1][2] == index:
            local, first, length = segments[-1]
            segments[-1] = (local, first, length + 1)
        else:
            segments.append((position, index, 1))
    return segments


def global_indices(global_shape: tuple[int, ...], mesh_shape: tuple[int, ...], coordinate: list[int],
                   placements: tuple[Any, ...]) -> list[list[int]]:
    """For each tensor dimension, the global indices the local shard holds, in local order.

    Placements are applied left to right, as DTensor does (``_StridedShard`` carries the
    right-to-left order of FSDP2 + TP in its split factor); each Shard keeps torch.chunk's
    split (uneven: full chunks first, then a short one, then empty ones). The local size and
    offsets come from the placements' own ``local_shard_size_and_offset``.
    """
    from torch.distributed.tensor.placement_types import Partial, Replicate, Shard, _StridedShard
    from torch.distributed.tensor.placement_types import _StridedShardOffsetMode

    indices = [list(range(size)) for size in global_shape]
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
            indices[dim] = [current[i] for i in picked]
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


# ----------------------------------------------------------------- virtual buffers


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


def _address(arr: np.ndarray) -> int:
    return int(arr.__array_interface__["data"][0])


class _Plan:
    """Where one fill really goes: runs of a target (CPU array or device tensor)."""

    def __init__(self, target: Any, shard_runs: list[tuple[int, int, int]], on_device: bool):
        self.target = target  # flat: a NumPy array (CPU) or a 1-D torch tensor (device)
        self.runs = shard_runs
        self.on_device = on_device
        self.calls = 0

    def write(self, cpu_backend: Any, entry: str, dtype: int, args: tuple[Any, ...]) -> None:
        self.calls += 1
        if self.on_device:
            from .. import _torchops as backend
        else:
            backend = cpu_backend
        fill = getattr(backend, entry)
        if entry == "fill_constant":
            for local_first, _, count in self.runs:
                fill(self.target[local_first:local_first + count], dtype, *args)
            return
        if entry not in _RANDOM_ENTRIES:
            raise RuntimeError(f"internal: the backend entry {entry} has no shard rule")
        seed, stream, offset, params = args[0], args[1], args[2], args[3:]
        for local_first, global_first, count in self.runs:
            fill(self.target[local_first:local_first + count], dtype, seed, stream, offset + global_first, *params)


class _Router:
    """Stands in for the active backend while routed fills run: an entry point called on a
    registered virtual buffer fills that buffer's plan; any other call goes to the backend."""

    def __init__(self, backend: Any):
        self.backend = backend

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.backend, name)
        if not name.startswith("fill_"):
            return attr

        def entry(out: Any, dtype: int, *args: Any) -> Any:
            plan = _plans.get(_address(out)) if isinstance(out, np.ndarray) else None
            if plan is None:
                return attr(out, dtype, *args)
            return plan.write(self.backend, name, dtype, args)

        return entry


_plans: dict[int, _Plan] = {}
_route_lock = threading.Lock()
_route_depth = 0


@contextlib.contextmanager
def _routing(virtual: Any, plan: _Plan) -> Iterator[None]:
    global _route_depth
    arr = virtual.arr if isinstance(virtual, _api.RawBuffer) else virtual
    key = _address(arr)
    with _route_lock:
        if _route_depth == 0:
            _backend._active = _Router(_backend._active)
        _route_depth += 1
        _plans[key] = plan
    try:
        yield
    finally:
        with _route_lock:
            del _plans[key]
            _route_depth -= 1
            if _route_depth == 0:
                router = _backend._active
                if isinstance(router, _Router):
                    _backend._active = router.backend


# ----------------------------------------------------------------------- the fill


def _flat_cpu_target(local: torch.Tensor) -> Any:
    from ._functions import _raw

    raw = _raw(local)
    return (raw.arr if isinstance(raw, _api.RawBuffer) else raw).reshape(-1)


def fill_(tensor: torch.Tensor, fill: Callable[[Any], Any]) -> None:
    """Run ``fill`` (a fill of fastinit.torch, given a raw buffer of the tensor's logical
    shape) so that it writes the tensor's own memory: a DTensor's local shard, element for
    element with the values of the whole, or a device tensor on its device. Called under
    ``torch.no_grad()`` by ``_functions._fill``."""
    code = _CODES[tensor.dtype]
    dtensor = _dtensor_type()
    if dtensor is not None and isinstance(tensor, dtensor):
        local, shard_runs = _dtensor_runs(tensor)
    else:
        local, shard_runs = tensor, [(0, 0, tensor.numel())] if tensor.numel() else []
    if local.device.type == "meta":
        return
    local = local.detach()
    device = local.device.type
    on_device = device not in _FILLED_ON_CPU or (_torch_ops_on_cpu and device == "cpu")
    if local.is_contiguous() and (on_device or device == "cpu"):
        work = local
    else:  # a contiguous buffer on the device that fills it, copied into the tensor after
        work = torch.empty(tuple(local.shape), dtype=local.dtype, device=local.device if on_device else "cpu")
    target = work.reshape(-1) if on_device else _flat_cpu_target(work)
    plan = _Plan(target, shard_runs, on_device)
    virtual = _virtual(tuple(int(d) for d in tensor.shape), code)
    with _routing(virtual, plan):
        fill(virtual)
    if tensor.numel() and plan.calls == 0:
        # the fill wrote the virtual buffer directly (a path that bypasses fastinit._backend)
        raise RuntimeError("internal: a routed fill did not reach the backend router; the tensor was not written")
    if work is not local:
        local.copy_(work)
