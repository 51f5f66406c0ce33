"""Every instruction-set level this CPU runs (scalar, AVX2, AVX-512, NEON) gives the same bits as
the scalar kernels and the NumPy backend: all distributions and dtypes, sizes around every
vector step, offsets, odd tails and unaligned buffers, without writing outside the buffer."""
from __future__ import annotations

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend

from conftest import BACKENDS, DISTRIBUTIONS, FLOAT_DTYPES, bits, np_dtype

pytestmark = pytest.mark.skipif("c" not in BACKENDS, reason="the C extension is not built")

SIZES = [0, 1, 3, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1023, (1 << 16) + 3]
# The last two straddle the 2^32-block carry of the counter (2^34 32-bit words), where the SIMD
# kernels split a range: at element 2^34 - 5 for one word per element, 2^33 - 3 for two.
OFFSETS = [0, 1, 2, 3, 5, 7, (1 << 33) + 1, (1 << 34) - 5, (1 << 33) - 3]
CASES = [(d, t) for d in sorted(DISTRIBUTIONS) for t in FLOAT_DTYPES] + [("bits", "uint32"), ("bits", "uint64")]


def _levels():
    from fastinit import _core

    return _core.available_isas()


@pytest.fixture
def isa_restore():
    from fastinit import _core

    before = _core.isa()
    yield _core
    _core.select_isa(before)


def _fill(dist):
    return fi.random_bits_ if dist == "bits" else DISTRIBUTIONS[dist]


def _run(core, level, dist, dtype, n, offset, buf=None):
    core.select_isa(level)
    out = np.empty(n, np_dtype(dtype)) if buf is None else buf
    with _backend.using("c"):
        _fill(dist)(out, seed=12, stream=34, offset=offset)
    return out


def test_the_best_level_is_chosen_by_default():
    from fastinit import _core

    assert _levels()[0] == "scalar"
    if "FASTINIT_ISA" not in __import__("os").environ:
        assert fi.backend() in ("numpy", f"c-{_levels()[-1]}")
    assert _core.isa() in _levels()


@pytest.mark.parametrize("level", _levels()[1:] if "c" in BACKENDS else [])
@pytest.mark.parametrize("dist,dtype", CASES)
def test_level_matches_scalar_on_every_size_and_offset(isa_restore, level, dist, dtype):
    for n in SIZES:
        for offset in OFFSETS:
            want = _run(isa_restore, "scalar", dist, dtype, n, offset)
            got = _run(isa_restore, level, dist, dtype, n, offset)
            assert np.array_equal(bits(got), bits(want)), (n, offset)


@pytest.mark.parametrize("level", _levels() if "c" in BACKENDS else [])
@pytest.mark.parametrize("dist,dtype", CASES)
def test_level_matches_the_numpy_backend(isa_restore, level, dist, dtype):
    got = _run(isa_restore, level, dist, dtype, 70_001, 3)
    with _backend.using("numpy"):
        want = _fill(dist)(np.empty(70_001, np_dtype(dtype)), seed=12, stream=34, offset=3)
    assert np.array_equal(bits(got), bits(want))


@pytest.mark.parametrize("level", _levels() if "c" in BACKENDS else [])
@pytest.mark.parametrize("dist,dtype", CASES)
def test_unaligned_buffers_are_filled_without_touching_their_neighbours(isa_restore, level, dist, dtype):
    itemsize = np.dtype(np_dtype(dtype)).itemsize
    for shift in (1, 2, 3, itemsize, 7):
        raw = bytearray(b"\xa5" * (8192 + 64))
        n = 1000
        view = np.frombuffer(raw, dtype=np.uint8)[shift:shift + n * itemsize].view(np_dtype(dtype))
        got = _run(isa_restore, level, dist, dtype, n, 1, buf=view)
        want = _run(isa_restore, "scalar", dist, dtype, n, 1)
        assert np.array_equal(bits(got), bits(want))
        assert raw[:shift] == b"\xa5" * shift
        assert raw[shift + n * itemsize:] == b"\xa5" * (len(raw) - shift - n * itemsize)


def test_isa_names_come_from_the_c_descriptor_list():
    # the levels FASTINIT_ISA takes, lowest first, as csrc/dispatch.c lists them; Python keeps no copy
    from fastinit import _core

    assert _core.ISAS == ("scalar", "neon", "avx2", "avx512")
    assert _core.ISAS[0] == "scalar" and "scalar" in _core.available_isas()
    assert set(_core.available_isas()) <= set(_core.compiled_isas()) <= set(_core.ISAS)
    # one architecture's SIMD levels at most: a build never has both NEON and x86 kernels
    assert not ({"neon"} & set(_core.compiled_isas()) and {"avx2", "avx512"} & set(_core.compiled_isas()))


def test_selecting_a_level_the_build_or_cpu_lacks_says_which(isa_restore):
    for level in _core_levels_not_available():
        with pytest.raises(ValueError, match="no .* kernels|cannot run it"):
            isa_restore.select_isa(level)


def _core_levels_not_available():
    from fastinit import _core

    return [level for level in _core.ISAS if level not in _core.available_isas()]


def test_selecting_an_unknown_level_raises(isa_restore):
    with pytest.raises(ValueError, match="not available"):
        isa_restore.select_isa("avx9000")
