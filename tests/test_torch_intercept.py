"""fastinit.torch.patch() as a TorchFunctionMode: every route to a random fill (torch.nn.init
functions captured before the patch, Tensor methods, .data, factories), what falls through
to torch, nesting / exceptions / threads, deferred (pending) fills, library idioms fused into
one fastinit fill, and that nothing of patch() outlives its block."""
from __future__ import annotations

import functools
import importlib.util
import math
import pathlib
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (CI installs torch==2.13.0)")
stats = pytest.importorskip("scipy.stats", reason="scipy is needed for the distribution tests")

import fastinit as fi  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402
import fastinit.torch as I  # noqa: E402
from fastinit import _call  # noqa: E402
from fastinit.torch import _functions, _intercept, _streams  # noqa: E402

from conftest import HERE, ROOT  # noqa: E402

KS_P_MIN = 1e-4
# captured at import, before any patch (torchtitan / Megatron style)
NORMAL_002 = functools.partial(torch.nn.init.normal_, mean=0.0, std=0.02)
TRUNC_002 = functools.partial(torch.nn.init.trunc_normal_, std=0.02, a=-0.04, b=0.04)
KAIMING = torch.nn.init.kaiming_uniform_


def _seed_after(torch_seed):
    """The seed fastinit draws for the first fill after torch.manual_seed(torch_seed)."""
    torch.manual_seed(torch_seed)
    seed = int(torch.empty(1, dtype=torch.int64).random_())
    torch.manual_seed(torch_seed)
    return seed


class RngSpy(TorchDispatchMode):
    """Records every aten op that draws from torch's RNG (or is part of torch's erfinv
    idiom), at every depth of the call, fastinit's own seed draws excepted."""

    RNG = {"normal_", "uniform_", "random_", "bernoulli_", "exponential_", "cauchy_", "log_normal_", "geometric_",
           "erfinv_", "normal", "randn", "rand", "randint", "randperm", "bernoulli", "multinomial"}

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in self.RNG and not (args and isinstance(args[0], torch.Tensor)
                                     and args[0].data_ptr() == _streams._seeds.tensor.data_ptr()):
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


def test_the_spy_sees_torchs_random_calls():
    spy = RngSpy()
    with spy:
        torch.nn.init.trunc_normal_(torch.empty(10))
        torch.randn(3)
    assert "normal_" in spy.seen and len(spy.seen) >= 2


# ---- routes ------------------------------------------------------------------------------


def test_function_objects_captured_before_the_patch_route_to_fastinit():
    seed = _seed_after(1)
    with I.patch():
        w = NORMAL_002(torch.empty(64, 32))
    assert np.array_equal(w.numpy(), fi.normal((64, 32), 0.0, 0.02, seed=seed))
    seed = _seed_after(2)
    with I.patch():
        w = TRUNC_002(torch.empty(64, 32))  # torch's trunc_normal_ does not dispatch: trampoline
    assert np.array_equal(w.numpy(), fi.trunc_normal((64, 32), 0.0, 0.02, -0.04, 0.04, seed=seed))
    seed = _seed_after(3)
    with I.patch():
        w = KAIMING(torch.empty(48, 40), a=math.sqrt(5))
    assert np.array_equal(w.numpy(), fi.kaiming_uniform((48, 40), a=math.sqrt(5), seed=seed))


def test_tensor_methods_and_data_route_to_fastinit():
    p = torch.nn.Parameter(torch.empty(50, 20))
    seed = _seed_after(4)
    with I.patch():
        p.data.normal_(mean=0.0, std=0.02)  # transformers 4.x style
    assert np.array_equal(p.detach().numpy(), fi.normal((50, 20), 0.0, 0.02, seed=seed))
    seed = _seed_after(5)
    with I.patch():
        with torch.no_grad():
            p.uniform_(-0.5, 0.25)
    assert np.array_equal(p.detach().numpy(), fi.uniform((50, 20), -0.5, 0.25, seed=seed))


