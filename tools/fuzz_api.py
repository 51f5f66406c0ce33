"""Fuzz fastinit's public API with argument values and types chosen from the fuzzer's bytes.

    python tools/fuzz_api.py -runs=20000 -seed=1            # atheris (libFuzzer options)
    python tools/fuzz_api.py -max_total_time=600 corpus/     # longer, keeping a corpus
    python tools/fuzz_api.py crash-1234abcd                  # replay one finding
    python tools/fuzz_api.py --random 5000 --seed 1          # no atheris: random byte strings

Every call must either succeed or raise TypeError or ValueError (README "Errors"); an exhausted
Generator may raise its OverflowError. Anything else is a finding and stops the run with a
traceback: another exception type, an exception raised inside a backend (the checks in
fastinit._api should have caught the argument first), a buffer that is not exactly as it was
after an exception, a generator that lost a stream to a failed call, a successful fill of a
buffer that should have been refused, NaN out of a random fill or values outside [low, high),
and a write outside the buffer. The buffers under test live in one mmap'd region with a
PROT_NONE guard page on each side (a write past either end is a SIGSEGV, which libFuzzer
reports as a crash) and a canary byte pattern around the buffer inside the region (a stray
write that stays in the region is caught by comparing it afterwards). docs/hardening.md says
more; tests/test_fuzz.py runs a bounded, fixed-seed run in CI.
"""
from __future__ import annotations

import ctypes
import decimal
import fractions
import inspect
import math
import mmap
import operator
import os
import struct
import sys
import traceback
import warnings

import numpy as np

try:
    import atheris
except ImportError:  # --random mode needs only numpy and fastinit
    atheris = None

if atheris is not None and __name__ == "__main__" and "--random" not in sys.argv:
    with atheris.instrument_imports(include=["fastinit"]):
        import fastinit as fi
else:
    import fastinit as fi
from fastinit import _backend

try:
    import ml_dtypes

    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:
    BF16 = None

warnings.simplefilter("ignore")  # e.g. NumPy's overflow warnings when a test value is converted


class Finding(AssertionError):
    """The API did something it must not do."""


# ------------------------------------------------------------------- input decoding


