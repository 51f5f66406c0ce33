"""``init_model``: (re)initialize a whole model with its own initialization scheme, each tensor
from the stream of its qualified name.

What runs, in this order (docs/torch.md, "init_model"):

1. ``ties``: target parameters are pointed at their source (``to_empty`` unties weights).
2. The model's own initialization: ``init`` if it is a callable, else the library's entry
   point when the model has one (transformers' ``PreTrainedModel.init_weights``, which also
   re-ties; torchtitan's and timm's ``init_weights``), else nothing.
3. Each module that still has a parameter or buffer nobody wrote gets its own
   ``reset_parameters()`` (children before parents, the order of construction); the tensors
   of that module that step 2 did write are kept as step 2 left them.
   A module whose type is a ``scheme`` key runs that function instead.
4. ``scheme`` overrides by name pattern.
5. Any parameter or buffer still unwritten is an error that names it.

"Written" is seen by torch's version counter (every in-place torch op on a tensor or a view
of it), by fastinit's own fills (which write memory directly), or by the tensor having been
replaced (``self.cache = ...``, ``register_buffer``, a re-tie).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from .. import _api
from ._patch import patch
from ._streams import _naming, naming

InitFn = Callable[[torch.nn.Module], Any]


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


def _own_tensors(module: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """The module's own (not its children's) parameters and buffers, by local name."""
    for name, tensor in list(module._parameters.items()) + list(module._buffers.items()):
        if tensor is not None:
            yield name, tensor


def _is_transformers_model(model: torch.nn.Module) -> bool:
    cls = type(model)
    return any(c.__name__ == "PreTrainedModel" and c.__module__.startswith("transformers.") for c in cls.__mro__)


def _transformers_init(model: torch.nn.Module) -> None:
    """transformers' own ``init_weights()`` (``initialize_weights`` through ``_init_weights``,
    then ``tie_weights``), after clearing the ``_is_hf_initialized`` marks that make it skip
    modules and tensors it has seen before (a model built normally carries them all)."""
    for module in model.modules():
        if "_is_hf_initialized" in module.__dict__:
            del module.__dict__["_is_hf_initialized"]
        for _, tensor in _own_tensors(module):
            if "_is_hf_initialized" in getattr(tensor, "__dict__", {}):
                del tensor.__dict__["_is_hf_initialized"]
    model.init_weights()


def _library_init(model: torch.nn.Module) -> InitFn | None:
    """The model's own initialization entry point, if its library gives it one."""
    if _is_transformers_model(model) and callable(getattr(model, "init_weights", None)):
        return _transformers_init
    if callable(getattr(model, "init_weights", None)):  # torchtitan, timm
        return lambda m: m.init_weights()
    return None


class _Writes:
    """Which parameters and buffers of a model have been written since construction of this
    object: torch's version counter, fastinit's own record of its fills, or replacement."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self.before: dict[str, tuple[torch.Tensor, int]] = {
            name: (tensor, tensor._version) for name, tensor in _named_tensors(model)
        }

    def written(self, name: str, tensor: torch.Tensor) -> bool:
        if tensor.numel() == 0 or tensor.device.type == "meta":
            return True  # nothing to write
        old = self.before.get(name)
        if old is None or old[0] is not tensor:
            return True  # replaced (re-registered, re-tied)
        name_seen = _naming.name_of(tensor)
        return tensor._version != old[1] or (name_seen is not None and name_seen in _naming.touched)

    def unwritten(self) -> list[str]:
        return [name for name, tensor in _named_tensors(self.model) if not self.written(name, tensor)]


def _named_tensors(model: torch.nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Every parameter and buffer with its qualified name; a shared (tied) tensor once, under
    the first name, as ``named_parameters`` lists it."""
    out = list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if b is not None]
    seen: set[int] = set()
    unique = []
    for name, tensor in out:
        if id(tensor) not in seen:
            seen.add(id(tensor))
            unique.append((name, tensor))
    return unique


def _tie(model: torch.nn.Module, ties: Mapping[str, str]) -> None:
    """Point each target parameter at its source; every name is checked before any is tied."""
    resolved = []
    for target, source in ties.items():
        owner_name, _, attr = target.rpartition(".")
        try:
            owner = model.get_submodule(owner_name)
            shared = model.get_parameter(source)
        except AttributeError as exc:
            raise ValueError(f"init_model: ties={{{target!r}: {source!r}}}: {exc}") from None
        if not isinstance(getattr(owner, attr, None), torch.nn.Parameter):
            raise ValueError(f"init_model: ties names {target!r}, which is not a parameter of the model")
        resolved.append((owner, attr, shared))
    for owner, attr, shared in resolved:
        setattr(owner, attr, shared)


