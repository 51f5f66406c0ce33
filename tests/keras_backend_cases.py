"""fastinit.keras against Keras 3 on the backend named by KERAS_BACKEND.

Not collected by the main test run (the file name does not start with test_): Keras fixes
its backend at import, so tests/test_keras.py runs this file once per backend (torch, jax,
numpy) in a separate, time-bounded pytest process. Statistical criterion, fixed before
looking: two-sample Kolmogorov-Smirnov p > 1e-4 between fastinit's and Keras's own
initializer, fixed seeds, 30,000-80,000 values each.

Which tests run where: the comparisons with Keras's own classes on the torch and jax
backends; the tests whose fastinit side does not depend on the backend (Keras's fan rules,
Orthogonal, truncation bounds over dtypes) on torch only, since tests/test_keras.py checks that
every backend gives the same bits for the same seed; everything else (seeds, dtypes, configs,
saving, install) on every backend. Keras's jax backend compiles each of its own random ops
per shape, which is what makes it the slow one.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

keras = pytest.importorskip("keras")
scipy_stats = pytest.importorskip("scipy.stats")

import fastinit.keras as fk  # noqa: E402

BACKEND = keras.backend.backend()
KS_P_MIN = 1e-4
CONV = (5, 5, 40, 80)  # a Conv2D kernel: fan_in 1000, fan_out 2000 (80,000 values)
TRUNC_STD_FACTOR = 0.87962566103423978


def as_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def ks_p(ours, theirs) -> float:
    return scipy_stats.ks_2samp(as_numpy(ours).ravel(), as_numpy(theirs).ravel()).pvalue


# ------------------------------------------------------------ same law as Keras

RANDOM_CASES = [
    ("RandomNormal", {}), ("RandomNormal", {"mean": 0.3, "stddev": 2.0}),
    ("RandomUniform", {}), ("RandomUniform", {"minval": -3.0, "maxval": 1.0}),
    ("TruncatedNormal", {}), ("TruncatedNormal", {"mean": -1.0, "stddev": 0.5}),
    ("GlorotUniform", {}), ("GlorotNormal", {}), ("HeUniform", {}), ("HeNormal", {}),
    ("LecunUniform", {}), ("LecunNormal", {}),
] + [
    ("VarianceScaling", {"scale": scale, "mode": mode, "distribution": dist})
    for mode in ("fan_in", "fan_out", "fan_avg")
    for dist, scale in (("truncated_normal", 1.0), ("untruncated_normal", 2.0), ("uniform", 0.5))
] + [("VarianceScaling", {"distribution": "normal"})]  # Keras maps "normal" to truncated_normal


def only_on(*backends):
    """Keep a test on these backends only; elsewhere it is not defined (not a skip)."""
    return lambda test: test if BACKEND in backends else None


@only_on("torch", "jax")
@pytest.mark.parametrize("name,kwargs", RANDOM_CASES, ids=lambda v: str(v))
def test_same_distribution_as_keras(name, kwargs):
    ours = getattr(fk, name)(seed=11, **kwargs)(CONV)
    theirs = getattr(keras.initializers, name)(seed=12, **kwargs)(CONV)
    assert ours.shape == theirs.shape
    assert ks_p(ours, theirs) > KS_P_MIN


@only_on("torch")
def test_orthogonal_same_distribution_as_keras_and_orthogonal():
    ours = as_numpy(fk.Orthogonal(gain=1.5, seed=3)((300, 120)))
    theirs = keras.initializers.Orthogonal(gain=1.5, seed=4)((300, 120))
    assert np.allclose(ours.T @ ours, 2.25 * np.eye(120), atol=1e-4)
    assert ks_p(ours, theirs) > KS_P_MIN
    wide = as_numpy(fk.Orthogonal(seed=3)((3, 3, 4, 50)))  # flattened to (36, 50): orthonormal rows
    flat = wide.reshape(36, 50)
    assert np.allclose(flat @ flat.T, np.eye(36), atol=1e-4)


@only_on("torch")
@pytest.mark.parametrize("name,kwargs,shape", [
    ("VarianceScaling", {"distribution": "uniform"}, (600,)),        # 1-d: fans (600, 600)
    ("VarianceScaling", {"distribution": "uniform", "input_axes": [0], "output_axes": [1, 2]}, (50, 40, 30)),
    ("HeNormal", {"input_axes": [0, 1], "output_axes": [2]}, (20, 30, 100)),
    ("GlorotUniform", {}, (70000,)),
], ids=str)
def test_keras_fan_rules(name, kwargs, shape):
    ours = getattr(fk, name)(seed=1, **kwargs)(shape)
    theirs = getattr(keras.initializers, name)(seed=2, **kwargs)(shape)
    assert ks_p(ours, theirs) > KS_P_MIN


def test_scalar_shape():
    assert as_numpy(fk.GlorotUniform(seed=0)(())).shape == ()
    assert abs(float(as_numpy(fk.GlorotUniform(seed=0)(())))) <= math.sqrt(3.0)  # fans (1, 1)


@pytest.mark.parametrize("name,args,shape", [
    ("Zeros", (), (3, 4)), ("Ones", (), (3, 4)), ("Constant", (2.5,), (3, 4)), ("Identity", (3.0,), (4, 6)),
], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_constants_equal_keras(name, args, shape, dtype):
    ours = getattr(fk, name)(*args)(shape, dtype)
    theirs = getattr(keras.initializers, name)(*args)(shape, dtype)
    assert ours.dtype == theirs.dtype  # float64 is float32 on jax without jax_enable_x64, as Keras's
    assert np.array_equal(as_numpy(ours), as_numpy(theirs))


@pytest.mark.parametrize("name", ["Zeros", "Ones"])
def test_integer_dtypes_go_to_keras(name):
    ours = getattr(fk, name)()((3,), "int32")
    assert keras.backend.standardize_dtype(ours.dtype) == "int32"
    assert np.array_equal(keras.ops.convert_to_numpy(ours), np.full(3, 0 if name == "Zeros" else 1))


# ----------------------------------------------------------- bounds of truncation

@only_on("torch")
def test_keras_torch_truncated_normal_escapes_its_bounds_fastinit_does_not():
    """The case of issue 14: HeNormal 512x384, seed 21."""
    bound = 2 * math.sqrt(2 / 512) / TRUNC_STD_FACTOR
    ours = as_numpy(fk.HeNormal(seed=21)((512, 384)))
    assert np.abs(ours).max() <= bound
    # Keras 3.15.1's torch backend keeps a draw outside after 4 tries
    theirs = as_numpy(keras.initializers.HeNormal(seed=21)((512, 384)))
    assert int((np.abs(theirs) > bound).sum()) == 2


@only_on("torch")
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_no_truncated_value_outside_its_bounds(dtype):
    def bound_in_dtype(b):  # a 16-bit float cannot hold b: the bound is b rounded to the dtype
        return float(as_numpy(keras.ops.cast(keras.ops.convert_to_tensor(b, "float64"), dtype)))

    for seed in range(4):
        for shape in ((512, 384), (3, 3, 64, 128), (7, 1000)):
            fan_in = shape[-2] * math.prod(shape[:-2])
            fan_avg = (fan_in + shape[-1] * math.prod(shape[:-2])) / 2
            for init, std, mean in (
                (fk.HeNormal(seed=seed), math.sqrt(2 / fan_in) / TRUNC_STD_FACTOR, 0.0),
                (fk.GlorotNormal(seed=seed), math.sqrt(1 / fan_avg) / TRUNC_STD_FACTOR, 0.0),
                (fk.TruncatedNormal(mean=0.5, stddev=0.1, seed=seed), 0.1, 0.5),
            ):
                x = as_numpy(init(shape, dtype))
                assert x.min() >= bound_in_dtype(mean - 2 * std)
                assert x.max() <= bound_in_dtype(mean + 2 * std)


# ------------------------------------------------------------------------ seeds

SHAPE = (40, 30)


def test_int_seed_repeats_on_every_call():
    init = fk.GlorotNormal(seed=5)
    assert np.array_equal(as_numpy(init(SHAPE)), as_numpy(init(SHAPE)))
    assert np.array_equal(as_numpy(init(SHAPE)), as_numpy(fk.GlorotNormal(seed=5)(SHAPE)))
    assert not np.array_equal(as_numpy(init(SHAPE)), as_numpy(fk.GlorotNormal(seed=6)(SHAPE)))


def test_unseeded_behaves_like_keras():
    """Keras 3.15.1 draws the seed of an unseeded initializer once, at construction."""
    for module in (fk, keras.initializers):
        first = module.RandomNormal()
        assert np.array_equal(as_numpy(first(SHAPE)), as_numpy(first(SHAPE)))
        assert not np.array_equal(as_numpy(first(SHAPE)), as_numpy(module.RandomNormal()(SHAPE)))
    keras.utils.set_random_seed(99)
    a = as_numpy(fk.HeUniform()(SHAPE))
    keras.utils.set_random_seed(99)
    assert np.array_equal(a, as_numpy(fk.HeUniform()(SHAPE)))


def test_seed_generator_advances():
    gen = keras.random.SeedGenerator(3)
    init = fk.RandomUniform(seed=gen)
    first, second = as_numpy(init(SHAPE)), as_numpy(init(SHAPE))
    assert not np.array_equal(first, second)
    assert np.array_equal(first, as_numpy(fk.RandomUniform(seed=3)(SHAPE)))  # state [3, 0] == seed 3
    replay = fk.RandomUniform(seed=keras.random.SeedGenerator(3))
    assert np.array_equal(as_numpy(replay(SHAPE)), first)
    assert np.array_equal(as_numpy(replay(SHAPE)), second)
    assert int(keras.ops.convert_to_numpy(gen.state.value)[1]) == 2


def test_same_values_as_the_core():
    """int seed s -> fastinit (seed s, stream 0); Keras's fans and defaults."""
    import fastinit as fi

    ours = as_numpy(fk.HeNormal(seed=77)((3, 3, 16, 32)))
    core = fi.get("he_normal")(np.empty((3, 3, 16, 32), np.float32), seed=77)
    assert np.array_equal(ours, core)


