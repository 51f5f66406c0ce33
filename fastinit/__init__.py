"""fastinit: fast, reproducible weight initialization into preallocated buffers.

Fills NumPy arrays and any writable buffer in place with Glorot/Xavier, He/Kaiming, LeCun,
uniform, normal, truncated-normal and constant initial weights, from the counter-based
Philox4x32-10 generator: element i of stream (seed, stream) is the same on every machine,
backend, thread count and chunking (docs/stream-contract.md).

>>> import numpy as np, fastinit as fi
>>> w = fi.kaiming_uniform_(np.empty((256, 128), np.float32), seed=1)
>>> fi.backend() in ("c-scalar", "numpy") or fi.backend().startswith("c-")
True
"""
from __future__ import annotations

from . import _backend
from ._backend import get_num_threads, set_num_threads
from ._api import (
    DISTRIBUTIONS,
    TRUNCATED_NORMAL_STD_FACTOR,
    constant,
    constant_,
    get,
    glorot_normal,
    glorot_normal_,
    glorot_uniform,
    glorot_uniform_,
    he_normal,
    he_normal_,
    he_uniform,
    he_uniform_,
    kaiming_normal,
    kaiming_normal_,
    kaiming_uniform,
    kaiming_uniform_,
    lecun_normal,
    lecun_normal_,
    lecun_uniform,
    lecun_uniform_,
    normal,
    normal_,
    ones,
    ones_,
    philox4x32,
    random_bits,
    random_bits_,
    trunc_normal,
    trunc_normal_,
    uniform,
    uniform_,
    variance_scaling,
    variance_scaling_,
    xavier_normal,
    xavier_normal_,
    xavier_uniform,
    xavier_uniform_,
    zeros,
    zeros_,
)
from ._fans import LAYOUTS, MODES, NONLINEARITIES, calculate_gain, fans
from ._generator import Generator, default_generator, manual_seed
from ._mathspec import CONTRACT_VERSION

__version__ = "0.1.0"


def backend() -> str:
    """What runs the fills: "c-<isa>" (e.g. "c-scalar") for the C extension, or "numpy"."""
    return _backend.name()


__all__ = [
    "CONTRACT_VERSION", "DISTRIBUTIONS", "Generator", "LAYOUTS", "MODES", "NONLINEARITIES",
    "TRUNCATED_NORMAL_STD_FACTOR", "backend", "calculate_gain", "constant", "constant_",
    "default_generator", "fans", "get", "get_num_threads", "set_num_threads", "glorot_normal", "glorot_normal_", "glorot_uniform",
    "glorot_uniform_", "he_normal", "he_normal_", "he_uniform", "he_uniform_", "kaiming_normal",
    "kaiming_normal_", "kaiming_uniform", "kaiming_uniform_", "lecun_normal", "lecun_normal_",
    "lecun_uniform", "lecun_uniform_", "manual_seed", "normal", "normal_", "ones", "ones_",
    "philox4x32", "random_bits", "random_bits_", "trunc_normal", "trunc_normal_", "uniform",
    "uniform_", "variance_scaling", "variance_scaling_", "xavier_normal", "xavier_normal_",
    "xavier_uniform", "xavier_uniform_", "zeros", "zeros_",
]
