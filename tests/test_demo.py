"""`python -m fastinit demo`: the lesson itself, with fixed seeds and thresholds fixed in advance.

- zeros and a constant never break the symmetry: after training every hidden unit of a layer is
  still a copy of the others (and a random initializer is not);
- N(0, 0.01²) makes the activation std decay by orders of magnitude from layer 1 to layer 10
  (tanh, ReLU: zero-centred activations; sigmoid's 0.5 offset keeps feeding variance);
- N(0, 1) saturates tanh and sigmoid in every layer;
- Glorot + tanh and He + ReLU keep the std within a factor 4 across the layers and train to 90%
  test accuracy, where zeros stay at chance (60% at most).
Also: the backward pass against finite differences, the weights against fastinit's fills, the CLI,
the table without tqdm, and the report in a headless browser.
"""
from __future__ import annotations

import functools
import subprocess
import sys
import types

import numpy as np
import pytest

import fastinit as fi
from browser import busy_shares_in_browser
from conftest import ROOT
from fastinit import __main__ as cli
from fastinit import _demo, _demo_report

LAYERS, WIDTH, BATCH = 10, 256, 256          # the signal-propagation stack of the default run
TRAIN = dict(layers=10, width=32, steps=300, lr=0.05, momentum=0.9, dataset="circles", points=256)
SEEDS = (0, 1)


@functools.lru_cache(maxsize=None)  # several tests read the same pass
def _stats(init: str, act: str, seed: int) -> list[_demo.LayerStats]:
    return _demo.propagation(_demo.INITIALIZERS[init], _demo.ACTIVATIONS[act], LAYERS, WIDTH, BATCH, seed)


def _train(init: str, act: str, seed: int) -> _demo.Training:
    return _demo.train(_demo.INITIALIZERS[init], _demo.ACTIVATIONS[act], seed=seed, **TRAIN)


# ------------------------------------------------------------------------------ the lesson


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("init", ["zeros", "constant"])
def test_zero_and_constant_init_keep_the_units_of_a_layer_identical_after_training(init, act):
    result = _train(init, act, seed=0)
    assert not result.diverged
    assert result.symmetric
    if init == "zeros":  # nothing reaches the output: chance on balanced classes
        assert result.accuracy <= 0.6


def test_random_init_breaks_the_symmetry():
    assert not _train("he_normal", "relu", seed=0).symmetric


def test_units_identical_sees_one_differing_weight():
    w = np.full((4, 3), 0.5)
    assert _demo.units_identical([w])
    w[2, 1] += 1e-6
    assert not _demo.units_identical([w])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_small_init_makes_the_activation_std_vanish_by_orders_of_magnitude(act, seed):
    stats = _stats("small", act, seed)
    assert stats[-1].std / stats[0].std < 1e-3
    assert all(b.std < a.std for a, b in zip(stats, stats[1:]))  # layer after layer


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_large_init_saturates_tanh_and_sigmoid_in_every_layer(act, seed):
    assert all(s.saturated > 0.5 for s in _stats("large", act, seed))
    assert all(s.saturated < 0.05 for s in _stats("glorot_uniform", act, seed))  # where Glorot does not


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("init, act", [("glorot_uniform", "tanh"), ("glorot_normal", "tanh"),
                                       ("he_uniform", "relu"), ("he_normal", "relu")])
def test_matched_variance_scaling_keeps_the_std_within_a_small_factor(init, act, seed):
    stds = [s.std for s in _stats(init, act, seed)]
    assert max(stds) / min(stds) < 4.0, stds


@pytest.mark.parametrize("init, act", [("glorot_uniform", "tanh"), ("he_normal", "relu")])
def test_matched_variance_scaling_trains_to_high_accuracy(init, act):
    result = _train(init, act, seed=0)
    assert not result.diverged
    assert result.accuracy >= 0.9
    assert result.losses[-1] < 0.25 * result.losses[0]


# ------------------------------------------------------------------------------ the machinery


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_backward_pass_matches_finite_differences(act):
    net = _demo.Network.build([3, 5, 4, 1], _demo.INITIALIZERS["glorot_normal"], _demo.ACTIVATIONS[act],
                              seed=7, first_stream=0, output=True)
    for b in net.biases:  # nonzero biases, so that they are checked too and ReLU has no kink at 0
        b += fi.uniform(b.shape, -0.3, 0.3, dtype=np.float64, seed=8, stream=b.size)
    x = fi.normal((6, 3), dtype=np.float64, seed=9)
    y = np.array([0, 1, 1, 0, 1, 0], np.float64)

    def loss() -> float:
        return _demo._bce(net.forward(x)[1][-1], y)[0]

    pre, outs = net.forward(x)
    grad_w, grad_b = net.backward(pre, outs, _demo._bce(outs[-1], y)[1])
    for params, grads in ((net.weights, grad_w), (net.biases, grad_b)):
        for p, g in zip(params, grads):
            numeric = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                keep = p[i]
                p[i] = keep + 1e-6
                up = loss()
                p[i] = keep - 1e-6
                down = loss()
                p[i] = keep
                numeric[i] = (up - down) / 2e-6
            assert np.allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_weights_are_fastinit_fills_in_keras_layout_one_stream_per_layer():
    net = _demo.Network.build([2, 32, 32, 1], _demo.INITIALIZERS["he_normal"], _demo.ACTIVATIONS["relu"],
                              seed=5, first_stream=100, output=True)
    for layer, w in enumerate(net.weights):
        expected = fi.he_normal(w.shape, dtype=np.float64, layout="keras", seed=5, stream=100 + layer)
        assert np.array_equal(w, expected)
    assert net.weights[0].std() > 0.5  # (2, 32) is (fan_in, fan_out): std sqrt(2/2), not sqrt(2/32)
    assert all(not b.any() for b in net.biases)


