"""Real models from their libraries' configs (no weights), built three ways and compared
(issue 11 item 6): the library's own build, the build under ``fastinit.torch.patch()``, and
``meta`` + ``to_empty`` + ``fastinit.torch.init_model``. The builders (small configs) are in
tests/models/builders.py.

For each model:
(a) every random element of the final parameters was written by fastinit: with every draw that
    reaches torch's RNG turned into NaN (tests/models/poison.py, entered below patch()), the
    build under ``patch()`` has zero NaN elements, while the library's own build has NaN in
    every element that differs between two torch seeds;
(b) each parameter's distribution under ``patch()`` matches the library's own init: two-sample
    Kolmogorov-Smirnov against the library's build, p > 1e-4 (chosen before looking; fixed seeds,
    so the outcome is deterministic); parameters the library sets to a constant must be exactly
    that constant;
(c) the same for meta + to_empty + init_model, whose buffers must equal the library's (they are
    computed, not drawn), whose ties must be the library's, and whose forward pass is finite;
    and init_model's weights do not depend on torch's seed.
"""
from __future__ import annotations

import contextlib
import importlib.util
import sys

import numpy as np
import pytest
import torch

import fastinit.torch as fit

from models import builders
from models.poison import TorchRNGPoison

stats = pytest.importorskip("scipy.stats", reason="KS tests need scipy")

KS_P_MIN = 1e-4
KS_MAX_SAMPLES = 20_000
NAMES = list(builders.MODELS)
_specs: dict[str, builders.Spec] = {}
_builds: dict[tuple[str, str, int], torch.nn.Module] = {}


def _spec(name: str) -> builders.Spec:
    if name not in _specs:
        library = builders.MODELS[name][0]
        if importlib.util.find_spec(library) is None:  # timm is imported through a stand-in
            pytest.skip(f"{name} needs {library}, which is not installed")
        _specs[name] = builders.spec(name)
    return _specs[name]


def _build(name: str, how: str, torch_seed: int) -> torch.nn.Module:
    """One build of ``name`` (cached for the module): how = "library", "patch", "init_model"."""
    key = (name, how, torch_seed)
    if key not in _builds:
        spec = _spec(name)
        torch.manual_seed(torch_seed)
        if how == "library":
            model = spec.build()
        elif how == "patch":
            with fit.patch():
                model = spec.build()
        else:
            model = fit.init_model(spec.build_meta(), seed=1234, init=spec.init, ties=spec.ties, progress=False)
        _builds[key] = model
    return _builds[key]


def _params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach() for n, p in model.named_parameters()}


def _distribution_mismatches(reference: torch.nn.Module, candidate: torch.nn.Module) -> list[str]:
    ref, got = _params(reference), _params(candidate)
    assert ref.keys() == got.keys()
    bad = []
    for name, r in ref.items():
        c = got[name]
        assert c.shape == r.shape and c.dtype == r.dtype, name
        r64, c64 = r.double().flatten(), c.double().flatten()
        if r64.numel() == 0:
            continue
        if bool(r64.min() == r64.max()):  # the library writes a constant: exactly that
            if not bool((c64 == r64[0]).all()):
                bad.append(f"{name}: constant {float(r64[0])} expected, got {c64[:4].tolist()}...")
            continue
        n = min(KS_MAX_SAMPLES, r64.numel())
        p = stats.ks_2samp(r64[:n].numpy(), c64[:n].numpy()).pvalue
        if not p > KS_P_MIN:
            bad.append(f"{name}: KS p={p:.2e} (std {float(r64.std()):.4g} vs {float(c64.std()):.4g})")
    return bad


def _poisoned(name: str, patched: bool) -> dict[str, torch.Tensor]:
    """A build in which every element drawn by torch's RNG is NaN (tests/models/poison.py)."""
    spec = _spec(name)
    torch.manual_seed(1)
    with TorchRNGPoison(), (fit.patch() if patched else contextlib.nullcontext()):
        model = spec.build()
    return {n: p.detach() for n, p in model.named_parameters()}


