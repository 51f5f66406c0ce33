"""pytest-benchmark suite options: ``--bench-full`` (or FASTINIT_BENCH_FULL=1) adds 256 MiB
buffers and every distribution on every dtype; the default run is the README's cases at
16 KiB, 1 MiB and 16 MiB. The machine info of the saved JSON names fastinit's version,
backend and thread count, and the versions of NumPy and torch; the JSON keeps each benchmark's
stats but not every round's raw timing (unless --benchmark-save-data)."""
from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import pytest

import fastinit
from fastinit import _bench


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench-full", action="store_true", default=False,
                     help="fastinit: every distribution x dtype and 256 MiB buffers (also FASTINIT_BENCH_FULL=1)")
    parser.addoption("--bench-model", action="append",
                     choices=("gpt2", "tinyllama", "hf-tinyllama", "timm-vit-b16", "torchtitan-llama3-1b"), default=None,
                     help="fastinit: models for test_model_init.py (default gpt2; --bench-full adds tinyllama)")
    parser.addoption("--model-rounds", type=int, default=3,
                     help="fastinit: fresh-process rounds per model case (best is kept; default 3)")
    parser.addoption("--model-threads", type=int, default=None,
                     help="fastinit: torch and fastinit threads in the model benchmarks (default: all CPUs)")
    parser.addoption("--bench-targets", action="store_true", default=False,
                     help="fastinit: collect test_fill_targets.py (issue 12's 128 MiB target cases; "
                          "run them per ISA with benchmarks/fill_targets.py)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "bench_targets: issue 12's target cases, collected only with --bench-targets")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The target cases take minutes: the default and full suites leave them out."""
    if config.getoption("--bench-targets"):
        return
    kept = [item for item in items if item.get_closest_marker("bench_targets") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def bench_full(config: pytest.Config) -> bool:
    """Whether the full matrix was asked for, by option or environment."""
    return bool(config.getoption("--bench-full")) or os.environ.get("FASTINIT_BENCH_FULL", "") not in ("", "0")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "spec" in metafunc.fixturenames:
        specs = _bench.specs(full=bench_full(metafunc.config))
        metafunc.parametrize("spec", specs, ids=[s.id for s in specs])
    if "model_case" in metafunc.fixturenames:
        import model_init

        models = metafunc.config.getoption("--bench-model") or (
            ["gpt2", "tinyllama"] if bench_full(metafunc.config) else ["gpt2"])
        rounds = metafunc.config.getoption("--model-rounds")
        # round-major order: the cases alternate, so a slow spell of the machine hits them all
        cases = [(m, r, c) for m in models for r in range(1, rounds + 1) for c in model_init.cases_for(m)]
        metafunc.parametrize("model_case", cases, ids=[f"{m}-round{r}-{c}" for m, r, c in cases])


@pytest.fixture(scope="session")
def model_threads(pytestconfig: pytest.Config) -> int:
    return pytestconfig.getoption("--model-threads") or max(_bench.thread_counts())


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    versions = {"fastinit": fastinit.__version__, "numpy": np.__version__, "python": platform.python_version()}
    try:
        import torch

        versions["torch"] = torch.__version__
    except ImportError:
        pass
    machine_info["fastinit"] = {
        "backend": fastinit.backend(),
        "default_threads": fastinit.get_num_threads() if hasattr(fastinit, "get_num_threads") else 1,
        "cpus_available": max(_bench.thread_counts()),
        "cpu_model": _bench.cpu_name(),
        "suite": "full" if bench_full(config) else "default",
        "versions": versions,
    }


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: Any, output_json: dict[str, Any]) -> None:
    """Keep the stats, drop every round's raw timing (tens of MB for the 16 KiB cases) unless
    --benchmark-save-data asks for it: the JSON stays small enough to store in results/."""
    if config.getoption("benchmark_save_data"):
        return
    for bench in output_json.get("benchmarks", []):
        bench.get("stats", {}).pop("data", None)


class _OneBuffer:
    """Keeps the last buffer, so every library of a group fills the same touched memory and at
    most one large buffer is alive at a time."""

    def __init__(self) -> None:
        self.key: tuple[int, str] | None = None
        self.buf: np.ndarray | None = None

    def get(self, nbytes: int, dtype: str) -> np.ndarray:
        if self.key != (nbytes, dtype):
            self.buf = None  # free the previous one first
            self.buf = _bench.make_buffer(_bench.shape_for(nbytes, dtype), dtype)
            self.key = (nbytes, dtype)
        assert self.buf is not None
        return self.buf


@pytest.fixture(scope="session")
def buffers() -> _OneBuffer:
    return _OneBuffer()

