"""Which backend runs the fills: the C extension (fastinit._core) or the NumPy one.

Chosen once at import. ``FASTINIT_BACKEND=numpy|c`` forces one; without it the C extension
is used when it imports, else the NumPy backend with one warning. ``FASTINIT_ISA`` forces
the C kernel set: one of the levels C's descriptor list names (``_core.ISAS``, read from
csrc/dispatch.c: scalar, neon, avx2, avx512); ``import fastinit`` raises ValueError saying
whether the name is unknown, not compiled into this build, or beyond this CPU.
"""
from __future__ import annotations

import contextlib
import functools
import os
import warnings
from types import ModuleType
from typing import Iterator

from . import _numpy
from ._contract import MAX_THREADS

_active: ModuleType


@functools.lru_cache(maxsize=None)  # failures (ImportError, ValueError) are not cached
def _load_c() -> ModuleType:
    from . import _core  # type: ignore[attr-defined]

    _core.init_isa()  # best level, or FASTINIT_ISA (ValueError if it cannot run here)
    return _core


def _choose() -> ModuleType:
    forced = os.environ.get("FASTINIT_BACKEND", "").strip().lower()
    if forced not in ("", "c", "numpy"):
        raise ImportError(f"FASTINIT_BACKEND={forced!r} is not one of 'c', 'numpy'")
    if forced == "numpy":
        return _numpy
    try:
        return _load_c()
    except ImportError as exc:
        if forced == "c":
            raise ImportError(
                f"FASTINIT_BACKEND=c but the C extension fastinit._core is not available ({exc})"
            ) from exc
        warnings.warn(
            f"fastinit: the C extension is not available ({exc}); using the pure-NumPy backend "
            "(same results, slower). Reinstall with a C compiler for full speed.",
            RuntimeWarning,
            stacklevel=3,
        )
        return _numpy


_active = _choose()


def active() -> ModuleType:
    return _active


def available() -> dict[str, ModuleType]:
    """Every backend that can run here, by name ('c' only when the extension imports)."""
    found = {"numpy": _numpy}
    try:
        found["c"] = _load_c()
    except ImportError:
        pass
    return found


def name() -> str:
    """'c-<isa>' (e.g. 'c-scalar') or 'numpy'."""
    return "numpy" if _active is _numpy else f"c-{_active.isa()}"


@contextlib.contextmanager
def using(backend: str) -> Iterator[None]:
    """Run the block on the named backend ('c' or 'numpy'); for tests and benchmarks."""
    global _active
    mods = available()
    if backend not in mods:
        raise ValueError(f"backend {backend!r} is not available here (have: {sorted(mods)})")
    previous, _active = _active, mods[backend]
    try:
        yield
    finally:
        _active = previous


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for large fills (C backend; the NumPy backend is single-threaded).

    The default is ``FASTINIT_NUM_THREADS`` if set, else the number of CPUs this process may
    run on. Results never depend on it: every element is a pure function of its index.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"n={n} must be in [1, {MAX_THREADS}]")
    try:
        core = _load_c()
    except ImportError:
        core = None
    if core is not None:
        core.set_num_threads(n)
    global _threads_without_c
    _threads_without_c = n


def get_num_threads() -> int:
    """Threads used by large fills of the C backend."""
    try:
        return int(_load_c().get_num_threads())
    except ImportError:
        return _threads_without_c


_threads_without_c = 1
