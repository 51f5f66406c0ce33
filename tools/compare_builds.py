"""Compare two builds of the C extension on 256 MiB fills, in one process, side by side.

Both compiled modules (fastinit/_core*.so of two checkouts) are loaded under different names
and called directly, alternately (ABAB, BABA, ...), and the best wall time and the best
process CPU time of each are kept. Alternating in one process is what makes the ratio
meaningful on a shared machine; CPU time (all threads) is not disturbed by the other
processes' load, wall time is what a user waits for.

Run: python tools/compare_builds.py BASE.so NEW.so [--threads 2] [--rounds 7]
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import time

import numpy as np


def load(name: str, path: str):
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("new")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    cores = {"base": load("fastinit_base._core", args.base), "new": load("fastinit_new._core", args.new)}
    for core in cores.values():
        core.init_isa()
        core.set_num_threads(args.threads)
    f32 = np.empty(1 << 26, np.float32)  # 256 MiB
    f64 = np.empty(1 << 25, np.float64)
    cases = {  # dtype codes: 0 float32, 1 float64
        "uniform f32": lambda c: c.fill_uniform(f32, 0, 1, 0, 0, 0.0, 1.0),
        "normal f32": lambda c: c.fill_normal(f32, 0, 1, 0, 0, 0.0, 1.0),
        "trunc_normal f32": lambda c: c.fill_trunc_normal(f32, 0, 1, 0, 0, 0.0, 1.0, -2.0, 2.0),
        "normal f64": lambda c: c.fill_normal(f64, 1, 1, 0, 0, 0.0, 1.0),
    }
    print(f"256 MiB fills, {args.threads} thread(s), ISA {cores['new'].isa()}, "
          f"best of {args.rounds} alternating runs each")
    print(f"{'fill':18s} {'wall base':>10s} {'wall new':>9s} {'ratio':>6s}   {'CPU base':>9s} {'CPU new':>8s} {'ratio':>6s}")
    for name, fill in cases.items():
        wall = {"base": float("inf"), "new": float("inf")}
        cpu = dict(wall)
        fill(cores["base"])  # touch the pages and warm up both
        fill(cores["new"])
        for r in range(args.rounds):
            for tag in ("base", "new") if r % 2 == 0 else ("new", "base"):
                t, c = time.perf_counter(), time.process_time()
                fill(cores[tag])
                wall[tag] = min(wall[tag], time.perf_counter() - t)
                cpu[tag] = min(cpu[tag], time.process_time() - c)
        print(f"{name:18s} {wall['base'] * 1e3:8.1f}ms {wall['new'] * 1e3:7.1f}ms {wall['new'] / wall['base']:6.3f}"
              f"   {cpu['base'] * 1e3:7.1f}ms {cpu['new'] * 1e3:6.1f}ms {cpu['new'] / cpu['base']:6.3f}")


if __name__ == "__main__":
    main()
