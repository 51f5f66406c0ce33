"""Issue-4 speed targets, measured side by side in one run: 128 MiB buffers, best of 5.

Run: python tools/measure_targets.py   (needs torch and ml_dtypes)
"""
import time, math, numpy as np, torch, fastinit as fi, ml_dtypes
from fastinit import _core
def best(fn, r=5):
    fn(); b = 1e9
    for _ in range(r):
        t = time.perf_counter(); fn(); b = min(b, time.perf_counter() - t)
    return b
N = 128 * 2**20 // 4
res = {}
a = np.ones(N, np.float32); res['ceiling numpy fill'] = a.nbytes / best(lambda: a.fill(0.5))
t = torch.ones(N); torch.set_num_threads(2); res['ceiling torch fill_ 2T'] = a.nbytes / best(lambda: t.fill_(0.5)); torch.set_num_threads(1)
res['ceiling torch fill_ 1T'] = a.nbytes / best(lambda: t.fill_(0.5))
for isa in _core.available_isas():
    _core.select_isa(isa)
    for th in (1, 2):
        if isa != 'avx512' and th == 2: continue
        fi.set_num_threads(th)
        res[f'fastinit uniform {isa} {th}T'] = a.nbytes / best(lambda: fi.uniform_(a, -0.05, 0.05, seed=1))
        res[f'fastinit normal {isa} {th}T'] = a.nbytes / best(lambda: fi.normal_(a, 0, 0.02, seed=1))
        res[f'fastinit trunc_normal {isa} {th}T'] = a.nbytes / best(lambda: fi.trunc_normal_(a, 0, 0.02, -0.04, 0.04, seed=1), 3)
        bb = np.ones(N * 2, ml_dtypes.bfloat16)
        res[f'fastinit normal bf16 {isa} {th}T'] = bb.nbytes / best(lambda: fi.normal_(bb, 0, 0.02, seed=1))
fi.set_num_threads(2)
res['torch uniform_'] = a.nbytes / best(lambda: torch.nn.init.uniform_(t, -0.05, 0.05))
res['torch normal_'] = a.nbytes / best(lambda: torch.nn.init.normal_(t, 0, 0.02))
res['torch trunc_normal_'] = a.nbytes / best(lambda: torch.nn.init.trunc_normal_(t, 0, 0.02, -0.04, 0.04), 3)
tb = torch.ones(N * 2, dtype=torch.bfloat16)
res['torch normal_ bf16'] = tb.numel() * 2 / best(lambda: torch.nn.init.normal_(tb, 0, 0.02))
rng = np.random.default_rng(1)
res['numpy random(out=) f32'] = a.nbytes / best(lambda: rng.random(out=a, dtype=np.float32))
res['numpy standard_normal(out=) f32'] = a.nbytes / best(lambda: rng.standard_normal(out=a, dtype=np.float32))
for k, v in res.items(): print(f"{k:40s} {v/1e9:7.2f} GB/s")
