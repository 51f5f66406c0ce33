"""Filling one block of a larger array with exactly the values of the whole (for shards).

Element i of a fill is a pure function of (seed, stream, i), i the row-major index in the
whole array (DESIGN.md section 1), so a block ``whole[index]`` can be filled alone: it is a
set of runs contiguous in the whole's row-major order, each one fill with ``offset`` = the
global index of its first element.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def block_bounds(global_shape: Sequence[int], index: Sequence[slice]) -> list[tuple[int, int]]:
    """[(start, stop)] per dimension of ``whole[index]``; ``index`` holds step-1 slices for
    leading dimensions (missing trailing ones are whole)."""
    global_shape = tuple(int(d) for d in global_shape)
    index = tuple(index)
    if len(index) > len(global_shape):
        raise ValueError(f"index {index} has more entries than the shape {global_shape} has dimensions")
    index = index + (slice(None),) * (len(global_shape) - len(index))
    bounds = []
    for dim, (sl, size) in enumerate(zip(index, global_shape)):
        if not isinstance(sl, slice):
            raise TypeError(f"index[{dim}] must be a slice, got {type(sl).__name__}")
        start, stop, step = sl.indices(size)
        if step != 1:
            raise ValueError(f"index[{dim}] must have step 1, got {sl}")
        bounds.append((start, max(start, stop)))
    return bounds


def fill_block(
    out: np.ndarray,
    global_shape: Sequence[int],
    index: Sequence[slice],
    fill: Callable[[np.ndarray, int], Any],
) -> np.ndarray:
    """Fill ``out`` (C-contiguous, the shape of ``whole[index]``) by calling ``fill(run, offset)``
    once per run of the block that is contiguous in the whole: the innermost dimensions the
    block covers entirely, plus one partial dimension.

    >>> import fastinit as fi
    >>> whole = fi.normal((4, 6), seed=3)
    >>> block = fill_block(np.empty((4, 2), np.float32), (4, 6), (slice(None), slice(2, 4)),
    ...                    lambda run, offset: fi.normal_(run, seed=3, offset=offset))
    >>> bool(np.array_equal(block, whole[:, 2:4]))
    True
    """
    global_shape = tuple(int(d) for d in global_shape)
    bounds = block_bounds(global_shape, index)
    block_shape = tuple(stop - start for start, stop in bounds)
    if tuple(out.shape) != block_shape:
        raise ValueError(f"out has shape {tuple(out.shape)}, the block {block_shape}")
    if out.size == 0:
        return out
    strides = [math.prod(global_shape[d + 1:]) for d in range(len(global_shape))]
    inner = len(global_shape)
    while inner > 0 and bounds[inner - 1] == (0, global_shape[inner - 1]):
        inner -= 1
    if inner == 0:
        fill(out.reshape(-1), 0)
        return out
    run_dim = inner - 1
    outer_shape = block_shape[:run_dim]
    runs = out.reshape(outer_shape + (-1,))
    base = bounds[run_dim][0] * strides[run_dim]
    for outer in np.ndindex(*outer_shape):
        offset = base + sum((bounds[d][0] + outer[d]) * strides[d] for d in range(run_dim))
        fill(runs[outer], offset)
    return out