def test_the_normal_initializers_scale_the_same_draws():
    draws = [_demo.Network.build([8, 8], _demo.INITIALIZERS[name], _demo.ACTIVATIONS["tanh"], 3, 0, False).weights[0]
             for name in ("small", "large", "glorot_normal", "he_normal", "lecun_normal")]
    for w in draws[1:]:
        assert np.allclose(w / w.std(), draws[0] / draws[0].std())


def test_bad_config_is_refused_before_anything_runs():
    for bad, message in ((dict(layers=0), "layers must be a positive integer"),
                         (dict(steps=-1), "steps must be"), (dict(lr=float("nan")), "lr must be"),
                         (dict(initializers=["glorot"]), "unknown initializer 'glorot'"),
                         (dict(activations=[]), "no activation chosen"), (dict(dataset="moons"), "dataset")):
        with pytest.raises(ValueError, match=message):
            _demo.run(_demo.Config(**bad), progress=False)


# ------------------------------------------------------------------------------ command line and report

SMALL = ["--layers", "3", "--width", "16", "--batch", "32", "--train-width", "8", "--steps", "30",
         "--points", "64", "--initializers", "zeros,small,he_normal", "--activations", "relu,tanh"]


def _rows(stdout: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| activation")]


def test_cli_prints_the_table_and_writes_the_report(tmp_path):
    out = tmp_path / "demo.html"
    done = subprocess.run([sys.executable, "-m", "fastinit", "demo", *SMALL, "-o", str(out)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    rows = _rows(done.stdout)
    assert [(r[0], r[1]) for r in rows] == [(a, i) for a in ("relu", "tanh")
                                            for i in ("zeros", "N(0, 0.01²)", "He normal")]
    assert all(r[-1] in ("yes", "no") and r[-2].endswith("%") for r in rows)
    page = out.read_text(encoding="utf-8")
    for anchor in ('id="relu"', 'id="tanh"', 'id="table"', "relu-std-t", "relu-grad-t", "relu-loss-t",
                   "Activation histograms", "Decision boundary after training"):
        assert anchor in page
    assert page.count('<svg class="boundary"') == 6 and page.count('<svg class="chart hist"') == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page and " src=" not in page


def test_cli_rejects_bad_arguments_before_writing(tmp_path):
    out = tmp_path / "demo.html"
    for args, message in ((["--layers", "0"], "layers must be a positive integer"),
                          (["--initializers", "zeros,glorot"], "unknown initializer 'glorot'"),
                          (["-o", str(tmp_path / "nowhere" / "demo.html")], "no directory")):
        done = subprocess.run([sys.executable, "-m", "fastinit", "demo", "-o", str(out), *args],
                              capture_output=True, text=True, cwd=ROOT, check=False)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
        assert not out.exists()


def test_without_tqdm_the_table_still_prints_and_the_report_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError):
        import tqdm.auto  # noqa: F401
    out = tmp_path / "demo.html"
    assert cli.main(["demo", *SMALL, "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert len(_rows(captured.out)) == 6
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_progress_bar_counts_every_training_step(monkeypatch):
    ticks: list[int] = []

    class FakeBar:
        def __init__(self, total, desc, unit, file):
            ticks.append(-total)

        def set_description(self, text):
            pass

        def update(self, n):
            ticks.append(n)

        def close(self):
            ticks.append(0)

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    config = _demo.Config(layers=2, width=8, batch=16, train_width=4, steps=75, points=16,
                          activations=["tanh"], initializers=["zeros", "he_normal"])
    _demo.run(config)
    assert ticks[0] == -150 and sum(ticks[1:]) == 150 and ticks[-1] == 0
    ticks.clear()  # a run that diverges early still fills the bar
    diverging = _demo.Config(layers=10, width=8, batch=16, train_width=32, steps=60, points=64,
                             activations=["relu"], initializers=["large"])
    (case,) = _demo.run(diverging)
    assert case.training.diverged and len(case.training.losses) < 60
    assert ticks[0] == -60 and sum(ticks[1:]) == 60


def test_importing_fastinit_imports_neither_the_demo_nor_tqdm():
    code = "import sys, fastinit; print(sorted(m for m in sys.modules if m.startswith(('tqdm', 'fastinit._demo'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_report_renders_in_a_headless_browser(tmp_path):
    config = _demo.Config(layers=4, width=32, batch=64, train_width=8, steps=40, points=64,
                          initializers=["zeros", "small", "large", "glorot_uniform", "he_normal"])
    page = tmp_path / "demo.html"
    page.write_text(_demo_report.render(_demo.run(config, progress=False), config), encoding="utf-8")
    shares = busy_shares_in_browser(page, tmp_path)
    assert shares["blank"] == 0.0
    assert shares["page"] > 0.3, shares
