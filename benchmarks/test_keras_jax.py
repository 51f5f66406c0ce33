"""Keras model construction with Keras's default initializers against ``fastinit.keras.install()``,
and ``jax.nn.initializers`` against ``fastinit.jax`` on big arrays.

Keras fixes its backend at import: run this file once per backend, e.g. (the machine is
shared: always under the benchmark lock)::

    KERAS_BACKEND=jax   flock /work/coord/bench.lock python -m pytest benchmarks/test_keras_jax.py -k construction
    KERAS_BACKEND=torch flock /work/coord/bench.lock python -m pytest benchmarks/test_keras_jax.py -k construction
    KERAS_BACKEND=jax   flock /work/coord/bench.lock taskset -c 0 python -m pytest benchmarks/test_keras_jax.py -k throughput

``FASTINIT_KERAS_BENCH_WIDTH`` / ``_LAYERS`` set the model (default 8192 x 16 Dense layers:
1.07e9 parameters, 4.3 GB of float32); ``--benchmark-json`` keeps the figures. Construction
ends when every weight exists (jax: ``block_until_ready``). The throughput cases time one
call into a fresh 128 MiB float32 array, JAX's initializer compiled once by ``jax.jit``, fastinit's
called eagerly (host fill plus the one copy to the device).
"""
from __future__ import annotations

import gc
import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import fastinit.keras as fk  # noqa: E402

BACKEND = keras.backend.backend()
WIDTH = int(os.environ.get("FASTINIT_KERAS_BENCH_WIDTH", "8192"))
LAYERS = int(os.environ.get("FASTINIT_KERAS_BENCH_LAYERS", "16"))


def build_model() -> keras.Model:
    layers = [keras.Input((WIDTH,))] + [keras.layers.Dense(WIDTH) for _ in range(LAYERS)]
    model = keras.Sequential(layers)
    if BACKEND == "jax":
        for weight in model.weights:
            weight.value.block_until_ready()
    return model


@pytest.mark.parametrize("initializers", ["keras", "fastinit"])
def test_construction(benchmark, initializers):
    benchmark.group = f"Keras {BACKEND}: build {LAYERS} x Dense({WIDTH})"
    keras.utils.set_random_seed(0)

    def build() -> None:
        if initializers == "fastinit":
            with fk.install():
                model = build_model()
        else:
            model = build_model()
        params = sum(int(np.prod(w.shape)) for w in model.weights)
        benchmark.extra_info.update(backend=BACKEND, params=params, initializers=initializers)
        del model
        keras.backend.clear_session()

    benchmark.pedantic(build, setup=lambda: gc.collect() and None, rounds=2, iterations=1, warmup_rounds=0)


THROUGHPUT_SHAPE = (8192, 4096)  # 128 MiB of float32
THROUGHPUT_CASES = [
    ("uniform", (1.0,)), ("normal", (1.0,)), ("glorot_uniform", ()), ("he_normal", ()),
]


@pytest.mark.parametrize("library", ["jax", "fastinit"])
@pytest.mark.parametrize("name,args", THROUGHPUT_CASES, ids=[c[0] for c in THROUGHPUT_CASES])
def test_throughput(benchmark, library, name, args):
    jax = pytest.importorskip("jax")
    import fastinit
    import fastinit.jax as fj

    benchmark.group = f"jax initializer {name} {THROUGHPUT_SHAPE} float32"
    key = jax.random.key(0)
    if library == "jax":
        init = getattr(jax.nn.initializers, name)(*args)
        call = jax.jit(lambda k: init(k, THROUGHPUT_SHAPE, jax.numpy.float32))
    else:
        init = getattr(fj, name)(*args)
        call = lambda k: init(k, THROUGHPUT_SHAPE, jax.numpy.float32)  # noqa: E731
    call(key).block_until_ready()  # compile (jax) and touch the allocator once

    result = benchmark.pedantic(lambda: call(key).block_until_ready(), rounds=5, iterations=1, warmup_rounds=1)
    del result
    nbytes = int(np.prod(THROUGHPUT_SHAPE)) * 4
    benchmark.extra_info.update(bytes=nbytes, library=library, fastinit_threads=fastinit.get_num_threads(),
                                cpus=len(os.sched_getaffinity(0)))
