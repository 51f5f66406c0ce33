"""Seeds and streams of fastinit.torch: torch generators, fastinit generators, and the
name-derived streams that ``init_model`` pins per tensor."""
from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
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
    """While ``init_model`` runs: which tensor has which qualified name, the model's seed, how
    many random fills each name has had, and which tensors fastinit has written.

    A tensor is found by identity or, failing that, by (data pointer, shape, dtype), so that
    ``param.data`` and ``param.detach()`` (new tensor objects on the same memory, used by
    older init code as ``module.weight.data.normal_()``) resolve to the parameter's name."""

    def __init__(self) -> None:
        self.names: dict[int, str] | None = None
        self.by_memory: dict[tuple[int, tuple[int, ...], torch.dtype], str] = {}
        self.seed = 0
        self.count: dict[str, int] = {}
        self.touched: set[str] = set()

    @staticmethod
    def _memory(tensor: torch.Tensor) -> tuple[int, tuple[int, ...], torch.dtype] | None:
        if tensor.device.type == "meta" or tensor.numel() == 0:
            return None
        return (tensor.data_ptr(), tuple(tensor.shape), tensor.dtype)

    def name_of(self, tensor: torch.Tensor) -> str | None:
        """The qualified name of ``tensor`` (or of the parameter whose memory it is), or None."""
        if self.names is None:
            return None
        name = self.names.get(id(tensor))
        if name is None:
            key = self._memory(tensor)
            name = self.by_memory.get(key) if key is not None else None
        return name

    def next_index(self, name: str) -> int:
        """k of ``stream_for_name(name, k)`` for the next random fill of ``name``."""
        index = self.count.get(name, 0)
        self.count[name] = index + 1
        return index

    def mark_written(self, tensor: torch.Tensor) -> None:
        name = self.name_of(tensor)
        if name is not None:
            self.touched.add(name)

    def was_written(self, tensor: torch.Tensor) -> bool:
        name = self.name_of(tensor)
        return name is not None and name in self.touched

    @contextlib.contextmanager
    def naming(self, named: list[tuple[str, torch.Tensor]], seed: int) -> Iterator[None]:
        """Name ``named`` (qualified name, tensor) pairs for fills under ``seed``; nests."""
        previous = (self.names, self.by_memory, self.seed, self.count, self.touched)
        self.names = {id(t): n for n, t in named}
        self.by_memory = {}
        for n, t in named:
            key = self._memory(t)
            if key is not None:
                self.by_memory.setdefault(key, n)
        self.seed, self.count, self.touched = seed, {}, set()
        try:
            yield
        finally:
            self.names, self.by_memory, self.seed, self.count, self.touched = previous


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
    name = _naming.name_of(tensor) if generator is None else None
    if name is not None:
        return {"seed": _naming.seed, "stream": stream_for_name(name, _naming.next_index(name))}
    if isinstance(generator, Generator):
        return {"generator": generator}
    if generator is None or isinstance(generator, torch.Generator):
        # one draw from torch's generator: torch.manual_seed(s) + the same calls = same weights
        # (drawn on the generator's device, the CPU for the default one, whatever the default device)
        device = generator.device if generator is not None else "cpu"
        seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64, generator=generator, device=device))
        return {"seed": seed}
    raise TypeError(f"generator must be a torch.Generator or a fastinit.Generator, got {type(generator).__name__}")
