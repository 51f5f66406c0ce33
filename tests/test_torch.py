"""fastinit.torch: the drop-in for torch.nn.init (signatures, distributions, dtypes, layouts,
autograd, meta tensors, generators, errors), patch(), init_model and shards."""
from __future__ import annotations

import inspect
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (CI installs torch==2.13.0)")
stats = pytest.importorskip("scipy.stats", reason="scipy is needed for the distribution tests")

import fastinit as fi  # noqa: E402
import fastinit.torch as I  # noqa: E402

from conftest import ROOT  # noqa: E402

TORCH_FUNCTIONS = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
                   "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                   "orthogonal_", "sparse_"]
KS_P_MIN = 1e-4


@pytest.mark.parametrize("name", TORCH_FUNCTIONS)
def test_same_signature_as_torch(name):
    ours = inspect.signature(getattr(I, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


RANDOM_CASES = {  # name: call(tensor, generator)
    "uniform_": lambda t, g: I.uniform_(t, -0.3, 0.7, generator=g),
    "normal_": lambda t, g: I.normal_(t, 0.1, 0.02, generator=g),
    "trunc_normal_": lambda t, g: I.trunc_normal_(t, 0.0, 1.0, -1.5, 2.0, generator=g),
    "xavier_uniform_": lambda t, g: I.xavier_uniform_(t, gain=2.0, generator=g),
    "xavier_normal_": lambda t, g: I.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: I.kaiming_uniform_(t, a=math.sqrt(5), generator=g),
    "kaiming_normal_": lambda t, g: I.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g),
}
TORCH_CASES = {
    "uniform_": lambda t, g: torch.nn.init.uniform_(t, -0.3, 0.7, generator=g),
    "normal_": lambda t, g: torch.nn.init.normal_(t, 0.1, 0.02, generator=g),
    "trunc_normal_": lambda t, g: torch.nn.init.trunc_normal_(t, 0.0, 1.0, -1.5, 2.0, generator=g),
    "xavier_uniform_": lambda t, g: torch.nn.init.xavier_uniform_(t, gain=2.0, generator=g),
    "xavier_normal_": lambda t, g: torch.nn.init.xavier_normal_(t, generator=g),
    "kaiming_uniform_": lambda t, g: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5), generator=g),
    "kaiming_normal_": lambda t, g: torch.nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", generator=g),
}


@pytest.mark.parametrize("name", sorted(RANDOM_CASES))
def test_same_distribution_as_torch(name):
    ours = RANDOM_CASES[name](torch.empty(256, 384), torch.Generator().manual_seed(1))
    theirs = TORCH_CASES[name](torch.empty(256, 384), torch.Generator().manual_seed(2))
    assert stats.ks_2samp(ours.numpy().ravel(), theirs.numpy().ravel()).pvalue > KS_P_MIN


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", sorted(RANDOM_CASES))
def test_every_float_dtype_returns_the_same_tensor(name, dtype):
    t = torch.full((64, 48), float("nan"), dtype=dtype)
    assert RANDOM_CASES[name](t, fi.Generator(3)) is t
    assert torch.isfinite(t).all()
    if dtype in (torch.bfloat16, torch.float16):  # the float32 values, rounded
        wide = RANDOM_CASES[name](torch.empty(64, 48), fi.Generator(3))
        assert torch.equal(t, wide.to(dtype))


def test_non_contiguous_tensors_are_filled_in_logical_order():
    t = torch.empty(6, 8).t()
    assert not t.is_contiguous()
    I.normal_(t, generator=fi.Generator(5))
    assert torch.equal(t, I.normal_(torch.empty(8, 6), generator=fi.Generator(5)))
    base = torch.zeros(10, 10)
    I.uniform_(base[::2, 1:4], generator=fi.Generator(6))
    assert torch.equal(base[::2, 1:4], I.uniform_(torch.empty(5, 3), generator=fi.Generator(6)))
    assert torch.count_nonzero(base) == 15


