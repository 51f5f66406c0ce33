"""Shared helpers: backends, dtypes and a uniform way to call every distribution."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors.txt"

BACKENDS = sorted(_backend.available())

try:
    import ml_dtypes

    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # bfloat16 tests then run on raw uint16 bits only
    ml_dtypes = None
    BF16 = None

FLOAT_DTYPES = ["float32", "float64", "bfloat16", "float16"]


def np_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        if BF16 is None:
            pytest.skip("ml_dtypes is not installed (pip install ml_dtypes): no NumPy bfloat16 dtype")
        return BF16
    return np.dtype(name)


def bits(arr: np.ndarray) -> np.ndarray:
    """The raw bit patterns of an array, for exact comparisons (NaN-safe, -0.0-aware)."""
    return arr.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[arr.dtype.itemsize])


# (name, fill(buf, **stream_kwargs)) for every random distribution, with fixed parameters
DISTRIBUTIONS = {
    "uniform": lambda buf, **kw: fi.uniform_(buf, -1.5, 2.25, **kw),
    "normal": lambda buf, **kw: fi.normal_(buf, 0.5, 2.0, **kw),
    "trunc_normal": lambda buf, **kw: fi.trunc_normal_(buf, 0.1, 1.5, -1.0, 3.0, **kw),
    "trunc_normal_tail": lambda buf, **kw: fi.trunc_normal_(buf, 0.0, 1.0, 4.0, 5.0, **kw),
}


@pytest.fixture(params=BACKENDS)
def backend(request):
    with _backend.using(request.param):
        yield request.param


@pytest.fixture
def need_c():
    if "c" not in BACKENDS:
        pytest.skip("the C extension fastinit._core is not built (pure-Python install)")


def running_in_ci() -> bool:
    return os.environ.get("CI", "") not in ("", "0", "false")
