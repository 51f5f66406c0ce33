"""Throughput of filling one preallocated buffer: fastinit against NumPy's Generator (PCG64 and
Philox, out=), torch.nn.init, mkl_random (when installed) and the write ceiling (ndarray.fill,
Tensor.fill_), on the same buffer in the same run. The cases are fastinit._bench's table.

    python -m pytest benchmarks/ --benchmark-json=out.json          # default: a few minutes
    python -m pytest benchmarks/ --bench-full --benchmark-json=...  # + 256 MiB, every dtype
    python -m fastinit dashboard out.json -o report.html

Each benchmark's extra_info holds library, distribution, dtype, bytes and threads; the
dashboard computes throughput as bytes / stats.min.
"""
from __future__ import annotations

import importlib

import pytest

from fastinit import _bench

_NEEDS = {"torch": "torch", "ceiling-torch": "torch", "mkl_random": "mkl_random"}  # mkl_random is optional


def test_fill(benchmark, spec: _bench.Spec, buffers) -> None:
    module = _NEEDS.get(spec.library)
    if module is not None:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            pytest.skip(f"{module} cannot be imported: {exc}")
    benchmark.group = spec.group
    benchmark.extra_info.update(spec.extra_info())
    try:
        buf = buffers.get(spec.nbytes, spec.case.dtype)  # allocated and touched outside the timing
        with _bench.threads(spec.library, spec.threads):
            fill = _bench.filler(spec.library, spec.case, buf)  # set up, and run once untimed
            benchmark(fill)
    except _bench.Unavailable as exc:
        pytest.skip(str(exc))
