"""The interception behind ``patch()``: a ``torch.overrides.TorchFunctionMode`` that routes
every random fill fastinit can serve to fastinit, and defers it.

Routes (whatever the caller captured, and however it reached the tensor):

- the ``torch.nn.init`` functions that dispatch ``__torch_function__`` (``uniform_``,
  ``normal_``, ``constant_``, ``kaiming_uniform_``); the others are written with the Tensor
  methods below, except ``trunc_normal_`` (a rejection sampler in torch 2.13), whose code
  object is swapped for a thread-aware trampoline while any thread is inside ``patch()``;
- the Tensor methods ``uniform_``, ``normal_``, ``zero_``, ``fill_`` (also through ``.data``,
  ``.detach()`` or any view), ``copy_`` into a pending tensor;
- the factories ``torch.randn``, ``torch.rand``, ``torch.randn_like``, ``torch.rand_like``,
  ``torch.normal(mean: float, std: float, size)``.

A call fastinit cannot serve exactly as torch would (a ``generator=`` argument, ``out=``,
an integer dtype, a tensor on another device or of a subclass, arguments fastinit rejects,
an in-place method on a leaf that requires grad outside ``no_grad``) goes to torch unchanged.

Deferred fills. A random or constant fill of a whole CPU tensor (contiguous, all of its
storage) is recorded as pending, keyed by the storage's address: (distribution, parameters,
seed, stream), the seed drawn at once from torch's generator (or the stream pinned by
``init_model``). In-place ops recognized as part of a library idiom transform the pending
description instead of running (``_transform``): ``erfinv_`` of a pending uniform on
[-1, 1], ``mul_``/``add_``/``sub_`` by a number, ``clamp_`` within the bounds; a later full
overwrite (another fill, ``zero_``, ``fill_``, ``copy_``) replaces it. Any other op that sees
a tensor of that storage (argument scan of every call the mode sees, views included) writes
the pending fill first with one fastinit fill; views and metadata reads (``.data``,
``view``, ``t()``, ``shape``, ``x[0]``...) do not. Everything still pending is written when
the outermost ``patch()`` of the thread exits, also on an exception. So timm's
``trunc_normal_`` (uniform_, erfinv_, mul_, add_, clamp_) is one fastinit truncated-normal
fill, and a weight that nn.Linear fills and the model's own init fills again is written once.

Threads: torch's function-mode stack is per thread, so ``patch()`` covers the thread that
enters it. Other threads keep torch's own behaviour (the trunc_normal_ trampoline sends
them to torch's original code). Tensors built inside a ``patch()`` block may hold pending
fills until the block exits: another thread must not read them before that.
"""
from __future__ import annotations

import math
import threading
import types
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from .. import _backend
from . import _functions as F
from . import _dtensor
from ._functions import _CODES, CONSTANT, NORMAL, TRUNC_NORMAL, UNIFORM, _Bound, _bind, fill_at, plan
from ._streams import _naming, _stream_args

_FALL = object()  # a handler's answer: let torch run the call
_PLAIN = (torch.Tensor, torch.nn.Parameter)
_SQRT2 = math.sqrt(2.0)
# a clamp this many std from the mean cuts off a mass below 6e-17 (Phi(-8.3) = 5.2e-17), less
# than any 53-bit uniform resolves; torch's and timm's cdf, (1 + erf(x / sqrt(2))) / 2 in
# float64, is exactly 0 (or 1) from about 8.5 std on
_FAR_STD = 8.3


