"""pytest-benchmark cases of issue 12's speed targets (128 MiB, fastinit and torch side by side
in one process); run per instruction-set level by benchmarks/fill_targets.py, which sets
FASTINIT_ISA for each process and prints the target ratios. Each round also records the
process's CPU time (extra_info cpu_min), which a machine shared with other jobs disturbs less
than the wall time. Collected only with
``--bench-targets`` (they take about a minute per level)."""
from __future__ import annotations

import pathlib
import threading
import time

import numpy as np
import pytest

import fill_targets
from fastinit import _bench

pytestmark = pytest.mark.bench_targets


def _task_ticks() -> dict[str, int]:
    """CPU clock ticks (user + system) of each thread of this process (Linux /proc; else {})."""
    ticks = {}
    try:
        for task in pathlib.Path("/proc/self/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ticks[task.name] = int(fields[11]) + int(fields[12])
    except OSError:
        return {}
    return ticks


@pytest.mark.parametrize("name", list(fill_targets.CASES))
def test_target_case(benchmark, name: str) -> None:
    library, dist, dtype, threads, params = fill_targets.CASES[name]
    if library == "torch":
        pytest.importorskip("torch")
    buf = _bench.make_buffer((fill_targets.NBYTES // np.dtype(_bench.numpy_dtype(dtype)).itemsize,), dtype)
    benchmark.group = f"{dist} {dtype}"
    benchmark.extra_info.update(case=name, library=library, distribution=dist, dtype=dtype,
                                bytes=fill_targets.NBYTES, threads=threads)
    with _bench.threads(library, threads):
        fill = fill_targets.filler(library, dist, buf, params)
        start = time.perf_counter()
        fill()  # untimed: pages in the buffer, loads code
        once = time.perf_counter() - start
        rounds = max(3, min(9, int(1.5 / max(once, 1e-9))))
        cpu: list[float] = []
        others = [0, 0]  # ticks of the threads other than the caller, of all threads

        def timed() -> None:  # CPU time of the process too: all threads, not counting waits for a core
            before = _task_ticks()
            c0 = time.process_time()
            fill()
            cpu.append(time.process_time() - c0)
            after = _task_ticks()
            spent = {tid: t - before.get(tid, 0) for tid, t in after.items()}
            others[0] += sum(t for tid, t in spent.items() if int(tid) != threading.get_native_id())
            others[1] += sum(spent.values())

        benchmark.pedantic(timed, rounds=rounds, iterations=1, warmup_rounds=0)
        benchmark.extra_info["cpu_min"] = min(cpu)
        # the share of the fill's CPU time spent on other threads (the C pool's worker: about
        # half with 2 threads when the work really is split; 10 ms ticks, so a rough figure)
        benchmark.extra_info["other_threads_cpu_share"] = others[0] / others[1] if others[1] else None
