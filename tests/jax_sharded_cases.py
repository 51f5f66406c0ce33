"""fastinit.jax's sharded arrays on 4 fake CPU devices equal the unsharded array.

Not collected by the main test run: XLA reads --xla_force_host_platform_device_count when jax
is first imported, so tests/test_jax.py runs this file in its own pytest process with
XLA_FLAGS set.
"""
from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import fastinit.jax as fj  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P  # noqa: E402

SHAPE = (64, 48, 6)
INITS = {
    "glorot_uniform": fj.glorot_uniform(), "he_normal": fj.he_normal(), "lecun_normal": fj.lecun_normal(),
    "fan_geo_avg": fj.variance_scaling(0.7, "fan_geo_avg", "normal", in_axis=0, out_axis=(1, 2)),
    "uniform": fj.uniform(3.0), "normal": fj.normal(0.5), "truncated_normal": fj.truncated_normal(2.0),
    "orthogonal": fj.orthogonal(column_axis=0),
}


def meshes():
    devices = np.array(jax.devices())
    assert devices.size == 4, "run with XLA_FLAGS=--xla_force_host_platform_device_count=4"
    return {
        "1d": Mesh(devices, ("a",)),
        "2x2": Mesh(devices.reshape(2, 2), ("a", "b")),
    }


SPECS = {
    "1d": [P("a"), P(None, "a"), P(None, None, None), P(None, ("a",))],
    "2x2": [P("a", "b"), P("b", "a"), P(None, "a", "b"), P(("a", "b")), P("a")],
}


@pytest.mark.parametrize("name", sorted(INITS))
@pytest.mark.parametrize("dtype", [np.float32, "bfloat16"])
def test_sharded_equals_unsharded(name, dtype):
    init = INITS[name]
    key = jax.random.key(2024)
    whole = np.asarray(init(key, SHAPE, dtype))
    for mesh_name, mesh in meshes().items():
        for spec in SPECS[mesh_name]:
            sharding = NamedSharding(mesh, spec)
            array = init(key, SHAPE, dtype, out_sharding=sharding)
            assert array.sharding == sharding
            assert np.array_equal(np.asarray(array), whole), (mesh_name, spec)
            for shard in array.addressable_shards:  # every device holds its part of the whole
                assert np.array_equal(np.asarray(shard.data), whole[shard.index])


def test_partition_spec_uses_the_mesh_that_is_set():
    mesh = meshes()["2x2"]
    key = jax.random.key(5)
    whole = np.asarray(fj.he_uniform()(key, SHAPE))
    with jax.set_mesh(mesh):
        array = fj.he_uniform()(key, SHAPE, out_sharding=P("a", "b"))
    assert np.array_equal(np.asarray(array), whole)
    assert len(array.addressable_shards) == 4


def test_partition_spec_without_a_mesh_is_an_error():
    with pytest.raises(ValueError, match="mesh"):
        fj.he_uniform()(jax.random.key(5), SHAPE, out_sharding=P("a"))