class _Pending:
    """A fill recorded but not written: ``alias`` shares the storage (a detached view of the
    whole tensor, so a later ``param.data = ...`` does not move it)."""

    __slots__ = ("alias", "dist", "params", "seed", "stream", "phase")

    def __init__(self, alias: torch.Tensor, bound: _Bound):
        self.alias = alias
        self.dist, self.params, self.seed, self.stream = bound.dist, bound.params, bound.seed, bound.stream
        # None: the fill (dist, params); "erfinv": erfinv of the uniform (dist, params);
        # "soft": a truncated normal whose bounds came out of float arithmetic (a clamp may
        # restate them exactly)
        self.phase: str | None = None

    def write(self) -> None:
        if self.phase == "erfinv":  # erfinv(U(lo, hi)) = Z / sqrt(2), Z truncated normal
            self._erfinv_to_trunc(1.0 / _SQRT2)
        if self.dist == CONSTANT:
            with torch.no_grad():
                self.alias.fill_(self.params[0])  # torch's own rounding of the value
            return
        alias = self.alias  # a whole contiguous CPU tensor (only those are recorded)
        fill_at(self.dist, alias.data_ptr(), alias.numel(), _CODES[alias.dtype], self.seed, self.stream, 0,
                self.params)

    def _erfinv_to_trunc(self, std: float) -> None:
        lo, hi = self.params
        self.dist, self.phase = TRUNC_NORMAL, "soft"
        self.params = (0.0, std, _erfinv(lo) * _SQRT2 * std, _erfinv(hi) * _SQRT2 * std)


def _erfinv(y: float) -> float:
    """erfinv(y) = Phi^-1((1 + y) / 2) / sqrt(2), with fastinit's own Phi^-1."""
    if y <= -1.0:
        return -math.inf
    if y >= 1.0:
        return math.inf
    return _backend._active.normal_ppf((1.0 + y) / 2.0) / _SQRT2


class _State(threading.local):
    def __init__(self) -> None:
        self.depth = 0
        self.mode: _Mode | None = None
        self.pending: dict[int, _Pending] = {}


_state = _State()
_global_lock = threading.Lock()
_global_users = 0  # threads inside patch(): the trunc_normal_ trampoline is in place while > 0


def active() -> bool:
    """Whether this thread is inside patch()/install()."""
    return _state.depth > 0


# ------------------------------------------------------------------------- pending fills


def _storage_address(tensor: torch.Tensor) -> int | None:
    try:
        return tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError, TypeError):  # sparse, nested, functional, ...
        return None


def _is_whole(tensor: torch.Tensor) -> bool:
    return (
        tensor.storage_offset() == 0
        and tensor.is_contiguous()
        and tensor.numel() * tensor.element_size() == tensor.untyped_storage().nbytes()
    )


def _materialize(address: int) -> None:
    pending = _state.pending.pop(address, None)
    if pending is not None:
        pending.write()


def materialize_all() -> None:
    """Write every pending fill of this thread (in the order they were recorded)."""
    pending = _state.pending
    with torch._C.DisableTorchFunction():
        while pending:
            _materialize(next(iter(pending)))


def _defer(tensor: torch.Tensor, bound: _Bound) -> bool:
    """Record ``bound`` as the pending content of ``tensor`` if this thread is inside patch()
    and the tensor is a whole plain CPU tensor; else write any pending fill of its storage
    (the caller then fills now) and return False."""
    state = _state
    if not state.depth or type(tensor) not in _PLAIN:
        return False
    if _mode_enabled():  # called from user code inside the block (not from the mode's handler)
        with torch._C.DisableTorchFunction():
            return _record(state, tensor, bound)
    return _record(state, tensor, bound)


_mode_enabled = torch._C._is_torch_function_mode_enabled


def _record(state: _State, tensor: torch.Tensor, bound: _Bound) -> bool:
    if not tensor.is_cpu:
        return False
    try:
        storage = tensor.untyped_storage()
    except (RuntimeError, NotImplementedError, TypeError):
        return False
    address = storage.data_ptr()
    n = tensor.numel()
    if n == 0:
        return True
    if not (tensor.storage_offset() == 0 and n * tensor.element_size() == storage.nbytes()
            and tensor.is_contiguous()):
        if address in state.pending:
            _materialize(address)
        return False
    state.pending.pop(address, None)  # overwritten whole: the earlier fill is never written
    state.pending[address] = _Pending(tensor.detach(), bound)
    if _naming.names is not None:
        _naming.mark(tensor)
    return True


def _pending_of(tensor: Any) -> _Pending | None:
    """The pending fill of a whole tensor, if any."""
    if not _state.pending or type(tensor) not in _PLAIN:
        return None
    address = _storage_address(tensor)
    pending = _state.pending.get(address) if address is not None else None
    if pending is None or not _is_whole(tensor) or pending.alias.dtype != tensor.dtype:
        return None
    return pending


