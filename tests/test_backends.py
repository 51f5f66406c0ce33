"""The C extension and the NumPy backend give the same bits for every (distribution, dtype),
size, offset and parameter set; and a fill split into shards equals the whole fill."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

from conftest import BACKENDS, DISTRIBUTIONS, FLOAT_DTYPES, bits, np_dtype

SIZES = [0, 1, 3, 4, 5, 1023, (1 << 20) + 3]
OFFSETS = [0, 1, 2, 3, 5, (1 << 33) + 1]
EXTRA_PARAMS = {  # parameter sets beyond the defaults in conftest.DISTRIBUTIONS
    "uniform": [(0.0, 1.0), (-3.0, -3.0), (1e-3, 1e-3 + 1e-9), (-1e4, 1e4)],
    "normal": [(0.0, 1.0), (0.0, 0.0), (-7.0, 1e-3), (1e3, 30.0)],
    "trunc_normal": [(0.0, 1.0, -2.0, 2.0), (0.0, 0.002, -2.0, 2.0), (0.0, 1.0, 4.0, 5.0),
                     (0.0, 1.0, -5.0, -4.0), (2.0, 0.5, float("-inf"), 1.0), (0.0, 1.0, 0.0, float("inf")),
                     (0.0, 1.0, 8.0, 8.5), (0.0, 0.0, -1.0, 1.0), (0.0, 1.0, 0.25, 0.25 + 1e-7)],
}
_FILLERS = {"uniform": fi.uniform_, "normal": fi.normal_, "trunc_normal": fi.trunc_normal_}

needs_two_backends = pytest.mark.skipif(
    len(BACKENDS) < 2, reason="bit identity needs both backends; the C extension is not built"
)


def _fill_on(backend: str, fill, n: int, dtype, **kwargs) -> np.ndarray:
    buf = np.full(n, 7, dtype)
    with _backend.using(backend):
        fill(buf, **kwargs)
    return buf


def _assert_same(fill, n: int, dtype, **kwargs) -> None:
    c = _fill_on("c", fill, n, dtype, **kwargs)
    py = _fill_on("numpy", fill, n, dtype, **kwargs)
    mismatch = np.flatnonzero(bits(c) != bits(py))
    assert mismatch.size == 0, (
        f"first mismatch at element {mismatch[0]}: c={c[mismatch[0]]!r} numpy={py[mismatch[0]]!r}"
    )


@needs_two_backends
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dist", sorted(DISTRIBUTIONS))
def test_c_and_numpy_agree_on_every_size(dist, dtype, n):
    _assert_same(DISTRIBUTIONS[dist], n, np_dtype(dtype), seed=2024, stream=11)


@needs_two_backends
@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("dist", sorted(DISTRIBUTIONS))
def test_c_and_numpy_agree_at_every_offset(dist, dtype, offset):
    _assert_same(DISTRIBUTIONS[dist], 37, np_dtype(dtype), seed=5, stream=2**63 + 3, offset=offset)


@needs_two_backends
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "dist,params", [(d, p) for d, plist in EXTRA_PARAMS.items() for p in plist], ids=str
)
def test_c_and_numpy_agree_on_parameters(dist, params, dtype):
    fill = _FILLERS[dist]
    _assert_same(lambda buf, **kw: fill(buf, *params, **kw), 4099, np_dtype(dtype), seed=77, offset=1)


@needs_two_backends
@pytest.mark.parametrize("dtype", ["uint32", "uint64"])
@pytest.mark.parametrize("n,offset", [(0, 0), (1, 0), (5, 3), (1023, 1), ((1 << 20) + 3, 7)])
def test_c_and_numpy_agree_on_raw_bits(dtype, n, offset):
    _assert_same(fi.random_bits_, n, np.dtype(dtype), seed=2**64 - 1, stream=9, offset=offset)


@needs_two_backends
def test_c_and_numpy_agree_on_constants():
    for dtype in FLOAT_DTYPES:
        for value in (0.0, -0.0, 1.0, 0.1, 1e-8, 70000.0, 3e38, float("inf"), -float("inf")):
            _assert_same(lambda buf, v=value: fi.constant_(buf, v), 9, np_dtype(dtype))


@needs_two_backends
def test_c_and_numpy_agree_on_normal_cdf_and_quantile():
    from fastinit import _core, _numpy

    for x in [-40.0, -38.4, -20.0, -8.0, -2.0, -1.9999999, -1e-300, 0.0, 0.5, 2.0, 8.3, 40.0]:
        assert _core.normal_cdf(x) == _numpy.normal_cdf(x), x
    for p in [1e-300, 1e-20, 0.01, 0.075, 0.07500001, 0.5, 0.925, 0.999, 1 - 2**-53]:
        assert _core.normal_ppf(p) == _numpy.normal_ppf(p), p


# ---- sharding: element i depends only on (seed, stream, offset + i) ------------------


_SHARD_CASES = [(d, t) for d in sorted(DISTRIBUTIONS) for t in FLOAT_DTYPES] + [
    ("bits", "uint32"), ("bits", "uint64")]


@pytest.mark.parametrize("dist,dtype", _SHARD_CASES)
def test_shards_concatenate_to_the_whole(backend, dist, dtype):
    fill = fi.random_bits_ if dist == "bits" else DISTRIBUTIONS[dist]
    dt = np_dtype(dtype)
    n = 1001
    whole = fill(np.empty(n, dt), seed=3, stream=4, offset=10)
    for k in (1, 2, 3, 500, 999, 1000):  # odd cuts split Box-Muller pairs
        left = fill(np.empty(k, dt), seed=3, stream=4, offset=10)
        right = fill(np.empty(n - k, dt), seed=3, stream=4, offset=10 + k)
        assert np.array_equal(bits(np.concatenate([left, right])), bits(whole)), k


def test_shards_of_a_fan_based_initializer_use_the_global_fans(backend):
    whole = fi.glorot_uniform_(np.empty((64, 48), np.float32), seed=1)
    rows = [fi.glorot_uniform_(np.empty((16, 48), np.float32), seed=1, offset=16 * 48 * r,
                               fan_in=48, fan_out=64) for r in range(4)]
    assert np.array_equal(np.concatenate(rows), whole)


def test_the_last_element_of_the_index_space_is_reachable(backend):
    top = fi.uniform_(np.empty(3, np.float32), seed=1, offset=2**64 - 3)
    tail = fi.uniform_(np.empty(1, np.float32), seed=1, offset=2**64 - 1)
    assert top[2] == tail[0]
