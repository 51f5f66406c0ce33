"""Fills of fresh memory (pages nothing has touched yet) against fills of resident memory:
what page faults cost, and what the populated first touch (csrc/threads.c,
``MADV_POPULATE_WRITE``) saves, from a second run with ``FASTINIT_POPULATE=0``. 256 MiB
float32, fastinit on 2 threads; ``ndarray.fill`` (one thread, NumPy's memset, demand faults)
for reference. Fresh memory is an anonymous ``mmap`` made in the round's setup (4 KiB pages:
NumPy's own arrays of this size ask for huge pages, which would measure something else).

    flock /work/coord/bench.lock python -m pytest benchmarks/test_first_touch.py \\
        --benchmark-json=touch.json -p no:cacheprovider
    FASTINIT_POPULATE=0 python -m pytest benchmarks/test_first_touch.py --benchmark-json=touch0.json ...
    python benchmarks/test_first_touch.py touch.json [touch0.json]   # ratios (and the gain)
    flock /work/coord/bench.lock python benchmarks/test_first_touch.py --interleaved
"""
from __future__ import annotations

import json
import mmap
import os
import sys

import numpy as np
import pytest

import fastinit as fi

NBYTES = 256 << 20
COUNT = NBYTES // 4
# private anonymous memory, as malloc and torch's allocator get it (Python's mmap default,
# MAP_SHARED, is shmem, whose faults cost differently)
_PRIVATE = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
FILLS = {
    "ndarray.fill": lambda a: a.fill(0.5),
    "uniform_": lambda a: fi.uniform_(a, -0.05, 0.05, seed=1),
    "normal_": lambda a: fi.normal_(a, 0.0, 0.02, seed=1),
    "trunc_normal_ (+-2 std)": lambda a: fi.trunc_normal_(a, 0.0, 0.02, -0.04, 0.04, seed=1),
}


class _Fresh:
    """A new anonymous mapping per round; earlier ones are unmapped as soon as no array of
    theirs is left (pytest-benchmark keeps the last round's arguments a while)."""

    def __init__(self) -> None:
        self.regions: list[mmap.mmap] = []

    def __call__(self) -> tuple[tuple[np.ndarray], dict]:
        self.close()
        self.regions.append(mmap.mmap(-1, NBYTES, flags=_PRIVATE))
        return (np.frombuffer(self.regions[-1], np.float32),), {}

    def close(self) -> None:
        kept = []
        for region in self.regions:
            try:
                region.close()
            except BufferError:  # an array still views it
                kept.append(region)
        self.regions = kept


@pytest.fixture(scope="module", autouse=True)
def two_threads():
    before = fi.get_num_threads()
    fi.set_num_threads(2)
    yield
    fi.set_num_threads(before)


@pytest.mark.parametrize("memory", ["fresh", "resident"])
@pytest.mark.parametrize("fill", list(FILLS))
def test_first_touch(benchmark, fill, memory):
    benchmark.group = f"first touch: {fill}"
    benchmark.extra_info.update(fill=fill, memory=memory, populate=os.environ.get("FASTINIT_POPULATE", "1"),
                                backend=fi.backend())
    run = FILLS[fill]
    if memory == "resident":
        buf = np.ones(COUNT, np.float32)
        benchmark.pedantic(run, (buf,), rounds=7, warmup_rounds=1)
        return
    fresh = _Fresh()
    try:
        benchmark.pedantic(run, setup=fresh, rounds=7)
    finally:
        fresh.close()


def summarize(path: str, without: str | None = None) -> str:
    """Best time per case, fresh and resident; with a second run made with
    FASTINIT_POPULATE=0, its fresh times and what populating saves."""
    def best(p: str) -> dict[tuple[str, str], float]:
        return {(b["extra_info"]["fill"], b["extra_info"]["memory"]): b["stats"]["min"]
                for b in json.load(open(p))["benchmarks"]}

    got, off = best(path), best(without) if without else {}
    lines = ["| fill | fresh s | resident s |" + (" fresh s, FASTINIT_POPULATE=0 | populated / not |" if off else ""),
             "|---|---|---|" + ("---|---|" if off else "")]
    for fill in FILLS:
        fresh, resident = got[(fill, "fresh")], got[(fill, "resident")]
        row = f"| {fill} | {fresh:.3f} | {resident:.3f} |"
        if off:
            row += f" {off[(fill, 'fresh')]:.3f} | {fresh / off[(fill, 'fresh')]:.2f}x |"
        lines.append(row)
    return "\n".join(lines)


_CHILD = """
import json, mmap, time, numpy as np, fastinit as fi, sys
sys.path.insert(0, {here!r})
from test_first_touch import _PRIVATE, FILLS, NBYTES
fi.set_num_threads(2)
best = {{}}
for _ in range(3):
    for name, run in FILLS.items():
        region = mmap.mmap(-1, NBYTES, flags=_PRIVATE)
        a = np.frombuffer(region, np.float32)
        start = time.perf_counter()
        run(a)
        best[name] = min(best.get(name, 1e9), time.perf_counter() - start)
        del a
        region.close()
print(json.dumps(best))
"""


def interleaved(rounds: int = 5) -> str:
    """Fresh fills in child processes alternating FASTINIT_POPULATE=1 and =0 round by round
    (best of each): on a host whose speed drifts, both settings then see the same drift."""
    import pathlib
    import subprocess

    code = _CHILD.format(here=str(pathlib.Path(__file__).resolve().parent))
    best: dict[str, dict[str, float]] = {"1": {}, "0": {}}
    for _ in range(rounds):
        for setting in ("1", "0"):
            env = dict(os.environ, FASTINIT_POPULATE=setting)
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True, timeout=600)
            for name, seconds in json.loads(out.stdout).items():
                best[setting][name] = min(best[setting].get(name, float("inf")), seconds)
    lines = ["| fill (fresh 256 MiB) | populated s | FASTINIT_POPULATE=0 s | populated / not |", "|---|---|---|---|"]
    for name in FILLS:
        on, off = best["1"][name], best["0"][name]
        lines.append(f"| {name} | {on:.3f} | {off:.3f} | {on / off:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    # python benchmarks/test_first_touch.py RUN.json [RUN_POPULATE0.json]   ratios of pytest-benchmark runs
    # python benchmarks/test_first_touch.py --interleaved                     child processes, alternating
    if sys.argv[1:] == ["--interleaved"]:
        print(interleaved())
    else:
        print(summarize(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