def _scan(values: Any) -> None:
    """Write the pending fills of every tensor among ``values`` (one level of lists/tuples)."""
    pending = _state.pending
    for value in values:
        if isinstance(value, torch.Tensor):
            address = _storage_address(value)
            if address is not None and address in pending:
                _materialize(address)
        elif isinstance(value, (list, tuple)):
            _scan(value)


# ------------------------------------------------------------------------------ handlers


def _servable(tensor: Any) -> bool:
    return type(tensor) in _PLAIN and tensor.is_cpu and tensor.dtype in _CODES


def _routable(tensor: Any) -> bool:
    """A tensor a random fill of fastinit serves: a plain CPU one, or a DTensor / device
    tensor, which _functions._fill hands to fastinit.torch._dtensor (its shard, its device)."""
    return _servable(tensor) or (
        isinstance(tensor, torch.Tensor) and tensor.dtype in _CODES and _dtensor.needs_routing(tensor)
    )


def _grad_blocks(tensor: torch.Tensor) -> bool:
    """An in-place method torch would refuse (leaf requiring grad) or record in autograd."""
    return tensor.requires_grad and torch.is_grad_enabled()


def _serve(tensor: torch.Tensor, kind: str, params: tuple) -> Any:
    """One fill of ``kind`` through fastinit (pending if possible), or _FALL."""
    try:
        found = plan(kind, tuple(tensor.shape), _CODES[tensor.dtype], params)
    except (TypeError, ValueError):
        return _FALL
    if kind == "constant":  # written now only as torch writes it (its rounding of the value)
        return tensor if _defer(tensor, _Bound(*found, 0, 0)) else _FALL
    F._submit(tensor, _bind(found, _stream_args(tensor, None)))
    return tensor


def _init_function(name: str) -> Any:
    """Handler of a torch.nn.init function that dispatches __torch_function__."""
    drop_in = getattr(F, name)

    def handle(args: tuple, kwargs: dict) -> Any:
        call = dict(zip(("tensor",), args), **kwargs)
        tensor = call.get("tensor")
        if call.get("generator") is not None or not _routable(tensor):
            return _FALL
        try:
            return drop_in(**call)
        except (TypeError, ValueError):  # torch raises its own error, or serves it
            return _FALL

    return handle


def _method(kind: str, names: tuple[str, str], defaults: tuple[float, float]) -> Any:
    """Handler of Tensor.uniform_(from, to, *, generator) / Tensor.normal_(mean, std, *, generator)."""

    def handle(args: tuple, kwargs: dict) -> Any:
        if not args or kwargs.get("generator") is not None or len(args) > 3:
            return _FALL
        tensor = args[0]
        if not _routable(tensor) or _grad_blocks(tensor):
            return _FALL
        values = list(args[1:]) + [None] * (3 - len(args))
        for i, name in enumerate(names):
            if name in kwargs:
                if values[i] is not None:
                    return _FALL
                values[i] = kwargs[name]
            elif values[i] is None:
                values[i] = defaults[i]
        if set(kwargs) - {"generator", *names}:
            return _FALL
        return _serve(tensor, kind, tuple(values))

    return handle


def _zero(args: tuple, kwargs: dict) -> Any:
    if len(args) != 1 or kwargs or not _servable(args[0]) or _grad_blocks(args[0]):
        return _FALL
    return _serve(args[0], "constant", (0.0,))


def _fill_value(args: tuple, kwargs: dict) -> Any:
    if len(args) != 2 or kwargs or not _servable(args[0]) or _grad_blocks(args[0]):
        return _FALL
    value = args[1]
    if type(value) not in (int, float) or not math.isfinite(value):
        return _FALL
    return _serve(args[0], "constant", (value,))


def _copy(args: tuple, kwargs: dict) -> Any:
    """copy_ into a whole pending tensor overwrites it: the pending fill is never written."""
    if len(args) < 2 or not isinstance(args[1], torch.Tensor) or _grad_blocks(args[0]):
        return _FALL
    pending = _pending_of(args[0])
    if pending is None or _storage_address(args[1]) == _storage_address(args[0]):
        return _FALL
    _scan(args[1:])
    _state.pending.pop(_storage_address(args[0]), None)
    return _FALL  # torch copies


# ---- idioms: in-place ops that transform a pending fill ----------------------------------