@pytest.mark.parametrize("name", ["uniform_", "orthogonal_", "sparse_"])
def test_fills_work_in_cpu_memory_whatever_the_default_device(name):
    """Tensors off the CPU (and non-contiguous ones) are filled in a CPU buffer, then copied:
    that buffer must be made on the CPU even when torch's default device is another one. No
    accelerator here, so the default device is set to "meta", which fails the same way a GPU
    default would if the buffer followed it."""
    fills = {"uniform_": lambda t: I.uniform_(t, generator=fi.Generator(4)),
             "orthogonal_": lambda t: I.orthogonal_(t, generator=fi.Generator(4)),
             "sparse_": lambda t: I.sparse_(t, 0.3, generator=fi.Generator(4))}
    expected = fills[name](torch.empty(5, 8).t().contiguous().t())  # non-contiguous, default device cpu
    torch.manual_seed(11)
    expected_torch_seeded = I.uniform_(torch.empty(5, 8))
    t = torch.empty(5, 8, device="cpu").t().contiguous().t()
    t2 = torch.empty(5, 8, device="cpu")
    torch.set_default_device("meta")
    try:
        fills[name](t)
        torch.manual_seed(11)
        I.uniform_(t2)  # the seed drawn from torch's default (CPU) generator
    finally:
        torch.set_default_device(None)
    assert t.device.type == "cpu" and torch.equal(t, expected)
    assert torch.equal(t2, expected_torch_seeded)


def test_no_gradient_is_recorded():
    w = torch.empty(5, 5, requires_grad=True)
    out = I.kaiming_uniform_(w)
    assert out is w and w.requires_grad and w.grad_fn is None


def test_meta_tensors_are_a_no_op():
    for name in sorted(RANDOM_CASES):
        t = torch.empty(4, 4, device="meta")
        assert RANDOM_CASES[name](t, None) is t
    assert I.zeros_(torch.empty(3, device="meta")).device.type == "meta"


def test_torch_manual_seed_makes_calls_reproducible():
    torch.manual_seed(7)
    a = [I.normal_(torch.empty(100)), I.xavier_uniform_(torch.empty(10, 10))]
    torch.manual_seed(7)
    b = [I.normal_(torch.empty(100)), I.xavier_uniform_(torch.empty(10, 10))]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a[0], I.normal_(torch.empty(100)))
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(I.uniform_(torch.empty(50), generator=g1), I.uniform_(torch.empty(50), generator=g2))


def _torch_seed():
    """The seed fastinit.torch draws from torch's default generator for one call."""
    return int(torch.empty(1, dtype=torch.int64).random_())


def test_each_call_draws_one_seed_from_torchs_generator():
    torch.manual_seed(3)  # a seed where random_() and randint(0, 2**63 - 1) differ
    seed = _torch_seed()
    torch.manual_seed(3)
    w = I.kaiming_uniform_(torch.empty(32, 16), a=math.sqrt(5))
    assert np.array_equal(w.numpy(), fi.kaiming_uniform((32, 16), a=math.sqrt(5), seed=seed))


