"""Known-answer vectors of Philox4x32-10 and the frozen regression vectors of the stream contract (v2)
(tests/vectors.txt), on the NumPy backend and under every instruction-set level of the C
extension this CPU runs. A failure here means the stream changed."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

from conftest import BACKENDS, VECTORS, np_dtype

_PARAM_COUNT = {"bits": 0, "uniform": 2, "normal": 2, "trunc_normal": 4, "constant": 1}
_FILL = {
    "bits": lambda buf, p, **kw: fi.random_bits_(buf, **kw),
    "uniform": lambda buf, p, **kw: fi.uniform_(buf, *p, **kw),
    "normal": lambda buf, p, **kw: fi.normal_(buf, *p, **kw),
    "trunc_normal": lambda buf, p, **kw: fi.trunc_normal_(buf, *p, **kw),
    "constant": lambda buf, p, **kw: fi.constant_(buf, *p),  # uses no stream
}
FLOAT_DTYPES = ("float32", "float64", "bfloat16", "float16")


def _levels() -> list[str]:
    """'numpy', and 'c-<isa>' for every ISA level the C extension can run here."""
    levels = ["numpy"]
    if "c" in BACKENDS:
        from fastinit import _core

        levels += [f"c-{isa}" for isa in _core.available_isas()]
    return levels


@pytest.fixture(params=_levels())
def level(request):
    if request.param == "numpy":
        with _backend.using("numpy"):
            yield request.param
        return
    from fastinit import _core

    before = _core.isa()
    _core.select_isa(request.param[2:])
    try:
        with _backend.using("c"):
            yield request.param
    finally:
        _core.select_isa(before)


def _lines(kind: str) -> list:
    return list(_iter_lines(kind))


def _iter_lines(kind: str):
    for lineno, line in enumerate(VECTORS.read_text().splitlines(), 1):
        if line.startswith(kind + " "):
            yield pytest.param(line.split()[1:], id=f"line{lineno}")


def _fills() -> list[list[str]]:
    return [p.values[0] for p in _lines("fill")]


def test_vector_file_covers_every_distribution_and_dtype():
    seen = {tuple(f[:2]) for f in _fills()}
    for dist in ("uniform", "normal", "trunc_normal", "constant"):
        for dtype in FLOAT_DTYPES:
            assert (dist, dtype) in seen
    assert ("bits", "uint32") in seen and ("bits", "uint64") in seen
    assert len(list(_lines("philox"))) == 3


def test_vector_file_covers_the_truncated_tails_and_the_simd_paths():
    # a one-sided tail [4, 5] std above the mean and an infinite lower bound, in every float dtype
    tails = {(f[1], f[7], f[8]) for f in _fills() if f[0] == "trunc_normal"}
    for dtype in FLOAT_DTYPES:
        assert (dtype, float(4).hex(), float(5).hex()) in tails
        assert (dtype, "-inf", float(-1).hex()) in tails
    # 67 values from an odd offset reach the vector loops (one AVX-512 step is 32 float32 or
    # 16 float64 elements), for every random (distribution, dtype)
    long = {tuple(f[:2]) for f in _fills() if len(f) - f.index("->") - 1 >= 67 and int(f[4]) % 2}
    for dist in ("uniform", "normal", "trunc_normal"):
        for dtype in FLOAT_DTYPES:
            assert (dist, dtype) in long
    assert ("bits", "uint32") in long and ("bits", "uint64") in long


def test_vector_file_records_the_contract_version_it_freezes():
    versions = [int(p.values[0][0]) for p in _lines("contract")]
    assert versions == [fi.CONTRACT_VERSION] == [2]
    if "c" in BACKENDS:
        from fastinit import _core

        assert _core.CONTRACT_VERSION == fi.CONTRACT_VERSION  # the compiled C agrees (a stale build fails)


@pytest.mark.parametrize("fields", _lines("philox"))
def test_philox_known_answer(backend, fields):
    words = [int(w, 16) for w in fields if w != "->"]
    assert fi.philox4x32(words[0:4], words[4:6]) == tuple(words[6:10])


@pytest.mark.parametrize("fields", _lines("fill"))
def test_frozen_vector(level, fields):
    dist, dtype, seed, stream, offset = fields[0], fields[1], *map(int, fields[2:5])
    nparams = _PARAM_COUNT[dist]
    params = [float.fromhex(p) for p in fields[5:5 + nparams]]
    assert fields[5 + nparams] == "->"
    expect = [int(w, 16) for w in fields[6 + nparams:]]
    buf = np.empty(len(expect), np_dtype(dtype))
    _FILL[dist](buf, params, seed=seed, stream=stream, offset=offset)
    view = buf.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[buf.dtype.itemsize])
    assert [int(v) for v in view] == expect


def test_the_vector_file_is_what_tools_make_vectors_prints():
    """The file is generated (from the NumPy backend), so the script documents every line."""
    import subprocess
    import sys

    from conftest import ROOT

    out = subprocess.run([sys.executable, str(ROOT / "tools/make_vectors.py")], capture_output=True,
                         text=True, cwd=ROOT, env={**__import__("os").environ, "FASTINIT_BACKEND": "numpy"})
    assert out.returncode == 0, out.stderr
    assert out.stdout == VECTORS.read_text()