# ------------------------------------------------------------- tensors, dtypes

@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_returns_a_backend_tensor_of_the_dtype(dtype):
    x = fk.GlorotUniform(seed=0)((8, 4), dtype)
    assert keras.ops.is_tensor(x) or (BACKEND == "numpy" and isinstance(x, np.ndarray))
    assert x.dtype == keras.ops.zeros((1,), dtype).dtype  # Keras's own dtype for it on this backend
    assert tuple(x.shape) == (8, 4)
    default = fk.GlorotUniform(seed=0)((8, 4))
    assert keras.backend.standardize_dtype(default.dtype) == keras.config.floatx()


def test_cpu_result_is_the_filled_buffer():
    """torch (CPU) and numpy: no copy after the fill; jax: one device_put."""
    x = fk.RandomNormal(seed=0)((256, 256))
    if BACKEND == "torch":
        assert x.is_contiguous() and x._base is None and x.device.type == "cpu"
    elif BACKEND == "numpy":
        assert isinstance(x, np.ndarray) and x.base is None and x.flags.owndata


def test_bad_arguments_raise_before_filling():
    with pytest.raises(ValueError, match="scale"):
        fk.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="mode"):
        fk.VarianceScaling(mode="fan_geo_avg")  # Keras has no fan_geo_avg
    with pytest.raises(ValueError, match="std"):
        fk.RandomNormal(stddev=-1.0, seed=0)((2, 2))
    with pytest.raises(ValueError, match="low"):
        fk.RandomUniform(minval=1.0, maxval=0.0, seed=0)((2, 2))
    with pytest.raises(ValueError, match="two-dimensional"):
        fk.Orthogonal(seed=0)((5,))