def test_errors_match_torch():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        I.xavier_uniform_(torch.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        I.kaiming_uniform_(torch.empty(3, 3), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        I.kaiming_normal_(torch.empty(3, 3), nonlinearity="swish")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        I.sparse_(torch.empty(3, 3, 3), 0.5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        I.orthogonal_(torch.empty(3))
    with pytest.raises(TypeError, match="float32"):
        I.normal_(torch.empty(3, dtype=torch.int32))
    with pytest.raises(TypeError, match="generator"):
        I.normal_(torch.empty(3), generator=np.random.default_rng())
    with pytest.warns(UserWarning, match="zero-element"):
        I.kaiming_uniform_(torch.empty(0, 3))


def test_eye_dirac_constants_are_torchs():
    assert torch.equal(I.eye_(torch.empty(3, 5)), torch.eye(3, 5))
    assert torch.equal(I.dirac_(torch.empty(4, 2, 3), groups=2), torch.nn.init.dirac_(torch.empty(4, 2, 3), groups=2))
    assert torch.equal(I.constant_(torch.empty(2, 2), 0.25), torch.full((2, 2), 0.25))
    assert torch.equal(I.ones_(torch.empty(3)), torch.ones(3)) and torch.equal(I.zeros_(torch.empty(3)), torch.zeros(3))


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (8, 4, 3, 3)])
def test_orthogonal_is_orthogonal(shape):
    w = I.orthogonal_(torch.empty(shape), gain=2.0, generator=fi.Generator(1)).reshape(shape[0], -1).double()
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    assert torch.allclose(gram, 4.0 * torch.eye(min(rows, cols), dtype=torch.float64), atol=1e-5)


def test_sparse_zeroes_a_fixed_count_per_column():
    w = I.sparse_(torch.empty(200, 40), sparsity=0.3, std=0.5, generator=fi.Generator(2))
    assert ((w == 0).sum(dim=0) == math.ceil(0.3 * 200)).all()
    nonzero = w[w != 0].numpy()
    assert abs(nonzero.std() / 0.5 - 1) < 6 * math.sqrt(2 / nonzero.size)


# ---- patch ----------------------------------------------------------------------------


# patch() no longer rebinds torch.nn.init's names (a TorchFunctionMode intercepts the calls,
# tests/test_torch_intercept.py): these tests check routing by the values written.

def _routed(fill):
    """Whether ``fill(tensor)`` wrote fastinit's values (the seed drawn from torch's generator)."""
    torch.manual_seed(21)
    seed = _torch_seed()
    torch.manual_seed(21)
    t = fill(torch.empty(40, 30))
    return np.array_equal(t.numpy(), fi.normal((40, 30), 0.0, 0.5, seed=seed))


def test_patch_routes_and_restores_even_after_an_exception():
    original = torch.nn.init.normal_
    with pytest.raises(RuntimeError):
        with I.patch():
            assert _routed(lambda t: torch.nn.init.normal_(t, 0.0, 0.5))
            with I.patch():  # nesting
                assert _routed(lambda t: torch.nn.init.normal_(t, 0.0, 0.5))
            assert _routed(lambda t: torch.nn.init.normal_(t, 0.0, 0.5))
            raise RuntimeError("boom")
    assert not _routed(lambda t: torch.nn.init.normal_(t, 0.0, 0.5))
    assert torch.nn.init.normal_ is original
    assert torch.nn.modules.activation.xavier_uniform_ is I._ORIGINAL["xavier_uniform_"]


def test_install_and_uninstall():
    I.install()
    try:
        assert _routed(lambda t: torch.nn.init.normal_(t, 0.0, 0.5))
    finally:
        I.uninstall()
    assert not _routed(lambda t: torch.nn.init.normal_(t, 0.0, 0.5))
    assert torch.nn.init.normal_ is I._ORIGINAL["normal_"]


def test_patched_linear_uses_fastinit():
    torch.manual_seed(3)
    seed = _torch_seed()
    torch.manual_seed(3)
    with I.patch():
        layer = torch.nn.Linear(64, 32)
    expect = fi.kaiming_uniform((32, 64), a=math.sqrt(5), seed=seed)
    assert np.array_equal(layer.weight.detach().numpy(), expect)


MODULES = {
    "Linear": lambda: torch.nn.Linear(384, 256),
    "Conv1d": lambda: torch.nn.Conv1d(32, 64, 5),
    "Conv2d": lambda: torch.nn.Conv2d(16, 64, 3),
    "Conv3d": lambda: torch.nn.Conv3d(8, 32, 3),
    "Embedding": lambda: torch.nn.Embedding(1000, 64),
    "LayerNorm": lambda: torch.nn.LayerNorm(64),
    "MultiheadAttention": lambda: torch.nn.MultiheadAttention(64, 4),
    "TransformerEncoderLayer": lambda: torch.nn.TransformerEncoderLayer(64, 4, 128),
    "Transformer": lambda: torch.nn.Transformer(32, 4, 1, 1, 64, batch_first=True),
    "LSTM": lambda: torch.nn.LSTM(32, 64),
    "GRU": lambda: torch.nn.GRU(32, 64),
    "RNN": lambda: torch.nn.RNN(32, 64),
}


def _forward(name, module):
    if name.startswith("Conv"):
        dims = int(name[-2])
        channels = module.in_channels
        return module(torch.randn(2, channels, *([8] * dims)))
    if name == "Embedding":
        return module(torch.randint(0, 1000, (4, 7)))
    if name == "MultiheadAttention":
        x = torch.randn(5, 2, 64)
        return module(x, x, x)[0]
    if name == "Transformer":
        return module(torch.randn(2, 5, 32), torch.randn(2, 4, 32))
    if name in ("LSTM", "GRU", "RNN"):
        return module(torch.randn(5, 2, 32))[0]
    return module(torch.randn(4, module.in_features if hasattr(module, "in_features") else 64))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_construct_under_patch_with_torchs_distribution_and_train(name):
    torch.manual_seed(0)
    reference = MODULES[name]()
    torch.manual_seed(1)
    with I.patch():
        module = MODULES[name]()
    for (pname, ours), (_, theirs) in zip(module.named_parameters(), reference.named_parameters()):
        a, b = ours.detach().numpy().ravel(), theirs.detach().numpy().ravel()
        if np.all(b == b[0]):  # constants (LayerNorm weight, zero biases): equal
            assert np.array_equal(a, b), pname
        else:
            assert not np.array_equal(a, b), pname  # fastinit's values, not torch's
            assert stats.ks_2samp(a, b).pvalue > KS_P_MIN, pname
    optimizer = torch.optim.SGD(module.parameters(), lr=0.01)
    loss = _forward(name, module).float().pow(2).mean()
    loss.backward()
    before = [p.detach().clone() for p in module.parameters()]
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, module.parameters()))


