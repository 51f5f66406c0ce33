"""Every bad input raises a clear TypeError/ValueError naming the argument, before a single
element is written (the buffer is left exactly as it was), on every backend."""
from __future__ import annotations

import array
import math

import numpy as np
import pytest

import fastinit as fi

SENTINEL = 123.0


def _buf(shape=(8, 6), dtype=np.float32):
    return np.full(shape, SENTINEL, dtype)


INF, NAN = math.inf, math.nan
BAD_CALLS = [
    # (id, call(buf), exception, message fragment)
    ("uniform low > high", lambda b: fi.uniform_(b, 2.0, 1.0), ValueError, "low"),
    ("uniform inf high", lambda b: fi.uniform_(b, 0.0, INF), ValueError, "high"),
    ("uniform nan low", lambda b: fi.uniform_(b, NAN, 1.0), ValueError, "low"),
    ("uniform span overflows", lambda b: fi.uniform_(b, -3e38, 3e38), ValueError, "overflows"),
    ("uniform string", lambda b: fi.uniform_(b, "0", 1.0), TypeError, "low"),
    ("normal std < 0", lambda b: fi.normal_(b, 0.0, -1.0), ValueError, "std"),
    ("normal std inf", lambda b: fi.normal_(b, 0.0, INF), ValueError, "std"),
    ("normal mean nan", lambda b: fi.normal_(b, NAN, 1.0), ValueError, "mean"),
    ("normal mean beyond float32", lambda b: fi.normal_(b, 1e39, 1.0), ValueError, "mean"),
    ("trunc a == b", lambda b: fi.trunc_normal_(b, 0.0, 1.0, 1.0, 1.0), ValueError, "a="),
    ("trunc a > b", lambda b: fi.trunc_normal_(b, 0.0, 1.0, 2.0, -2.0), ValueError, "a="),
    ("trunc nan bound", lambda b: fi.trunc_normal_(b, 0.0, 1.0, NAN, 1.0), ValueError, "NaN"),
    ("trunc negligible mass", lambda b: fi.trunc_normal_(b, 0.0, 1.0, 40.0, 41.0), ValueError, "negligible"),
    ("trunc zero std outside", lambda b: fi.trunc_normal_(b, 5.0, 0.0, -1.0, 1.0), ValueError, "std=0"),
    ("trunc std < 0", lambda b: fi.trunc_normal_(b, 0.0, -0.1), ValueError, "std"),
    ("seed negative", lambda b: fi.normal_(b, seed=-1), ValueError, "seed"),
    ("seed 2**64", lambda b: fi.normal_(b, seed=2**64), ValueError, "seed"),
    ("seed float", lambda b: fi.normal_(b, seed=1.5), TypeError, "seed"),
    ("seed bool", lambda b: fi.normal_(b, seed=True), TypeError, "seed"),
    ("stream 2**64", lambda b: fi.normal_(b, seed=1, stream=2**64), ValueError, "stream"),
    ("offset negative", lambda b: fi.normal_(b, seed=1, offset=-1), ValueError, "offset"),
    ("offset overflows index", lambda b: fi.normal_(b, seed=1, offset=2**64 - 10), ValueError, "overflows"),
    ("seed and generator", lambda b: fi.normal_(b, seed=1, generator=fi.Generator(2)), ValueError, "generator"),
    ("generator wrong type", lambda b: fi.normal_(b, generator=np.random.default_rng()), TypeError, "generator"),
    ("fan mode unknown", lambda b: fi.variance_scaling_(b, 1.0, "fan_sum"), ValueError, "mode"),
    ("distribution unknown", lambda b: fi.variance_scaling_(b, 1.0, "fan_in", "cauchy"), ValueError, "distribution"),
    ("scale negative", lambda b: fi.variance_scaling_(b, -1.0), ValueError, "scale"),
    ("nonlinearity unknown", lambda b: fi.kaiming_uniform_(b, nonlinearity="swishy"), ValueError, "nonlinearity"),
    ("leaky slope not a number", lambda b: fi.kaiming_normal_(b, a="x"), ValueError, "negative_slope"),
    ("layout unknown", lambda b: fi.glorot_uniform_(b, layout="mxnet"), ValueError, "layout"),
    ("in_axis out of range", lambda b: fi.glorot_uniform_(b, in_axis=5), ValueError, "in_axis"),
    ("in_axis == out_axis", lambda b: fi.glorot_uniform_(b, in_axis=0, out_axis=0), ValueError, "distinct"),
    ("zero fan override", lambda b: fi.he_normal_(b, fan_in=0), ValueError, "fan_in"),
    ("gain nan", lambda b: fi.xavier_uniform_(b, gain=NAN), ValueError, "gain"),
    ("constant string", lambda b: fi.constant_(b, "1"), TypeError, "value"),
]


