"""Issue 12's speed targets, measured side by side: 128 MiB buffers, one fresh process per
instruction-set level (``FASTINIT_ISA`` set in its environment), each running the
pytest-benchmark cases of ``benchmarks/test_fill_targets.py``; then the ratios of the targets.

    flock /work/coord/bench.lock python benchmarks/fill_targets.py [--isa avx2 --isa scalar] [--json-dir DIR]

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
    ap.add_argument("-k", help="only the cases matching this pytest -k expression")
    args = ap.parse_args(argv)
    isas = args.isa or ["avx2", "scalar"]
    extra = ["-k", args.k] if args.k else []
    json_dir = args.json_dir or pathlib.Path(tempfile.mkdtemp(prefix="fill_targets_"))
    json_dir.mkdir(parents=True, exist_ok=True)
    for isa in isas:
        wall, cpu = run_isa(isa, json_dir / f"{isa}.json", extra)
        print(f"\n## FASTINIT_ISA={isa}: GB/s (128 MiB, best round; by wall time and by CPU time)\n")
        print("| case | GB/s wall | GB/s CPU | CPU share of other threads |\n|---|---|---|---|")
        for name in CASES:
            if name in wall:
                share = SHARES.get((isa, name))
                share_text = "" if share is None else f"{share:.2f}"
                print(f"| {name} | {gbps(wall, name):.3f} | {gbps(cpu, name):.3f} | {share_text} |")
        if args.k:
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