# ---------------------------------------------------------- configs and saving

CONFIG_CASES = [
    fk.Zeros(), fk.Ones(), fk.Constant(0.25), fk.Identity(gain=2.0),
    fk.RandomNormal(mean=1.0, stddev=0.2, seed=1), fk.RandomUniform(-0.5, 0.25, seed=2),
    fk.TruncatedNormal(0.1, 0.3, seed=3), fk.VarianceScaling(0.5, "fan_out", "uniform", seed=4),
    fk.GlorotUniform(seed=5), fk.GlorotNormal(seed=6, input_axes=[0], output_axes=[1]), fk.HeUniform(seed=7),
    fk.HeNormal(seed=8), fk.LecunUniform(seed=9), fk.LecunNormal(seed=10), fk.Orthogonal(gain=0.5, seed=11),
]


@pytest.mark.parametrize("init", CONFIG_CASES, ids=lambda i: type(i).__name__)
def test_config_round_trip(init):
    cls = type(init)
    keras_cls = getattr(keras.initializers, cls.__name__)
    assert isinstance(init, keras_cls) and isinstance(init, keras.initializers.Initializer)
    config = init.get_config()
    if cls is not fk.Identity:  # Keras 3.15.1's Identity drops gain from its config; fastinit keeps it
        assert config == keras_cls.from_config(config).get_config()  # Keras's arguments and defaults
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config
    restored = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert type(restored) is cls and restored.get_config() == config
    assert np.array_equal(as_numpy(restored((6, 5))), as_numpy(init((6, 5))))


