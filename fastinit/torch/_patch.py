"""``patch()``, ``install()``, ``uninstall()``: route torch's random fills through fastinit
while a block runs (see ``_intercept`` for how, and docs/torch.md "How patch() works")."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import _intercept


def install() -> None:
    """Route every random fill of this thread that fastinit can serve through it (torch.nn.init
    functions, however they were captured, Tensor methods, factories), until ``uninstall``.
    Nested calls are counted; each ``install`` needs one ``uninstall`` in the same thread.
    Fills may stay pending until the outermost ``uninstall``, which writes them all."""
    _intercept.enter()


def uninstall() -> None:
    """Undo one ``install`` of this thread (the outermost writes every pending fill and ends
    the interception; a call without a matching ``install`` does nothing)."""
    _intercept.leave()


@contextlib.contextmanager
def patch() -> Iterator[None]:
    """Context manager: inside it, this thread's random fills use fastinit.

    Every fill of a whole tensor is written at the latest when the block exits (also on an
    exception); nothing of the block outlives it.

    >>> with patch():
    ...     layer = torch.nn.Linear(512, 512)
    """
    install()
    try:
        yield
    finally:
        uninstall()