@pytest.mark.parametrize("make,expect", [
    (lambda: torch.randn(30, 7), lambda s: fi.normal((30, 7), seed=s)),
    (lambda: torch.rand((30, 7)), lambda s: fi.uniform((30, 7), seed=s)),
    (lambda: torch.randn_like(torch.zeros(30, 7)), lambda s: fi.normal((30, 7), seed=s)),
    (lambda: torch.rand_like(torch.zeros(30, 7), dtype=torch.float64), lambda s: fi.uniform((30, 7), dtype="float64", seed=s)),
    (lambda: torch.normal(1.0, 2.0, size=(30, 7)), lambda s: fi.normal((30, 7), 1.0, 2.0, seed=s)),
    (lambda: torch.empty(30, 7).normal_(), lambda s: fi.normal((30, 7), seed=s)),
], ids=["randn", "rand", "randn_like", "rand_like-f64", "normal", "empty-normal_"])
def test_factories_route_to_fastinit(make, expect):
    seed = _seed_after(6)
    with I.patch():
        t = make()
    assert np.array_equal(t.numpy(), expect(seed))


def test_parameter_from_a_factory_keeps_requires_grad_and_trains():
    with I.patch():
        p = torch.nn.Parameter(torch.randn(100) * 0.02)
        q = torch.randn(5, requires_grad=True)
    assert p.requires_grad and q.requires_grad and q.is_leaf
    (p.sum() + q.sum()).backward()
    assert torch.equal(q.grad, torch.ones(5))


def test_non_contiguous_views_are_filled_in_logical_order():
    base = torch.zeros(8, 6)
    view = base.t()
    seed = _seed_after(7)
    with I.patch():
        torch.nn.init.normal_(view, 0.0, 1.0)
    assert np.array_equal(view.numpy(), fi.normal((6, 8), seed=seed))
    base = torch.zeros(10, 10)
    seed = _seed_after(8)
    with I.patch():
        base[::2, 1:4].uniform_()
    assert np.array_equal(base[::2, 1:4].numpy(), fi.uniform((5, 3), seed=seed))
    assert int(torch.count_nonzero(base)) == 15


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_16_bit_tensors_get_the_float32_values_rounded(dtype):
    seed = _seed_after(9)
    with I.patch():
        t = torch.empty(40, 30, dtype=dtype).normal_(0.0, 0.5)
    wide = torch.from_numpy(fi.normal((40, 30), 0.0, 0.5, seed=seed))
    assert torch.equal(t, wide.to(dtype))


# ---- fall-through: exactly torch --------------------------------------------------------------


def _outcome(call):
    """(values, None) or (None, (exception type, message)) of call(), after torch.manual_seed(0)."""
    torch.manual_seed(0)
    try:
        return call(), None
    except Exception as exc:  # noqa: BLE001 - the comparison is the point
        return None, (type(exc), str(exc))


FALL_THROUGH = {
    "generator": lambda: torch.nn.init.normal_(torch.empty(20), generator=torch.Generator().manual_seed(1)),
    "method-generator": lambda: torch.empty(20).uniform_(generator=torch.Generator().manual_seed(1)),
    "randn-generator": lambda: torch.randn(20, generator=torch.Generator().manual_seed(1)),
    "int-dtype-method": lambda: torch.empty(5, dtype=torch.int64).normal_(),
    "int-dtype-factory": lambda: torch.randn(5, dtype=torch.int64),
    "randint": lambda: torch.randint(0, 9, (20,), generator=torch.Generator().manual_seed(1)),
    "out": lambda: torch.randn(3, out=torch.empty(2)),
    "leaf-requires-grad": lambda: torch.nn.Parameter(torch.zeros(4)).normal_(),
    "bad-range": lambda: torch.empty(5).uniform_(1.0, 0.0),
    "bad-std": lambda: torch.empty(5).normal_(0.0, -1.0),
    "nn-init-bad-mode": lambda: torch.nn.init.kaiming_uniform_(torch.empty(3, 3), mode="fan_avg"),
    "nn-init-1d": lambda: torch.nn.init.kaiming_uniform_(torch.empty(3)),
    "bernoulli": lambda: torch.empty(20).bernoulli_(0.5, generator=torch.Generator().manual_seed(1)),
    "trunc-generator": lambda: torch.nn.init.trunc_normal_(torch.empty(20), generator=torch.Generator().manual_seed(1)),
}


