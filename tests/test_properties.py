"""Property tests (hypothesis, derandomized so CI is deterministic): for any parameters,
seeds, offsets and cut points, the two backends agree bit for bit, shards equal the whole,
and values respect their bounds."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

from conftest import BACKENDS, bits

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is part of the test extra")
from hypothesis import given, settings, strategies as st  # noqa: E402

SETTINGS = settings(derandomize=True, max_examples=150, deadline=None)
u64 = st.integers(0, 2**64 - 1)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
dtypes = st.sampled_from([np.float32, np.float64, np.float16])


@st.composite
def trunc_args(draw):
    mean = draw(finite)
    std = draw(st.floats(1e-6, 1e3))
    a = draw(st.floats(-8, 7.5)) * std + mean
    b = a + draw(st.floats(1e-3, 10)) * std
    return mean, std, a, b


@st.composite
def calls(draw):
    """(fill, dtype) with parameters valid for the dtype."""
    dtype = draw(dtypes)
    kind = draw(st.sampled_from(["uniform", "normal", "trunc_normal"]))
    limit = 6e4 if dtype is np.float16 else 1e6
    small = st.floats(-limit / 4, limit / 4, allow_nan=False)
    if kind == "uniform":
        lo, hi = sorted((draw(small), draw(small)))
        return (lambda buf, **kw: fi.uniform_(buf, lo, hi, **kw)), dtype
    if kind == "normal":
        mean, std = draw(small), draw(st.floats(0, 10))
        return (lambda buf, **kw: fi.normal_(buf, mean, std, **kw)), dtype
    mean, std, a, b = draw(trunc_args())
    if dtype is np.float16 and max(abs(mean), abs(a), abs(b)) > 6e4:
        mean, std, a, b = 0.0, 1.0, -1.0, 2.0
    return (lambda buf, **kw: fi.trunc_normal_(buf, mean, std, a, b, **kw)), dtype


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs the C extension and the NumPy backend")
@SETTINGS
@given(call=calls(), n=st.integers(0, 70), seed=u64, stream=u64, offset=st.integers(0, 2**63))
def test_backends_agree_for_any_arguments(call, n, seed, stream, offset):
    fill, dtype = call
    out = {}
    for name in ("c", "numpy"):
        with _backend.using(name):
            out[name] = fill(np.empty(n, dtype), seed=seed, stream=stream, offset=offset)
    assert np.array_equal(bits(out["c"]), bits(out["numpy"]))


@SETTINGS
@given(call=calls(), n=st.integers(2, 60), data=st.data(), seed=u64, offset=st.integers(0, 2**40))
def test_any_cut_gives_the_same_values(call, n, data, seed, offset):
    fill, dtype = call
    cut = data.draw(st.integers(1, n - 1))
    whole = fill(np.empty(n, dtype), seed=seed, offset=offset)
    left = fill(np.empty(cut, dtype), seed=seed, offset=offset)
    right = fill(np.empty(n - cut, dtype), seed=seed, offset=offset + cut)
    assert np.array_equal(bits(np.concatenate([left, right])), bits(whole))


@SETTINGS
@given(args=trunc_args(), seed=u64)
def test_truncated_normal_stays_inside_its_bounds(args, seed):
    mean, std, a, b = args
    w = fi.trunc_normal_(np.empty(257), mean, std, a, b, seed=seed)
    assert np.all((w >= a) & (w <= b))


@SETTINGS
@given(lo=finite, width=st.floats(0, 1e6), seed=u64)
def test_uniform_stays_in_the_half_open_interval(lo, width, seed):
    hi = lo + width
    for dtype in (np.float32, np.float64):
        w = fi.uniform_(np.empty(129, dtype), lo, hi, seed=seed)
        lo_d, hi_d = dtype(lo), dtype(hi)
        if lo_d < hi_d:
            assert np.all((w >= lo_d) & (w < hi_d))
        else:
            assert np.all(w == lo_d)


@SETTINGS
@given(shape=st.lists(st.integers(1, 6), min_size=2, max_size=5), layout=st.sampled_from(["torch", "keras"]))
def test_fans_multiply_to_the_size_times_in_and_out(shape, layout):
    fan_in, fan_out = fi.fans(shape, layout)
    size = math.prod(shape)
    i, o = (1, 0) if layout == "torch" else (len(shape) - 2, len(shape) - 1)
    assert fan_in * shape[o] == size and fan_out * shape[i] == size
