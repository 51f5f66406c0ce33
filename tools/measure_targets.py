"""Issue-4 speed targets, measured side by side in one run: 128 MiB buffers, best of 5.

Run: python tools/measure_targets.py   (needs torch and ml_dtypes)
"""
from __future__ import annotations

import ml_dtypes
import numpy as np
import torch

import fastinit as fi
from fastinit import _core
from fastinit._bench import best_time

MIB128 = 128 * 2**20


def best(fn, rounds: int = 5) -> float:
    return best_time(fn, rounds)


def main() -> None:
    n = MIB128 // 4
    a = np.ones(n, np.float32)
    t = torch.ones(n)
    bf = np.ones(n * 2, ml_dtypes.bfloat16)
    tbf = torch.ones(n * 2, dtype=torch.bfloat16)
    rng = np.random.default_rng(1)
    res = {"ceiling numpy fill": best(lambda: a.fill(0.5))}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        res[f"ceiling torch fill_ {threads}T"] = best(lambda: t.fill_(0.5))
    for isa in _core.available_isas():
        _core.select_isa(isa)
        for threads in ((1, 2) if isa == "avx512" else (1,)):
            fi.set_num_threads(threads)
            tag = f"{isa} {threads}T"
            res[f"fastinit uniform {tag}"] = best(lambda: fi.uniform_(a, -0.05, 0.05, seed=1))
            res[f"fastinit normal {tag}"] = best(lambda: fi.normal_(a, 0, 0.02, seed=1))
            res[f"fastinit trunc_normal {tag}"] = best(lambda: fi.trunc_normal_(a, 0, 0.02, -0.04, 0.04, seed=1), 3)
            res[f"fastinit normal bf16 {tag}"] = best(lambda: fi.normal_(bf, 0, 0.02, seed=1))
    torch.set_num_threads(2)
    res["torch uniform_"] = best(lambda: torch.nn.init.uniform_(t, -0.05, 0.05))
    res["torch normal_"] = best(lambda: torch.nn.init.normal_(t, 0, 0.02))
    res["torch trunc_normal_"] = best(lambda: torch.nn.init.trunc_normal_(t, 0, 0.02, -0.04, 0.04), 3)
    res["torch normal_ bf16"] = best(lambda: torch.nn.init.normal_(tbf, 0, 0.02))
    res["numpy random(out=) f32"] = best(lambda: rng.random(out=a, dtype=np.float32))
    res["numpy standard_normal(out=) f32"] = best(lambda: rng.standard_normal(out=a, dtype=np.float32))
    for name, seconds in res.items():
        print(f"{name:40s} {MIB128 / seconds / 1e9:7.2f} GB/s")


if __name__ == "__main__":
    main()
