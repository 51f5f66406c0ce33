"""Model construction and re-initialization, torch's default init against fastinit.

Each case runs in a fresh process (so page faults and allocator state start the same), the
cases alternate, and the best of the rounds is kept. The model is a stack of torch modules
shaped like TinyLlama-1.1B (embedding 32000x2048; 22 layers of q/o 2048x2048, k/v 256x2048,
gate/up 5632x2048, down 2048x5632, two RMSNorms; head 32000x2048: 1.10 B parameters) or like
GPT-2 124M (--model gpt2).

Construction cases (time from nothing to an initialized model):
  torch      : built with torch's default init
  patched    : built under fastinit.torch.patch()
  meta+init  : built on device="meta", to_empty(cpu), fastinit.torch.init_model
  floor      : built on meta, to_empty(cpu), fill_(0.5) of every parameter (no random numbers)
Re-initialization of the already allocated model (no page faults):
  reset-torch: reset_parameters() of every module with torch's init
  reset-fast : fastinit.torch.init_model
  reset-fill : fill_(0.5) of every parameter

The child process imports torch and fastinit (and, for re-initialization, builds the model)
before the clock starts; the clock runs from the line that starts the case to its end.

Models of the real libraries (issue 11 item 7; built by tests/models/builders.py, size "bench"):
  hf-tinyllama          transformers LlamaForCausalLM with TinyLlama-1.1B's config
  timm-vit-b16          timm vit_base_patch16_224
  torchtitan-llama3-1b  torchtitan's Llama 3 "1B" flavor (built on the CPU, then init_weights())
with the cases
  library    : the library's own build (and initialization)
  patched    : the same under fastinit.torch.patch()
  meta+init  : built on meta, to_empty(cpu), fastinit.torch.init_model (the model's own scheme)
  floor      : built on meta, to_empty(cpu), fill_(0.5) of every parameter

Run: python benchmarks/model_init.py [--model tinyllama|gpt2|hf-tinyllama|...] [--rounds 3] [--threads N]
The same cases as a pytest-benchmark suite: benchmarks/test_model_init.py; summarize its JSON
with python benchmarks/model_init.py --from-json run.json
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

SHAPES = {
    "tinyllama": dict(vocab=32000, dim=2048, layers=22, kv=256, hidden=5632),
    "gpt2": dict(vocab=50257, dim=768, layers=12, kv=768, hidden=3072),
    "tiny": dict(vocab=100, dim=16, layers=2, kv=8, hidden=32),  # for the test suite only
}

CHILD = r'''
import json, sys, time
t_import = time.perf_counter()
import torch
import fastinit, fastinit.torch as fit
torch.set_num_threads(THREADS)
fastinit.set_num_threads(THREADS)
S = SHAPE
nn = torch.nn

class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        d, kv, h = S["dim"], S["kv"], S["hidden"]
        self.q, self.k, self.v, self.o = nn.Linear(d, d, bias=False), nn.Linear(d, kv, bias=False), nn.Linear(d, kv, bias=False), nn.Linear(d, d, bias=False)
        self.gate, self.up, self.down = nn.Linear(d, h, bias=False), nn.Linear(d, h, bias=False), nn.Linear(h, d, bias=False)
        self.norm1, self.norm2 = nn.RMSNorm(d), nn.RMSNorm(d)

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(S["vocab"], S["dim"])
        self.layers = nn.ModuleList(Layer() for _ in range(S["layers"]))
        self.norm = nn.RMSNorm(S["dim"])
        self.head = nn.Linear(S["dim"], S["vocab"], bias=False)

def fill_all(m):
    with torch.no_grad():
        for p in m.parameters():
            p.detach().fill_(0.5)  # Parameter.fill_ itself runs ~100x slower (torch 2.13)

def reset_torch(m):
    for mod in m.modules():
        if hasattr(mod, "reset_parameters"):
            mod.reset_parameters()

case = CASE
if case.startswith("reset"):
    model = Model()  # allocated and initialized before the clock starts: no page faults timed
# Ready: the parent starts its clock when it sends the line that starts the case, so the
# interpreter start-up and the imports above are never timed.
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
if case.startswith("reset"):
    {"reset-torch": reset_torch, "reset-fast": lambda m: fit.init_model(m, seed=1, progress=False), "reset-fill": fill_all}[case](model)
else:
    if case == "torch":
        model = Model()
    elif case == "patched":
        with fit.patch():
            model = Model()
    else:
        with torch.device("meta"):
            model = Model()
        model = model.to_empty(device="cpu")
        if case == "meta+init":
            fit.init_model(model, seed=1, progress=False)
        else:
            fill_all(model)
elapsed = time.perf_counter() - start
print(json.dumps({"case": case, "seconds": elapsed, "params": sum(p.numel() for p in model.parameters())}), flush=True)
'''

CASES = ["torch", "patched", "meta+init", "floor", "reset-torch", "reset-fast", "reset-fill"]

# Models of the real libraries, from tests/models/builders.py at size="bench" (issue 11 item 7)
LIBRARY_MODELS = {
    "hf-tinyllama": "hf-llama",              # transformers LlamaForCausalLM, TinyLlama-1.1B's config
    "timm-vit-b16": "timm-vit",              # timm vit_base_patch16_224
    "torchtitan-llama3-1b": "torchtitan-llama3",  # torchtitan's Llama 3 "1B" flavor
}
LIBRARY_CASES = ["library", "patched", "meta+init", "floor"]
ROOT = __import__("os").path.dirname(__import__("os").path.dirname(__import__("os").path.abspath(__file__)))

LIBRARY_CHILD = r'''
import json, sys, time
import torch
import fastinit, fastinit.torch as fit
torch.set_num_threads(THREADS)
fastinit.set_num_threads(THREADS)
sys.path.insert(0, TESTS)
from models import builders
spec = builders.spec(NAME, "bench")  # imports the library and makes its config before the clock

def fill_all(m):
    with torch.no_grad():
        for p in m.parameters():
            p.detach().fill_(0.5)

case = CASE
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
if case == "library":
    model = spec.build()
elif case == "patched":
    with fit.patch():
        model = spec.build()
else:
    model = spec.build_meta()
    if case == "meta+init":
        fit.init_model(model, seed=1, init=spec.init, ties=spec.ties, progress=False)
    else:
        fill_all(model)
elapsed = time.perf_counter() - start
print(json.dumps({"case": case, "seconds": elapsed, "params": sum(p.numel() for p in model.parameters())}), flush=True)
'''


def cases_for(model: str) -> list[str]:
    """The cases of a model: the library models have no re-initialization cases."""
    return LIBRARY_CASES if model in LIBRARY_MODELS else CASES


class Child:
    """One case in a fresh process: started (imports, and for re-initialization the model
    built) by the constructor, run by ``run()``, which returns the child's own timing."""

    def __init__(self, case: str, model: str, threads: int) -> None:
        if model in LIBRARY_MODELS:
            code = (LIBRARY_CHILD.replace("THREADS", str(threads)).replace("TESTS", repr(ROOT + "/tests"))
                    .replace("NAME", repr(LIBRARY_MODELS[model])).replace("CASE", repr(case)))
        else:
            code = CHILD.replace("THREADS", str(threads)).replace("SHAPE", repr(SHAPES[model])).replace("CASE", repr(case))
        self.case = case
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.close(check=False)
            raise RuntimeError(f"benchmark child for {case!r} did not start (exit {self.proc.returncode}): {line!r}")

    def run(self) -> dict:
        """Start the case and wait for its result line."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.close(check=False)
            raise RuntimeError(f"benchmark child for {self.case!r} died (exit {self.proc.returncode})")
        return json.loads(line)

    def close(self, check: bool = True) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        if self.proc.wait(timeout=120) != 0 and check:
            raise RuntimeError(f"benchmark child for {self.case!r} exited with {self.proc.returncode}")


def run_case(case: str, model: str, threads: int) -> dict:
    child = Child(case, model, threads)
    try:
        return child.run()
    finally:
        child.close()


def summarize(best: dict[str, float], model: str, params: int, threads: int, rounds: int) -> str:
    """The table of best times, ratios against the floor / fill_, and the speed-ups."""
    lines = [f"{model}: {params / 1e9:.3f} B parameters, {threads} threads, best of {rounds} fresh processes",
             "| case | seconds | vs floor / fill |", "|---|---|---|"]
    for case in cases_for(model):
        if case not in best:
            continue
        ref = best.get("reset-fill") if case.startswith("reset") else best.get("floor")
        ratio = f"{best[case] / ref:.2f}x" if ref else "-"
        lines.append(f"| {case} | {best[case]:.2f} | {ratio} |")
    if "library" in best and "patched" in best:
        lines.append(f"\nspeed-up of patched over the library's default build: {best['library'] / best['patched']:.1f}x")
    if "library" in best and "meta+init" in best:
        lines.append(f"speed-up of meta + init_model over the library's default build: "
                     f"{best['library'] / best['meta+init']:.1f}x")
    if "torch" in best and "patched" in best:
        lines.append(f"\nspeed-up of patched over torch's default build: {best['torch'] / best['patched']:.1f}x")
    if "torch" in best and "meta+init" in best:
        lines.append(f"speed-up of meta + init_model over torch's default build: {best['torch'] / best['meta+init']:.1f}x")
    if "reset-torch" in best and "reset-fast" in best:
        lines.append(f"re-initialization: init_model {best['reset-torch'] / best['reset-fast']:.1f}x faster than torch")
    return "\n".join(lines)


def from_json(path: str) -> int:
    """Summarize a pytest-benchmark JSON of benchmarks/test_model_init.py (best round per case)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"{path}: cannot read a pytest-benchmark JSON file: {exc}", file=sys.stderr)
        return 2
    runs: dict[tuple[str, int], dict[str, float]] = {}
    params: dict[str, int] = {}
    rounds: dict[str, set[int]] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        if info.get("kind") != "model":
            continue
        key = (info["model"], info["threads"])
        best = runs.setdefault(key, {})
        best[info["case"]] = min(best.get(info["case"], float("inf")), bench["stats"]["min"])
        params[info["model"]] = info["params"]
        rounds.setdefault(info["model"], set()).add(info["round"])
    if not runs:
        print(f"{path}: no model benchmarks (run benchmarks/test_model_init.py)", file=sys.stderr)
        return 2
    for (model, threads), best in sorted(runs.items()):
        print(summarize(best, model, params[model], threads, len(rounds[model])))
        print()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(SHAPES) + sorted(LIBRARY_MODELS), default="tinyllama")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cases", nargs="*", default=None, choices=CASES + LIBRARY_CASES[:1],
                        help="default: every case of the model")
    parser.add_argument("--from-json", metavar="FILE",
                        help="summarize a pytest-benchmark JSON of benchmarks/test_model_init.py instead of running")
    args = parser.parse_args()
    if args.from_json:
        return from_json(args.from_json)
    best: dict[str, float] = {}
    params = 0
    for _ in range(args.rounds):
        for case in args.cases or cases_for(args.model):  # alternate the cases round by round
            result = run_case(case, args.model, args.threads)
            best[case] = min(best.get(case, float("inf")), result["seconds"])
            params = result["params"]
    print(summarize(best, args.model, params, args.threads, args.rounds))
    print(json.dumps(best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
