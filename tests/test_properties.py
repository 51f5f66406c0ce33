"""Property tests (hypothesis, derandomized so CI is deterministic): for any shape (1-4 dims,
some past the size at which fills are split over threads), dtype, distribution (fan-based
initializers too), parameters, seed, stream, offset, thread count and instruction-set level,
the C backend gives the NumPy backend's bits; row shards filled alone (via ``offset``) and
torch shards of any slicing reassemble the whole; and values respect their bounds."""
from __future__ import annotations

import contextlib
import importlib.util
import math
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
import pytest

import fastinit as fi
from fastinit import _backend
from fastinit._contract import PARALLEL_MIN_BYTES  # fills of at least this many bytes are cut over threads

from conftest import BACKENDS, BF16, bits

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is part of the test extra")
from hypothesis import event, given, settings, strategies as st  # noqa: E402

SETTINGS = settings(derandomize=True, max_examples=150, deadline=None)
u64 = st.integers(0, 2**64 - 1)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)

FLOAT_TYPES = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16)] + ([BF16] if BF16 is not None else [])
BITS_TYPES = [np.dtype(np.uint32), np.dtype(np.uint64)]
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _levels() -> tuple[str, ...]:
    """Instruction-set levels this CPU and build run (("scalar",) stands in without C)."""
    if "c" not in BACKENDS:
        return ("scalar",)
    from fastinit import _core

    return tuple(_core.available_isas())


FAN_KINDS = ("variance_scaling", "glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal",
             "lecun_uniform", "lecun_normal")
KINDS = ("bits", "uniform", "normal", "trunc_normal") + FAN_KINDS


class Fill(NamedTuple):
    """One fill call with drawn parameters: ``run(buf, whole_shape, **seed_stream_offset)``.

    ``whole_shape`` is the shape of the tensor ``buf`` is part of: fan-based initializers of a
    part take the whole's fans, as a shard must."""

    kind: str
    dtype: np.dtype
    run: Callable[..., Any]


@st.composite
def trunc_args(draw):
    mean = draw(finite)
    std = draw(st.floats(1e-6, 1e3))
    a = draw(st.floats(-8, 7.5)) * std + mean
    b = a + draw(st.floats(1e-3, 10)) * std
    return mean, std, a, b


def _fan_fill(draw, kind: str, ndim: int) -> Callable[..., Any]:
    """A fan-based initializer with drawn options; explicit fans when the shape has none."""
    layout = draw(st.sampled_from(fi.LAYOUTS))
    explicit: dict[str, int] = {}
    if ndim < 2 or draw(st.booleans()):
        explicit = {"fan_in": draw(st.integers(1, 10_000)), "fan_out": draw(st.integers(1, 10_000))}
    dist = draw(st.sampled_from(fi.DISTRIBUTIONS))
    if kind == "variance_scaling":
        scale, mode = draw(st.floats(0, 10)), draw(st.sampled_from(fi.MODES))
        init = lambda buf, **kw: fi.variance_scaling_(buf, scale, mode, dist, **kw)  # noqa: E731
    elif kind.startswith("glorot"):
        gain = draw(st.floats(0, 5))
        init = {"glorot_uniform": lambda buf, **kw: fi.glorot_uniform_(buf, gain, **kw),
                "glorot_normal": lambda buf, **kw: fi.glorot_normal_(buf, gain, distribution=dist, **kw)}[kind]
    elif kind.startswith("kaiming"):
        nonlinearity = draw(st.sampled_from(fi.NONLINEARITIES))
        a = draw(st.floats(0, 5)) if nonlinearity == "leaky_relu" else 0.0
        mode = draw(st.sampled_from(fi.MODES))
        init = {"kaiming_uniform": lambda buf, **kw: fi.kaiming_uniform_(buf, a, mode, nonlinearity, **kw),
                "kaiming_normal": lambda buf, **kw: fi.kaiming_normal_(buf, a, mode, nonlinearity,
                                                                       distribution=dist, **kw)}[kind]
    else:
        init = {"lecun_uniform": fi.lecun_uniform_,
                "lecun_normal": lambda buf, **kw: fi.lecun_normal_(buf, distribution=dist, **kw)}[kind]

    def run(buf, whole_shape, **kw):
        fans = explicit
        if not fans and tuple(buf.shape) != tuple(whole_shape):  # a part: the whole's fans
            fans = dict(zip(("fan_in", "fan_out"), fi.fans(whole_shape, layout)))
        return init(buf, layout=layout, **fans, **kw)

    return run