def test_seed_generator_config_round_trip():
    init = fk.HeNormal(seed=keras.random.SeedGenerator(4))
    restored = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert type(restored) is fk.HeNormal and isinstance(restored.seed, keras.random.SeedGenerator)


def build_model():
    return keras.Sequential([
        keras.Input((12,)),
        keras.layers.Dense(16),  # defaults: glorot_uniform / zeros
        keras.layers.Dense(8, kernel_initializer="he_normal", bias_initializer=fk.RandomNormal(seed=3)),
        keras.layers.Dense(4, kernel_initializer=fk.Orthogonal(seed=keras.random.SeedGenerator(2))),
    ])


def weights(model):
    return [as_numpy(w) for w in model.weights]


def test_saved_model_reloads(tmp_path):
    with fk.install():
        model = build_model()
    assert type(model.layers[0].kernel_initializer) is fk.GlorotUniform
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for before, after in zip(model.layers, loaded.layers):
        assert type(after.kernel_initializer) is type(before.kernel_initializer)
        assert type(after.kernel_initializer).__module__ == "fastinit.keras"
        assert after.kernel_initializer.get_config() == before.kernel_initializer.get_config()
    for a, b in zip(weights(model), weights(loaded)):
        assert np.array_equal(a, b)


def test_same_model_twice_with_the_same_seed_is_identical():
    runs = {}
    for seed in (1234, 1234, 4321):
        keras.utils.set_random_seed(seed)
        with fk.install():
            runs.setdefault(seed, []).append(weights(build_model()))
    first, second = runs[1234]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert not all(np.array_equal(a, b) for a, b in zip(first, runs[4321][0]))


# --------------------------------------------------------------------- install

def test_install_resolves_ids_and_layer_defaults():
    assert not fk.installed()
    with fk.install():
        assert fk.installed()
        for ident, cls in (("glorot_uniform", fk.GlorotUniform), ("GlorotUniform", fk.GlorotUniform),
                           ("he_normal", fk.HeNormal), ("zeros", fk.Zeros), ("zero", fk.Zeros),
                           ("uniform", fk.RandomUniform), ("normal", fk.RandomNormal),
                           ("orthogonal", fk.Orthogonal), ("OrthogonalInitializer", fk.Orthogonal),
                           ("identity", fk.Identity), ("variance_scaling", fk.VarianceScaling)):
            assert type(keras.initializers.get(ident)) is cls, ident
        dense = keras.layers.Dense(3)
        assert type(dense.kernel_initializer) is fk.GlorotUniform and type(dense.bias_initializer) is fk.Zeros
        lstm = keras.layers.LSTM(4)
        assert type(lstm.cell.recurrent_initializer) is fk.Orthogonal
        assert type(keras.layers.Embedding(10, 3).embeddings_initializer) is fk.RandomUniform
        norm = keras.layers.BatchNormalization()
        assert type(norm.gamma_initializer) is fk.Ones
    assert not fk.installed()
    assert type(keras.initializers.get("glorot_uniform")) is keras.initializers.GlorotUniform
    assert type(keras.layers.Dense(3).kernel_initializer) is keras.initializers.GlorotUniform


def test_install_as_a_statement_and_nested():
    fk.install()
    try:
        with fk.install():
            pass
        assert fk.installed()  # the inner context restores the state it found
    finally:
        fk.uninstall()
    assert not fk.installed()


def test_model_runs_with_installed_defaults():
    with fk.install():
        model = build_model()
    x = np.ones((8, 12), np.float32)
    assert np.isfinite(model.predict(x, verbose=0)).all()
    if BACKEND != "numpy":  # Keras's numpy backend has no fit
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(x, np.zeros((8, 4), np.float32), epochs=1, verbose=0)
        assert math.isfinite(history.history["loss"][0])


def test_values_for_the_cross_backend_check():
    """Writes a few seeded results; tests/test_keras.py checks every backend wrote the same bits."""
    out = os.environ.get("FASTINIT_KERAS_VALUES")
    if out is None:
        pytest.skip("run by tests/test_keras.py, which sets FASTINIT_KERAS_VALUES")
    arrays = {type(init).__name__: as_numpy(init((6, 5))) for init in CONFIG_CASES[4:]}
    np.savez(out, **arrays)
    assert len(arrays) == 11


def test_docstring_examples():
    import doctest

    result = doctest.testmod(fk, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 15 and result.failed == 0
