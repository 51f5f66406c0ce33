"""Per-call cost of small fills (issue 12): fastinit's NumPy API against NumPy's
``Generator.random(out=)`` on the same float32 buffer, in the same run.

    flock /work/coord/bench.lock python -m pytest benchmarks/test_small_calls.py \
        --benchmark-json=small.json -p no:cacheprovider
    python benchmarks/test_small_calls.py small.json     # the ratios to NumPy
    flock /work/coord/bench.lock python benchmarks/test_small_calls.py --interleaved

Groups: a 64-element buffer (a bias, ``uniform_``) and a 64x64 weight (``kaiming_uniform_``,
torch's default gain and fan_in). In each group: NumPy; fastinit with an explicit seed; with
the default generator (takes a stream per call); and the raw entry the torch adapter uses
(``fastinit._call.fill_raw`` with the call resolved outside the timing and the address taken
once: for 64x64 nearly all of it is the kernel). docs/performance.md has the figures.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import fastinit as fi

try:
    from fastinit import _call
    from fastinit import _contract as C
except ImportError:  # a fastinit from before the raw entry (to measure "before"): API cases only
    _call = None


def _cases():
    rng = np.random.default_rng(0)
    bias = np.zeros(64, np.float32)
    weight = np.zeros((64, 64), np.float32)
    cases = {
        ("uniform 64", "numpy random(out=)"): lambda: rng.random(out=bias, dtype=np.float32),
        ("uniform 64", "fastinit uniform_ seed"): lambda: fi.uniform_(bias, -0.125, 0.125, seed=1),
        ("uniform 64", "fastinit uniform_ default generator"): lambda: fi.uniform_(bias, -0.125, 0.125),
        ("kaiming_uniform 64x64", "numpy random(out=)"): lambda: rng.random(out=weight, dtype=np.float32),
        ("kaiming_uniform 64x64", "fastinit kaiming_uniform_ seed"): lambda: fi.kaiming_uniform_(weight, seed=1),
        ("kaiming_uniform 64x64", "fastinit kaiming_uniform_ default generator"):
            lambda: fi.kaiming_uniform_(weight),
    }
    if _call is not None:
        r_bias = _call.resolve_uniform(C.FLOAT32, -0.125, 0.125)
        r_weight = _call.resolve_kaiming(weight.shape, C.FLOAT32, a=0.0)
        bias_at, weight_at = bias.ctypes.data, weight.ctypes.data  # data_ptr() for a tensor
        cases[("uniform 64", "fastinit fill_raw")] = lambda: _call.fill_raw(bias_at, 64, C.FLOAT32, 1, 0, 0, r_bias)
        cases[("kaiming_uniform 64x64", "fastinit fill_raw")] = lambda: _call.fill_raw(
            weight_at, 4096, C.FLOAT32, 1, 0, 0, r_weight)
    return cases


CASES = _cases()


@pytest.mark.parametrize("key", list(CASES), ids=[f"{g}-{n}".replace(" ", "_") for g, n in CASES])
def test_small_call(benchmark, key):
    group, name = key
    benchmark.group = group
    benchmark.extra_info.update({"library": name, "backend": fi.backend(), "threads": fi.get_num_threads()})
    fill = CASES[key]
    fill()
    benchmark.pedantic(fill, rounds=2000, iterations=20, warmup_rounds=100)


def summarize(path: str) -> str:
    """Min time per call of each case, and its ratio to NumPy's in the same group."""
    data = json.load(open(path))
    rows: dict[str, dict[str, float]] = {}
    for bench in data["benchmarks"]:
        rows.setdefault(bench["group"], {})[bench["extra_info"]["library"]] = bench["stats"]["min"]
    out = []
    for group, cases in rows.items():
        base = cases.get("numpy random(out=)")
        for name, seconds in cases.items():
            ratio = f"{seconds / base:.2f}x NumPy" if base else ""
            out.append(f"{group:24s} {name:45s} {seconds * 1e6:8.3f} us  {ratio}")
    return "\n".join(out)


def interleaved(repeats: int = 200, number: int = 50) -> str:
    """The same cases timed by timeit in alternation (every case once per repeat, minimum
    kept): on a loaded machine a slow spell then hits every case alike."""
    import timeit

    best = {key: float("inf") for key in CASES}
    for _ in range(repeats):
        for key, fill in CASES.items():
            best[key] = min(best[key], timeit.timeit(fill, number=number) / number)
    out = []
    for (group, name), seconds in best.items():
        base = best[(group, "numpy random(out=)")]
        out.append(f"{group:24s} {name:45s} {seconds * 1e6:8.3f} us  {seconds / base:.2f}x NumPy")
    return "\n".join(out)


if __name__ == "__main__":
    # python benchmarks/test_small_calls.py small.json    ratios of a pytest-benchmark run
    # python benchmarks/test_small_calls.py --interleaved the interleaved timeit loop
    print(interleaved() if sys.argv[1:] == ["--interleaved"] else summarize(sys.argv[1]))
