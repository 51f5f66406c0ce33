"""fastinit.keras: runs tests/keras_backend_cases.py once per Keras backend, each in its own
pytest process (Keras fixes its backend at import, from KERAS_BACKEND), bounded in time, and
checks that every backend gave the same seeded values."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# Not imported here: Keras picks its backend at import (KERAS_BACKEND, default tensorflow).
if importlib.util.find_spec("keras") is None:
    pytest.skip("keras is not installed (CI installs keras==3.15.1)", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "keras_backend_cases.py"
BACKENDS = ("torch", "jax", "numpy")
TIMEOUT_S = 240


def _available(backend: str) -> bool:
    return backend == "numpy" or importlib.util.find_spec(backend) is not None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """backend -> (pytest output, path of the values it wrote); each run once, on demand."""
    results: dict[str, tuple[str, Path]] = {}

    def run(backend: str) -> tuple[str, Path]:
        if backend not in results:
            values = tmp_path_factory.mktemp(backend) / "values.npz"
            env = dict(os.environ, KERAS_BACKEND=backend, FASTINIT_KERAS_VALUES=str(values),
                       PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
                 str(CASES)],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
            )
            output = proc.stdout + proc.stderr
            assert proc.returncode == 0, f"KERAS_BACKEND={backend}:\n{output[-6000:]}"
            results[backend] = (output, values)
        return results[backend]

    return run


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_backend(runs, backend):
    if not _available(backend):
        pytest.skip(f"Keras's {backend} backend needs the {backend} package")
    output, values = runs(backend)
    assert " passed" in output and " failed" not in output and "skipped" not in output, output[-3000:]
    assert values.exists()


def test_same_values_on_every_backend(runs):
    backends = [b for b in BACKENDS if _available(b)]
    if len(backends) < 2:
        pytest.skip("needs two Keras backends")
    arrays = [np.load(runs(b)[1]) for b in backends]
    for name in arrays[0].files:
        for other in arrays[1:]:
            assert np.array_equal(arrays[0][name], other[name]), name


def test_import_fastinit_imports_neither_keras_nor_jax():
    code = "import sys, fastinit; bad = {'keras', 'jax', 'flax'} & set(sys.modules); assert not bad, bad"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)


def test_keras_fans_rule():
    from fastinit._fans import keras_fans

    assert keras_fans(()) == (1, 1)
    assert keras_fans((7,)) == (7, 7)
    assert keras_fans((5, 9)) == (5, 9)
    assert keras_fans((3, 3, 16, 32)) == (144, 288)
    assert keras_fans((8, 4, 6), input_axes=[0], output_axes=[1, 2]) == (8, 24)
    assert keras_fans((8, 4, 6), input_axes=[-1], output_axes=[]) == (6, 1)
    with pytest.raises(ValueError, match="input_axes"):
        keras_fans((8, 4), input_axes=[2], output_axes=[0])
