"""The NumPy backend works in chunks: its extra memory does not grow with the buffer."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

PEAK_LIMIT = 16 * 2**20  # bytes of temporaries; the 8M-element float64 buffer itself is 64 MiB

FILLS = {
    "uniform": lambda b: fi.uniform_(b, seed=1),
    "normal": lambda b: fi.normal_(b, seed=1),
    "trunc_normal": lambda b: fi.trunc_normal_(b, seed=1),
    "glorot_normal": lambda b: fi.glorot_normal_(b.reshape(2048, -1), seed=1),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
@pytest.mark.parametrize("name", sorted(FILLS))
def test_numpy_backend_peak_memory_is_bounded(name, dtype):
    buf = np.empty(1 << 23, dtype)
    with _backend.using("numpy"):
        tracemalloc.start()
        try:
            FILLS[name](buf)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"{peak / 2**20:.1f} MiB of temporaries for a {buf.nbytes / 2**20:.0f} MiB buffer"
