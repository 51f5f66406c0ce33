"""Benchmark cases shared by ``python -m fastinit bench`` and the pytest-benchmark suites in
benchmarks/: each case fills the same preallocated buffer with fastinit and with the best
equivalent of each peer (NumPy's Generator with out=, torch's in-place init), so their
throughputs are measured side by side in one run."""
from __future__ import annotations

import math
import os
import platform
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import _api, _backend

# A case: (initializer label, dtype name, shape maker)
BOUND = 0.05  # U(-BOUND, BOUND) for the uniform case
STD = 0.02    # GPT-style normal std


@dataclass(frozen=True)
class Case:
    name: str    # e.g. "normal_(0, 0.02)"
    dtype: str   # float32, float64, bfloat16, float16
    fastinit: Callable[[np.ndarray], Any]
    numpy: Callable[[np.ndarray, np.random.Generator], Any] | None
    torch: Callable[[Any], Any] | None  # takes a torch tensor sharing the buffer


def _numpy_uniform(buf: np.ndarray, rng: np.random.Generator) -> None:
    rng.random(out=buf, dtype=buf.dtype)  # [0, 1) in place, then scaled in place: NumPy's fastest U(-b, b)
    buf *= 2 * BOUND
    buf -= BOUND


def _numpy_normal(buf: np.ndarray, rng: np.random.Generator) -> None:
    rng.standard_normal(out=buf, dtype=buf.dtype)
    buf *= STD


def _numpy_trunc_normal(buf: np.ndarray, rng: np.random.Generator) -> None:
    """N(0, STD^2) cut at +-2 STD by redrawing the out-of-range values (rejection)."""
    flat = buf.reshape(-1)
    rng.standard_normal(out=flat, dtype=buf.dtype)
    bad = np.flatnonzero(np.abs(flat) > 2.0)
    while bad.size:
        flat[bad] = rng.standard_normal(bad.size, dtype=buf.dtype)
        bad = bad[np.abs(flat[bad]) > 2.0]
    flat *= STD


def _numpy_via_float32(fill32: Callable[[np.ndarray, np.random.Generator], None]):
    """NumPy has no bfloat16/float16 generator: generate float32, then round into the buffer."""

    def run(buf: np.ndarray, rng: np.random.Generator) -> None:
        tmp = np.empty(buf.shape, np.float32)
        fill32(tmp, rng)
        np.copyto(buf, tmp, casting="unsafe")

    return run


def _he_std(shape: tuple[int, ...]) -> float:
    return math.sqrt(2.0 / shape[1])


def cases(shape: tuple[int, int]) -> list[Case]:
    """The benchmark table: every distribution on float32, normal on every dtype."""
    torch_init = _torch_init()
    glorot_limit = math.sqrt(6.0 / (shape[0] + shape[1]))
    he_std = _he_std(shape)

    def numpy_glorot(buf, rng):
        rng.random(out=buf, dtype=buf.dtype)
        buf *= 2 * glorot_limit
        buf -= glorot_limit

    def numpy_he(buf, rng):
        rng.standard_normal(out=buf, dtype=buf.dtype)
        buf *= he_std

    out = [
        Case("uniform_(-0.05, 0.05)", "float32", lambda b: _api.uniform_(b, -BOUND, BOUND, seed=1),
             _numpy_uniform, torch_init and (lambda t: torch_init.uniform_(t, -BOUND, BOUND))),
        Case("normal_(0, 0.02)", "float32", lambda b: _api.normal_(b, 0.0, STD, seed=1),
             _numpy_normal, torch_init and (lambda t: torch_init.normal_(t, 0.0, STD))),
        Case("trunc_normal_(0, 0.02, +-2std)", "float32",
             lambda b: _api.trunc_normal_(b, 0.0, STD, -2 * STD, 2 * STD, seed=1), _numpy_trunc_normal,
             torch_init and (lambda t: torch_init.trunc_normal_(t, 0.0, STD, -2 * STD, 2 * STD))),
        Case("xavier_uniform_", "float32", lambda b: _api.xavier_uniform_(b, seed=1), numpy_glorot,
             torch_init and torch_init.xavier_uniform_),
        Case("kaiming_normal_", "float32", lambda b: _api.kaiming_normal_(b, seed=1), numpy_he,
             torch_init and torch_init.kaiming_normal_),
        Case("normal_(0, 0.02)", "float64", lambda b: _api.normal_(b, 0.0, STD, seed=1),
             _numpy_normal, torch_init and (lambda t: torch_init.normal_(t, 0.0, STD))),
        Case("normal_(0, 0.02)", "bfloat16", lambda b: _api.normal_(b, 0.0, STD, seed=1),
             _numpy_via_float32(_numpy_normal),
             torch_init and (lambda t: torch_init.normal_(t, 0.0, STD))),
        Case("normal_(0, 0.02)", "float16", lambda b: _api.normal_(b, 0.0, STD, seed=1),
             _numpy_via_float32(_numpy_normal),
             torch_init and (lambda t: torch_init.normal_(t, 0.0, STD))),
    ]
    return out


