"""init_model's rules on small torch-only models (the real libraries: test_models_libraries.py):
the model's own init first, resets only where a tensor is still unwritten, ties, the error that
names what nothing wrote, and name streams for ``param.data`` aliases."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fastinit as fi
import fastinit.torch as fit


class WithBuffer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 4)
        self.register_buffer("table", torch.arange(6, dtype=torch.float32), persistent=False)


class WithOwnInit(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(8, 8)
        self.norm = torch.nn.LayerNorm(8)
        self.register_buffer("table", torch.arange(6, dtype=torch.float32))
        self.calls = 0

    def init_weights(self) -> None:
        self.calls += 1
        fit.normal_(self.lin.weight, 0.0, 0.5)
        self.table = torch.arange(6, dtype=torch.float32) * 2  # replaced, as rope caches are


def _meta(cls: type) -> torch.nn.Module:
    with torch.device("meta"):
        model = cls()
    return model.to_empty(device="cpu")


def test_a_buffer_nothing_restores_is_an_error_that_names_it():
    with pytest.raises(RuntimeError, match=r"1 parameter\(s\)/buffer\(s\).*: table\. "):
        fit.init_model(_meta(WithBuffer), seed=1)
    model = fit.init_model(_meta(WithBuffer), seed=1,
                           scheme={"table": lambda t: t.copy_(torch.arange(6, dtype=torch.float32))})
    assert torch.equal(model.table, torch.arange(6, dtype=torch.float32))


def test_the_models_own_init_weights_runs_and_resets_fill_only_the_rest():
    model = fit.init_model(_meta(WithOwnInit), seed=3)
    assert model.calls == 1
    expect = fi.normal((8, 8), 0.0, 0.5, seed=3, stream=fit.stream_for_name("lin.weight", 0))
    assert np.array_equal(model.lin.weight.detach().numpy(), expect)  # not overwritten by Linear's reset
    assert torch.equal(model.table, torch.arange(6, dtype=torch.float32) * 2)
    assert bool((model.norm.weight == 1).all()) and bool((model.lin.bias.abs() <= 8 ** -0.5).all())
    reset = fit.init_model(_meta(WithOwnInit), seed=3, init="reset", scheme={"table": torch.nn.init.zeros_})
    assert reset.calls == 0 and not np.array_equal(reset.lin.weight.detach().numpy(), expect)


def test_an_init_callable_replaces_the_library_entry_point():
    seen = []
    model = fit.init_model(_meta(WithOwnInit), seed=3, init=lambda m: seen.append(m) or fit.zeros_(m.table))
    assert seen == [model] and model.calls == 0 and int(torch.count_nonzero(model.table)) == 0
    with pytest.raises(TypeError, match="init must be"):
        fit.init_model(WithOwnInit(), init=5)  # type: ignore[arg-type]


def test_fills_through_param_data_draw_from_the_parameters_name_stream():
    model = torch.nn.Linear(16, 4)
    fit.init_model(model, seed=11, init=lambda m: fit.normal_(m.weight.data, 0.0, 1.0))
    expect = fi.normal((4, 16), 0.0, 1.0, seed=11, stream=fit.stream_for_name("weight", 0))
    assert np.array_equal(model.weight.detach().numpy(), expect)


class Tied(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)
        self.head = torch.nn.Linear(4, 10, bias=False)
        self.emb.weight = self.head.weight


def test_ties_are_restored_after_to_empty():
    untied = _meta(Tied)
    assert untied.emb.weight is not untied.head.weight  # what to_empty does to ties
    model = fit.init_model(untied, seed=1, ties={"emb.weight": "head.weight"})
    assert model.emb.weight is model.head.weight and len(list(model.parameters())) == 1
    for bad in ({"emb.nothing": "head.weight"}, {"emb.weight": "head.nothing"}):
        with pytest.raises(ValueError, match="ties"):
            fit.init_model(_meta(Tied), seed=1, ties=bad)


class _FusedQKV(torch.nn.Module):
    """torchtitan's fused wqkv: one weight, initialized slice by slice (q, k, v rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.wqkv = torch.nn.Parameter(torch.empty(3 * 16, 8))

    def init_weights(self) -> None:
        with torch.no_grad():
            for part, std in zip(self.wqkv.chunk(3), (0.02, 0.04, 0.06)):
                torch.nn.init.trunc_normal_(part, std=std)


class _FusedQKVFromTemporaries(_FusedQKV):
    """torchtitan 0.3.0's way: fill three new tensors, concatenate, copy into the weight."""

    def init_weights(self) -> None:
        parts = [self.wqkv.new_empty(16, 8) for _ in range(3)]
        for part, std in zip(parts, (0.02, 0.04, 0.06)):
            torch.nn.init.trunc_normal_(part, std=std)
        with torch.no_grad():
            self.wqkv.copy_(torch.cat(parts))


@pytest.mark.parametrize("module", [_FusedQKV, _FusedQKVFromTemporaries])
def test_slices_and_temporaries_draw_from_seeded_streams_not_torchs_seed(module):
    built = []
    for torch_seed in (1, 2):
        torch.manual_seed(torch_seed)
        model = module()
        fit.init_model(model, seed=5, progress=False)
        built.append(model.wqkv.detach().clone())
    assert torch.equal(built[0], built[1])
    # each slice has its own stream: the three slices are not scaled copies of one draw
    q, k, v = built[0].chunk(3)
    assert not torch.allclose(q / 0.02, k / 0.04)
    assert 0.01 < float(q.std()) < 0.03 and 0.04 < float(v.std()) < 0.08