# ---- init_model -----------------------------------------------------------------------


class Block(torch.nn.Module):
    def __init__(self, order: str = "ab"):
        super().__init__()
        if order == "ab":
            self.a = torch.nn.Linear(16, 32)
            self.b = torch.nn.Linear(32, 8)
        else:
            self.b = torch.nn.Linear(32, 8)
            self.a = torch.nn.Linear(16, 32)
        self.norm = torch.nn.LayerNorm(8)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_init_model_is_independent_of_construction_order_and_device():
    m1, m2 = Block("ab"), Block("ba")
    I.init_model(m1, seed=42)
    I.init_model(m2, seed=42)
    with torch.device("meta"):
        m3 = Block("ab")
    m3 = m3.to_empty(device="cpu")
    I.init_model(m3, seed=42)
    s1, s2, s3 = _state(m1), _state(m2), _state(m3)
    assert all(torch.equal(s1[k], s2[k]) and torch.equal(s1[k], s3[k]) for k in s1)
    I.init_model(m2, seed=43)
    assert not torch.equal(s1["a.weight"], m2.a.weight)


def test_init_model_uses_name_derived_streams():
    m = Block()
    I.init_model(m, seed=5)
    expect = fi.kaiming_uniform((32, 16), a=math.sqrt(5), seed=5, stream=I.stream_for_name("a.weight", 0))
    assert np.array_equal(m.a.weight.detach().numpy(), expect)