@pytest.mark.parametrize("name", NAMES)
def test_a_patch_writes_every_random_element(name):
    lib1, lib2 = _params(_build(name, "library", 1)), _params(_build(name, "library", 2))
    random = {k: lib1[k] != lib2[k] for k in lib1}  # the elements the library draws at random
    count = sum(int(m.sum()) for m in random.values())
    assert count > 0
    seen = _poisoned(name, patched=False)  # the poison sees every random element of the library
    assert all(bool(torch.isnan(seen[k])[random[k]].all()) for k in random)
    ours = _poisoned(name, patched=True)
    from_torch = {k: int(torch.isnan(v).sum()) for k, v in ours.items() if bool(torch.isnan(v).any())}
    assert not from_torch, f"{sum(from_torch.values())} of {count} random elements came from torch's RNG: {from_torch}"


@pytest.mark.parametrize("name", NAMES)
def test_b_patch_build_has_the_library_distribution(name):
    bad = _distribution_mismatches(_build(name, "library", 1), _build(name, "patch", 1))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", NAMES)
def test_c_init_model_after_meta_has_the_library_distribution(name):
    bad = _distribution_mismatches(_build(name, "library", 1), _build(name, "init_model", 1))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", NAMES)
def test_c_init_model_after_meta_restores_buffers_and_ties_and_runs(name):
    library, model = _build(name, "library", 1), _build(name, "init_model", 1)
    lib_buffers, buffers = dict(library.named_buffers()), dict(model.named_buffers())
    assert lib_buffers.keys() == buffers.keys()
    for key, value in lib_buffers.items():
        assert torch.equal(buffers[key], value), f"buffer {key} differs from the library's"
    # the same tensors are shared (tied) as in the library's build: same count and same groups
    def groups(m: torch.nn.Module) -> set[tuple[str, ...]]:
        by_id: dict[int, list[str]] = {}
        for n, p in m.named_parameters(remove_duplicate=False):
            by_id.setdefault(id(p), []).append(n)
        return {tuple(sorted(v)) for v in by_id.values()}
    assert groups(model) == groups(library)
    out = _spec(name).forward(model)
    assert out.numel() > 0 and bool(torch.isfinite(out).all())


@pytest.mark.parametrize("name", NAMES)
def test_c_init_model_does_not_depend_on_torch_seed(name):
    a, b = _params(_build(name, "init_model", 1)), _params(_build(name, "init_model", 2))
    differ = {k: int((a[k] != b[k]).sum()) for k in a if not torch.equal(a[k], b[k])}
    assert not differ, f"elements that depend on torch's seed: {differ}"


def test_init_model_keeps_what_the_model_wrote_when_a_reset_fills_the_rest():
    # timm ResNet's init_weights zeroes the last BatchNorm weight of each block and writes no
    # other BatchNorm tensor: the BatchNorm's reset fills the rest and must not undo the zeros
    model = _build("timm-resnet50", "init_model", 1)
    last_bn = [m.bn3.weight for m in model.modules() if hasattr(m, "bn3")]
    assert last_bn and all(int(torch.count_nonzero(w)) == 0 for w in last_bn)
    assert all(bool((m.running_var == 1).all()) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_hf_gpt2_head_stays_tied_after_meta_and_init_model():
    model = _build("hf-gpt2", "init_model", 1)
    assert model.lm_head.weight is model.transformer.wte.weight
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in _build("hf-gpt2", "library", 1).parameters())


def test_hf_llama_init_model_is_the_same_in_another_process_with_another_torch_seed(tmp_path):
    import subprocess

    code = (
        "import sys, hashlib, torch\n"
        "sys.path.insert(0, 'tests')\n"
        "from models import builders\n"
        "import fastinit.torch as fit\n"
        "torch.manual_seed(987)\n"
        "spec = builders.spec('hf-llama')\n"
        "m = fit.init_model(spec.build_meta(), seed=1234, progress=False)\n"
        "h = hashlib.sha256()\n"
        "[h.update(p.detach().contiguous().numpy().tobytes()) for _, p in sorted(m.named_parameters())]\n"
        "print(h.hexdigest())\n"
    )
    import hashlib
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root,
                         env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 0, out.stderr[-2000:]
    model = _build("hf-llama", "init_model", 1)
    h = hashlib.sha256()
    for _, p in sorted(model.named_parameters()):
        h.update(p.detach().contiguous().numpy().tobytes())
    assert out.stdout.strip() == h.hexdigest()