@pytest.mark.parametrize("name", sorted(FALL_THROUGH))
def test_what_fastinit_cannot_serve_behaves_exactly_like_torch(name):
    theirs, their_error = _outcome(FALL_THROUGH[name])
    with I.patch():
        ours, our_error = _outcome(FALL_THROUGH[name])
    assert our_error == their_error
    if their_error is None:
        assert torch.equal(ours, theirs)


def test_meta_tensors_fall_through():
    with I.patch(), torch.device("meta"):
        layer = torch.nn.Linear(8, 4)
        t = torch.randn(3)
    assert layer.weight.is_meta and t.is_meta


# ---- nesting, exceptions, pending fills -------------------------------------------------------


def test_fills_are_pending_until_read_then_written_once():
    seed = _seed_after(10)
    with I.patch():
        w = torch.nn.init.normal_(torch.empty(100), 0.0, 3.0)
        assert len(_intercept._state.pending) == 1  # recorded, not written
        total = float(w.sum())  # a read writes it first
        assert not _intercept._state.pending
    expect = fi.normal(100, 0.0, 3.0, seed=seed)
    assert np.array_equal(w.numpy(), expect)
    assert total == float(torch.from_numpy(expect).sum())


def _count_writes(monkeypatch):
    """Record (distribution code, address) of every write of the fastinit core's raw entry."""
    writes = []
    original = _call.fill_raw

    def counting(address, count, dtype, seed, stream, offset, resolved):
        writes.append((resolved[0], address))
        return original(address, count, dtype, seed, stream, offset, resolved)

    monkeypatch.setattr(_call, "fill_raw", counting)
    return writes


def test_a_later_full_overwrite_replaces_the_pending_fill(monkeypatch):
    seed = _seed_after(11)
    writes = _count_writes(monkeypatch)
    with I.patch():
        layer = torch.nn.Linear(30, 20)           # kaiming_uniform_ + uniform_ (pending)
        torch.nn.init.normal_(layer.weight, std=0.02)  # HF's _init_weights: replaces it
        torch.nn.init.zeros_(layer.bias)
    monkeypatch.undo()
    assert writes == [(_functions.NORMAL, layer.weight.data_ptr())]  # one random write; the zeros are torch's fill_
    assert torch.count_nonzero(layer.bias) == 0
    # one seed after torch.manual_seed, then streams: kaiming's 0, the bias's 1, normal's 2
    assert np.array_equal(layer.weight.detach().numpy(), fi.normal((20, 30), 0.0, 0.02, seed=seed, stream=2))


def test_nesting_and_an_exception_write_every_pending_fill_and_end_the_mode():
    seed = _seed_after(12)
    with pytest.raises(KeyError):
        with I.patch():
            with I.patch():
                w = torch.nn.init.uniform_(torch.empty(64), -2.0, 2.0)
            assert _intercept.active() and _intercept._state.pending  # inner exit writes nothing
            raise KeyError("boom")
    assert not _intercept.active() and not _intercept._state.pending
    assert np.array_equal(w.numpy(), fi.uniform(64, -2.0, 2.0, seed=seed))
    assert torch.nn.init.trunc_normal_.__code__ is _intercept._TRUNC_CODE
    assert not torch.overrides._get_current_function_mode_stack()


def test_install_uninstall_pairs_count():
    I.install()
    I.install()
    I.uninstall()
    assert _intercept.active()
    I.uninstall()
    assert not _intercept.active()
    I.uninstall()  # unmatched: nothing
    assert not _intercept.active()