def _torch_init():
    try:
        import torch.nn.init as torch_init
    except ImportError:
        return None
    return torch_init


def numpy_buffer(shape: tuple[int, ...], dtype: str) -> np.ndarray | None:
    if dtype == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            return None
        return np.zeros(shape, ml_dtypes.bfloat16)
    return np.zeros(shape, dtype)


def torch_tensor(shape: tuple[int, ...], dtype: str):
    import torch

    return torch.zeros(shape, dtype=getattr(torch, dtype))


def best_time(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up: page in the buffer, load code
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    return f"{cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}"


@dataclass
class Row:
    case: Case
    nbytes: int
    seconds: dict[str, float | None]  # peer -> best seconds (None: not available)

    def speedup(self, peer: str) -> float | None:
        """How many times faster fastinit is than the peer."""
        mine, other = self.seconds["fastinit"], self.seconds.get(peer)
        return None if mine is None or other is None else other / mine

    def gbps(self, peer: str) -> float | None:
        t = self.seconds.get(peer)
        return None if t is None else self.nbytes / t / 1e9


def run(elements: int, repeat: int, with_torch: bool = True) -> tuple[list[Row], float]:
    """Measure every case; returns the rows and the write ceiling (ndarray.fill, GB/s)."""
    cols = 1024
    shape = (max(1, elements // cols), cols)
    rng = np.random.Generator(np.random.PCG64(1))
    ceiling_buf = np.zeros(shape, np.float32)
    ceiling = ceiling_buf.nbytes / best_time(lambda: ceiling_buf.fill(0.5), repeat) / 1e9
    rows = []
    torch_ok = with_torch and _torch_init() is not None
    for case in cases(shape):
        buf = numpy_buffer(shape, case.dtype)
        if buf is None:
            continue
        fill_numpy, fill_torch = case.numpy, case.torch
        seconds: dict[str, float | None] = {"fastinit": best_time(lambda: case.fastinit(buf), repeat)}
        seconds["numpy"] = None if fill_numpy is None else best_time(lambda: fill_numpy(buf, rng), repeat)
        seconds["torch"] = None
        if torch_ok and fill_torch is not None:
            tensor = torch_tensor(shape, case.dtype)
            seconds["torch"] = best_time(lambda: fill_torch(tensor), repeat)
        rows.append(Row(case, buf.nbytes, seconds))
    return rows, ceiling


def format_table(rows: list[Row], ceiling: float, elements: int) -> str:
    peers = ["fastinit", "numpy"] + (["torch"] if any(r.seconds["torch"] for r in rows) else [])
    head = ["initializer", "dtype"] + [f"{p} GB/s" for p in peers] + [f"x {p}" for p in peers[1:]]
    lines = []
    for r in rows:
        cells = [r.case.name, r.case.dtype]
        cells += ["-" if r.gbps(p) is None else f"{r.gbps(p):.2f}" for p in peers]
        for p in peers[1:]:
            ratio = r.speedup(p)
            cells.append("-" if ratio is None else f"{ratio:.1f}x")
        lines.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines)]
    fmt = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    header = [
        f"fastinit {__import__('fastinit').__version__} on backend {_backend.name()}; {machine_summary()}",
        f"{elements:,} elements per buffer, best of the runs, GB/s of output written, single call;"
        f" write ceiling (ndarray.fill, float32): {ceiling:.2f} GB/s",
        "",
        fmt(head),
        sep,
    ]
    return "\n".join(header + [fmt(cells) for cells in lines])
