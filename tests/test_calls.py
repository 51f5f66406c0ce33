"""Prepared calls (fastinit._call): parameters resolved once, the raw-memory entry adapters use,
and the C side filling a prepared call chunk by chunk."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fastinit as fi
from fastinit import _call
from fastinit import _contract as C

from conftest import bits

SENTINEL = 123.0

# (resolved call for float32, the same fill through the public API)
CASES = {
    "uniform": (lambda code: _call.resolve_uniform(code, -1.5, 2.25), lambda b, **kw: fi.uniform_(b, -1.5, 2.25, **kw)),
    "normal": (lambda code: _call.resolve_normal(code, 0.5, 2.0), lambda b, **kw: fi.normal_(b, 0.5, 2.0, **kw)),
    "trunc_normal": (lambda code: _call.resolve_trunc_normal(code, 0.1, 1.5, -1.0, 3.0),
                     lambda b, **kw: fi.trunc_normal_(b, 0.1, 1.5, -1.0, 3.0, **kw)),
    "constant": (lambda code: _call.resolve_constant(code, -0.0), lambda b, **kw: fi.constant_(b, -0.0)),
    "kaiming_uniform": (lambda code: _call.resolve_kaiming((6, 11), code, a=math.sqrt(5)),
                        lambda b, **kw: fi.kaiming_uniform_(b, a=math.sqrt(5), **kw)),
    "glorot_normal": (lambda code: _call.resolve_glorot((6, 11), code, 1.5, "normal"),
                      lambda b, **kw: fi.glorot_normal_(b, 1.5, **kw)),
}
STORAGE = {C.FLOAT32: np.float32, C.FLOAT64: np.float64, C.FLOAT16: np.float16, C.BFLOAT16: np.uint16}


def _array_of(code):
    if code == C.BFLOAT16:
        return np.full((6, 11), 7, np.uint16)
    return np.full((6, 11), SENTINEL, STORAGE[code])


@pytest.mark.parametrize("code", [C.FLOAT32, C.FLOAT64, C.FLOAT16, C.BFLOAT16], ids=lambda c: C.DTYPE_NAMES[c])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fill_raw_writes_what_the_api_writes(backend, case, code):
    resolve, api = CASES[case]
    r = resolve(code)
    out = _array_of(code)
    _call.fill_raw(out.ctypes.data, out.size, code, 42, 9, 1000, r)
    expected = _array_of(code)
    target = fi._api.RawBuffer(expected, code) if code == C.BFLOAT16 else expected
    api(target, seed=42, stream=9, offset=1000) if case != "constant" else api(target)
    assert np.array_equal(bits(out), bits(expected))
    assert not np.array_equal(bits(out), bits(_array_of(code)))  # something was written


def test_fill_raw_of_bits_and_of_nothing(backend):
    out = np.zeros(10, np.uint64)
    _call.fill_raw(out.ctypes.data, 10, C.UINT64, 3, 0, 0, _call.resolve(C.BITS, C.UINT64))
    assert np.array_equal(out, fi.random_bits_(np.zeros(10, np.uint64), seed=3))
    _call.fill_raw(0, 0, C.FLOAT32, 0, 0, 0, _call.resolve(C.UNIFORM, C.FLOAT32, 0.0, 1.0))  # no memory needed


BAD_RAW = [
    # (changes to the good call, exception, message fragment)
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 2**64}, ValueError, "seed"),
    ({"seed": 1.0}, TypeError, "seed"),
    ({"seed": True}, TypeError, "seed"),
    ({"stream": 2**64}, ValueError, "stream"),
    ({"offset": -3}, ValueError, "offset"),
    ({"offset": 2**64 - 5}, ValueError, "overflows"),
    ({"count": -1}, ValueError, "count"),
    ({"count": "16"}, TypeError, "count"),
    ({"address": 0}, ValueError, "NULL"),
    ({"dtype": C.FLOAT64}, ValueError, "resolved for dtype"),
    ({"resolved": [1, 0, 0.0, 1.0, 0.0, 0.0]}, TypeError, "resolved"),
]


@pytest.mark.parametrize("change,exc,fragment", BAD_RAW, ids=[next(iter(c[0])) + repr(next(iter(c[0].values())))
                                                               for c in BAD_RAW])
def test_fill_raw_checks_everything_before_writing(backend, change, exc, fragment):
    out = np.full(16, SENTINEL, np.float32)
    args = {"address": out.ctypes.data, "count": 16, "dtype": C.FLOAT32, "seed": 1, "stream": 0, "offset": 0,
            "resolved": _call.resolve(C.UNIFORM, C.FLOAT32, 0.0, 1.0)}
    args.update(change)
    with pytest.raises(exc, match=fragment):
        _call.fill_raw(**args)
    assert np.all(out == SENTINEL)


@pytest.mark.parametrize("args,exc,fragment", [
    ((C.UNIFORM, C.FLOAT32, 0.0, math.inf), ValueError, "high"),
    ((C.UNIFORM, C.FLOAT16, 0.0, 7e4), ValueError, "float16"),
    ((C.NORMAL, C.FLOAT32, math.nan, 1.0), ValueError, "mean"),
    ((C.NORMAL, C.FLOAT64, 0.0, -1.0), ValueError, "std"),
    ((C.TRUNC_NORMAL, C.FLOAT32, 0.0, 1.0, 40.0, 41.0), ValueError, "negligible"),
    ((C.CONSTANT, C.FLOAT32, "1"), TypeError, "value"),
    ((C.UNIFORM, C.UINT32, 0.0, 1.0), TypeError, "dtype"),
    ((C.BITS, C.FLOAT32), TypeError, "dtype"),
    ((17, C.FLOAT32), ValueError, "distribution"),
])
def test_resolve_refuses_bad_parameters(args, exc, fragment):
    with pytest.raises(exc, match=fragment):
        _call.resolve(*args)


def test_resolved_fans_are_remembered_and_keyed_by_type():
    first = _call.resolve_kaiming((64, 64), C.FLOAT32)
    assert _call.resolve_kaiming((64, 64), C.FLOAT32) is first
    assert first[:2] == (C.UNIFORM, C.FLOAT32) and first[4:] == (0.0, 0.0)
    assert first[2] == -first[3] and first[3] == pytest.approx(math.sqrt(6 / 64), rel=1e-15)
    assert _call.resolve_variance_scaling((64, 64), C.FLOAT32, 1, "fan_in", "uniform")[3] == math.sqrt(3 / 64)
    with pytest.raises(TypeError):  # True == 1, but a bool scale is refused even after 1 was cached
        _call.resolve_variance_scaling((64, 64), C.FLOAT32, True, "fan_in", "uniform")
    assert _call.resolve_variance_scaling((0, 64), C.FLOAT32, 1.0, "fan_in", "uniform")[0] == C.CONSTANT


def test_a_prepared_fill_is_cut_into_chunks_that_join_exactly(need_c):
    from fastinit import _core

    n = _core.chunk_elements(C.UNIFORM) + 7  # two chunks at least
    r = _call.resolve_uniform(C.FLOAT32, -1.0, 1.0)
    big = np.empty(n, np.float32)
    _core.fill_raw(big.ctypes.data, n, C.FLOAT32, 5, 1, 0, r)
    tail = np.empty(20, np.float32)
    _call.fill(tail, r, 5, 1, n - 20)  # one small call over the chunk boundary region's end
    assert np.array_equal(bits(big[-20:]), bits(tail))
    head = np.empty(20, np.float32)
    _call.fill(head, r, 5, 1, 0)
    assert np.array_equal(bits(big[:20]), bits(head))


def test_the_c_core_checks_a_hand_made_call_before_writing(need_c):
    from fastinit import _core

    out = np.full(8, SENTINEL, np.float32)
    with pytest.raises(ValueError, match="parameter"):  # low > high, built without resolve()
        _core.fill(out, (C.UNIFORM, C.FLOAT32, 1.0, 0.0, 0.0, 0.0), 0, 0, 0)
    with pytest.raises(ValueError, match="parameter"):
        _core.fill_raw(out.ctypes.data, 8, C.FLOAT32, 0, 0, 0, (C.NORMAL, C.FLOAT32, 0.0, math.nan, 0.0, 0.0))
    with pytest.raises(ValueError, match="parameter"):  # an unknown distribution code
        _core.fill(out, (9, C.FLOAT32, 0.0, 1.0, 0.0, 0.0), 0, 0, 0)
    assert np.all(out == SENTINEL)


def test_the_fast_path_takes_the_common_call_and_declines_the_rest(need_c):
    from fastinit import _backend, _core

    buf = np.full(16, SENTINEL, np.float32)
    with _backend.using("c"):
        assert _core.try_fill(buf, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, None)
        taken = buf.copy()
        buf[:] = SENTINEL
        read_only = np.full(16, SENTINEL, np.float32)
        read_only.flags.writeable = False
        declined = [
            (buf, C.UNIFORM, np.float64(-1.0), 1.0, 0.0, 0.0, 3, None, 0, None),  # a NumPy scalar parameter
            (buf, C.UNIFORM, -1.0, True, 0.0, 0.0, 3, None, 0, None),              # a bool parameter
            (buf, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, np.uint64(3), None, 0, None),    # a NumPy integer seed
            (buf, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, fi.Generator(3)),    # a generator object
            (buf, C.UNIFORM, 1.0, -1.0, 0.0, 0.0, 3, None, 0, None),               # refused by fi_prepare
            (buf, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 2**64 - 1, None),       # index range
            (buf, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, -3, None, 0, None),
            (buf[::2], C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, None),          # not contiguous
            (read_only, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, None),
            (memoryview(buf), C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, None),   # not an ndarray
            (buf.view(np.uint32), C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, None),  # wrong dtype
        ]
        for args in declined:
            assert _core.try_fill(*args) is False, args[1:]
        assert np.all(buf == SENTINEL) and np.all(read_only == SENTINEL)
    with _backend.using("numpy"):  # only the C backend's own calls take it
        assert _core.try_fill(buf, C.UNIFORM, -1.0, 1.0, 0.0, 0.0, 3, None, 0, None) is False
    # the general path gives the same bits for a declined form of the same call
    assert np.array_equal(bits(fi.uniform_(buf, np.float64(-1.0), 1.0, seed=np.uint64(3))), bits(taken))


def test_the_default_generator_gives_one_stream_per_successful_call(backend):
    saved = fi._generator.default_generator.get_state()
    try:
        fi.manual_seed(77)
        first = fi.uniform_(np.empty(8, np.float32), seed=None)
        with pytest.raises(ValueError):
            fi.uniform_(np.empty(8, np.float32), 1.0, 0.0)  # fails: takes no stream
        second = fi.kaiming_uniform_(np.empty((2, 4), np.float32))
        assert fi._generator.default_generator.get_state() == (77, 2)
    finally:
        fi._generator.default_generator.set_state(saved)
    assert np.array_equal(first, fi.uniform_(np.empty(8, np.float32), seed=77, stream=0))
    assert np.array_equal(second, fi.kaiming_uniform_(np.empty((2, 4), np.float32), seed=77, stream=1))