def test_patch_covers_only_its_own_thread():
    """Thread A inside patch(); thread B outside it at the same time gets torch's values."""
    inside, go, done = threading.Event(), threading.Event(), threading.Event()
    results = {}

    def a():
        with I.patch():
            results["a_active"] = _intercept.active()
            inside.set()
            go.wait(10)
            results["a"] = I.init_model(torch.nn.Linear(16, 8), seed=3).weight.detach().clone()
        done.set()

    def b():
        inside.wait(10)
        results["b_active"] = _intercept.active()
        g = torch.Generator().manual_seed(5)
        results["b_trunc"] = torch.nn.init.trunc_normal_(torch.empty(50), generator=g)  # trampoline, torch's
        results["b_uniform"] = torch.nn.init.uniform_(torch.empty(50), generator=torch.Generator().manual_seed(5))
        go.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert done.is_set() and results["a_active"] and not results["b_active"]
    g = torch.Generator().manual_seed(5)
    assert torch.equal(results["b_trunc"], torch.nn.init.trunc_normal_(torch.empty(50), generator=g))
    assert torch.equal(results["b_uniform"],
                       torch.nn.init.uniform_(torch.empty(50), generator=torch.Generator().manual_seed(5)))
    assert torch.equal(results["a"], I.init_model(torch.nn.Linear(16, 8), seed=3).weight.detach())


# ---- init_model streams through every route ---------------------------------------------------


class DataInit(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.empty(12, 10))
        self.v = torch.nn.Parameter(torch.empty(6, 4))

    def reset_parameters(self):
        self.w.data.normal_(0.0, 0.02)        # through .data
        with torch.no_grad():
            self.v.t().uniform_(-1.0, 1.0)    # a (non-contiguous) view of the whole tensor


def test_init_model_streams_by_name_through_data_and_views():
    m = I.init_model(DataInit(), seed=8)
    assert np.array_equal(m.w.detach().numpy(), fi.normal((12, 10), 0.0, 0.02, seed=8, stream=I.stream_for_name("w")))
    v = fi.uniform((4, 6), -1.0, 1.0, seed=8, stream=I.stream_for_name("v"))
    assert np.array_equal(m.v.detach().t().numpy(), v)


# ---- idioms -----------------------------------------------------------------------------------