@st.composite
def fills(draw, ndim: int = 1, kinds: tuple[str, ...] = KINDS) -> Fill:
    """Any fill fastinit offers, with parameters valid for the dtype drawn."""
    kind = draw(st.sampled_from(kinds))
    if kind == "bits":
        return Fill(kind, draw(st.sampled_from(BITS_TYPES)), lambda buf, whole, **kw: fi.random_bits_(buf, **kw))
    dtype = draw(st.sampled_from(FLOAT_TYPES))
    if kind in FAN_KINDS:
        return Fill(kind, dtype, _fan_fill(draw, kind, ndim))
    limit = 6e4 if dtype == np.float16 else 1e6
    small = st.floats(-limit / 4, limit / 4, allow_nan=False)
    if kind == "uniform":
        lo, hi = sorted((draw(small), draw(small)))
        return Fill(kind, dtype, lambda buf, whole, **kw: fi.uniform_(buf, lo, hi, **kw))
    if kind == "normal":
        mean, std = draw(small), draw(st.floats(0, 10))
        return Fill(kind, dtype, lambda buf, whole, **kw: fi.normal_(buf, mean, std, **kw))
    mean, std, a, b = draw(trunc_args())
    if dtype == np.float16 and max(abs(mean), abs(a), abs(b)) > 6e4:
        mean, std, a, b = 0.0, 1.0, -1.0, 2.0
    return Fill(kind, dtype, lambda buf, whole, **kw: fi.trunc_normal_(buf, mean, std, a, b, **kw))


