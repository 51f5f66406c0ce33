"""Seeds and streams of fastinit.torch: torch generators, fastinit generators, and the
name-derived streams that ``init_model`` pins per tensor.

Interface for ``init_model`` (and anything else that pins streams by name)::

    with naming(model.named_parameters(), seed) as state:   # also buffers
        ...every fill of a named tensor, through any route, draws stream_for_name(name, k)
    state.touched   # the names of the tensors some fill wrote

A tensor is recognised by its memory (storage address and element count), not by the
Python object: ``param.data``, ``param.detach()``, ``param.view(-1)`` or any other view of
the whole tensor is the same tensor. A view of part of a named tensor (a fused weight filled
slice by slice) draws from the stream of ``"{name}@{first}:{shape}:{strides}"`` (first: the
view's first element within the tensor), so it too is independent of torch's generator and of
the order of construction; it counts as writing the tensor (as torch's version counter would).
Any other tensor filled inside the block (a temporary that the model's init fills and copies
in, as torchtitan's fused ``wqkv`` init does) draws from ``stream_for_name("<unnamed>", k)``, k
counting such fills: reproducible from the seed and the order of the init code, not from
torch's seed.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import threading
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from .._generator import Generator


def stream_for_name(name: str, index: int = 0) -> int:
    """The stream of a parameter from its qualified name: the first 8 bytes (little-endian) of
    BLAKE2b-64 of ``"{name}#{index}"`` (UTF-8). ``index`` counts earlier random fills of the same
    tensor within one ``init_model`` call. Stable across processes, versions and machines."""
    digest = hashlib.blake2b(f"{name}#{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def memory_key(tensor: torch.Tensor) -> tuple[int, int] | None:
    """(address of the first element, element count) of a tensor with memory, else None.

    A DTensor (or another wrapper subclass) has no memory of its own (its ``data_ptr()`` is
    0, so two parameters of one size would share a key): it is known by its local shard's
    address, or, when its shard is empty, by its identity (a key no address can take)."""
    if tensor.device.type == "meta" or tensor.layout != torch.strided:
        return None
    n = tensor.numel()
    if not n:
        return None
    if type(tensor) is torch.Tensor or type(tensor) is torch.nn.Parameter:
        return (tensor.data_ptr(), n)
    local = getattr(tensor, "_local_tensor", None)
    if local is not None and local.numel():
        return (local.data_ptr(), n)
    return (-id(tensor), 0)


class _Naming(threading.local):
    """While ``init_model`` runs (per thread): memory key -> qualified name, the model's seed,
    fills per name so far, and the names some fill wrote."""

    def __init__(self) -> None:
        self.names: dict[tuple[int, int], str] | None = None
        self.seed = 0
        self.count: dict[str, int] = {}
        self.touched: set[str] = set()

    def name_of(self, tensor: torch.Tensor) -> str | None:
        if self.names is None:
            return None
        key = memory_key(tensor)
        return self.names.get(key) if key is not None else None

    def _part_of(self, tensor: torch.Tensor) -> tuple[str, str] | None:
        """(name, name with the view's place) when ``tensor`` is a view of part of a named tensor."""
        key = memory_key(tensor) if self.names is not None else None
        if key is None:
            return None
        address, size = key[0], tensor.element_size()
        extent = 1 + sum((n - 1) * st for n, st in zip(tensor.shape, tensor.stride()))  # elements spanned
        for (start, count), parent in self.names.items():  # partial views are rare: a scan is enough
            if start <= address and address + extent * size <= start + count * size and (address - start) % size == 0:
                return parent, f"{parent}@{(address - start) // size}:{tuple(tensor.shape)}:{tuple(tensor.stride())}"
        return None

    def stream_name_of(self, tensor: torch.Tensor) -> str | None:
        """The name whose streams a fill of ``tensor`` draws: a named tensor's own, or for a
        view of part of one, the name with the view's place in it (module docstring)."""
        name = self.name_of(tensor)
        if name is not None:
            return name
        part = self._part_of(tensor)
        return part[1] if part is not None else None

    def mark(self, tensor: torch.Tensor) -> None:
        """Record that a fill wrote ``tensor`` (if it is a named one)."""
        name = self.name_of(tensor)
        if name is None:  # a fill of part of a named tensor counts as writing it, as torch's version counter would
            part = self._part_of(tensor)
            name = part[0] if part is not None else None
        if name is not None:
            self.touched.add(name)


_naming = _Naming()


@contextlib.contextmanager
def naming(named: Iterable[tuple[str, torch.Tensor]], seed: int) -> Iterator[_Naming]:
    """Pin the stream of every fill of the given tensors to ``stream_for_name(name, k)`` with
    ``seed`` while the block runs (in this thread). The first name of a tensor wins (tied
    weights). Yields the state, whose ``touched`` set names the tensors that were filled."""
    names: dict[tuple[int, int], str] = {}
    for name, tensor in named:
        key = memory_key(tensor)
        if key is not None:
            names.setdefault(key, name)
    previous = (_naming.names, _naming.seed, _naming.count, _naming.touched)
    _naming.names, _naming.seed, _naming.count, _naming.touched = names, seed, {}, set()
    try:
        yield _naming
    finally:
        _naming.names, _naming.seed, _naming.count, _naming.touched = previous


class _FixedStream:
    """A 'generator' that pins the (seed, stream) already chosen for a call (so that a
    function built on another, like orthogonal_ on normal_, takes one stream, not two)."""

    def __init__(self, args: dict[str, Any]):
        self.args = args


class _SeedBuffer(threading.local):
    """One int64 CPU tensor per thread that torch's generator draws seeds into, and its
    NumPy view (one in-place ``random_`` costs a third of a ``torch.randint`` call)."""

    def __init__(self) -> None:
        self.tensor = torch.empty(1, dtype=torch.int64, device="cpu")
        self.array = self.tensor.numpy()


_seeds = _SeedBuffer()
_DEFAULT_GENERATOR = torch.default_generator


def _draw(generator: torch.Generator) -> int:
    _seeds.tensor.random_(generator=generator)
    return int(_seeds.array[0])


class _Epoch:
    """Seeds of one torch CPU generator: ``seed`` drawn from it, then streams 0, 1, 2, ...
    while its ``initial_seed()`` is still ``marker`` (the generator was re-seeded with the
    marker, a second draw, right after ``seed`` was drawn: any later ``manual_seed`` shows)."""

    __slots__ = ("marker", "seed", "streams")

    def __init__(self, marker: int, seed: int):
        self.marker, self.seed, self.streams = marker, seed, itertools.count(1)


_epochs: weakref.WeakKeyDictionary[torch.Generator, _Epoch] = weakref.WeakKeyDictionary()
_default_epoch: list[_Epoch | None] = [None]  # torch.default_generator's, without a dict lookup
_epoch_lock = threading.Lock()


def draw_seed_stream(generator: torch.Generator | None = None) -> tuple[int, int]:
    """(seed, stream) of one fill from torch's generator (the default CPU one for None).

    The first fill after the generator was seeded draws a 63-bit seed from it (one int64
    ``random_()``) and re-seeds it with a second draw (the marker); later fills take the
    same seed and the next stream, for as long as ``generator.initial_seed()`` is the marker.
    So ``torch.manual_seed(s)`` followed by the same calls gives the same weights, and a call
    costs no torch random call. A generator of another device draws one seed per call."""
    if generator is None or generator is _DEFAULT_GENERATOR:
        epoch = _default_epoch[0]
        if epoch is not None and _DEFAULT_GENERATOR.initial_seed() == epoch.marker:
            return epoch.seed, next(epoch.streams)
        return _new_epoch(_DEFAULT_GENERATOR)
    g = generator
    if g.device.type != "cpu":
        return int(torch.empty(1, dtype=torch.int64, device=g.device).random_(generator=g).item()), 0
    epoch = _epochs.get(g)
    if epoch is not None and g.initial_seed() == epoch.marker:
        return epoch.seed, next(epoch.streams)
    return _new_epoch(g)


def _new_epoch(g: torch.Generator) -> tuple[int, int]:
    with _epoch_lock:
        seed = _draw(g)
        marker = _draw(g)
        g.manual_seed(marker)
        epoch = _Epoch(marker, seed)
        if g is _DEFAULT_GENERATOR:
            _default_epoch[0] = epoch
        else:
            _epochs[g] = epoch
    return seed, 0


def _stream_args(tensor: torch.Tensor, generator: Any) -> dict[str, Any]:
    """fastinit's seed/stream/generator keywords for one fill of ``tensor``."""
    if type(generator) is _FixedStream:
        return generator.args
    if generator is None and _naming.names is not None:
        # a tensor that is no named one nor part of one (a temporary the model's init fills and
        # copies in, as torchtitan's fused wqkv does) takes the next of the "<unnamed>" streams:
        # reproducible from the seed and the order of the model's own init code
        name = _naming.stream_name_of(tensor) or "<unnamed>"
        if name is not None:
            index = _naming.count.get(name, 0)
            _naming.count[name] = index + 1
            return {"seed": _naming.seed, "stream": stream_for_name(name, index)}
    if generator is None or isinstance(generator, torch.Generator):
        seed, stream = draw_seed_stream(generator)
        return {"seed": seed, "stream": stream}
    if isinstance(generator, Generator):
        return {"generator": generator}
    raise TypeError(f"generator must be a torch.Generator or a fastinit.Generator, got {type(generator).__name__}")
