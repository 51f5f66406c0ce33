"""``patch()``, ``install()``, ``uninstall()``: routing torch.nn.init through fastinit."""
from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from . import _functions
from ._functions import _ORIGINAL

_PATCHED = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)
_patch_lock = threading.RLock()
_patch_depth = 0
_patch_undo: list[tuple[Any, str, Any]] = []


def install() -> None:
    """Route ``torch.nn.init`` (and every module that imported its functions by name, such as
    ``torch.nn.modules.activation``) through fastinit. Nested calls are counted; each
    ``install`` needs one ``uninstall``."""
    global _patch_depth
    with _patch_lock:
        _patch_depth += 1
        if _patch_depth > 1:
            return
        mine = _functions
        originals = {id(_ORIGINAL[name]): name for name in _PATCHED}
        for module in list(sys.modules.values()):
            if module is None or module is mine:
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attr, value in list(namespace.items()):
                name = originals.get(id(value))
                if name is not None and value is _ORIGINAL[name]:
                    _patch_undo.append((module, attr, value))
                    setattr(module, attr, getattr(mine, name))


def uninstall() -> None:
    """Undo one ``install`` (the originals come back when the outermost one is undone)."""
    global _patch_depth
    with _patch_lock:
        if _patch_depth == 0:
            return
        _patch_depth -= 1
        if _patch_depth:
            return
        while _patch_undo:
            module, attr, value = _patch_undo.pop()
            setattr(module, attr, value)


@contextlib.contextmanager
def patch() -> Iterator[None]:
    """Context manager: inside it, modules built with ``torch.nn.init`` use fastinit.

    >>> with patch():
    ...     layer = torch.nn.Linear(512, 512)
    """
    install()
    try:
        yield
    finally:
        uninstall()
