"""fastinit for torch: a drop-in replacement for ``torch.nn.init``, fast model construction,
and per-name reproducible initialization.

Switching is one line::

    import fastinit.torch as init        # instead of: import torch.nn.init as init

Every public function of ``torch.nn.init`` exists here with the same name, signature,
defaults and return value, and draws from the same distribution with the same variance. The
values are not torch's bits: fastinit has its own generator (Philox4x32-10, see
docs/stream-contract.md). Differences from torch, all documented in docs/torch.md:

- ``generator`` may be a ``torch.Generator`` (or None for torch's default generator): the
  first fill after it was seeded draws a seed from it (and re-seeds it with a marker), later
  fills take the next stream of that seed, so ``torch.manual_seed(s)`` followed by the same
  calls gives the same weights. A ``fastinit.Generator`` is used directly (next stream).
- Supported dtypes: float32, float64, bfloat16, float16. Non-contiguous tensors are filled in
  logical (row-major) order through a contiguous copy. Meta tensors are a no-op, as in
  torch. Tensors on other devices (CUDA, MPS) are filled on the CPU and copied over.
- Arguments are validated more strictly than torch does (e.g. ``std < 0``, ``a >= b`` raise
  ``ValueError`` before anything is written).

This module imports torch; ``import fastinit`` alone never does.
"""
from __future__ import annotations

from ._functions import (
    _ORIGINAL,  # noqa: F401  (torch's own functions, for tests and the adapters)
    calculate_gain,
    constant_,
    dirac_,
    eye_,
    kaiming_normal_,
    kaiming_uniform_,
    normal_,
    ones_,
    orthogonal_,
    sparse_,
    trunc_normal_,
    uniform_,
    xavier_normal_,
    xavier_uniform_,
    zeros_,
)
from ._init_model import init_model
from ._patch import install, patch, uninstall
from ._shards import shard_
from ._streams import stream_for_name

__all__ = [
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "init_model",
    "install",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "patch",
    "shard_",
    "sparse_",
    "stream_for_name",
    "trunc_normal_",
    "uniform_",
    "uninstall",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]
