"""Per-call cost of fastinit.torch against torch's own calls, and model construction under
patch() against without it (issue 11 item 5), side by side in one run.

    flock /work/coord/bench.lock python -m pytest benchmarks/test_torch_calls.py \\
        --benchmark-json=calls.json -p no:randomly
    python benchmarks/test_torch_calls.py calls.json     # the ratios, from that JSON

Per call (1 thread, as the issue measured it): a 64-element ``uniform_`` and a 64x64
``kaiming_uniform_(a=sqrt(5))``, each as torch's ``torch.nn.init`` call, fastinit.torch's
drop-in, and torch's call inside an open ``patch()`` block followed by writing the pending
fill (record + write, so nothing is left unwritten). Models: timm ResNet-50 and HF BERT-base
built from configs, in one process, alternating with and without ``patch()`` (best round).
"""
from __future__ import annotations

import json
import math
import pathlib
import sys

import pytest

torch = pytest.importorskip("torch")
import fastinit.torch as I  # noqa: E402
from fastinit.torch import _intercept  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SQRT5 = math.sqrt(5)
CALLS = {
    "uniform_64": ((64,), lambda init, t: init.uniform_(t)),
    "kaiming_uniform_64x64": ((64, 64), lambda init, t: init.kaiming_uniform_(t, a=SQRT5)),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    import fastinit

    before = fastinit.get_num_threads()
    fastinit.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    fastinit.set_num_threads(before)


@pytest.mark.parametrize("impl", ["torch", "fastinit", "patched"])
@pytest.mark.parametrize("case", sorted(CALLS))
def test_call(benchmark, case, impl):
    shape, call = CALLS[case]
    t = torch.empty(shape)
    benchmark.group = f"call {case}"
    benchmark.extra_info.update(case=case, impl=impl)
    if impl == "torch":
        benchmark.pedantic(call, (torch.nn.init, t), rounds=2000, iterations=20, warmup_rounds=50)
    elif impl == "fastinit":
        benchmark.pedantic(call, (I, t), rounds=2000, iterations=20, warmup_rounds=50)
    else:
        def recorded_and_written():
            call(torch.nn.init, t)
            _intercept.materialize_all()

        with I.patch():
            benchmark.pedantic(recorded_and_written, rounds=2000, iterations=20, warmup_rounds=50)


def _resnet50():
    sys.path.insert(0, str(HERE.parent / "tests"))
    import torchvision_stub  # timm imports torchvision, whose wheel does not load with this torch

    torchvision_stub.install()
    timm = pytest.importorskip("timm")
    return lambda: timm.create_model("resnet50", pretrained=False)


def _bert():
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig()  # BERT-base
    return lambda: transformers.BertModel(config)


MODELS = {"resnet50": _resnet50, "bert-base": _bert}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_model_build_patched_vs_torch(benchmark, model):
    """Alternating rounds in one process; the benchmark timing is the patched build."""
    import time

    torch.set_num_threads(2)
    build = MODELS[model]()
    build()  # warm: imports, first-touch of the allocator
    best = {"torch": math.inf, "patched": math.inf}
    for _ in range(3):
        start = time.perf_counter()
        build()
        best["torch"] = min(best["torch"], time.perf_counter() - start)
        start = time.perf_counter()
        with I.patch():
            build()
        best["patched"] = min(best["patched"], time.perf_counter() - start)
    benchmark.group = f"model {model}"
    benchmark.extra_info.update(model=model, torch_best_s=best["torch"], patched_best_s=best["patched"],
                                ratio=best["patched"] / best["torch"])

    def patched():
        with I.patch():
            build()

    benchmark.pedantic(patched, rounds=1, iterations=1)
    torch.set_num_threads(1)


def report(path: str) -> str:
    """Ratios of a saved run: per call fastinit / torch, per model patched / torch."""
    data = json.loads(pathlib.Path(path).read_text())
    means = {}
    lines = []
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        if "impl" in info:
            means[(info["case"], info["impl"])] = bench["stats"]["median"]
        elif "model" in info:
            lines.append(f"| {info['model']} build | torch {info['torch_best_s']:.3f} s | patched "
                         f"{info['patched_best_s']:.3f} s | {info['ratio']:.2f}x |")
    out = ["| call | torch | fastinit.torch | ratio | torch call under patch() + write | ratio |",
           "|---|---|---|---|---|---|"]
    for case in sorted({c for c, _ in means}):
        t, f, p = (means.get((case, k), math.nan) * 1e6 for k in ("torch", "fastinit", "patched"))
        out.append(f"| {case} | {t:.1f} us | {f:.1f} us | {f / t:.2f}x | {p:.1f} us | {p / t:.2f}x |")
    return "\n".join(out + [""] + lines)


if __name__ == "__main__":
    print(report(sys.argv[1]))