@st.composite
def shapes(draw, itemsize: int, ndim: int, min_side: int = 0, near_split: bool = False) -> tuple[int, ...]:
    """``ndim`` small sides, or (``near_split``) a total size from a little under the thread-split
    size to 1.5 times it, so multi-threaded fills cut the buffer at varied points."""
    if near_split:
        threshold = PARALLEL_MIN_BYTES // itemsize
        total = draw(st.integers(threshold - 300, threshold + threshold // 2))
        inner = [draw(st.integers(1, 7)) for _ in range(ndim - 1)]
        return (-(-total // math.prod(inner)), *inner)
    return tuple(draw(st.lists(st.integers(min_side, 9), min_size=ndim, max_size=ndim)))


@st.composite
def cases(draw, kind: str, min_side: int = 0, near_split: bool = False) -> tuple[Fill, tuple[int, ...]]:
    """(fill, shape) with the shape drawn for the fill's dtype; fan-based fills get sides >= 1."""
    ndim = draw(st.integers(1, 4))
    fill = draw(fills(ndim=ndim, kinds=(kind,)))
    return fill, draw(shapes(fill.dtype.itemsize, ndim, 1 if fill.kind in FAN_KINDS else min_side, near_split))


@contextlib.contextmanager
def c_config(level: str, threads: int) -> Iterator[None]:
    """Run the C backend at one instruction-set level and thread count, then restore both."""
    from fastinit import _core

    isa, n = _core.isa(), fi.get_num_threads()
    _core.select_isa(level)
    fi.set_num_threads(threads)
    try:
        with _backend.using("c"):
            yield
    finally:
        _core.select_isa(isa)
        fi.set_num_threads(n)


def _offsets(size: int):
    # anywhere in the index space the fill fits into (the top end included)
    return st.one_of(st.integers(0, 2**40), st.integers(0, 2**64 - size))


# Every kind of fill, small or near the thread-split size, gets its own examples: none of
# these is left to chance.
SIZES = pytest.mark.parametrize("near_split", [False, True], ids=["small", "near_split"])


@pytest.mark.skipif(len(BACKENDS) < 2, reason="needs the C extension and the NumPy backend")
@pytest.mark.parametrize("kind", KINDS)
@SIZES
@settings(SETTINGS, max_examples=25)
@given(data=st.data(), seed=u64, stream=u64, threads=st.sampled_from((2, 3, 4, 1)),
       level=st.sampled_from(_levels()))
def test_backends_agree_for_any_arguments(kind, near_split, data, seed, stream, threads, level):
    fill, shape = data.draw(cases(kind, near_split=near_split), label="fill, shape")
    size = math.prod(shape)
    offset = data.draw(_offsets(size), label="offset")
    kw = dict(seed=seed, stream=stream, offset=offset)
    event(str(fill.dtype))  # events: shown by pytest --hypothesis-show-statistics
    event(f"{len(shape)}-d, {threads} threads, {level}, "
          f"{'split over threads' if size * fill.dtype.itemsize >= PARALLEL_MIN_BYTES and threads > 1 else 'one part'}")
    with _backend.using("numpy"):
        want = fill.run(np.empty(shape, fill.dtype), shape, **kw)
    with c_config(level, threads):
        got = fill.run(np.empty(shape, fill.dtype), shape, **kw)
    mismatch = np.flatnonzero(bits(got).ravel() != bits(want).ravel())
    assert mismatch.size == 0, f"{fill.kind} {fill.dtype} {shape}: first mismatch at {mismatch[0]}"


@pytest.mark.parametrize("kind", KINDS)
@SIZES
@settings(SETTINGS, max_examples=15)
@given(data=st.data(), seed=u64, stream=u64)
def test_row_shards_reassemble_the_whole(kind, near_split, data, seed, stream):
    """Cut the first axis anywhere; each part filled alone at offset + first_row * row_size."""
    fill, shape = data.draw(cases(kind, min_side=1, near_split=near_split), label="fill, shape")
    size, row = math.prod(shape), math.prod(shape[1:])
    offset = data.draw(_offsets(size), label="offset")
    cuts = sorted(set(data.draw(st.lists(st.integers(0, shape[0]), max_size=4), label="cuts")) | {0, shape[0]})
    whole = fill.run(np.empty(shape, fill.dtype), shape, seed=seed, stream=stream, offset=offset)
    parts = [fill.run(np.empty((hi - lo, *shape[1:]), fill.dtype), shape, seed=seed, stream=stream,
                      offset=offset + lo * row) for lo, hi in zip(cuts, cuts[1:])]
    assert np.array_equal(bits(np.concatenate(parts)), bits(whole))


# fastinit.torch.shard_'s initializers, with fixed parameters (``None``: needs 2+ dimensions)
_TORCH_SHARD_INITS = {"uniform_": (-0.5, 2.0), "normal_": (0.1, 2.0), "trunc_normal_": (0.0, 1.0, -1.5, 2.5),
                      "kaiming_uniform_": None, "kaiming_normal_": None, "xavier_uniform_": None,
                      "xavier_normal_": None}


@st.composite
def torch_shards(draw):
    """(init, args, global shape, index): any step-1 slice of any number of leading dimensions."""
    init = draw(st.sampled_from(sorted(_TORCH_SHARD_INITS)))
    args = _TORCH_SHARD_INITS[init]
    ndim = draw(st.integers(1 if args else 2, 4))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=ndim, max_size=ndim)))
    index = []
    for side in shape[: draw(st.integers(0, ndim))]:
        lo = draw(st.integers(0, side - 1))
        index.append(slice(lo, draw(st.integers(lo + 1, side))))
    return init, args or (), shape, tuple(index)


def _tbits(t):
    """The raw bit patterns of a torch tensor (any strides), for exact comparisons."""
    import torch

    return t.view({2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()])


@pytest.mark.skipif(not HAVE_TORCH, reason="fastinit.torch.shard_ needs torch (pip install torch)")
@SETTINGS
@given(shard=torch_shards(), seed=u64, stream=u64,
       dtype=st.sampled_from(["float32", "float64", "bfloat16", "float16"]))
def test_torch_shards_of_any_slicing_equal_that_part_of_the_whole(shard, seed, stream, dtype):
    import torch

    from fastinit import torch as fit

    init, args, shape, index = shard
    tdtype = getattr(torch, dtype)
    whole = fit.shard_(torch.empty(shape, dtype=tdtype), init, shape, (), *args, seed=seed, stream=stream)
    part_shape = tuple(len(range(*sl.indices(side))) for sl, side in zip(index, shape)) + shape[len(index):]
    part = fit.shard_(torch.empty(part_shape, dtype=tdtype), init, shape, index, *args, seed=seed, stream=stream)
    assert torch.equal(_tbits(part), _tbits(whole[index]))


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
