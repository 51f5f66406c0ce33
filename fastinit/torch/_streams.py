"""Seeds and streams of fastinit.torch: torch generators, fastinit generators, and the
name-derived streams that ``init_model`` pins per tensor."""
from __future__ import annotations

import hashlib
import threading
from typing import Any

import torch

from .._generator import Generator


def stream_for_name(name: str, index: int = 0) -> int:
    """The stream of a parameter from its qualified name: the first 8 bytes (little-endian) of
    BLAKE2b-64 of ``"{name}#{index}"`` (UTF-8). ``index`` counts earlier random fills of the same
    tensor within one ``init_model`` call. Stable across processes, versions and machines."""
    digest = hashlib.blake2b(f"{name}#{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class _Naming(threading.local):
    """While ``init_model`` runs: tensor id -> qualified name, and the model's seed."""

    def __init__(self) -> None:
        self.names: dict[int, str] | None = None
        self.seed = 0
        self.count: dict[int, int] = {}
        self.touched: set[int] = set()


_naming = _Naming()


class _FixedStream:
    """A 'generator' that pins the (seed, stream) already chosen for a call (so that a
    function built on another, like orthogonal_ on normal_, takes one stream, not two)."""

    def __init__(self, args: dict[str, Any]):
        self.args = args


def _stream_args(tensor: torch.Tensor, generator: Any) -> dict[str, Any]:
    """fastinit's seed/stream/generator keywords for one fill of ``tensor``."""
    if isinstance(generator, _FixedStream):
        return generator.args
    names = _naming.names
    if names is not None and id(tensor) in names and generator is None:
        key = id(tensor)
        index = _naming.count.get(key, 0)
        _naming.count[key] = index + 1
        return {"seed": _naming.seed, "stream": stream_for_name(names[key], index)}
    if isinstance(generator, Generator):
        return {"generator": generator}
    if generator is None or isinstance(generator, torch.Generator):
        # one draw from torch's generator: torch.manual_seed(s) + the same calls = same weights
        # (drawn on the generator's device, the CPU for the default one, whatever the default device)
        device = generator.device if generator is not None else "cpu"
        seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64, generator=generator, device=device))
        return {"seed": seed}
    raise TypeError(f"generator must be a torch.Generator or a fastinit.Generator, got {type(generator).__name__}")
