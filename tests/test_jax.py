"""fastinit.jax against jax.nn.initializers (jax 0.10.2 CPU), and Flax NNX use.

Statistical criterion, fixed before looking: two-sample Kolmogorov-Smirnov p > 1e-4 between
fastinit's and JAX's own initializer, fixed keys, 60,000 values each.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")
scipy_stats = pytest.importorskip("scipy.stats")
import jax.numpy as jnp  # noqa: E402

import fastinit as fi  # noqa: E402
import fastinit.jax as fj  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KS_P_MIN = 1e-4
SHAPE = (5, 5, 40, 60)  # a conv kernel (*receptive, in, out): fan_in 1000, fan_out 1500
TRUNC_STD_FACTOR = 0.87962566103423978


def ks_p(ours, theirs) -> float:
    return scipy_stats.ks_2samp(np.asarray(ours, np.float64).ravel(), np.asarray(theirs, np.float64).ravel()).pvalue


FACTORIES = [
    ("uniform", (), {}), ("uniform", (3.0,), {}), ("normal", (), {}), ("normal", (2.0,), {}),
    ("truncated_normal", (), {}), ("truncated_normal", (0.5,), {"lower": -1.0, "upper": 3.0}),
    ("glorot_uniform", (), {}), ("glorot_normal", (), {}), ("he_uniform", (), {}), ("he_normal", (), {}),
    ("lecun_uniform", (), {}), ("lecun_normal", (), {}), ("xavier_uniform", (), {}), ("kaiming_normal", (), {}),
    ("glorot_uniform", (), {"in_axis": 0, "out_axis": (1, 2)}),
    ("he_normal", (), {"in_axis": -1, "out_axis": -2, "batch_axis": 0}),
] + [
    ("variance_scaling", (scale, mode, dist), {})
    for mode in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
    for dist, scale in (("truncated_normal", 1.0), ("normal", 2.0), ("uniform", 0.5))
]


@pytest.mark.parametrize("name,args,kwargs", FACTORIES, ids=str)
def test_same_distribution_as_jax(name, args, kwargs):
    ours = getattr(fj, name)(*args, **kwargs)(jax.random.key(1), SHAPE)
    theirs = getattr(jax.nn.initializers, name)(*args, **kwargs)(jax.random.key(2), SHAPE)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert ks_p(ours, theirs) > KS_P_MIN


def test_orthogonal_same_distribution_as_jax_and_orthogonal():
    ours = fj.orthogonal(2.0)(jax.random.key(1), (300, 200))
    theirs = jax.nn.initializers.orthogonal(2.0)(jax.random.key(2), (300, 200))
    q = np.asarray(ours, np.float64)
    assert np.allclose(q.T @ q, 4 * np.eye(200), atol=1e-4)
    assert ks_p(ours, theirs) > KS_P_MIN
    columns = np.asarray(fj.orthogonal(column_axis=0)(jax.random.key(3), (20, 5, 6)), np.float64).reshape(20, 30)
    assert np.allclose(columns @ columns.T, np.eye(20), atol=1e-4)  # orthonormal along axis 0


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_constants_equal_jax(name):
    assert np.array_equal(getattr(fj, name)(jax.random.key(0), (3, 4)), getattr(jax.nn.initializers, name)(None, (3, 4)))
    assert np.array_equal(fj.constant(-7.0)(jax.random.key(0), (3,)), np.full(3, -7.0, np.float32))


def test_no_truncated_value_outside_its_bounds():
    for seed in range(6):
        key = jax.random.key(seed)
        for init, bound in ((fj.he_normal(), 2 * math.sqrt(2 / 1000) / TRUNC_STD_FACTOR),
                            (fj.truncated_normal(0.3), 0.6)):
            x = np.asarray(init(key, SHAPE), np.float64)
            assert np.abs(x).max() <= bound


# ------------------------------------------------------------------------- keys

def test_key_maps_to_seed_and_stream():
    assert fj.key_to_seed(jax.random.key(42)) == (42, 0)
    assert fj.key_to_seed(jax.random.PRNGKey(42)) == (42, 0)
    assert fj.key_to_seed(np.array([1, 2], np.uint32)) == (2**32 + 2, 0)
    assert fj.key_to_seed(np.array([1, 2, 3, 4], np.uint32)) == (2**32 + 2, 3 * 2**32 + 4)
    ours = fj.he_normal()(jax.random.key(42), (3, 3, 16, 32))
    core = fi.get("he_normal")(np.empty((3, 3, 16, 32), np.float32), seed=42)
    assert np.array_equal(np.asarray(ours), core)


def test_values_are_a_pure_function_of_the_key():
    init = fj.glorot_normal()
    key = jax.random.key(7)
    a = init(key, (64, 32))
    assert np.array_equal(a, init(key, (64, 32)))
    assert np.array_equal(a, init(jax.random.wrap_key_data(jax.random.key_data(key)), (64, 32)))
    assert np.array_equal(a, init(jax.random.PRNGKey(7), (64, 32)))  # the same words, legacy form
    k1, k2 = jax.random.split(key)
    assert not np.array_equal(init(k1, (64, 32)), init(k2, (64, 32)))


def test_jit_gives_the_same_values():
    init = fj.lecun_uniform()
    key = jax.random.key(3)
    jitted = jax.jit(lambda k: init(k, (40, 30)))
    assert np.array_equal(jitted(key), init(key, (40, 30)))
    assert np.array_equal(jitted(jax.random.key(4)), init(jax.random.key(4), (40, 30)))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_dtypes(dtype):
    x = fj.he_uniform()(jax.random.key(0), (16, 8), dtype)
    assert x.dtype == dtype
    assert fj.he_uniform(dtype=dtype)(jax.random.key(0), (16, 8)).dtype == dtype
    assert fj.normal()(jax.random.key(0), (4,)).dtype == jnp.float32  # the default float


def test_complex_dtypes_go_to_jax():
    ours = fj.glorot_uniform()(jax.random.key(0), (8, 8), jnp.complex64)
    theirs = jax.nn.initializers.glorot_uniform()(jax.random.key(0), (8, 8), jnp.complex64)
    assert np.array_equal(ours, theirs)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="mode"):
        fj.variance_scaling(1.0, "fan_sum", "normal")(jax.random.key(0), (4, 4))
    with pytest.raises(ValueError, match="dimensions"):
        fj.glorot_uniform()(jax.random.key(0), (4,))
    with pytest.raises(TypeError, match="key"):
        fj.normal()(np.array([1.5, 2.5]), (4,))
    with pytest.raises(ValueError, match="single"):
        fj.normal()(jax.random.split(jax.random.key(0), 3), (4,))
    with pytest.raises(ValueError, match="2D"):
        fj.orthogonal()(jax.random.key(0), (4,))


# --------------------------------------------------------------------- Flax NNX

def test_flax_nnx_linear():
    nnx = pytest.importorskip("flax.nnx")
    layer = nnx.Linear(256, 128, kernel_init=fj.glorot_uniform(), bias_init=fj.zeros, rngs=nnx.Rngs(0))
    again = nnx.Linear(256, 128, kernel_init=fj.glorot_uniform(), bias_init=fj.zeros, rngs=nnx.Rngs(0))
    kernel = np.asarray(layer.kernel[...])
    assert kernel.shape == (256, 128)
    assert np.array_equal(kernel, np.asarray(again.kernel[...]))
    assert np.abs(kernel).max() <= math.sqrt(6 / (256 + 128))
    assert ks_p(kernel, nnx.Linear(256, 128, rngs=nnx.Rngs(1)).kernel[...]) < KS_P_MIN  # not NNX's lecun default
    y = layer(jnp.ones((2, 256)))
    assert y.shape == (2, 128) and bool(jnp.isfinite(y).all())


# ---------------------------------------------------------------------- sharded

def test_sharded_arrays_on_four_fake_devices_equal_the_unsharded_array():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "jax_sharded_cases.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert " passed" in output and "skipped" not in output and " failed" not in output


def test_cpu_arrays_take_over_the_aligned_host_buffer():
    """No copy on a CPU device: XLA:CPU aliases a 64-byte aligned host buffer."""
    host = fj.host_empty((300, 7), np.float32)
    assert host.ctypes.data % 64 == 0 and host.flags.c_contiguous and host.shape == (300, 7)
    fi.normal_(host, seed=1)
    array = jax.device_put(host)
    if jax.devices()[0].platform == "cpu":
        assert array.unsafe_buffer_pointer() == host.ctypes.data
    assert np.array_equal(np.asarray(array), host)


@pytest.mark.parametrize("name", ["fastinit.jax", "fastinit._blocks", "fastinit._orthogonal"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