def _timm_weight_init():
    """timm/layers/weight_init.py alone (timm's package import needs torchvision)."""
    timm = importlib.util.find_spec("timm")
    if timm is None:
        pytest.skip("timm is not installed (CI installs timm==1.0.31)")
    path = pathlib.Path(timm.submodule_search_locations[0]) / "layers" / "weight_init.py"
    spec = importlib.util.spec_from_file_location("timm_weight_init_alone", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_timm_trunc_normal_is_one_fastinit_fill_bit_for_bit(dtype):
    wi = _timm_weight_init()
    seed = _seed_after(13)
    spy = RngSpy()
    with spy, I.patch():
        w = wi.trunc_normal_(torch.empty(300, 200, dtype=dtype), std=0.02, a=-0.04, b=0.04)
    assert spy.seen == []
    expect = torch.from_numpy(fi.trunc_normal((300, 200), 0.0, 0.02, -0.04, 0.04, seed=seed)).to(dtype)
    assert torch.equal(w, expect)


class OpSpy(TorchDispatchMode):
    """Records the name of every aten op that runs."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("std", [0.02, 0.1])
def test_timm_trunc_normal_at_its_default_bounds_is_one_fill_without_torchs_clamp(std):
    # a=-2, b=2 is 100 (20) std: timm's cdf of a rounds to 0, so erfinv gives -inf and only the
    # clamp says where the bounds are; it must become the fill's bounds, not a pass of torch's clamp
    wi = _timm_weight_init()
    seed = _seed_after(16)
    spy = OpSpy()
    with spy, I.patch():
        w = wi.trunc_normal_(torch.empty(300, 200), std=std)
    assert not any(name.startswith("clamp") for name in spy.seen), spy.seen
    expect = torch.from_numpy(fi.trunc_normal((300, 200), 0.0, std, -2.0, 2.0, seed=seed))
    assert torch.equal(w, expect)


def test_a_clamp_near_an_infinite_soft_bound_still_runs_in_torch():
    # erfinv of U(-1, 1) scaled has infinite soft bounds; a clamp at 3 std cuts the distribution
    seed = _seed_after(17)
    with I.patch():
        w = torch.empty(2000).uniform_(-1.0, 1.0).erfinv_().mul_(0.5 * math.sqrt(2.0)).clamp_(-1.5, 1.5)
    # written as the pending truncated normal (infinite bounds), then clamped by torch
    z = torch.from_numpy(fi.trunc_normal(2000, 0.0, 0.5, -math.inf, math.inf, seed=seed))
    assert torch.equal(w, z.clamp(-1.5, 1.5))
    assert int((w.abs() == 1.5).sum()) > 0  # the clamp put mass at the bounds, as torch's would


def test_ops_that_are_not_one_fill_write_the_pending_fill_then_run_in_torch():
    seed = _seed_after(14)
    with I.patch():
        a = torch.empty(1000).normal_().clamp_(-0.5, 0.5)      # the clamp cuts the normal
        b = torch.empty(1000).uniform_().mul_(torch.full((1000,), 3.0))  # a tensor factor
        c = torch.empty(1000).uniform_(-2.0, 2.0).erfinv_()     # erfinv outside [-1, 1]
    z = torch.from_numpy(fi.normal(1000, seed=seed, stream=0))
    assert torch.equal(a, z.clamp(-0.5, 0.5))
    assert torch.equal(b, torch.from_numpy(fi.uniform(1000, seed=seed, stream=1)) * 3.0)
    expect = torch.from_numpy(fi.uniform(1000, -2.0, 2.0, seed=seed, stream=2)).erfinv()  # NaN outside [-1, 1]
    torch.testing.assert_close(c, expect, rtol=0, atol=0, equal_nan=True)
    assert torch.isnan(c).any()


def test_affine_ops_on_a_pending_normal_are_one_fill():
    seed = _seed_after(15)
    spy = RngSpy()
    with spy, I.patch():
        w = torch.empty(500).normal_().mul_(0.5).add_(2.0)
    assert spy.seen == []
    assert torch.equal(w, torch.from_numpy(fi.normal(500, 2.0, 0.5, seed=seed)))


@pytest.mark.parametrize("call", [
    lambda wi, t: wi.trunc_normal_(t, mean=0.1, std=0.5, a=-0.6, b=1.2),
    lambda wi, t: wi.trunc_normal_tf_(t, mean=0.1, std=0.5),
    lambda wi, t: wi.lecun_normal_(t) or t,
    lambda wi, t: wi.variance_scaling_(t, scale=2.0, mode="fan_avg", distribution="truncated_normal") or t,
    lambda wi, t: wi.variance_scaling_(t, distribution="uniform") or t,
], ids=["trunc_normal_", "trunc_normal_tf_", "lecun_normal_", "variance_scaling_trunc", "variance_scaling_uniform"])
def test_timm_initializers_draw_only_from_fastinit_with_timms_distribution(call):
    wi = _timm_weight_init()
    torch.manual_seed(0)
    theirs = call(wi, torch.empty(256, 200)).numpy().ravel()
    spy = RngSpy()
    with spy, I.patch():
        ours = call(wi, torch.empty(256, 200)).numpy().ravel()
    assert spy.seen == []
    assert not np.array_equal(ours, theirs)
    assert stats.ks_2samp(ours, theirs).pvalue > KS_P_MIN


def test_timm_vit_takes_every_random_element_from_fastinit():
    sys.path.insert(0, str(HERE))
    import torchvision_stub  # timm imports torchvision; the CPU wheel pairing is broken here

    torchvision_stub.install()
    timm = pytest.importorskip("timm", reason="timm is not installed (CI installs timm==1.0.31)")
    for name in ("vit_tiny_patch16_224",):
        spy = RngSpy()
        with spy, I.patch():
            model = timm.create_model(name, pretrained=False)
        assert spy.seen == [], name
        torch.manual_seed(0)
        reference = timm.create_model(name, pretrained=False)
        for (pname, ours), (_, theirs) in zip(model.named_parameters(), reference.named_parameters()):
            a, b = ours.detach().numpy().ravel(), theirs.detach().numpy().ravel()
            if np.all(b == b[0]):
                assert np.array_equal(a, b), pname
            elif a.size >= 1000:
                assert stats.ks_2samp(a, b).pvalue > KS_P_MIN, pname


def test_transformers_writes_each_weight_once_from_fastinit(monkeypatch):
    transformers = pytest.importorskip("transformers", reason="transformers is not installed in this environment")
    cfg = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, vocab_size=300)
    writes = _count_writes(monkeypatch)
    spy = RngSpy()
    with spy, I.patch():
        model = transformers.LlamaForCausalLM(cfg)
    monkeypatch.undo()
    assert spy.seen == []
    addresses = [address for _, address in writes]
    assert len(addresses) == len(set(addresses))  # no memory written twice
    matrices = [p for p in model.parameters() if p.dim() == 2]
    assert len(writes) == len(matrices)
    for p in matrices:
        assert abs(float(p.detach().std()) - 0.02) < 0.002
    logits = model(torch.randint(0, 300, (2, 9))).logits
    assert torch.isfinite(logits).all()


def test_transformers_guarded_names_keep_their_skip_flag_and_route_to_fastinit():
    init = pytest.importorskip("transformers.initialization", reason="transformers is not installed")
    done = torch.nn.Parameter(torch.zeros(10))
    done._is_hf_initialized = True  # e.g. loaded from a checkpoint: the wrapper skips it
    fresh = torch.nn.Parameter(torch.zeros(10))
    seed = _seed_after(16)
    spy = RngSpy()
    with spy, I.patch(), init.guard_torch_init_functions():
        assert torch.nn.init.normal_ is init.normal_  # transformers swapped the name
        torch.nn.init.normal_(done)
        torch.nn.init.normal_(fresh, 0.0, 0.02)
    assert spy.seen == []
    assert torch.count_nonzero(done) == 0
    assert np.array_equal(fresh.detach().numpy(), fi.normal(10, 0.0, 0.02, seed=seed))


# ---- nothing outlives the block ---------------------------------------------------------------

LATE_MODULE = """
import torch
FUNCTIONS = {"normal_": torch.nn.init.normal_, "trunc_normal_": torch.nn.init.trunc_normal_}
def build():
    torch.manual_seed(0)
    w = torch.empty(200)
    FUNCTIONS["normal_"](w)
    v = FUNCTIONS["trunc_normal_"](torch.empty(200))
    return float(w.sum()), float(v.sum()), float(torch.randn(50).sum())
"""


LLAMA_SUM = """
def _llama_sum(transformers):
    cfg = transformers.LlamaConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                   num_attention_heads=2, num_key_value_heads=1, vocab_size=100)
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(cfg)
    return sum(float(p.detach().double().sum()) for p in model.parameters())
