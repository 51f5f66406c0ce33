"""Sharded initialization of a ~1B-parameter transformer on 1, 2 and 4 gloo ranks (local
processes, loopback): seconds and peak RSS per rank, fastinit filling each rank's FSDP2 shard
against every rank building the whole model and slicing its shard (OLMo-core's and
Megatron's CPU way).

    python benchmarks/test_distributed.py --world 1 2 4          # the table of docs/distributed.md
    python -m pytest benchmarks/test_distributed.py              # the same cases, small model

Cases (the model: tests/dist_worker.py's Transformer, vocab 32000, dim 2048, 22 layers, MLP
5632, bfloat16 parameters, 1.008 B parameters):

- ``sharded``: build on ``meta``, ``fully_shard`` every block and the root (FSDP2, 1-D mesh),
  ``to_empty(device="cpu")``, ``fastinit.torch.init_model(model, seed)``: each rank fills its
  shard only.
- ``slice``: build on ``meta``, ``to_empty(device="cpu")``, ``init_model`` of the whole model
  (the same fastinit fills: only the strategy differs), then ``fully_shard``, which keeps
  each rank's chunk and frees the rest.

Each rank reports the seconds from ``to_empty`` to the end of the initialization (the
``slice`` case includes the sharding), and its peak RSS growth over that span (VmHWM reset
through /proc/self/clear_refs). Per rank, torch and fastinit use 2 // world threads (at least
1): on this 2-core machine 4 ranks run 2 processes per core.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

CONFIGS = {  # name -> Transformer kwargs
    "1b": dict(vocab=32000, dim=2048, heads=16, hidden=5632, layers=22),
    "small": dict(vocab=4096, dim=256, heads=4, hidden=704, layers=4),
}
CASES = ("sharded", "slice")


# ------------------------------------------------------------------------------ one rank


def _worker(case: str, config: str, out: pathlib.Path) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    import dist_worker
    import fastinit
    import fastinit.torch as I

    world, rank = int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
    threads = max(1, 2 // world)
    torch.set_num_threads(threads)
    fastinit.set_num_threads(threads)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=600))
    try:
        mesh = init_device_mesh("cpu", (world,))
        with torch.device("meta"):
            model = dist_worker.Transformer(**CONFIGS[config]).to(torch.bfloat16)
        params = sum(p.numel() for p in model.parameters())

        def shard() -> None:
            for layer in model.layers:
                fully_shard(layer, mesh=mesh)
            fully_shard(model, mesh=mesh)

        if case == "sharded":
            shard()
        dist.barrier()
        before = dist_worker._reset_peak()
        start = time.perf_counter()
        model.to_empty(device="cpu")
        I.init_model(model, 1234, progress=False)
        if case == "slice":
            shard()
        seconds = time.perf_counter() - start
        peak = dist_worker._peak() - before
        local = sum(p.to_local().numel() * p.element_size() for p in model.parameters())
        dist.barrier()
        out.write_text(json.dumps({"case": case, "world": world, "rank": rank, "seconds": seconds,
                                   "peak_growth": peak, "local_bytes": local, "params": params,
                                   "threads": threads}))
    finally:
        dist.destroy_process_group()


# ------------------------------------------------------------------------------ launcher


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(case: str, world: int, config: str, timeout: float = 900.0) -> list[dict]:
    """Run one case on ``world`` local gloo ranks; every rank's report."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = pathlib.Path(tmp)
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE=str(world),
                   GLOO_SOCKET_IFNAME="lo", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        procs = []
        try:
            for rank in range(world):
                procs.append(subprocess.Popen(
                    [sys.executable, __file__, "--rank-worker", case, config, str(tmp_path / f"{rank}.json")],
                    env=dict(env, RANK=str(rank), LOCAL_RANK=str(rank),
                             OMP_NUM_THREADS=str(max(1, 2 // world)))))
            deadline = time.monotonic() + timeout
            for proc in procs:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if any(proc.returncode for proc in procs):
            raise RuntimeError(f"{case} on {world} ranks failed: return codes {[p.returncode for p in procs]}")
        return [json.loads((tmp_path / f"{rank}.json").read_text()) for rank in range(world)]


def table(results: list[list[dict]]) -> str:
    lines = ["| ranks | case | seconds (slowest rank) | peak RSS growth per rank (GiB) | shard per rank (GiB) |",
             "|---|---|---|---|---|"]
    for reports in results:
        r0 = reports[0]
        peaks = ", ".join(f"{r['peak_growth'] / 2**30:.2f}" for r in reports)
        lines.append(f"| {r0['world']} | {r0['case']} | {max(r['seconds'] for r in reports):.2f} | {peaks} | "
                     f"{r0['local_bytes'] / 2**30:.2f} |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--rank-worker":
        _worker(sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="1b")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--json", type=pathlib.Path, help="also write every rank's report here")
    args = parser.parse_args()
    results = []
    for world in args.world:
        for case in args.cases:
            reports = launch(case, world, args.config)
            results.append(reports)
            print(table([reports]).splitlines()[-1], flush=True)
    print(f"\n{results[0][0]['params'] / 1e9:.3f} B parameters, bfloat16; "
          f"{os.cpu_count()} CPUs; threads per rank: 2 // ranks (at least 1)\n")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


# --------------------------------------------------------------------- pytest-benchmark


def test_distributed_init(benchmark) -> None:
    """Both cases on 2 ranks with the small config (speed is reported, never asserted)."""
    import pytest

    pytest.importorskip("torch")
    benchmark.group = "distributed init (small, 2 ranks)"
    reports = {"slice": launch("slice", 2, "small")}
    reports["sharded"] = benchmark.pedantic(lambda: launch("sharded", 2, "small"), rounds=1, iterations=1)
    # both strategies end with the same shards; the per-rank seconds and RSS go to the JSON
    assert [r["local_bytes"] for r in reports["sharded"]] == [r["local_bytes"] for r in reports["slice"]]
    benchmark.extra_info.update(reports)


if __name__ == "__main__":
    main()
