"""Issue 12's speed targets, measured side by side: 128 MiB buffers, one fresh process per
instruction-set level (``FASTINIT_ISA`` set in its environment), each running the
pytest-benchmark cases of ``benchmarks/test_fill_targets.py``; then the ratios of the targets.

    flock /work/coord/bench.lock python benchmarks/fill_targets.py [--isa avx2 --isa scalar] [--json-dir DIR]
    python benchmarks/fill_targets.py --interleaved [--rounds 7] [--isa avx2]

``--interleaved`` runs every case of a level in one process, round robin (round r runs each
case once, in an order rotated by r), and keeps each case's best round: on a host whose speed
drifts over minutes (a shared VM), the pytest-benchmark suite's case-after-case timing moves
ratios by 20-30% between runs, and interleaving cancels that drift. Same cases, same ratios.

Throughput is bytes / the best round (GB/s = 10^9 bytes/s); element rates for the 16-bit
dtypes are bytes / 2. torch runs on 1 thread (``torch.set_num_threads(1)``) unless a case says.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
NBYTES = 128 * 2**20
STD = 0.02

# name: (library, distribution, dtype, threads, parameters)
#   normal: (mean, std); trunc_normal: (mean, std, a, b); uniform: (low, high)
CASES: dict[str, tuple[str, str, str, int, tuple[float, ...]]] = {}
for _t in (1, 2):
    CASES[f"fastinit uniform f32 {_t}T"] = ("fastinit", "uniform", "float32", _t, (-0.05, 0.05))
    CASES[f"fastinit normal f32 {_t}T"] = ("fastinit", "normal", "float32", _t, (0.0, STD))
    CASES[f"fastinit normal bf16 {_t}T"] = ("fastinit", "normal", "bfloat16", _t, (0.0, STD))
    CASES[f"fastinit normal f16 {_t}T"] = ("fastinit", "normal", "float16", _t, (0.0, STD))
    CASES[f"fastinit trunc default f32 {_t}T"] = ("fastinit", "trunc_normal", "float32", _t, (0.0, STD, -2.0, 2.0))
    CASES[f"fastinit trunc 2std f32 {_t}T"] = ("fastinit", "trunc_normal", "float32", _t, (0.0, STD, -2 * STD, 2 * STD))
    CASES[f"fastinit trunc 3std f32 {_t}T"] = ("fastinit", "trunc_normal", "float32", _t, (0.0, STD, -3 * STD, 3 * STD))
    CASES[f"fastinit trunc 2std bf16 {_t}T"] = ("fastinit", "trunc_normal", "bfloat16", _t, (0.0, STD, -2 * STD, 2 * STD))
    CASES[f"fastinit trunc 2std f16 {_t}T"] = ("fastinit", "trunc_normal", "float16", _t, (0.0, STD, -2 * STD, 2 * STD))
CASES["torch uniform f32 1T"] = ("torch", "uniform", "float32", 1, (-0.05, 0.05))
CASES["torch normal f32 1T"] = ("torch", "normal", "float32", 1, (0.0, STD))
CASES["torch trunc default f32 1T"] = ("torch", "trunc_normal", "float32", 1, (0.0, STD, -2.0, 2.0))
CASES["torch trunc 2std f32 1T"] = ("torch", "trunc_normal", "float32", 1, (0.0, STD, -2 * STD, 2 * STD))
CASES["torch trunc 3std f32 1T"] = ("torch", "trunc_normal", "float32", 1, (0.0, STD, -3 * STD, 3 * STD))


SHARES: dict[tuple[str, str], float | None] = {}  # (isa, case): CPU share of the pool's worker


def gbps(results: dict[str, float], name: str) -> float:
    return NBYTES / results[name] / 1e9




def targets(wall: dict[str, float], cpu: dict[str, float]) -> list[tuple[str, float, float | None, str, bool]]:
    """(measure, wall-time ratio, CPU-time ratio, target, met) for one ISA's results (case name
    -> best seconds). Two-thread rows: wall ratio, and CPU / wall time of the 2-thread fill
    (near 2 when both parts really ran at once) in place of the CPU ratio."""
    out = []
    gw = lambda n: gbps(wall, n)  # noqa: E731
    gc = lambda n: gbps(cpu, n)  # noqa: E731
    for (measure, value, target), (_, cvalue, _) in zip(_rows(gw), _rows(gc)):
        if "2 threads" in measure:
            name = measure.split(":")[0]
            cvalue = cpu[f"fastinit {name} 2T"] / wall[f"fastinit {name} 2T"]
        met = value >= float(target.split()[-1]) if target else True
        out.append((measure, value, cvalue, target, met))
    return out


def _rows(g) -> list[tuple[str, float, str]]:
    rows = []
    rows.append(("normal / own uniform", g("fastinit normal f32 1T") / g("fastinit uniform f32 1T"), ">= 0.6"))
    rows.append(("normal / torch normal_", g("fastinit normal f32 1T") / g("torch normal f32 1T"), ">= 4"))
    rows.append(("trunc default (a=-2, b=2, std 0.02 = 100 std) / own normal",
                 g("fastinit trunc default f32 1T") / g("fastinit normal f32 1T"), ">= 0.9"))
    for k in ("2", "3"):
        rows.append((f"trunc +-{k} std / own normal", g(f"fastinit trunc {k}std f32 1T") / g("fastinit normal f32 1T"),
                     ">= 0.5"))
        rows.append((f"trunc +-{k} std / torch trunc_normal_", g(f"fastinit trunc {k}std f32 1T")
                     / g(f"torch trunc {k}std f32 1T"), ">= 20"))
    rows.append(("trunc default / torch trunc_normal_", g("fastinit trunc default f32 1T") / g("torch trunc default f32 1T"),
                 ""))
    rows.append(("uniform / torch uniform_", g("fastinit uniform f32 1T") / g("torch uniform f32 1T"), ""))
    for dt in ("bf16", "f16"):  # elements per second: half the bytes per element
        rows.append((f"normal {dt} / normal f32 (elements/s)", 2 * g(f"fastinit normal {dt} 1T") / g("fastinit normal f32 1T"),
                     ">= 0.9"))
        rows.append((f"trunc +-2 std {dt} / f32 (elements/s)",
                     2 * g(f"fastinit trunc 2std {dt} 1T") / g("fastinit trunc 2std f32 1T"), ">= 0.9"))
    for name in sorted({n[len("fastinit "):-3] for n in CASES if n.startswith("fastinit")}):
        rows.append((f"{name}: 2 threads / 1 thread", g(f"fastinit {name} 2T") / g(f"fastinit {name} 1T"), ">= 1.8"))
    return rows


def filler(library: str, dist: str, buf, params: tuple[float, ...]):
    """The timed call of one case: fastinit's (seed 1) or torch's function on ``buf``."""
    if library == "fastinit":
        import fastinit as fi

        fn = {"uniform": fi.uniform_, "normal": fi.normal_, "trunc_normal": fi.trunc_normal_}[dist]
        return lambda: fn(buf, *params, seed=1)
    import torch

    from fastinit import _bench

    t = _bench.torch_view(buf)
    fn = {"uniform": torch.nn.init.uniform_, "normal": torch.nn.init.normal_,
          "trunc_normal": torch.nn.init.trunc_normal_}[dist]
    return lambda: fn(t, *params)


def _interleaved_worker(rounds: int, names: list[str]) -> dict[str, tuple[float, float]]:
    """(best wall seconds, best CPU seconds) of each case, the cases run round robin."""
    import time

    import numpy as np

    from fastinit import _bench

    buffers: dict[str, np.ndarray] = {}
    calls = {}
    for name in names:
        library, dist, dtype, threads, params = CASES[name]
        if dtype not in buffers:  # one buffer per dtype, shared by its cases (each overwrites it)
            buffers[dtype] = _bench.make_buffer((NBYTES // np.dtype(_bench.numpy_dtype(dtype)).itemsize,), dtype)
        calls[name] = (library, threads, filler(library, dist, buffers[dtype], params))
    best = {name: (float("inf"), float("inf")) for name in names}
    for r in range(rounds + 1):  # round 0 is a warm-up (code, pages, the thread pool), not kept
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            library, threads, call = calls[name]
            with _bench.threads(library, threads):
                w0, c0 = time.perf_counter(), time.process_time()
                call()
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            if r:
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def run_isa_interleaved(isa: str, rounds: int, json_path: pathlib.Path, k: str | None
                        ) -> tuple[dict[str, float], dict[str, float]]:
    env = {**os.environ, "FASTINIT_ISA": isa, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", "--rounds", str(rounds),
           "--json-out", str(json_path)] + (["-k", k] if k else [])
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    data = json.loads(json_path.read_text())
    assert data["backend"] == f"c-{isa}", data["backend"]
    return ({n: v[0] for n, v in data["cases"].items()}, {n: v[1] for n, v in data["cases"].items()})


def run_isa(isa: str, json_path: pathlib.Path, extra: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    env = {**os.environ, "FASTINIT_ISA": isa, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE / "test_fill_targets.py"),
           "--bench-targets", f"--benchmark-json={json_path}", *extra]
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    data = json.loads(json_path.read_text())
    assert data["machine_info"]["fastinit"]["backend"] == f"c-{isa}", data["machine_info"]["fastinit"]["backend"]
    wall = {b["extra_info"]["case"]: b["stats"]["min"] for b in data["benchmarks"]}
    cpu = {b["extra_info"]["case"]: b["extra_info"]["cpu_min"] for b in data["benchmarks"]}
    for b in data["benchmarks"]:
        if b["extra_info"]["library"] == "fastinit":
            SHARES[(isa, b["extra_info"]["case"])] = b["extra_info"].get("other_threads_cpu_share")
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isa", action="append", help="instruction-set levels (default: avx2, scalar)")
    ap.add_argument("--json-dir", type=pathlib.Path, help="keep each level's pytest-benchmark JSON here")
    ap.add_argument("-k", help="only the cases matching this pytest -k expression (--interleaved: a "
                    "substring of the case name)")
    ap.add_argument("--interleaved", action="store_true", help="all cases of a level in one process, round robin")
    ap.add_argument("--rounds", type=int, default=7, help="--interleaved: timed rounds per case")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json-out", type=pathlib.Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        names = [n for n in CASES if not args.k or args.k in n]
        try:
            import torch  # noqa: F401
        except ImportError:
            names = [n for n in names if CASES[n][0] != "torch"]
        import fastinit as fi

        best = _interleaved_worker(args.rounds, names)
        args.json_out.write_text(json.dumps({"backend": fi.backend(), "rounds": args.rounds, "cases": best}, indent=1))
        return 0
    isas = args.isa or ["avx2", "scalar"]
    extra = ["-k", args.k] if args.k else []
    json_dir = args.json_dir or pathlib.Path(tempfile.mkdtemp(prefix="fill_targets_"))
    json_dir.mkdir(parents=True, exist_ok=True)
    for isa in isas:
        if args.interleaved:
            wall, cpu = run_isa_interleaved(isa, args.rounds, json_dir / f"{isa}-interleaved.json", args.k)
        else:
            wall, cpu = run_isa(isa, json_dir / f"{isa}.json", extra)
        print(f"\n## FASTINIT_ISA={isa}: GB/s (128 MiB, best round; by wall time and by CPU time)\n")
        print("| case | GB/s wall | GB/s CPU | CPU share of other threads |\n|---|---|---|---|")
        for name in CASES:
            if name in wall:
                share = SHARES.get((isa, name))
                share_text = "" if share is None else f"{share:.2f}"
                print(f"| {name} | {gbps(wall, name):.3f} | {gbps(cpu, name):.3f} | {share_text} |")
        if args.k or not set(CASES) <= set(wall):
            continue
        print(f"\n## FASTINIT_ISA={isa}: targets (met: by the wall-time ratio)\n")
        print("| measure | wall ratio | CPU ratio (2T rows: CPU / wall of the 2T fill) | target | met |")
        print("|---|---|---|---|---|")
        for measure, value, cvalue, target, met in targets(wall, cpu):
            print(f"| {measure} | {value:.2f}x | {cvalue:.2f}x | {target} | {'yes' if met else 'no' if target else ''} |")
    print(f"\n(JSON in {json_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