"""
_llama_namespace: dict = {"torch": torch}
exec(LLAMA_SUM, _llama_namespace)  # noqa: S102 - the same function runs in the subprocess
_llama_sum = _llama_namespace["_llama_sum"]


def test_modules_first_imported_inside_patch_initialize_as_torch_after_it(tmp_path):
    """A library imported inside patch() captures torch.nn.init's functions in a dict (as
    transformers' initialization.py does); after the block it must give torch's own values.
    One subprocess, so that the library is imported fresh, inside the block."""
    (tmp_path / "late_library.py").write_text(LATE_MODULE)
    has_transformers = importlib.util.find_spec("transformers") is not None
    code = LLAMA_SUM + textwrap.dedent(f"""
        import sys, torch, fastinit.torch as I
        sys.path.insert(0, sys.argv[1])
        with I.patch():
            import late_library
            inside = late_library.build()
            if {has_transformers}:
                import transformers.models.llama.modeling_llama
        after = late_library.build()
        llama = None
        if {has_transformers}:
            import transformers
            llama = _llama_sum(transformers)
        print(repr((inside, after, llama)))
    """)
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         check=True, cwd=ROOT, timeout=300)
    inside, after, llama = eval(out.stdout.strip().splitlines()[-1])  # noqa: S307 - our subprocess's repr
    sys.path.insert(0, str(tmp_path))
    try:
        import late_library
    finally:
        sys.path.remove(str(tmp_path))
    assert after == late_library.build()  # torch's own values, in this process
    assert inside != after
    if not has_transformers:
        pytest.skip("transformers is not installed: only the plain library was checked")
    import transformers

    assert llama == _llama_sum(transformers)
