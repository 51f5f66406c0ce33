"""One rank of the distributed tests (tests/test_distributed.py starts 1, 2 or 4 of them on
gloo, loopback only) and the models they build.

    python tests/dist_worker.py OUT_DIR CASE [CASE ...]      (RANK, WORLD_SIZE, MASTER_* set)

For every case the rank builds a model on ``meta``, shards it (DTensor placements, FSDP2,
TP + FSDP2), ``to_empty(device="cpu")``, initializes it with fastinit, then gathers
``full_tensor()`` of every parameter: rank 0 saves them to OUT_DIR/CASE.pt. Every rank writes
OUT_DIR/CASE.rank{r}.json with what it measured (peak RSS growth, shard bytes, ...).
The one-process reference builds (``build``) are the same functions without sharding.
"""
from __future__ import annotations

import datetime
import functools
import json
import math
import os
import pathlib
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261201


# ------------------------------------------------------------------------------ models


class Toy(nn.Module):
    """Odd shapes (uneven chunks, an empty shard on 4 ranks), four dtypes, four distributions."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(37, 29)                              # kaiming_uniform_ + uniform_ bias
        self.b = nn.Linear(29, 3, dtype=torch.bfloat16)          # 3 rows: 1, 1, 1, 0 on 4 ranks
        self.e = nn.Embedding(13, 29, dtype=torch.float64)       # normal_
        self.c = nn.Linear(29, 37, bias=False, dtype=torch.float16)


def toy_scheme() -> dict:
    import fastinit.torch as I

    return {"c.weight": lambda t: I.trunc_normal_(t, std=0.02, a=-0.03, b=0.05),
            "a.bias": lambda t: I.normal_(t, 0.5, 0.1)}


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.head_dim = dim // heads
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, dim, bias=False)
        self.wv = nn.Linear(dim, dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        # -1 heads: under tensor parallelism each rank holds heads / tp of them
        q, k, v = (w(x).view(b, s, -1, self.head_dim).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(b, s, -1))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.attention_norm = nn.RMSNorm(dim)
        self.attention = Attention(dim, heads)
        self.ffn_norm = nn.RMSNorm(dim)
        self.w1 = nn.Linear(dim, hidden)
        self.w2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.attention_norm(x))
        return x + self.w2(F.gelu(self.w1(self.ffn_norm(x))))


class Transformer(nn.Module):
    """A small decoder in torchtitan's layout, with its own ``init_weights()``."""

    def __init__(self, vocab: int = 67, dim: int = 24, heads: int = 4, hidden: int = 42, layers: int = 2) -> None:
        super().__init__()
        self.tok_embeddings = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(Block(dim, heads, hidden) for _ in range(layers))
        self.norm = nn.RMSNorm(dim)
        self.output = nn.Linear(dim, vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.tok_embeddings(tokens)
        for layer in self.layers:
            x = layer(x)
        return self.output(self.norm(x))

    def init_weights(self) -> None:
        """torchtitan's pattern: nn.init calls on (possibly DTensor) parameters."""
        nn.init.normal_(self.tok_embeddings.weight)
        for i, layer in enumerate(self.layers):
            std = 0.02 / math.sqrt(2 * (i + 1))
            for lin in (layer.attention.wq, layer.attention.wk, layer.attention.wv, layer.w1):
                nn.init.trunc_normal_(lin.weight, mean=0.0, std=0.02)
            for lin in (layer.attention.wo, layer.w2):
                nn.init.trunc_normal_(lin.weight, mean=0.0, std=std)
            nn.init.zeros_(layer.w1.bias)
            nn.init.zeros_(layer.w2.bias)
            for norm in (layer.attention_norm, layer.ffn_norm):
                nn.init.ones_(norm.weight)
        nn.init.ones_(self.norm.weight)
        nn.init.trunc_normal_(self.output.weight, mean=0.0, std=self.output.in_features ** -0.5, a=-0.6, b=0.6)


class CapturedInitTransformer(Transformer):
    """torchtitan 0.3.0's pattern: ``partial(nn.init.trunc_normal_, ...)`` made when the model
    config is built, before any patch() (torchtitan/models/llama3/__init__.py)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight_init = functools.partial(nn.init.trunc_normal_, std=0.02)
        self.zero_init = nn.init.zeros_

    def init_weights(self) -> None:
        for name, param in self.named_parameters():
            (self.weight_init if param.dim() > 1 else self.zero_init)(param)


def llama_config():
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=56, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)


def build(kind: str) -> nn.Module:
    """The model of a case, on ``meta``."""
    with torch.device("meta"):
        if kind == "toy":
            return Toy()
        if kind == "transformer":
            return Transformer()
        if kind == "captured":
            return CapturedInitTransformer()
        if kind == "llama":
            from transformers import LlamaForCausalLM

            return LlamaForCausalLM(llama_config())
    raise ValueError(kind)


def reference(kind: str, how: str = "init_model") -> dict[str, torch.Tensor]:
    """The one-process build: meta, to_empty(cpu), the same initialization, no sharding."""
    model = build(kind).to_empty(device="cpu")
    _initialize(model, kind, how)
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def reference_forward(tokens: torch.Tensor) -> torch.Tensor:
    model = build("transformer").to_empty(device="cpu")
    _initialize(model, "transformer", "init_model")
    with torch.no_grad():
        return model(tokens)


def tokens() -> torch.Tensor:
    return torch.arange(2 * 9).reshape(2, 9) % 67


def _initialize(model: nn.Module, kind: str, how: str) -> None:
    import fastinit.torch as I

    if how == "patch":  # the model's own init_weights() under patch(), the same torch seed everywhere
        torch.manual_seed(SEED)
        with I.patch():
            model.init_weights()
        return
    # HF Llama needs no scheme: init_model runs transformers' own init_weights(), which sets
    # the RMSNorm weights LlamaRMSNorm's missing reset_parameters() would leave unwritten
    scheme = {"toy": toy_scheme, "transformer": dict, "llama": dict, "captured": dict}[kind]()
    I.init_model(model, SEED, scheme=scheme, progress=False)


# ----------------------------------------------------------------------- the cases


def _one_d(placement: str):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_module, distribute_tensor

    mesh = init_device_mesh("cpu", (int(os.environ["WORLD_SIZE"]),))

    def partition(name, module, device_mesh):
        for pname, param in list(module.named_parameters(recurse=False)):
            if placement == "replicate":
                pl = [Replicate()]
            else:
                dim = 1 if placement == "shard1" and param.dim() > 1 else 0
                pl = [Shard(dim)]
            module.register_parameter(pname, nn.Parameter(distribute_tensor(param, device_mesh, pl)))

    model = build("toy")
    distribute_module(model, mesh, partition)
    return model


def _fsdp(kind: str):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh("cpu", (int(os.environ["WORLD_SIZE"]),))
    model = build(kind)
    layers = model.model.layers if kind == "llama" else model.layers
    for layer in layers:
        fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    return model


def _tp_fsdp():
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

    world = int(os.environ["WORLD_SIZE"])
    mesh = init_device_mesh("cpu", (world // 2, 2), mesh_dim_names=("dp", "tp"))
    model = build("transformer")
    for layer in model.layers:
        parallelize_module(layer, mesh["tp"], {
            "attention.wq": ColwiseParallel(), "attention.wk": ColwiseParallel(),
            "attention.wv": ColwiseParallel(), "attention.wo": RowwiseParallel(),
            "w1": ColwiseParallel(), "w2": RowwiseParallel(),
        })
        fully_shard(layer, mesh=mesh["dp"])
    fully_shard(model, mesh=mesh["dp"])
    return model


CASES = {
    "shard0": ("toy", "init_model", lambda: _one_d("shard0")),
    "shard1": ("toy", "init_model", lambda: _one_d("shard1")),
    "replicate": ("toy", "init_model", lambda: _one_d("replicate")),
    "fsdp": ("transformer", "init_model", lambda: _fsdp("transformer")),
    "fsdp_patch": ("transformer", "patch", lambda: _fsdp("transformer")),
    "captured_patch": ("captured", "patch", lambda: _fsdp("captured")),
    "tp_fsdp": ("transformer", "init_model", _tp_fsdp),
    "llama": ("llama", "init_model", lambda: _fsdp("llama")),
}


# ------------------------------------------------------------------ memory measurement


def _status_kib(field: str) -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> int:
    """Reset the peak RSS (VmHWM) to the current RSS (Linux >= 4.0); return the current RSS, bytes."""
    pathlib.Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS") * 1024


def _peak() -> int:
    return _status_kib("VmHWM") * 1024


RSS_SHAPE = (4096, 4096)  # float32, 64 MiB whole


def rss_case(placement: str) -> dict:
    """Peak RSS growth of one rank while it allocates and fills its shard of a 64 MiB weight,
    and, as a control, while it builds the whole weight and slices its shard (OLMo-core /
    Megatron's CPU way)."""
    import fastinit.torch as I
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_module, distribute_tensor

    world, rank = int(os.environ["WORLD_SIZE"]), int(os.environ["RANK"])
    mesh = init_device_mesh("cpu", (world,))
    dim = {"shard0": 0, "shard1": 1}[placement]
    layer = nn.Linear(RSS_SHAPE[1], RSS_SHAPE[0], bias=False, device="meta")
    distribute_module(layer, mesh, lambda name, module, device_mesh: module.register_parameter(
        "weight", nn.Parameter(distribute_tensor(module.weight, device_mesh, [Shard(dim)]))))
    before = _reset_peak()
    layer.to_empty(device="cpu")
    I.kaiming_uniform_(layer.weight, a=math.sqrt(5))
    sharded_growth = _peak() - before
    local = layer.weight.to_local()
    shard_bytes = local.numel() * local.element_size()
    del layer, local

    before = _reset_peak()
    whole = torch.empty(RSS_SHAPE)
    I.kaiming_uniform_(whole, a=math.sqrt(5))
    mine = whole.chunk(world, dim=dim)[rank].clone()
    del whole
    control_growth = _peak() - before
    del mine
    return {"sharded_growth": sharded_growth, "control_growth": control_growth, "shard_bytes": shard_bytes,
            "whole_bytes": math.prod(RSS_SHAPE) * 4}


# ------------------------------------------------------------------------------- main


def run(out_dir: pathlib.Path, case: str) -> None:
    import torch.distributed as dist

    rank = dist.get_rank()
    stats: dict = {"rank": rank}
    if case.startswith("rss_"):
        stats.update(rss_case(case[4:]))
    else:
        kind, how, make = CASES[case]
        model = make()
        model.to_empty(device="cpu")
        try:
            _initialize(model, kind, how)
        except Exception as exc:  # noqa: BLE001 - reported to the test (raised alike on every rank)
            stats["error"] = f"{type(exc).__name__}: {exc}"
            (out_dir / f"{case}.rank{rank}.json").write_text(json.dumps(stats))
            dist.barrier()
            return
        gathered = {}
        for name, param in model.named_parameters():
            gathered[name] = param.full_tensor() if hasattr(param, "full_tensor") else param.detach()
            local = param.to_local() if hasattr(param, "to_local") else param
            stats.setdefault("placements", {})[name] = str(getattr(param, "placements", "plain"))
            stats.setdefault("local_shapes", {})[name] = list(local.shape)
        if case in ("fsdp", "tp_fsdp"):
            with torch.no_grad():
                gathered["<forward>"] = model(tokens())
        if rank == 0:
            torch.save(gathered, out_dir / f"{case}.pt")
    (out_dir / f"{case}.rank{rank}.json").write_text(json.dumps(stats))
    dist.barrier()


def main() -> None:
    import torch.distributed as dist

    out_dir = pathlib.Path(sys.argv[1])
    torch.set_num_threads(1)
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    try:
        for case in sys.argv[2:]:
            start = time.perf_counter()
            run(out_dir, case)
            print(f"{case}: {time.perf_counter() - start:.2f} s", flush=True)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