def test_init_model_is_the_same_in_another_process():
    code = ("import torch, fastinit.torch as I\n"
            "class M(torch.nn.Module):\n"
            "    def __init__(s):\n"
            "        super().__init__(); s.a = torch.nn.Linear(16, 32)\n"
            "m = M(); I.init_model(m, seed=9); print(float(m.a.weight.detach().sum()), float(m.a.bias.detach().sum()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    m = Block()
    I.init_model(m, seed=9)
    assert out.stdout.split() == [str(float(m.a.weight.detach().sum())), str(float(m.a.bias.detach().sum()))]


def test_init_model_scheme_and_unwritten_error():
    m = Block()
    I.init_model(m, seed=1, scheme={"*.bias": I.zeros_, "b.weight": lambda t: I.normal_(t, 0.0, 0.02)})
    assert torch.count_nonzero(m.a.bias) == 0 and torch.count_nonzero(m.b.bias) == 0
    assert abs(float(m.b.weight.detach().std()) - 0.02) < 0.01

    class Custom(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(3, 3))
            self.lin = torch.nn.Linear(3, 3)

    c = Custom()
    with pytest.raises(RuntimeError, match=r"1 parameter\(s\)/buffer\(s\).*: w\. "):
        I.init_model(c, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        I.init_model(c, seed=1, scheme={Custom: lambda mod: I.normal_(mod.w)})
    assert torch.count_nonzero(c.w) == 9


def test_init_model_leaves_torch_init_unpatched():
    I.init_model(Block(), seed=1)
    assert torch.nn.init.kaiming_uniform_ is I._ORIGINAL["kaiming_uniform_"]


# ---- shards -----------------------------------------------------------------------------

SHARD_INITS = [("kaiming_uniform_", (), {"a": math.sqrt(5)}), ("normal_", (0.0, 0.02), {}),
               ("trunc_normal_", (0.0, 0.02, -0.04, 0.04), {}), ("xavier_normal_", (), {})]


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("init,args,kwargs", SHARD_INITS, ids=[s[0] for s in SHARD_INITS])
def test_row_and_column_shards_equal_the_whole(init, args, kwargs, dtype):
    shape = (24, 18)
    whole = I.shard_(torch.empty(shape, dtype=dtype), init, shape, (), *args, seed=3, stream=4, **kwargs)
    for ranks in (1, 2, 4, 8):
        rows = shape[0] // ranks
        parts = [I.shard_(torch.empty(rows, shape[1], dtype=dtype), init, shape, (slice(r * rows, (r + 1) * rows),),
                          *args, seed=3, stream=4, **kwargs) for r in range(ranks)]
        assert torch.equal(torch.cat(parts, 0), whole)
    for cut in ((0, 5), (5, 11), (11, 18)):
        col = I.shard_(torch.empty(shape[0], cut[1] - cut[0], dtype=dtype), init, shape,
                       (slice(None), slice(*cut)), *args, seed=3, stream=4, **kwargs)
        assert torch.equal(col, whole[:, cut[0]:cut[1]])


def test_whole_shard_equals_the_drop_in_with_the_same_stream():
    whole = I.shard_(torch.empty(16, 8), "kaiming_uniform_", (16, 8), (), seed=2)
    assert torch.equal(whole, I.kaiming_uniform_(torch.empty(16, 8), generator=fi.Generator(2)))
    conv = I.shard_(torch.empty(4, 3, 3, 3), "kaiming_normal_", (4, 6, 3, 3), (slice(None), slice(3, 6)), seed=2)
    full = I.kaiming_normal_(torch.empty(4, 6, 3, 3), generator=fi.Generator(2))
    assert torch.equal(conv, full[:, 3:6])


def test_shard_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="does not match"):
        I.shard_(torch.empty(3, 3), "normal_", (8, 8), (slice(0, 4),), seed=0)
    with pytest.raises(ValueError, match="init="):
        I.shard_(torch.empty(3, 3), "bogus_", (3, 3), (), seed=0)


def test_importing_fastinit_alone_does_not_import_torch():
    out = subprocess.run([sys.executable, "-c", "import sys, fastinit; print('torch' in sys.modules)"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_init_model_shows_a_progress_bar_for_large_models(monkeypatch):
    import types

    updates: list[int] = []

    class FakeBar:
        def __init__(self, total, desc, unit):
            self.total = total

        def update(self, n):
            updates.append(n)

        def close(self):
            updates.append(-1)

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    big = torch.nn.Sequential(torch.nn.Linear(4096, 2560), torch.nn.Linear(2560, 16))  # > 10M parameters
    I.init_model(big, seed=1)
    assert updates.count(1) == 3 and updates[-1] == -1  # one tick per module, then closed
    updates.clear()
    I.init_model(big, seed=1, progress=False)
    I.init_model(Block(), seed=1)  # small model: no bar
    assert updates == []


def test_model_benchmark_runs_each_case_in_a_fresh_process_and_reports_it():
    """benchmarks/model_init.py's child protocol (used by the script and the pytest-benchmark
    suite), on a tiny model: every case starts, runs and reports its own parameter count."""
    bench_dir = ROOT / "benchmarks"
    if not (bench_dir / "model_init.py").exists():
        pytest.skip("needs the source tree's benchmarks/ (tests run from an installed copy)")
    sys.path.insert(0, str(bench_dir))
    try:
        import model_init
    finally:
        sys.path.remove(str(bench_dir))
    s = model_init.SHAPES["tiny"]
    layer = 2 * s["dim"] * s["dim"] + 2 * s["kv"] * s["dim"] + 3 * s["dim"] * s["hidden"] + 2 * s["dim"]
    params = 2 * s["vocab"] * s["dim"] + s["layers"] * layer + s["dim"]
    for case in ("patched", "reset-fast"):
        result = model_init.run_case(case, "tiny", 1)
        assert result["case"] == case and result["params"] == params and result["seconds"] > 0
