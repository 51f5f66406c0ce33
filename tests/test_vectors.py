"""Known-answer vectors of Philox4x32-10 and the frozen regression vectors of stream contract v1
(tests/vectors.txt), on every backend. A failure here means the stream changed."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit as fi

from conftest import VECTORS, np_dtype

_PARAM_COUNT = {"bits": 0, "uniform": 2, "normal": 2, "trunc_normal": 4}
_FILL = {
    "bits": lambda buf, p, **kw: fi.random_bits_(buf, **kw),
    "uniform": lambda buf, p, **kw: fi.uniform_(buf, *p, **kw),
    "normal": lambda buf, p, **kw: fi.normal_(buf, *p, **kw),
    "trunc_normal": lambda buf, p, **kw: fi.trunc_normal_(buf, *p, **kw),
}


def _lines(kind: str) -> list:
    return list(_iter_lines(kind))


def _iter_lines(kind: str):
    for lineno, line in enumerate(VECTORS.read_text().splitlines(), 1):
        if line.startswith(kind + " "):
            yield pytest.param(line.split()[1:], id=f"line{lineno}")


def test_vector_file_covers_every_distribution_and_dtype():
    seen = {tuple(p.values[0][:2]) for p in _lines("fill")}
    for dist in ("uniform", "normal", "trunc_normal"):
        for dtype in ("float32", "float64", "bfloat16", "float16"):
            assert (dist, dtype) in seen
    assert ("bits", "uint32") in seen and ("bits", "uint64") in seen
    assert len(list(_lines("philox"))) == 3


@pytest.mark.parametrize("fields", _lines("philox"))
def test_philox_known_answer(backend, fields):
    words = [int(w, 16) for w in fields if w != "->"]
    assert fi.philox4x32(words[0:4], words[4:6]) == tuple(words[6:10])


@pytest.mark.parametrize("fields", _lines("fill"))
def test_frozen_vector(backend, fields):
    dist, dtype, seed, stream, offset = fields[0], fields[1], *map(int, fields[2:5])
    nparams = _PARAM_COUNT[dist]
    params = [float.fromhex(p) for p in fields[5:5 + nparams]]
    expect = [int(w, 16) for w in fields[6 + nparams:]]
    buf = np.empty(len(expect), np_dtype(dtype))
    _FILL[dist](buf, params, seed=seed, stream=stream, offset=offset)
    view = buf.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[buf.dtype.itemsize])
    assert [int(v) for v in view] == expect