class Input:
    """Decisions and values read from the fuzzer's bytes (zeros once they run out)."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk.ljust(n, b"\0")

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        if n <= 1:
            return 0
        nbytes = 1 if n <= 256 else 2 if n <= 65536 else 8
        return int.from_bytes(self.take(nbytes), "little") % n

    def flag(self) -> bool:
        return self.below(2) == 1

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def float64(self) -> float:
        return struct.unpack("<d", self.take(8))[0]

    def int_any(self) -> int:
        """A signed int of up to 72 bits."""
        return int.from_bytes(self.take(9), "little", signed=True)

    def text(self) -> str:
        return self.take(self.below(12)).decode("latin-1")


# ------------------------------------------------------------------ argument values

U64 = 1 << 64
INTS = [0, 1, 2, 3, -1, -2, 7, 255, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**53 + 1, 2**63 - 1, 2**63,
        2**64 - 2, 2**64 - 1, 2**64, 2**64 + 1, -(2**63), -(2**64), 10**30, 10**400, -(10**400)]
FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 1e-3, 0.02, math.sqrt(5), math.nan, -math.nan, math.inf, -math.inf,
          5e-324, 2.2250738585072014e-308, 1e-45, 1.1754943508222875e-38, 65504.0, 65520.0, 3.3895313892515355e38,
          3.4028234663852886e38, 3.4028235677973366e38, 3.5e38, 1e300, 1.7976931348623157e308, -1.7976931348623157e308,
          2.0**128 - 2.0**103, 40.0, 38.5, 8.0, -8.0, 1e10]


class IndexLike:
    """An object that is an int only through __index__ (as numpy integers are)."""

    def __init__(self, value: int):
        self.value = value

    def __index__(self) -> int:
        return self.value

    def __repr__(self) -> str:
        return f"IndexLike({self.value})"


class FloatLike:
    """Has __float__ but is not a numbers.Real."""

    def __float__(self) -> float:
        return 1.0


def numpy_scalar(inp: Input):
    kind = inp.below(8)
    with np.errstate(all="ignore"):
        return _numpy_scalar(inp, kind)


def _numpy_scalar(inp: Input, kind: int):
    try:
        if kind == 0:
            return np.float32(inp.choice(FLOATS))
        if kind == 1:
            return np.float16(inp.choice(FLOATS))
        if kind == 2:
            return np.float64(inp.float64())
        if kind == 3:
            return np.int64(inp.choice([0, 1, -1, 2**63 - 1, -(2**63), 5]))
        if kind == 4:
            return np.uint64(inp.choice([0, 1, 2**64 - 1, 2**63, 3]))
        if kind == 5:
            return np.longdouble(inp.choice(FLOATS)) * np.longdouble(inp.choice([1.0, 1e300]))
        if kind == 6:
            return np.bool_(inp.flag())
        return np.int8(inp.choice([0, 1, -1, 127]))
    except (OverflowError, ValueError):
        return np.float64(0.0)


def odd_object(inp: Input):
    return inp.choice([
        lambda: fractions.Fraction(inp.int_any(), inp.choice([1, 3, 10**300])),
        lambda: fractions.Fraction(10**400, 1),
        lambda: decimal.Decimal("1.5"),
        lambda: decimal.Decimal("nan"),
        lambda: complex(1.0, inp.choice([0.0, 1.0])),
        lambda: [],
        lambda: [1.0, 2.0],
        lambda: (1, 2),
        lambda: {},
        lambda: object(),
        lambda: np.array(inp.choice(FLOATS)),
        lambda: np.array([1.0, 2.0]),
        lambda: IndexLike(inp.choice(INTS)),
        lambda: FloatLike(),
        lambda: b"1",
        lambda: fi.Generator(1),
        lambda: slice(1),
        lambda: float,
    ])()


def generator_value(inp: Input):
    """A Generator, sometimes one whose streams are nearly or completely used up."""
    g = fi.Generator(inp.choice([0, 1, 2**64 - 1]))
    state = inp.below(4)
    if state == 1:
        g.set_state((g.seed, 2**64 - 1))
    elif state == 2:
        g.set_state((g.seed, 2**64 - 1))
        g.take()  # exhausted: the next take raises OverflowError
    return g


SHAPE_DIMS = [0, 1, 2, 3, 4, 7, 16, 64, -1, 2**31, 2**63, 2**64, 10**400, 1.5, math.inf, math.nan, "2", None]


def shape_value(inp: Input):
    kind = inp.below(6)
    if kind == 0:
        return inp.choice(SHAPE_DIMS)
    if kind == 5:
        return inp.choice([None, "abc", 3.0, [[1, 2]], np.array([2, 3]), (np.int64(2), np.uint8(3))])
    dims = [inp.choice(SHAPE_DIMS) if inp.below(8) == 0 else inp.below(9) for _ in range(inp.below(6))]
    return tuple(dims) if inp.flag() else list(dims)


DTYPES = ["float32", "float64", "float16", "bfloat16", "uint32", "uint64", np.float32, np.float64, ">f4", "<f8",
          "int32", "uint8", "complex64", "bool", "O", "U3", None, "nope", 3, object, np.dtype("V4")]

HINTS = {
    "low": lambda inp: inp.choice([-1.0, 0.0, -0.05, -2.5]),
    "high": lambda inp: inp.choice([1.0, 0.05, 2.5, 0.0]),
    "mean": lambda inp: inp.choice([0.0, 0.1, -1.0, 3.0]),
    "std": lambda inp: inp.choice([1.0, 0.02, 0.0, 2.0]),
    "a": lambda inp: inp.choice([-2.0, 0.0, -0.04, 4.0, math.sqrt(5), -math.inf]),
    "b": lambda inp: inp.choice([2.0, 0.04, 5.0, math.inf]),
    "value": lambda inp: inp.choice([0.0, 1.0, -3.5, math.nan, math.inf]),
    "scale": lambda inp: inp.choice([1.0, 2.0, 0.0, 0.1]),
    "gain": lambda inp: inp.choice([1.0, 5.0 / 3, math.sqrt(2.0), 0.0]),
    "seed": lambda inp: inp.choice([0, 1, 1234, 2**64 - 1, None]),
    "stream": lambda inp: inp.choice([0, 1, 2**32, 2**64 - 1, None]),
    "offset": lambda inp: inp.choice([0, 1, 3, 2**32 - 1, 2**63, 2**64 - 1, 2**64 - 4096, inp.below(1 << 16)]),
    "generator": generator_value,
    "fan_in": lambda inp: inp.choice([1, 3, 64, 10**6, None]),
    "fan_out": lambda inp: inp.choice([1, 5, 128, None]),
    "layout": lambda inp: inp.choice(list(fi.LAYOUTS)),
    "in_axis": lambda inp: inp.choice([None, 0, 1, -1, -2, 2]),
    "out_axis": lambda inp: inp.choice([None, 0, 1, -1, -2, 3]),
    "batch_axis": lambda inp: inp.choice([(), 0, (0,), [-1], (0, 1), 2]),
    "mode": lambda inp: inp.choice(list(fi.MODES)),
    "distribution": lambda inp: inp.choice(list(fi.DISTRIBUTIONS)),
    "nonlinearity": lambda inp: inp.choice(list(fi.NONLINEARITIES)),
    "param": lambda inp: inp.choice([None, 0.01, 0.2, 0, 1]),
    "shape": shape_value,
    "dtype": lambda inp: inp.choice(DTYPES),
    "n": lambda inp: inp.choice([1, 2, 3]),
    "counter": lambda inp: tuple(inp.choice([0, 1, 2**32 - 1, inp.below(1 << 16)]) for _ in range(4)),
    "key": lambda inp: tuple(inp.choice([0, 1, 2**32 - 1]) for _ in range(2)),
    "state": lambda inp: (inp.choice([0, 5, 2**64 - 1]), inp.choice([0, 7, 2**64 - 1])),
    "identifier": lambda inp: inp.choice(sorted(fi._api._KERAS) + sorted(fi._api._KERAS_CLASS_NAMES)),
}


def value(inp: Input, name: str):
    """A value for the parameter called ``name``: usually a plausible one, often not."""
    kind = inp.below(16)
    if kind < 8 and name in HINTS:
        return HINTS[name](inp)
    if kind in (8, 9):
        return inp.choice(INTS)
    if kind == 10:
        return inp.choice(FLOATS)
    if kind == 11:
        return inp.float64() if inp.flag() else inp.int_any()
    if kind == 12:
        return inp.choice([None, True, False])
    if kind == 13:
        return inp.choice([inp.text(), "fan_in", "torch", "uniform", "relu", "leaky_relu", "glorot_uniform", ""])
    if kind == 14:
        return numpy_scalar(inp)
    return odd_object(inp)


# ------------------------------------------------------------- the guarded region

PAGE = mmap.PAGESIZE
DATA_BYTES = 1 << 20  # room for fills large enough to be split over threads (256 KiB and up)
CANARY = 0x5A
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


class Region:
    """DATA_BYTES of memory between two PROT_NONE pages."""

    def __init__(self):
        self.map = mmap.mmap(-1, DATA_BYTES + 2 * PAGE)
        self.all = np.frombuffer(self.map, np.uint8)
        base = self.all.ctypes.data
        for addr in (base, base + PAGE + DATA_BYTES):
            if _libc.mprotect(ctypes.c_void_p(addr), PAGE, 0) != 0:  # PROT_NONE
                raise OSError(ctypes.get_errno(), "mprotect")
        self.data = self.all[PAGE:PAGE + DATA_BYTES]


REGION: Region | None = None


def region() -> Region:
    global REGION
    if REGION is None:
        REGION = Region()
    return REGION


BUF_DTYPES = ["float32", "float64", "float16", "bfloat16", "uint32", "uint64",
              "int32", "uint8", "complex64", ">f4", ">f8", "bool", "int16"]


class Buffer:
    """A buffer inside the guarded region; ``ok`` says whether a fill may accept it."""

    def __init__(self, inp: Input):
        r = region()
        name = inp.choice(BUF_DTYPES)
        if name == "bfloat16" and BF16 is None:
            name = "float32"
        dtype = BF16 if name == "bfloat16" else np.dtype(name)
        size_class = inp.below(8)
        max_elems = DATA_BYTES // dtype.itemsize - 64
        if size_class == 0:
            n = 0
        elif size_class < 5:
            n = 1 + inp.below(70)
        elif size_class < 7:
            n = 1 + inp.below(8192)
        else:
            n = max_elems - inp.below(4096)
        nbytes = n * dtype.itemsize
        # where: flush against the upper guard page (an overrun faults at once), against the
        # lower one (an underrun faults), or inside the region, misaligned on purpose sometimes
        where = inp.below(4)
        if where == 0:
            start = DATA_BYTES - nbytes
        elif where == 1:
            start = 0
        else:
            start = inp.below(DATA_BYTES - nbytes - 63)
            start -= start % (1 if where == 3 else 64)
        self.start, self.nbytes = start, nbytes
        r.data[:] = CANARY
        fill_byte = inp.below(256)
        r.data[start:start + nbytes] = fill_byte
        arr = np.frombuffer(r.map, dtype, count=n, offset=PAGE + start)
        self.ok = name in ("float32", "float64", "float16", "bfloat16", "uint32", "uint64")
        self.floating = name in ("float32", "float64", "float16", "bfloat16")
        self.bits = name in ("uint32", "uint64")
        arr = self._shape(inp, arr)
        kind = inp.below(10)
        if kind == 0 and arr.size > 1:
            arr = arr.reshape(-1)[:: inp.choice([2, 3, -1])]
        elif kind == 1 and arr.ndim >= 2:
            arr = arr.T
        elif kind == 2:
            arr.flags.writeable = False
        elif kind == 3:
            try:
                arr = memoryview(arr)
            except (ValueError, TypeError):  # e.g. bfloat16 has no buffer format
                pass
        elif kind == 4:
            arr = memoryview(r.map)[PAGE + start:PAGE + start + nbytes]  # raw bytes: dtype uint8
            self.ok = False
        elif kind == 5 and self.ok:
            arr = arr.view(arr.dtype.newbyteorder())  # non-native byte order
        if isinstance(arr, np.ndarray):  # a fill must refuse anything but this (README "Errors")
            self.ok = self.ok and arr.flags.c_contiguous and arr.flags.writeable and arr.dtype.isnative
        self.arr = arr
        self.dtype = dtype

    @staticmethod
    def _shape(inp: Input, arr: np.ndarray) -> np.ndarray:
        n = arr.size
        kind = inp.below(4)
        if kind == 0 and n == 1:
            return arr.reshape(())
        if kind in (1, 2) and n > 0:
            first = [d for d in (1, 2, 3, 4, 8, 16) if n % d == 0]
            d0 = inp.choice(first)
            if kind == 2:
                rest = n // d0
                d1 = inp.choice([d for d in (1, 2, 3, 4) if rest % d == 0])
                return arr.reshape(d0, d1, rest // d1)
            return arr.reshape(d0, n // d0)
        return arr

    def snapshot(self) -> np.ndarray:
        return region().data.copy()

    def check_canary(self):
        data = region().data
        outside = np.concatenate([data[:self.start], data[self.start + self.nbytes:]])
        bad = np.flatnonzero(outside != CANARY)
        if bad.size:
            raise Finding(f"{bad.size} bytes written outside the buffer (first at byte {bad[0]} of the rest of the region)")


# ------------------------------------------------------------------------ targets

FILLS = {name: getattr(fi, name) for name in (
    "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_", "random_bits_", "variance_scaling_",
    "glorot_uniform_", "glorot_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "he_uniform_", "he_normal_", "lecun_uniform_", "lecun_normal_")}
NEW_ARRAYS = {name.rstrip("_"): getattr(fi, name.rstrip("_")) for name in FILLS}
FAN_OPTIONS = ["fan_in", "fan_out", "layout", "in_axis", "out_axis", "batch_axis", "distribution"]
STREAM_OPTIONS = ["seed", "stream", "offset", "generator"]
RANDOM_FLOAT_FILLS = {"uniform_", "normal_", "trunc_normal_", "variance_scaling_", "glorot_uniform_", "glorot_normal_",
                      "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "he_uniform_",
                      "he_normal_", "lecun_uniform_", "lecun_normal_"}
MAX_NEW_BYTES = 8 << 20


def arguments(inp: Input, fn, skip_first: bool):
    """Positional and keyword arguments for fn: each parameter given or left out, plus now and
    then a stray keyword or an extra positional argument."""
    params = list(inspect.signature(fn).parameters.values())[1 if skip_first else 0:]
    args, kwargs = [], {}
    positional = True
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            for opt in FAN_OPTIONS + STREAM_OPTIONS:
                if inp.below(4) == 0:
                    kwargs[opt] = value(inp, opt)
            continue
        if p.kind is p.VAR_POSITIONAL:
            continue
        given = inp.below(3) != 0
        if not given:
            positional = False
            continue
        v = value(inp, p.name)
        if p.kind is p.POSITIONAL_OR_KEYWORD and positional and inp.flag():
            args.append(v)
        else:
            positional = False
            kwargs[p.name] = v
    if inp.below(32) == 0:
        kwargs[inp.choice(["sead", "dtype", "shape", "out", "std", "layout"])] = value(inp, "seed")
    if inp.below(32) == 0:
        args.append(value(inp, "value"))
    return args, kwargs


ALLOWED = (TypeError, ValueError)
VALIDATING_MODULES = ("_api.py", "_call.py", "_fans.py", "_generator.py", "_params.py", "_backend.py")


def check_exception(exc: BaseException, where: str, allowed: tuple = ALLOWED):
    """An allowed type, raised by fastinit's argument checks (or NumPy's for a shape/dtype),
    never from inside a backend; with a message."""
    if isinstance(exc, OverflowError) and "2**64 streams" in str(exc):
        return  # an exhausted Generator (documented in Generator.take)
    if not isinstance(exc, allowed):
        raise Finding(f"{where} raised {type(exc).__name__}: {exc}") from exc
    if not str(exc):
        raise Finding(f"{where} raised {type(exc).__name__} without a message") from exc
    frames = [f.filename for f in traceback.extract_tb(exc.__traceback__)]
    fastinit_frames = [f for f in frames if f"{os.sep}fastinit{os.sep}" in f]
    if fastinit_frames and os.path.basename(fastinit_frames[-1]) not in VALIDATING_MODULES:
        raise Finding(f"{where}: {type(exc).__name__} from inside {os.path.basename(fastinit_frames[-1])} "
                      f"(missed by the argument checks): {exc}") from exc


def generators_in(args, kwargs) -> list:
    gens = [fi.default_generator]
    gens += [v for v in list(args) + list(kwargs.values()) if isinstance(v, fi.Generator)]
    return gens


def check_values(name: str, buf: Buffer, args, kwargs):
    """A successful random float fill has no NaN, and uniform_ stays in [low, high]."""
    if not buf.floating or name not in RANDOM_FLOAT_FILLS or buf.nbytes == 0:
        return
    arr = np.asarray(buf.arr)
    as64 = arr.astype(np.float64)
    if np.isnan(as64).any():
        raise Finding(f"{name} wrote NaN into {buf.dtype} with args={args!r} kwargs={kwargs!r}")
    if name == "uniform_" and buf.dtype in (np.float32, np.float64):
        bound = dict(zip(("low", "high"), args))
        bound.update({k: v for k, v in kwargs.items() if k in ("low", "high")})
        low, high = float(bound.get("low", 0.0)), float(bound.get("high", 1.0))
        if not ((as64 >= low).all() and ((as64 < high).all() or low == high)):
            raise Finding(f"uniform_ wrote values outside [{low}, {high}) into {buf.dtype}")


def call_fill(inp: Input, name: str, fill):
    buf = Buffer(inp)
    args, kwargs = arguments(inp, fill, skip_first=True)
    before = buf.snapshot()
    gens = generators_in(args, kwargs)
    states = [g.get_state() for g in gens]
    where = f"{name}(<{buf.dtype} buffer>, *{args!r}, **{kwargs!r})"
    try:
        result = fill(buf.arr, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - judged below
        check_exception(exc, where)
        if not np.array_equal(region().data, before):
            raise Finding(f"{where} raised {type(exc).__name__} but changed the buffer") from exc
        if [g.get_state() for g in gens] != states:
            raise Finding(f"{where} raised {type(exc).__name__} but took a stream from a generator") from exc
        return
    buf.check_canary()
    if not buf.ok:
        raise Finding(f"{where} accepted a buffer it must refuse ({type(buf.arr).__name__})")
    if result is not buf.arr:
        raise Finding(f"{where} did not return its buffer")
    check_values(name, buf, args, kwargs)


def call_new_array(inp: Input, name: str, make):
    shape = value(inp, "shape") if inp.below(4) else inp.below(64)
    args, kwargs = arguments(inp, make.__wrapped__, skip_first=True)
    if inp.flag():
        kwargs["dtype"] = value(inp, "dtype")
    try:  # keep allocations small: only the size is capped, not the argument's type
        dims = (operator.index(shape),) if hasattr(shape, "__index__") else tuple(map(operator.index, shape))
        if all(d >= 0 for d in dims) and math.prod(dims) * 8 > MAX_NEW_BYTES:
            return
    except (TypeError, ValueError):
        pass
    where = f"{name}({shape!r}, *{args!r}, **{kwargs!r})"
    try:
        out = make(shape, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        # MemoryError: np.empty of a shape too large for this machine (the caller asked for it)
        check_exception(exc, where, ALLOWED + (MemoryError,))
        return
    if not isinstance(out, np.ndarray):
        raise Finding(f"{where} returned {type(out).__name__}")


def call_other(inp: Input):
    kind = inp.below(8)
    if kind == 0:
        fn, args = fi.fans, [value(inp, "shape")]
        _, kwargs = arguments(inp, fi.fans, skip_first=True)
    elif kind == 1:
        fn = fi.calculate_gain
        args, kwargs = arguments(inp, fn, skip_first=False)
    elif kind == 2:
        fn = fi.get
        args, kwargs = [value(inp, "identifier")], {}
        try:
            init = fn(*args)
        except Exception as exc:  # noqa: BLE001
            check_exception(exc, f"get({args[0]!r})")
            return
        if isinstance(args[0], str):
            call_fill(inp, f"get({args[0]!r})", init)
        return
    elif kind == 3:
        fn = fi.philox4x32
        args, kwargs = arguments(inp, fn, skip_first=False)
    elif kind == 4:
        fn = fi.Generator
        args, kwargs = arguments(inp, fn, skip_first=False)
    elif kind == 5:
        g = generator_value(inp)
        method = inp.choice(["manual_seed", "set_state", "take", "next_stream"])
        fn = getattr(g, method)
        args, kwargs = arguments(inp, fn, skip_first=False)
    elif kind == 6:
        fn = fi.set_num_threads
        args, kwargs = arguments(inp, fn, skip_first=False)
    else:
        fn = fi.manual_seed
        args, kwargs = arguments(inp, fn, skip_first=False)
    where = f"{getattr(fn, '__qualname__', fn)}(*{args!r}, **{kwargs!r})"
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001
        check_exception(exc, where)


THREADS = fi.get_num_threads()


def test_one_input(data: bytes) -> None:
    inp = Input(data)
    backend = inp.choice(sorted(_backend.available()))
    try:
        with _backend.using(backend), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. NumPy's overflow warnings for a huge std
            what = inp.below(8)
            if what < 5:
                name = inp.choice(sorted(FILLS))
                call_fill(inp, name, FILLS[name])
            elif what < 7:
                name = inp.choice(sorted(NEW_ARRAYS))
                call_new_array(inp, name, NEW_ARRAYS[name])
            else:
                call_other(inp)
    finally:
        fi.manual_seed(0)
        if fi.get_num_threads() != THREADS:
            fi.set_num_threads(THREADS)


def random_inputs(count: int, seed: int, max_len: int = 256):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield rng.integers(0, 256, rng.integers(0, max_len), dtype=np.uint8).tobytes()


def main(argv: list[str]) -> int:
    if "--random" in argv:  # plain random inputs, no coverage guidance
        count = int(argv[argv.index("--random") + 1])
        seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 0
        keep_going = "--keep-going" in argv  # report every finding, not just the first
        found = 0
        for i, data in enumerate(random_inputs(count, seed)):
            try:
                test_one_input(data)
            except Finding as exc:
                found += 1
                print(f"finding on random input {i} ({data.hex()}): {exc}", file=sys.stderr)
                if not keep_going:
                    raise
        print(f"{count} random inputs, {found} findings")
        return 1 if found else 0
    if atheris is None:
        print("atheris is not installed (pip install atheris); use --random N instead", file=sys.stderr)
        return 2
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
