"""Seeds and streams: Generator objects and the default generator (docs/architecture.md)."""
from __future__ import annotations

import operator
import threading

_U64 = 1 << 64


def check_u64(name: str, value: object) -> int:
    """value as an int in [0, 2^64), or TypeError/ValueError naming the argument."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got bool")
    try:
        as_int = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}") from None
    if not 0 <= as_int < _U64:
        raise ValueError(f"{name}={as_int} is out of range [0, 2**64)")
    return as_int


class Generator:
    """A seed plus a stream counter: each fill that uses it takes the next stream.

    ``Generator(seed)`` followed by the same sequence of calls gives the same weights, the way
    ``torch.manual_seed`` users expect; unlike a stateful generator, the n-th call's values
    depend only on (seed, n), not on the sizes of earlier calls.

    >>> g = Generator(42)
    >>> g.next_stream(), g.next_stream()
    (0, 1)
    """

    def __init__(self, seed: int = 0, stream: int = 0):
        self._lock = threading.Lock()
        self._seed = check_u64("seed", seed)
        self._next = check_u64("stream", stream)

    @property
    def seed(self) -> int:
        return self._seed

    def initial_seed(self) -> int:
        """The seed (torch.Generator's name for it)."""
        return self._seed

    def manual_seed(self, seed: int) -> Generator:
        """Reset to ``seed`` and stream 0; returns self (as torch.Generator.manual_seed)."""
        seed = check_u64("seed", seed)
        with self._lock:
            self._seed, self._next = seed, 0
        return self

    def next_stream(self) -> int:
        """Take the next stream id."""
        return self.take()[1]

    def take(self) -> tuple[int, int]:
        """(seed, next stream) taken together, atomically."""
        with self._lock:
            stream = self._next
            if stream >= _U64:
                raise OverflowError("this Generator has used all 2**64 streams")
            self._next = stream + 1
            return self._seed, stream

    def get_state(self) -> tuple[int, int]:
        """(seed, next stream), for set_state."""
        with self._lock:
            return self._seed, self._next

    def set_state(self, state: tuple[int, int]) -> None:
        seed, stream = state
        seed, stream = check_u64("seed", seed), check_u64("stream", stream)
        with self._lock:
            self._seed, self._next = seed, stream

    def __repr__(self) -> str:
        seed, stream = self.get_state()
        return f"fastinit.Generator(seed={seed}, stream={stream})"


# The default generator serves calls that pass neither seed nor generator. Its seed is 0 at
# import, so runs are reproducible by default, as with torch's default CPU generator.
default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and restart its streams at 0); returns it."""
    return default_generator.manual_seed(seed)


def resolve(seed: int | None, stream: int | None, generator: Generator | None) -> tuple[int, int]:
    """(seed, stream) for one fill. Call last, after every other check: it consumes a stream."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"generator must be a fastinit.Generator, got {type(generator).__name__}")
    if seed is not None and generator is not None:
        raise ValueError("pass either seed= or generator=, not both")
    stream = None if stream is None else check_u64("stream", stream)
    if seed is not None:
        return check_u64("seed", seed), 0 if stream is None else stream
    gen = default_generator if generator is None else generator
    if stream is not None:
        return gen.seed, stream
    return gen.take()
