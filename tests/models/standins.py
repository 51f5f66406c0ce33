"""Stand-ins for two imports that the model libraries make but model construction never uses.

- ``torchvision`` (imported by timm at ``import timm``): the PyPI torchvision 0.28.0 wheel is a
  CUDA build whose import fails against torch 2.13.0+cpu (in torchvision/_meta_registrations.py),
  and installing it with its dependencies would replace torch. timm's model code needs no
  torchvision op: it imports ``torchvision.ops.misc.FrozenBatchNorm2d`` (for an optional
  BatchNorm conversion), the datasets and transforms (for timm.data), and the FX feature
  extractor. While ``import timm`` runs, a finder serves those modules with placeholders that
  raise on use; afterwards the finder and the placeholder modules are removed from
  ``sys.modules``, so nothing else in the process sees a torchvision.
- ``torchtitan.distributed.minimal_async_ep.kernels`` (imported by torchtitan's MoE code, which
  ``torchtitan.models.llama3`` imports): Triton kernels for expert-parallel token dispatch on
  GPUs. Triton is not installed (a 286 MB GPU compiler), and a fake ``triton`` would change
  torch's own behaviour (torch._dynamo inspects it). Only that one torchtitan module is replaced,
  by functions that raise if called; the dense Llama 3 never calls them.

Used by tests/models/builders.py only (tests and benchmarks); never by fastinit itself.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

_TV = "torchvision"
_TT_KERNELS = "torchtitan.distributed.minimal_async_ep.kernels"
_TT_KERNEL_NAMES = (
    "copy_full_counts_to_peers_kernel", "copy_rows_to_peers_kernel", "fill_dispatch_metadata_kernel",
    "fill_combine_metadata_kernel", "invert_flat_indices_kernel", "reduce_topk_slots_kernel",
    "expand_topk_grad_kernel", "topk_scores_grad_kernel",
)


class _Placeholder(type):
    """A class that stands for a torchvision name: attribute access gives more placeholders
    (``InterpolationMode.BILINEAR`` at import time), instantiation raises."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{cls.__qualname__}: torchvision is not installed (test stand-in, see tests/models/standins.py)")


def _placeholder(name: str) -> type:
    return _Placeholder(name, (), {"__qualname__": name})


class _TorchvisionFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == _TV or fullname.startswith(_TV + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        module.__path__ = []

        def __getattr__(name: str, _prefix: str = spec.name) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            return _placeholder(f"{_prefix}.{name}")

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def import_timm() -> types.ModuleType:
    """``import timm`` with the torchvision stand-in present only while it runs."""
    if "timm" in sys.modules:
        return sys.modules["timm"]
    try:
        import torchvision  # noqa: F401  (a working torchvision, if one is installed)
        return importlib.import_module("timm")
    except Exception:
        for name in [n for n in sys.modules if n == _TV or n.startswith(_TV + ".")]:
            del sys.modules[name]
    finder = _TorchvisionFinder()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module("timm")
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == _TV or n.startswith(_TV + ".")]:
            del sys.modules[name]


def import_torchtitan_llama3() -> types.ModuleType:
    """``import torchtitan.models.llama3`` with the Triton kernel module replaced (see above)."""
    if "torchtitan.models.llama3" in sys.modules:
        return sys.modules["torchtitan.models.llama3"]
    try:
        import triton  # noqa: F401
    except ImportError:
        kernels = types.ModuleType(_TT_KERNELS)
        kernels.__doc__ = "test stand-in: Triton is not installed (tests/models/standins.py)"
        for name in _TT_KERNEL_NAMES:
            def kernel(*args: Any, _name: str = name, **kwargs: Any) -> Any:
                raise RuntimeError(f"{_name}: Triton is not installed (test stand-in)")
            setattr(kernels, name, kernel)
        sys.modules.setdefault(_TT_KERNELS, kernels)
    return importlib.import_module("torchtitan.models.llama3")
