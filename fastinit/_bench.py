"""The benchmark case table, shared by ``python -m fastinit bench`` (the short form: one size,
best of 3) and the pytest-benchmark suite in benchmarks/ (every size, library and thread count).

A case is a distribution on a dtype. For each case every library fills the very same
preallocated, already touched buffer with its best equivalent: fastinit, NumPy's ``Generator``
(PCG64 and Philox, ``out=``), torch's in-place ``torch.nn.init`` functions on a tensor that
shares the buffer, mkl_random when installed, and the write ceiling (``ndarray.fill`` and
``torch.Tensor.fill_`` of a constant), so their throughputs are measured side by side.
Throughput is bytes of the buffer divided by the time of one fill (GB/s = 10^9 bytes/s).
"""
from __future__ import annotations

import contextlib
import math
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _api, _backend

BOUND = 0.05  # U(-BOUND, BOUND) for the uniform case
STD = 0.02    # GPT-style normal std; the truncated normal is cut at +-2 STD
COLUMNS = 1024  # buffers are (rows, COLUMNS): fan_in = COLUMNS in torch's (out, in) layout

KiB, MiB = 1 << 10, 1 << 20
SIZES = (16 * KiB, 1 * MiB, 16 * MiB, 256 * MiB)  # bytes per buffer, the full suite
DEFAULT_SIZES = SIZES[:3]                          # the default suite leaves out 256 MiB

DISTRIBUTIONS = ("uniform", "normal", "trunc_normal", "xavier_uniform", "xavier_normal",
                 "kaiming_uniform", "kaiming_normal")
DTYPES = ("float32", "float64", "bfloat16", "float16")
LIBRARIES = ("fastinit", "numpy-pcg64", "numpy-philox", "torch", "mkl_random",
             "ceiling-numpy", "ceiling-torch")
PEERS = LIBRARIES[1:5]
# names starting with "ceiling-" are the write ceiling (a constant fill), which the dashboard draws as such
THREADED = ("fastinit", "torch", "ceiling-torch")  # libraries whose thread count is set per case

# What each distribution draws on a (rows, cols) buffer: (law, scale) with law "uniform"
# (U(-scale, scale)), "normal" (N(0, scale^2)) or "trunc_normal" (N(0, scale^2) cut at
# +-2 scale). torch layout: fan_in = cols, fan_out = rows; kaiming uses torch's defaults
# (a=0, leaky_relu, fan_in), so gain sqrt(2).
_LAWS: dict[str, Callable[[int, int], tuple[str, float]]] = {
    "uniform": lambda rows, cols: ("uniform", BOUND),
    "normal": lambda rows, cols: ("normal", STD),
    "trunc_normal": lambda rows, cols: ("trunc_normal", STD),
    "xavier_uniform": lambda rows, cols: ("uniform", math.sqrt(6.0 / (cols + rows))),
    "xavier_normal": lambda rows, cols: ("normal", math.sqrt(2.0 / (cols + rows))),
    "kaiming_uniform": lambda rows, cols: ("uniform", math.sqrt(6.0 / cols)),
    "kaiming_normal": lambda rows, cols: ("normal", math.sqrt(2.0 / cols)),
}

_LABELS = {
    "uniform": f"uniform_(-{BOUND}, {BOUND})",
    "normal": f"normal_(0, {STD})",
    "trunc_normal": f"trunc_normal_(0, {STD}, +-2std)",
    "xavier_uniform": "xavier_uniform_",
    "xavier_normal": "xavier_normal_",
    "kaiming_uniform": "kaiming_uniform_",
    "kaiming_normal": "kaiming_normal_",
}


class Unavailable(Exception):
    """A library cannot run a case here; the message says why (a benchmark skip reason)."""


@dataclass(frozen=True)
class Case:
    """One distribution on one dtype."""

    distribution: str  # a key of DISTRIBUTIONS
    dtype: str         # float32, float64, bfloat16, float16

    @property
    def name(self) -> str:
        """The initializer call as a person reads it, e.g. ``normal_(0, 0.02)``."""
        return _LABELS[self.distribution]


# The README's table and the default suite: every distribution the CLI shows on float32,
# the normal on every dtype. The full suite takes every distribution on every dtype.
MAIN_CASES = (
    Case("uniform", "float32"),
    Case("normal", "float32"),
    Case("trunc_normal", "float32"),
    Case("xavier_uniform", "float32"),
    Case("kaiming_normal", "float32"),
    Case("normal", "float64"),
    Case("normal", "bfloat16"),
    Case("normal", "float16"),
)


def cases(full: bool = False) -> list[Case]:
    """The cases of the suite: MAIN_CASES, or every distribution on every dtype when ``full``."""
    if not full:
        return list(MAIN_CASES)
    return [Case(d, t) for d in DISTRIBUTIONS for t in DTYPES]