def _number(value: Any) -> float | None:
    if type(value) in (int, float) and math.isfinite(value):
        return float(value)
    return None


def _idiom(op: str) -> Any:
    def handle(args: tuple, kwargs: dict) -> Any:
        if not args or _grad_blocks(args[0]):
            return _FALL
        pending = _pending_of(args[0])
        if pending is None:
            return _FALL
        if _transform(pending, op, args[1:], kwargs):
            return args[0]
        return _FALL

    return handle


def _transform(p: _Pending, op: str, args: tuple, kwargs: dict) -> bool:
    """Change the pending description as ``op`` would change the values; False if it cannot
    be expressed as one fastinit fill (the caller then writes it and lets torch run)."""
    if op == "erfinv_":
        if args or kwargs or p.phase is not None or p.dist != UNIFORM:
            return False
        lo, hi = p.params
        if not -1.0 <= lo < hi <= 1.0:
            return False
        p.phase = "erfinv"
        return True
    if op == "clamp_":
        bounds = dict(zip(("min", "max"), args), **kwargs)
        low, high = _number(bounds.get("min", -math.inf)), _number(bounds.get("max", math.inf))
        if bounds.get("min") is None:
            low = -math.inf
        if bounds.get("max") is None:
            high = math.inf
        if low is None or high is None or set(bounds) - {"min", "max"} or p.dist != TRUNC_NORMAL:
            return False
        mean, std, a, b = p.params
        if p.phase == "soft":
            # bounds computed in float from erfinv(2 cdf - 1): the clamp states them exactly.
            # A bound whose cdf rounded to exactly 0 or 1 gave an infinite soft bound; a clamp
            # at least _FAR_STD away then states the caller's bound, far beyond anything the
            # generator reaches (timm's trunc_normal_(std=0.02) with its default a=-2, b=2:
            # 100 std, which torch's own clamp would otherwise run on the whole tensor)
            if a == -math.inf and low > -math.inf and (low - mean) / std <= -_FAR_STD:
                a = low
            if b == math.inf and high < math.inf and (high - mean) / std >= _FAR_STD:
                b = high
        slack = 1e-6 * (b - a) if math.isfinite(b - a) else 0.0
        if low > a + slack or high < b - slack:  # the clamp cuts into the distribution
            return False
        if p.phase == "soft":
            a = low if abs(low - a) <= slack else a
            b = high if abs(high - b) <= slack else b
            p.phase = None
        p.params = (mean, std, a, b)
        return True
    # mul_ / add_ / sub_ by a number: an affine map of the distribution
    if len(args) != 1 or set(kwargs) - {"alpha"}:
        return False
    c = _number(args[0])
    alpha = _number(kwargs.get("alpha", 1))
    if c is None or alpha is None or p.dist == CONSTANT:
        return False
    if op == "mul_":
        if alpha != 1.0 or not c > 0.0:
            return False
        if p.phase == "erfinv":  # erfinv(U) * c: c is std * sqrt(2) in timm and torch's old code
            p._erfinv_to_trunc(_std_from_product(c))
            return True
        return _affine(p, c, 0.0)
    shift = c * alpha if op == "add_" else -c * alpha
    if p.phase == "erfinv":
        p._erfinv_to_trunc(1.0 / _SQRT2)
    return _affine(p, 1.0, shift)


def _std_from_product(c: float) -> float:
    """The s with s * sqrt(2) == c in float64 if there is one (timm passes c = std * sqrt(2)):
    the std the caller wrote, not c / sqrt(2) rounded."""
    s = c / _SQRT2
    for candidate in (s, math.nextafter(s, math.inf), math.nextafter(s, -math.inf)):
        if candidate * _SQRT2 == c:
            return candidate
    return s


def _affine(p: _Pending, scale: float, shift: float) -> bool:
    """x -> scale * x + shift (scale > 0) of a pending uniform, normal or truncated normal."""
    if p.dist == UNIFORM:
        lo, hi = p.params
        new: tuple[float, ...] = (lo * scale + shift, hi * scale + shift)
    elif p.dist == NORMAL:
        mean, std = p.params
        new = (mean * scale + shift, std * scale)
    else:
        mean, std, a, b = p.params
        new = (mean * scale + shift, std * scale, a * scale + shift, b * scale + shift)
    kind = {UNIFORM: "uniform", NORMAL: "normal", TRUNC_NORMAL: "trunc_normal"}[p.dist]
    try:  # still a fill fastinit accepts for this dtype
        plan(kind, (), _CODES[p.alias.dtype], new)
    except (TypeError, ValueError):
        return False
    p.params = new
    return True