def _reset_unwritten(model: torch.nn.Module, writes: _Writes, types: list[tuple[type, InitFn]], bar: Any) -> None:
    """Step 3: reset each module that has an unwritten tensor, keeping what step 2 wrote; a
    module whose type is in ``scheme`` runs that function instead, whatever was written."""
    for prefix, module in _post_order(model):
        custom = next((fn for key, fn in types if isinstance(module, key)), None)
        if custom is not None:
            custom(module)
            if bar is not None:
                bar.update(1)
            continue
        own = [(local, f"{prefix}.{local}" if prefix else local, t) for local, t in _own_tensors(module)]
        pending = [full for _, full, t in own if not writes.written(full, t)]
        reset = _reset_method(module)
        if pending and reset is not None:
            kept = {local: t.detach().clone() for local, full, t in own if writes.written(full, t)}
            reset()
            with torch.no_grad():
                for local, value in kept.items():
                    current = getattr(module, local)
                    if current is not None and current.shape == value.shape:
                        current.copy_(value)
        if bar is not None:
            bar.update(1)


def init_model(
    model: torch.nn.Module,
    seed: int = 0,
    init: InitFn | str | None = None,
    scheme: Mapping[str | type, Callable[[Any], Any]] | None = None,
    ties: Mapping[str, str] | None = None,
    progress: bool = True,
) -> torch.nn.Module:
    """(Re)initialize every parameter and buffer of ``model`` with the model's own
    initialization, reproducibly from ``seed`` and each tensor's qualified name.

    The model's own scheme runs (``init(model)`` if ``init`` is a callable; otherwise
    transformers' ``init_weights()``, torchtitan's or timm's ``init_weights()`` when the model
    has one; ``init="reset"`` skips it), with ``torch.nn.init`` routed through fastinit. Then
    every module that still has a parameter or buffer nobody wrote runs its own
    ``reset_parameters()`` (children before parents), keeping what the model's scheme wrote.
    The k-th random fill of a tensor draws from stream ``stream_for_name(name, k)``, so the
    weights do not depend on construction order, on building on ``device="meta"`` then
    ``to_empty``, on torch's seed, or on the process.

    ``ties`` maps a parameter's name to the parameter it shares (``{"lm_head.weight":
    "transformer.wte.weight"}``): ``to_empty`` gives tied weights two tensors, and code that
    ties in ``__init__`` cannot tie again by itself (transformers and torchtitan re-tie in their
    own init). ``scheme`` overrides: a module type maps to ``fn(module)`` run after the above; a
    string is an fnmatch pattern of qualified parameter/buffer names mapping to ``fn(tensor)``,
    applied last, first match wins.

    Raises ``RuntimeError`` naming every parameter or buffer that nothing wrote (a buffer made
    in ``__init__`` with no reset method, a custom parameter no scheme covers): after
    ``to_empty`` such a tensor holds whatever the memory held. A progress bar (tqdm, if
    installed) is shown for models of more than 10M parameters.

    >>> with torch.device("meta"):      # or transformers.LlamaForCausalLM(config), ...
    ...     model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8))
    >>> model = init_model(model.to_empty(device="cpu"), seed=1234)
    """
    scheme = dict(scheme or {})
    seed = _api.check_u64("seed", seed)
    if init is not None and init != "reset" and not callable(init):
        raise TypeError(f"init must be a callable, 'reset' or None, got {init!r}")
    if ties:
        _tie(model, ties)
    own_init = _library_init(model) if init is None else (None if init == "reset" else init)
    modules = list(_post_order(model))
    bar = _progress(model, len(modules)) if progress else None
    with naming(_named_tensors(model), seed):
        writes = _Writes(model)
        try:
            with patch():
                if own_init is not None:
                    own_init(model)
                types = [(key, fn) for key, fn in scheme.items() if isinstance(key, type)]
                _reset_unwritten(model, writes, types, bar)
                patterns = [(key, fn) for key, fn in scheme.items() if isinstance(key, str)]
                for name, tensor in _named_tensors(model):
                    for pattern, fn in patterns:
                        if fnmatch.fnmatchcase(name, pattern):
                            fn(tensor)
                            _naming.mark(tensor)
                            break
            missing = writes.unwritten()
        finally:
            if bar is not None:
                bar.close()
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise RuntimeError(
            f"init_model: {len(missing)} parameter(s)/buffer(s) were written by neither the model's own "
            f"initialization nor a reset_parameters() nor scheme: {shown}. Give them a scheme entry "
            f"(e.g. scheme={{{missing[0]!r}: fn}}) or an init= callable."
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
