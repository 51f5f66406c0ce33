"""Shared helpers: backends, dtypes and a uniform way to call every distribution."""
from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
VECTORS = HERE / "vectors.txt"

# The tests also run from a copy of tests/ alone against an installed wheel or sdist
# (tools/release_check.sh, cibuildwheel's test step): those needing the checkout's other
# files (csrc/, setup.py, tools/, README.md, benchmarks/) skip there, and say why.
IN_SOURCE_TREE = (ROOT / "setup.py").is_file() and (ROOT / "csrc").is_dir()
needs_source_tree = pytest.mark.skipif(
    not IN_SOURCE_TREE,
    reason="needs the source checkout (csrc/, setup.py, tools/, README.md, benchmarks/); "
           "this run tests an installed fastinit from a copy of tests/ alone")


def pytest_report_header(config):
    # which fastinit is under test: the checkout's, or an installed wheel's / sdist's
    try:
        backend = fi.backend()
    except Exception as exc:  # noqa: BLE001 - a bad FASTINIT_* variable; the tests report it
        backend = f"unavailable: {exc}"
    return f"fastinit {fi.__version__} from {pathlib.Path(fi.__file__).parent} (backend {backend})"

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


SANITIZER_VARIABLES = ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")


def env_without_sanitizer_preload(**extra: str) -> dict[str, str]:
    """The environment for a program the tests build and run on its own (other toolchains,
    emulators, a ThreadSanitizer binary): tools/sanitize.sh preloads ASan into this process,
    and that preload breaks such programs (musl's loader, wine, TSan fail before main)."""
    env = {k: v for k, v in os.environ.items() if k not in SANITIZER_VARIABLES}
    env.update(extra)
    return env