@pytest.mark.parametrize("call,exc,fragment", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_argument_raises_and_writes_nothing(backend, call, exc, fragment):
    buf = _buf()
    with pytest.raises(exc, match=fragment):
        call(buf)
    assert np.all(buf == SENTINEL)


def test_a_failed_call_consumes_no_stream(backend):
    g = fi.Generator(5)
    with pytest.raises(ValueError):
        fi.normal_(_buf(), 0.0, -1.0, generator=g)
    assert g.get_state() == (5, 0)


FAN_BASED = [fi.glorot_uniform_, fi.glorot_normal_, fi.he_uniform_, fi.he_normal_,
             fi.lecun_uniform_, fi.lecun_normal_, fi.variance_scaling_]


@pytest.mark.parametrize("fill", FAN_BASED, ids=lambda f: f.__name__)
def test_fan_based_initializers_need_two_dimensions(backend, fill):
    for shape in [(), (7,)]:
        buf = np.full(shape, SENTINEL, np.float32)
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            fill(buf)
        assert np.all(buf == SENTINEL)
    # with explicit fans a 1-D buffer is fine (e.g. a flattened shard)
    assert np.all(fill(np.full(7, SENTINEL, np.float32), fan_in=3, fan_out=4, seed=0) != SENTINEL)


@pytest.mark.parametrize(
    "make,exc,fragment",
    [
        (lambda: np.full(8, SENTINEL, np.int32), TypeError, "dtype int32"),
        (lambda: np.full(8, SENTINEL, np.complex64), TypeError, "dtype complex64"),
        (lambda: np.full(8, SENTINEL, np.dtype(">f4")), TypeError, "native byte order"),
        (lambda: np.full((8, 8), SENTINEL, np.float32)[:, ::2], ValueError, "C-contiguous"),
        (lambda: np.full((8, 8), SENTINEL, np.float32).T, ValueError, "C-contiguous"),
    ],
    ids=["int32", "complex64", "big-endian", "strided", "transposed"],
)
def test_unsupported_buffers_raise(backend, make, exc, fragment):
    buf = make()
    before = buf.copy()
    with pytest.raises(exc, match=fragment):
        fi.normal_(buf, seed=0)
    assert np.array_equal(buf, before)


def test_read_only_buffers_raise(backend):
    arr = np.full(8, SENTINEL, np.float32)
    arr.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        fi.uniform_(arr)
    with pytest.raises(ValueError, match="read-only"):
        fi.uniform_(memoryview(np.full(8, SENTINEL, np.float32).tobytes()).cast("f"))
    assert np.all(arr == SENTINEL)


def test_objects_without_a_buffer_raise_type_error(backend):
    with pytest.raises(TypeError, match="buffer protocol"):
        fi.normal_([0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="buffer protocol"):
        fi.normal_(None)


def test_float_fills_reject_uint_buffers_and_bits_reject_floats(backend):
    with pytest.raises(TypeError, match="float32"):
        fi.normal_(np.zeros(4, np.uint32))
    with pytest.raises(TypeError, match="uint32"):
        fi.random_bits_(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="dtype"):
        fi.uniform_(array.array("i", [1, 2, 3]))


def test_float16_parameters_must_fit_the_dtype(backend):
    buf = np.full(4, 1.0, np.float16)
    with pytest.raises(ValueError, match="float16"):
        fi.uniform_(buf, 0.0, 70000.0)
    assert np.all(buf == 1.0)


@pytest.mark.parametrize("counter,key", [((0, 0, 0), (0, 0)), ((0, 0, 0, 2**32), (0, 0)),
                                         ((0, 0, 0, 0), (-1, 0)), ((0, 0, 0, 0), (0, 1.0))])
def test_philox4x32_rejects_bad_words(backend, counter, key):
    with pytest.raises(ValueError):
        fi.philox4x32(counter, key)


def test_get_rejects_unknown_ids():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_uniformm'"):
        fi.get("glorot_uniformm")
    with pytest.raises(TypeError):
        fi.get(3)


def test_c_core_refuses_bad_calls_on_its_own(need_c):
    """The C entry points validate too (for direct callers): bad arguments give an exception
    from the status code, and nothing is written."""
    from fastinit import _core

    buf = np.full(4, SENTINEL, np.float32)
    with pytest.raises(ValueError, match="parameter"):
        _core.fill_uniform(buf, 0, 0, 0, 0, 1.0, 0.0)
    with pytest.raises(ValueError, match="2\\^64"):
        _core.fill_uniform(buf, 0, 0, 0, 2**64 - 2, 0.0, 1.0)
    with pytest.raises(TypeError, match="dtype"):
        _core.fill_bits(buf, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="whole number"):
        _core.fill_uniform(np.zeros(3, np.uint8), 0, 0, 0, 0, 0.0, 1.0)
    assert np.all(buf == SENTINEL)
