"""``TorchRNGPoison``: a ``TorchFunctionMode`` that lets every call drawing from torch's random
number generator run, then overwrites what it drew with NaN.

Entered *below* ``fastinit.torch.patch()`` (``with TorchRNGPoison(), patch():``), it sees only
the calls that fastinit passes on to torch, so after a build every element of a parameter that
came from torch's RNG (and was not overwritten afterwards) is NaN: counting NaNs counts the
random elements fastinit did not write. Entered alone, it poisons every random element the
library draws, which shows the poisoning sees the library's calls (the tests check both).

torch.nn.init's functions dispatch to the mode by their module's current attribute, so a
library that rebinds them while it runs (transformers' ``guard_torch_init_functions``) or a
patch that does arrives here with another function object of the same name: every function of
an nn.init name is poisoned, except fastinit's, which stands for torch's own code here (see the
comment in ``__torch_function__``).

Only floating-point results are poisoned (an integer draw, such as the int64 seed that fastinit
takes from torch's generator, cannot hold NaN and is no weight). Calls seen: the torch.nn.init
functions that draw (they dispatch ``__torch_function__``; whatever they call inside runs below
the mode and is covered by poisoning their tensor), the Tensor methods that draw in place, and
the factories that return random tensors.
"""
from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

INIT_NAMES = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
              "kaiming_normal_", "orthogonal_", "sparse_")
# torch's own functions, as torch.nn.init defines them (taken from the module's code objects'
# owners, so an earlier rebinding of the module attribute cannot hide them)
TORCH_INIT = {name: getattr(torch.nn.init, name) for name in INIT_NAMES}
assert all(f.__module__ == "torch.nn.init" for f in TORCH_INIT.values()), "import this before any patching"
IN_PLACE = {
    torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.random_, torch.Tensor.bernoulli_,
    torch.Tensor.exponential_, torch.Tensor.cauchy_, torch.Tensor.log_normal_, torch.Tensor.geometric_,
}
FACTORIES = {
    torch.rand, torch.randn, torch.rand_like, torch.randn_like, torch.normal, torch.bernoulli,
    torch.poisson, torch.randint, torch.randint_like, torch.randperm, torch.multinomial,
}


class TorchRNGPoison(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = getattr(func, "__name__", "")
        module = getattr(func, "__module__", None) or ""
        is_init = name in INIT_NAMES and not isinstance(func, type(torch.Tensor.uniform_))
        if is_init and module.startswith("fastinit."):
            # torch's nn.init code dispatches by its module's *current* attribute: under a patch
            # that rebinds torch.nn.init, a function object captured earlier arrives here as
            # fastinit's. Without this mode torch would have run its own code: run that.
            func = TORCH_INIT[name]
        result = func(*args, **(kwargs or {}))
        if func in IN_PLACE or is_init:
            target = args[0] if args else (kwargs or {}).get("tensor", (kwargs or {}).get("self"))
        elif func in FACTORIES:
            target = result
        else:
            return result
        if isinstance(target, torch.Tensor) and target.is_floating_point() and target.device.type != "meta":
            self.calls.append(getattr(func, "__name__", str(func)))
            with torch.no_grad():
                target.detach().fill_(float("nan"))
        return result
