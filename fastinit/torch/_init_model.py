"""``init_model``: (re)initialize a whole model, each tensor from the stream of its name."""
from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from .. import _api
from ._patch import patch
from ._streams import naming


def _reset_method(module: torch.nn.Module) -> Callable[[], Any] | None:
    for name in ("reset_parameters", "_reset_parameters"):
        method = getattr(module, name, None)
        if callable(method):
            return method
    return None


def _post_order(module: torch.nn.Module, prefix: str = "") -> Iterator[tuple[str, torch.nn.Module]]:
    for name, child in module.named_children():
        yield from _post_order(child, f"{prefix}{name}.")
    yield prefix.rstrip("."), module


def init_model(
    model: torch.nn.Module,
    seed: int = 0,
    scheme: Mapping[str | type, Callable[[Any], Any]] | None = None,
    progress: bool = True,
) -> torch.nn.Module:
    """(Re)initialize every parameter and buffer of ``model`` that torch would, reproducibly
    from ``seed`` and each tensor's qualified name.

    Each module's own ``reset_parameters()`` (or ``_reset_parameters()``) runs, children
    before parents (the order of construction), with torch.nn.init routed through fastinit;
    every random fill of a tensor draws from stream ``stream_for_name(name, k)`` (k: how many
    fills of that tensor came before in this call). So the weights do not depend on
    construction order, on building on ``device="meta"`` then ``to_empty``, or on the process.

    ``scheme`` overrides: a key that is a module type maps to ``fn(module)`` run instead of its
    reset; a string key is an fnmatch pattern of qualified parameter/buffer names mapping to
    ``fn(tensor)`` (e.g. ``{"*.c_proj.weight": lambda t: normal_(t, 0, 0.02 / math.sqrt(24))}``),
    applied after the resets, first match wins. Parameters that nothing initializes (a custom
    module without a reset method, not in ``scheme``) are listed in a warning.
    A progress bar (tqdm, if installed) is shown for models of more than 10M parameters.
    """
    scheme = dict(scheme or {})
    seed = _api.check_u64("seed", seed)
    modules = list(_post_order(model))
    bar = _progress(model, len(modules)) if progress else None
    named = list(model.named_parameters()) + list(model.named_buffers())
    try:
        with naming(named, seed) as state, patch():
            for _, module in modules:
                custom = next(
                    (fn for key, fn in scheme.items() if isinstance(key, type) and isinstance(module, key)), None
                )
                if custom is not None:
                    custom(module)
                else:
                    reset = _reset_method(module)
                    if reset is not None:
                        reset()
                if bar is not None:
                    bar.update(1)
            patterns = [(key, fn) for key, fn in scheme.items() if isinstance(key, str)]
            for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
                for pattern, fn in patterns:
                    if fnmatch.fnmatchcase(name, pattern):
                        fn(tensor)
                        state.touched.add(name)
                        break
            # pending fills count as written (patch() writes them on exit)
            untouched = [n for n, p in model.named_parameters() if n not in state.touched]
    finally:
        if bar is not None:
            bar.close()
    if untouched:
        shown = ", ".join(untouched[:5]) + (" ..." if len(untouched) > 5 else "")
        warnings.warn(
            f"init_model: {len(untouched)} parameter(s) have no reset_parameters() and match no "
            f"scheme entry, left as they were: {shown}",
            stacklevel=2,
        )
    return model


def _progress(model: torch.nn.Module, total: int) -> Any:
    if sum(p.numel() for p in model.parameters()) <= 10_000_000:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="fastinit.init_model", unit="module")