def size_label(nbytes: int) -> str:
    """16384 -> "16KiB", 268435456 -> "256MiB" (what the suite's test ids and groups use)."""
    for unit, name in ((1 << 30, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if nbytes >= unit and nbytes % unit == 0:
            return f"{nbytes // unit}{name}"
    return f"{nbytes}B"


def thread_counts() -> list[int]:
    """1 and the number of CPUs this process may run on (once when that is 1)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return sorted({1, cpus})


# ------------------------------------------------------------------------------ buffers


def numpy_dtype(dtype: str) -> np.dtype:
    """The NumPy dtype of a case (bfloat16 from ml_dtypes); Unavailable when it is missing."""
    if dtype == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise Unavailable("ml_dtypes is not installed: NumPy has no bfloat16 dtype") from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


def shape_for(nbytes: int, dtype: str) -> tuple[int, int]:
    """A (rows, cols) weight shape of ``nbytes`` bytes: rows x COLUMNS, or 1 x n when smaller."""
    elements = max(1, nbytes // numpy_dtype(dtype).itemsize)
    if elements < COLUMNS:
        return (1, elements)
    return (elements // COLUMNS, COLUMNS)


def make_buffer(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A buffer with every page already written, so no page fault lands in a timed call."""
    buf = np.empty(shape, numpy_dtype(dtype))
    buf.view(np.uint8).fill(0)
    return buf


def torch_view(buf: np.ndarray) -> Any:
    """A torch tensor sharing ``buf``'s memory (bfloat16 goes through its uint16 bits)."""
    import torch

    if buf.dtype.name == "bfloat16":
        return torch.from_numpy(buf.view(np.uint16)).view(torch.bfloat16)
    return torch.from_numpy(buf)


# ------------------------------------------------------------------------------ fills


def _fill_numpy_law(law: str, scale: float, buf: np.ndarray, rng: np.random.Generator) -> None:
    """NumPy's fastest fill of a float32/float64 buffer: generate with out=, scale in place."""
    if law == "uniform":
        rng.random(out=buf, dtype=buf.dtype)  # [0, 1), then U(-scale, scale) in place
        buf *= 2 * scale
        buf -= scale
        return
    flat = buf.reshape(-1)
    rng.standard_normal(out=flat, dtype=buf.dtype)
    if law == "trunc_normal":  # cut at +-2 std by redrawing the out-of-range values
        bad = np.flatnonzero(np.abs(flat) > 2.0)
        while bad.size:
            flat[bad] = rng.standard_normal(bad.size, dtype=buf.dtype)
            bad = bad[np.abs(flat[bad]) > 2.0]
    flat *= scale


def _fill_mkl_law(law: str, scale: float, buf: np.ndarray, rng: Any) -> None:
    """mkl_random has no out= and draws float64: generate, then copy (rounding) into the buffer."""
    if law == "uniform":
        values = rng.uniform(-scale, scale, size=buf.size)
    else:
        values = rng.standard_normal(size=buf.size)
        if law == "trunc_normal":
            bad = np.flatnonzero(np.abs(values) > 2.0)
            while bad.size:
                values[bad] = rng.standard_normal(size=bad.size)
                bad = bad[np.abs(values[bad]) > 2.0]
        values *= scale
    np.copyto(buf.reshape(-1), values, casting="unsafe")


def _fastinit_fill(case: Case, buf: np.ndarray) -> Callable[[], Any]:
    d = case.distribution
    if d == "uniform":
        return lambda: _api.uniform_(buf, -BOUND, BOUND, seed=1)
    if d == "normal":
        return lambda: _api.normal_(buf, 0.0, STD, seed=1)
    if d == "trunc_normal":
        return lambda: _api.trunc_normal_(buf, 0.0, STD, -2 * STD, 2 * STD, seed=1)
    fill = getattr(_api, d + "_")  # xavier_uniform_, kaiming_normal_, ...: torch's defaults
    return lambda: fill(buf, seed=1)


def _torch_fill(case: Case, buf: np.ndarray) -> Callable[[], Any]:
    try:
        import torch.nn.init as torch_init
    except ImportError:
        raise Unavailable("torch is not installed") from None
    tensor = torch_view(buf)
    d = case.distribution
    if d == "uniform":
        return lambda: torch_init.uniform_(tensor, -BOUND, BOUND)
    if d == "normal":
        return lambda: torch_init.normal_(tensor, 0.0, STD)
    if d == "trunc_normal":
        return lambda: torch_init.trunc_normal_(tensor, 0.0, STD, -2 * STD, 2 * STD)
    fill = getattr(torch_init, d + "_")
    return lambda: fill(tensor)


def _numpy_fill(bit_generator: str, case: Case, buf: np.ndarray) -> Callable[[], Any]:
    rng = np.random.Generator(getattr(np.random, bit_generator)(1))
    law, scale = _LAWS[case.distribution](*buf.shape)
    if buf.dtype in (np.float32, np.float64):
        return lambda: _fill_numpy_law(law, scale, buf, rng)
    # NumPy has no bfloat16/float16 generator: generate float32 into a scratch buffer (allocated
    # and touched once, here, as a user filling many tensors would reuse it), round into buf.
    scratch = make_buffer(buf.shape, "float32")

    def fill() -> None:
        _fill_numpy_law(law, scale, scratch, rng)
        np.copyto(buf, scratch, casting="unsafe")

    return fill


def _mkl_fill(case: Case, buf: np.ndarray) -> Callable[[], Any]:
    try:
        import mkl_random
    except ImportError:
        raise Unavailable("mkl_random is not installed (it is optional)") from None
    rng = mkl_random.RandomState(1, brng="PHILOX4X32X10")
    law, scale = _LAWS[case.distribution](*buf.shape)
    return lambda: _fill_mkl_law(law, scale, buf, rng)


def _ceiling_torch_fill(buf: np.ndarray) -> Callable[[], Any]:
    try:
        tensor = torch_view(buf)
    except ImportError:
        raise Unavailable("torch is not installed") from None
    return lambda: tensor.fill_(0.5)


def filler(library: str, case: Case, buf: np.ndarray) -> Callable[[], Any]:
    """A no-argument callable that fills ``buf`` (shape and dtype of ``case``) with ``library``.

    Everything that is not the fill itself (generator objects, torch views, NumPy's float32
    scratch for half-precision dtypes) is set up here, outside the callable, and the callable is
    run once before it is returned (loads code, raises here if the library rejects the case).
    Raises Unavailable with the reason when the library cannot run the case on this machine.
    """
    makers: dict[str, Callable[[], Callable[[], Any]]] = {
        "fastinit": lambda: _fastinit_fill(case, buf),
        "numpy-pcg64": lambda: _numpy_fill("PCG64", case, buf),
        "numpy-philox": lambda: _numpy_fill("Philox", case, buf),
        "torch": lambda: _torch_fill(case, buf),
        "mkl_random": lambda: _mkl_fill(case, buf),
        "ceiling-numpy": lambda: (lambda: buf.fill(0.5)),
        "ceiling-torch": lambda: _ceiling_torch_fill(buf),
    }
    if library not in makers:
        raise ValueError(f"library {library!r} is not one of {LIBRARIES}")
    fill = makers[library]()
    try:
        fill()
    except (RuntimeError, TypeError, NotImplementedError) as exc:
        raise Unavailable(f"{library} cannot fill {case.distribution} {case.dtype}: {exc}") from exc
    return fill


@contextlib.contextmanager
def threads(library: str, n: int) -> Iterator[None]:
    """Run the block with ``library`` on ``n`` threads (fastinit and torch); restores the count.

    NumPy, mkl_random (as called here) and ndarray.fill are single-threaded: only n=1 is valid.
    """
    if library not in THREADED:
        if n != 1:
            raise Unavailable(f"{library} is single-threaded")
        yield
        return
    get: Callable[[], int]
    set_: Callable[[int], None]
    if library == "fastinit":
        get, set_ = _backend.get_num_threads, _backend.set_num_threads
    else:
        try:
            import torch
        except ImportError:
            raise Unavailable("torch is not installed") from None
        get, set_ = torch.get_num_threads, torch.set_num_threads
    previous = get()
    set_(n)
    try:
        yield
    finally:
        set_(previous)


# ------------------------------------------------------------------------------ the suite


@dataclass(frozen=True)
class Spec:
    """One benchmark of the suite: a library filling a case's buffer of ``nbytes`` on ``threads``."""

    case: Case
    nbytes: int
    library: str
    threads: int

    @property
    def id(self) -> str:
        """The pytest id, e.g. ``normal-float32-16KiB-torch-2t`` (so ``-k "16KiB and float32"`` works)."""
        c = self.case
        return f"{c.distribution}-{c.dtype}-{size_label(self.nbytes)}-{self.library}-{self.threads}t"

    @property
    def group(self) -> str:
        """pytest-benchmark's group: every library on the same buffer."""
        return f"{self.case.distribution} {self.case.dtype} {size_label(self.nbytes)}"

    def extra_info(self) -> dict[str, Any]:
        """What the dashboard reads from each benchmark."""
        return {"library": self.library, "distribution": self.case.distribution,
                "dtype": self.case.dtype, "bytes": self.nbytes, "threads": self.threads,
                "label": self.case.name}


def specs(full: bool = False) -> list[Spec]:
    """Every benchmark of the suite, grouped so peers of one buffer run one after another."""
    sizes = SIZES if full else DEFAULT_SIZES
    out = []
    for nbytes in sizes:
        for case in cases(full):
            for library in LIBRARIES:
                for n in thread_counts() if library in THREADED else [1]:
                    out.append(Spec(case, nbytes, library, n))
    return out


# ------------------------------------------------------------------------------ the CLI


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    """The best of ``repeat`` timed calls, after one untimed call."""
    fn()  # warm up: page in the buffer, load code
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    """CPU, CPU count, Python and NumPy versions on one line."""
    return f"{cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}"


@dataclass
class Row:
    """One case of the short form: best seconds per column ("fastinit 1T", "numpy", ...)."""

    case: Case
    nbytes: int
    seconds: dict[str, float | None]  # column label -> best seconds (None: not available)

    def gbps(self, label: str) -> float | None:
        """Throughput of a column, GB/s (10^9 bytes of the buffer per second)."""
        t = self.seconds.get(label)
        return None if t is None else self.nbytes / t / 1e9

    def speedup(self, peer: str, mine: str = "fastinit 1T") -> float | None:
        """How many times faster fastinit (column ``mine``) is than the peer column."""
        a, b = self.seconds.get(mine), self.seconds.get(peer)
        return None if a is None or b is None else b / a


def short_columns(with_torch: bool = True) -> list[tuple[str, str, int]]:
    """The short form's columns as (label, library, threads): fastinit on 1 and on all threads
    (when it has set_num_threads and there is more than one CPU), NumPy (PCG64) and torch on one
    thread, so the "x" ratios compare one thread with one thread."""
    import fastinit

    columns = [("fastinit 1T", "fastinit", 1)]
    if hasattr(fastinit, "set_num_threads"):
        columns += [(f"fastinit {n}T", "fastinit", n) for n in thread_counts() if n > 1]
    columns.append(("numpy", "numpy-pcg64", 1))
    if with_torch:
        columns.append(("torch", "torch", 1))
    return columns


def run_short(nbytes: int, repeat: int, with_torch: bool = True) -> tuple[list[Row], list[str], float]:
    """Measure MAIN_CASES on one buffer of ``nbytes`` each (the CLI's short form of the suite).

    Returns the rows, the labels of the columns that could run (torch is left out when it is
    not installed) and the write ceiling (ndarray.fill of a float32 buffer, GB/s).
    """
    ceiling_buf = make_buffer(shape_for(nbytes, "float32"), "float32")
    fill = filler("ceiling-numpy", MAIN_CASES[0], ceiling_buf)
    ceiling = ceiling_buf.nbytes / best_time(fill, repeat) / 1e9
    del ceiling_buf, fill
    columns = short_columns(with_torch)
    rows = []
    for case in MAIN_CASES:
        try:
            buf = make_buffer(shape_for(nbytes, case.dtype), case.dtype)
        except Unavailable:
            continue
        seconds: dict[str, float | None] = {}
        for label, library, n in columns:
            try:
                with threads(library, n):
                    seconds[label] = best_time(filler(library, case, buf), repeat)
            except Unavailable:
                seconds[label] = None
        rows.append(Row(case, buf.nbytes, seconds))
    labels = [label for label, _, _ in columns if any(r.seconds[label] is not None for r in rows)]
    return rows, labels, ceiling


def format_short(rows: list[Row], labels: list[str], ceiling: float, nbytes: int) -> str:
    """The short form's Markdown table: GB/s per column, and fastinit 1T's speedup over each
    single-threaded peer."""
    peers = [label for label in labels if not label.startswith("fastinit")]
    head = ["initializer", "dtype"] + [f"{label} GB/s" for label in labels] + [f"x {p}" for p in peers]
    lines = []
    for r in rows:
        cells = [r.case.distribution, r.case.dtype]
        cells += ["-" if r.gbps(label) is None else f"{r.gbps(label):.2f}" for label in labels]
        for p in peers:
            ratio = r.speedup(p)
            cells.append("-" if ratio is None else f"{ratio:.2f}x")
        lines.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines)]
    fmt = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    header = [
        f"fastinit {__import__('fastinit').__version__} on backend {_backend.name()}; {machine_summary()}",
        (f"{size_label(nbytes)} per buffer ({nbytes:,} bytes), best of the runs, GB/s = 10^9 bytes of"
         f" the buffer per second, one call per fill; nT = n threads; numpy = Generator(PCG64) with"
         f" out=; torch = torch.nn.init on one thread; write ceiling (ndarray.fill, float32):"
         f" {ceiling:.2f} GB/s"),
        "",
        fmt(head),
        sep,
    ]
    return "\n".join(header + [fmt(cells) for cells in lines])