# ---- factories ----------------------------------------------------------------------------


def _factory(kind: str, like: bool) -> Any:
    make = torch.empty_like if like else torch.empty

    def handle(args: tuple, kwargs: dict) -> Any:
        if kwargs.get("generator") is not None or kwargs.get("out") is not None or "names" in kwargs:
            return _FALL
        rest = {k: v for k, v in kwargs.items() if k != "generator"}
        try:
            tensor = make(*args, **rest)
        except (TypeError, RuntimeError, ValueError):
            return _FALL
        if not _servable(tensor) or tensor.layout != torch.strided:
            return _FALL
        return _serve(tensor, kind, (0.0, 1.0))

    return handle


def _normal_factory(args: tuple, kwargs: dict) -> Any:
    """torch.normal(mean: float, std: float, size, *, dtype, layout, device, ...)."""
    call = dict(zip(("mean", "std", "size"), args), **kwargs)
    if len(args) > 3 or call.get("generator") is not None or call.get("out") is not None or "size" not in call:
        return _FALL
    mean, std = _number(call.pop("mean", None)), _number(call.pop("std", 1.0))
    if mean is None or std is None or std < 0:
        return _FALL
    call.pop("generator", None)
    try:
        tensor = torch.empty(call.pop("size"), **call)
    except (TypeError, RuntimeError, ValueError):
        return _FALL
    if not _servable(tensor) or tensor.layout != torch.strided:
        return _FALL
    return _serve(tensor, "normal", (mean, std))


# ---- the mode -------------------------------------------------------------------------------

T = torch.Tensor
_HANDLERS: dict[Any, Any] = {
    F._ORIGINAL["uniform_"]: _init_function("uniform_"),
    F._ORIGINAL["normal_"]: _init_function("normal_"),
    F._ORIGINAL["constant_"]: _init_function("constant_"),
    F._ORIGINAL["kaiming_uniform_"]: _init_function("kaiming_uniform_"),
    T.uniform_: _method("uniform", ("from", "to"), (0.0, 1.0)),
    T.normal_: _method("normal", ("mean", "std"), (0.0, 1.0)),
    T.zero_: _zero,
    T.fill_: _fill_value,
    T.copy_: _copy,
    T.erfinv_: _idiom("erfinv_"),
    T.mul_: _idiom("mul_"),
    T.add_: _idiom("add_"),
    T.sub_: _idiom("sub_"),
    T.clamp_: _idiom("clamp_"),
    torch.randn: _factory("normal", like=False),
    torch.rand: _factory("uniform", like=False),
    torch.randn_like: _factory("normal", like=True),
    torch.rand_like: _factory("uniform", like=True),
    torch.normal: _normal_factory,
}

# calls that read no element of their tensor arguments: views and metadata
_VIEWS = {getattr(T, name) for name in (
    "detach", "detach_", "view", "view_as", "t", "transpose", "permute", "unsqueeze", "squeeze", "expand",
    "expand_as", "narrow", "select", "unbind", "split", "chunk", "as_strided", "dim", "size", "numel",
    "nelement", "stride", "storage_offset", "is_contiguous", "element_size", "data_ptr", "is_floating_point",
    "is_complex", "get_device", "requires_grad_", "new_empty", "new_zeros", "new_ones", "new_full", "__len__",
    "__hash__", "ndimension",
)}
_VIEWS |= {getattr(T, name).__get__ for name in (
    "data", "shape", "dtype", "device", "is_cpu", "is_cuda", "is_meta", "is_sparse", "is_quantized", "layout",
    "requires_grad", "is_leaf", "ndim", "grad", "grad_fn", "names", "T", "mT", "_version", "output_nr",
) if hasattr(T, name)}
_VIEWS |= {torch.empty_like, torch.zeros_like, torch.ones_like, torch.full_like, torch.is_tensor,
           torch.is_floating_point, torch.numel}
