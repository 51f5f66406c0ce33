"""Before/after of a stream-contract change: CPU time of one fill (best of N rounds), 128 MiB,
1 thread, on the ISA of this process (FASTINIT_ISA), printed as JSON. Run it in each tree:
    FASTINIT_ISA=avx2 PYTHONPATH=TREE flock /work/coord/bench.lock python tools/contract_ab.py 3
"""
from __future__ import annotations

import json
import sys
import time

import ml_dtypes
import numpy as np

import fastinit as fi

fi.set_num_threads(1)
n = 32 * 2**20
a = np.ones(n, np.float32); h = np.ones(2 * n, ml_dtypes.bfloat16); f16 = np.ones(2 * n, np.float16)
cases = {
  "uniform f32": lambda: fi.uniform_(a, -0.05, 0.05, seed=1),
  "normal f32": lambda: fi.normal_(a, 0, 0.02, seed=1),
  "normal bf16": lambda: fi.normal_(h, 0, 0.02, seed=1),
  "normal f16": lambda: fi.normal_(f16, 0, 0.02, seed=1),
  "trunc default f32": lambda: fi.trunc_normal_(a, 0, 0.02, -2, 2, seed=1),
  "trunc 2std f32": lambda: fi.trunc_normal_(a, 0, 0.02, -0.04, 0.04, seed=1),
  "trunc 3std f32": lambda: fi.trunc_normal_(a, 0, 0.02, -0.06, 0.06, seed=1),
}
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
out = {"backend": fi.backend()}
for name, fn in cases.items():
    fn(); best = 1e9
    for _ in range(rounds):
        c0 = time.process_time(); fn(); best = min(best, time.process_time() - c0)
    out[name] = 128 * 2**20 / best / 1e9
print(json.dumps(out))