_BASIC_INDEX = (int, slice, type(None), type(Ellipsis))


def _basic_index(index: Any) -> bool:
    if isinstance(index, tuple):
        return all(type(i) in _BASIC_INDEX for i in index)
    return type(index) in _BASIC_INDEX


_FUNCTION = types.FunctionType
_DISPATCHING = ("uniform_", "normal_", "constant_", "kaiming_uniform_")
_INIT_NAMESPACE = torch.nn.init.__dict__


def _rebound_init_function(func: Any) -> Any:
    """The handler of torch's own ``torch.nn.init.<name>`` when that name is rebound.

    torch's functions dispatch with the function their module's global name holds at that
    moment: while transformers' ``guard_torch_init_functions`` has swapped ``normal_`` for its
    wrapper, torch's own ``normal_`` (that the wrapper called, after its checks) arrives here
    as the wrapper. Only torch's function bodies dispatch that way, so it is served as torch's."""
    name = func.__name__
    if name in _DISPATCHING and _INIT_NAMESPACE.get(name) is func and func is not F._ORIGINAL[name]:
        return _HANDLERS[F._ORIGINAL[name]]
    return None


class _Mode(TorchFunctionMode):
    """fastinit's function mode (one per thread inside patch())."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        handler = _HANDLERS.get(func)
        if handler is None and type(func) is _FUNCTION:
            handler = _rebound_init_function(func)
        if handler is not None:
            out = handler(args, kwargs)
            if out is not _FALL:
                return out
        if _state.pending and func not in _VIEWS and not (func is T.__getitem__ and _basic_index(args[1])):
            _scan(args)
            _scan(kwargs.values())
        return func(*args, **kwargs)


# ---- torch.nn.init.trunc_normal_ (no __torch_function__ dispatch in torch 2.13) -------------

_TRUNC = F._ORIGINAL["trunc_normal_"]
_TRUNC_CODE = _TRUNC.__code__
_TRUNC_TORCH = types.FunctionType(_TRUNC_CODE, _TRUNC.__globals__, _TRUNC.__name__, _TRUNC.__defaults__,
                                  _TRUNC.__closure__)
_TRUNC_TORCH.__kwdefaults__ = _TRUNC.__kwdefaults__


def _trunc_normal_trampoline(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):  # type: ignore[no-untyped-def]
    # runs as torch.nn.init.trunc_normal_'s code while some thread is inside patch()
    return __import__("fastinit.torch._intercept", fromlist=["_"])._trunc_normal(tensor, mean, std, a, b, generator)


def _trunc_normal(tensor: Any, mean: Any, std: Any, a: Any, b: Any, generator: Any) -> Any:
    if _state.depth and generator is None and _routable(tensor):
        with torch._C.DisableTorchFunction():
            try:
                return F.trunc_normal_(tensor, mean, std, a, b)
            except (TypeError, ValueError):
                pass
    return _TRUNC_TORCH(tensor, mean, std, a, b, generator)


def _acquire_global() -> None:
    global _global_users
    with _global_lock:
        _global_users += 1
        if _global_users == 1:
            _TRUNC.__code__ = _trunc_normal_trampoline.__code__


def _release_global() -> None:
    global _global_users
    with _global_lock:
        _global_users -= 1
        if _global_users == 0:
            _TRUNC.__code__ = _TRUNC_CODE


# ---- entering and leaving ------------------------------------------------------------------


def enter() -> None:
    """One level of patch() in this thread (the mode is pushed at the outermost)."""
    state = _state
    if state.depth == 0:
        _acquire_global()
        mode = _Mode()
        try:
            mode.__enter__()
        except BaseException:
            _release_global()
            raise
        state.mode = mode
    state.depth += 1


def leave() -> None:
    """Undo one enter(); the outermost writes every pending fill and pops the mode."""
    state = _state
    if state.depth == 0:
        return
    state.depth -= 1
    if state.depth:
        return
    mode, state.mode = state.mode, None
    try:
        with torch._C.DisableTorchFunction():
            materialize_all()
    finally:
        state.pending.clear()
        try:
            mode.__exit__(None, None, None)  # type: ignore[union-attr]
        finally:
            _release_global()


F._defer = _defer
F._intercept_state = _state
