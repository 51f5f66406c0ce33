"""Model builders from configs (no weights), one place for the model tests and benchmarks.

Each ``Spec`` names a model of a real library (or a style of code written here, for nanoGPT and
Megatron-LM, which are not packages) and knows how to:

- ``build()``: construct it the way the library's users do, including the library's own
  initialization step where that is separate from construction (torchtitan builds, then
  ``init_weights()``, as its trainer does). Called under ``torch.device("meta")`` it gives the
  meta model (``build_meta``).
- ``forward(model)``: one forward pass on a tiny batch, returning a float tensor.
- ``init`` / ``ties``: what ``fastinit.torch.init_model`` needs beyond the defaults (code that
  initializes only in ``__init__`` passes its scheme as ``init=``; code that ties in
  ``__init__`` passes ``ties=``). None for the libraries, whose own entry points init_model finds.

``size="test"`` gives small configs (the whole model suite stays within its time budget);
``size="bench"`` the shapes of the benchmarks (TinyLlama-1.1B, ViT-B/16, torchtitan Llama 3 1B).
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
from torch import nn

from . import standins


@dataclass
class Spec:
    name: str
    library: str  # the import that pytest.importorskip checks
    build: Callable[[], nn.Module]
    forward: Callable[[nn.Module], torch.Tensor]
    init: Callable[[nn.Module], Any] | None = None
    ties: dict[str, str] = field(default_factory=dict)
    dtype: torch.dtype = torch.float32

    def build_meta(self) -> nn.Module:
        """Built on ``device="meta"`` (no memory, no initialization), then ``to_empty(cpu)``."""
        with torch.device("meta"):
            model = self.build()
        return model.to_empty(device="cpu")


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype) -> Iterator[None]:
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _tokens(vocab: int, length: int = 8) -> torch.Tensor:
    return (torch.arange(2 * length).reshape(2, length) * 7 + 3) % vocab


def _logits(output: Any) -> torch.Tensor:
    return output.logits if hasattr(output, "logits") else output


# ---- transformers -----------------------------------------------------------------------

def _hf(kind: str, size: str, dtype: torch.dtype) -> Spec:
    import transformers as tf

    if kind == "llama":
        if size == "bench":  # TinyLlama-1.1B's shapes
            config = tf.LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5632,
                                    num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
                                    max_position_embeddings=2048, tie_word_embeddings=False)
        else:
            config = tf.LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
                                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
        cls, vocab = tf.LlamaForCausalLM, config.vocab_size
    elif kind == "gpt2":
        config = tf.GPT2Config(vocab_size=512, n_positions=64, n_embd=64, n_layer=2, n_head=4, bos_token_id=0,
                               eos_token_id=0)
        cls, vocab = tf.GPT2LMHeadModel, config.vocab_size
    elif kind == "bert":
        config = tf.BertConfig(vocab_size=512, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=128, max_position_embeddings=64)
        cls, vocab = tf.BertForMaskedLM, config.vocab_size
    elif kind == "t5":
        config = tf.T5Config(vocab_size=512, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_heads=4)
        cls, vocab = tf.T5ForConditionalGeneration, config.vocab_size
    else:
        raise ValueError(kind)

    def build() -> nn.Module:
        if dtype == torch.float32:
            return cls(config)
        return cls._from_config(config, dtype=dtype)

    def forward(model: nn.Module) -> torch.Tensor:
        ids = _tokens(vocab)
        with torch.no_grad():
            if kind == "t5":
                return _logits(model(input_ids=ids, decoder_input_ids=ids))
            return _logits(model(input_ids=ids))

    suffix = "" if dtype == torch.float32 else "-bf16"
    return Spec(f"hf-{kind}{suffix}", "transformers", build, forward, dtype=dtype)


# ---- timm -------------------------------------------------------------------------------

def _timm(kind: str, size: str, dtype: torch.dtype) -> Spec:
    timm = standins.import_timm()
    if kind == "vit":
        kwargs: dict[str, Any] = {} if size == "bench" else dict(img_size=32, depth=2, embed_dim=64, num_heads=4,
                                                                 num_classes=10)
        arch, image = "vit_base_patch16_224", (224 if size == "bench" else 32)
    else:
        kwargs = {} if size == "bench" else dict(layers=(1, 1, 1, 1), num_classes=10)
        arch, image = "resnet50", (224 if size == "bench" else 32)
    if dtype != torch.float32:
        kwargs["dtype"] = dtype

    def build() -> nn.Module:
        return timm.create_model(arch, pretrained=False, **kwargs)

    def forward(model: nn.Module) -> torch.Tensor:
        x = torch.linspace(-1, 1, 2 * 3 * image * image).reshape(2, 3, image, image).to(dtype)
        model.eval()
        with torch.no_grad():
            return model(x)

    suffix = "" if dtype == torch.float32 else "-bf16"
    return Spec(f"timm-{kind}{suffix}", "timm", build, forward, dtype=dtype)


# ---- torchtitan -------------------------------------------------------------------------

def _torchtitan(size: str) -> Spec:
    llama3 = standins.import_torchtitan_llama3()
    from torchtitan.models.common.attention import ScaledDotProductAttention

    def config() -> Any:
        cfg = llama3.llama3_configs["1B" if size == "bench" else "debugmodel"](attn_backend="flex")
        for layer in cfg.layers:
            # FlexAttention on the CPU needs torch.compile (a minute per test run); SDPA computes
            # the same causal attention and has no parameters, so the weights are unchanged
            layer.attention.inner_attention = ScaledDotProductAttention.Config()
            if size != "bench":  # the debug model's rope cache covers 131072 positions: 64 suffice
                layer.attention.rope.max_seq_len = 64
        return cfg

    cfg = config()

    def build() -> nn.Module:
        model = cfg.build()
        model.init_weights()  # torchtitan's trainer: build (on meta), to_empty, init_weights
        return model

    def forward(model: nn.Module) -> torch.Tensor:
        ids = _tokens(cfg.vocab_size)
        with torch.no_grad():
            return model(ids)

    return Spec("torchtitan-llama3", "torchtitan", build, forward)


# ---- litgpt -----------------------------------------------------------------------------

def _litgpt() -> Spec:
    import litgpt

    config = litgpt.Config(name="test-gpt", block_size=64, vocab_size=512, padded_vocab_size=512, n_layer=2,
                           n_head=4, n_embd=64, rotary_percentage=1.0, parallel_residual=False, bias=True,
                           norm_class_name="RMSNorm", mlp_class_name="LLaMAMLP", intermediate_size=160)

    def build() -> nn.Module:
        return litgpt.GPT(config)

    def forward(model: nn.Module) -> torch.Tensor:
        with torch.no_grad():
            return model(_tokens(config.padded_vocab_size))

    return Spec("litgpt-gpt", "litgpt", build, forward)


# ---- nanoGPT style (written here: nanoGPT is a script, not a package) --------------------

class _NanoBlock(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(dim)
        self.c_attn = nn.Linear(dim, 3 * dim)
        self.c_proj = nn.Linear(dim, dim)
        self.ln_2 = nn.LayerNorm(dim)
        self.c_fc = nn.Linear(dim, 4 * dim)
        self.mlp_proj = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, t, d)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(nn.functional.gelu(self.c_fc(self.ln_2(x))))


class NanoGPT(nn.Module):
    """The shape and initialization of Karpathy's nanoGPT model.py: learned positions, a tied
    head, ``self.apply(self._init_weights)`` (N(0, 0.02) Linear/Embedding, zero biases) and the
    residual projections at 0.02 / sqrt(2 n_layer)."""

    def __init__(self, vocab: int = 512, block: int = 64, layers: int = 2, dim: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.n_layer = layers
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, dim), wpe=nn.Embedding(block, dim),
            h=nn.ModuleList(_NanoBlock(dim, heads) for _ in range(layers)), ln_f=nn.LayerNorm(dim)))
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT
        nanogpt_init(self)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(idx.shape[1])
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def nanogpt_init(model: NanoGPT) -> None:
    """nanoGPT's initialization (run by its ``__init__``; ``init=`` for init_model)."""
    model.apply(model._init_weights)
    for name, p in model.named_parameters():
        if name.endswith("c_proj.weight"):
            torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * model.n_layer))


def _nanogpt(dtype: torch.dtype) -> Spec:
    def build() -> nn.Module:
        with _default_dtype(dtype):
            return NanoGPT()

    def forward(model: nn.Module) -> torch.Tensor:
        with torch.no_grad():
            return model(_tokens(512))

    suffix = "" if dtype == torch.float32 else "-bf16"
    return Spec(f"nanogpt{suffix}", "torch", build, forward, init=nanogpt_init,
                ties={"transformer.wte.weight": "lm_head.weight"}, dtype=dtype)


# ---- Megatron-LM style (written here) ----------------------------------------------------
# Megatron-LM makes its init methods once, from the arguments, before any model is built:
#   init_method = partial(torch.nn.init.normal_, mean=0.0, std=sigma)
#   output_layer_init_method = partial(torch.nn.init.normal_, mean=0.0, std=sigma / sqrt(2 L))
# and its layers call them on torch.empty parameters in __init__. These function objects are
# made at import time of this module, before any patch() can rebind torch.nn.init.
MEGATRON_SIGMA = 0.02
MEGATRON_LAYERS = 2
megatron_init_method = partial(torch.nn.init.normal_, mean=0.0, std=MEGATRON_SIGMA)
megatron_output_init_method = partial(torch.nn.init.normal_, mean=0.0,
                                      std=MEGATRON_SIGMA / math.sqrt(2.0 * MEGATRON_LAYERS))


class MegatronLinear(nn.Module):
    """A ColumnParallelLinear/RowParallelLinear of one rank: weight from ``init_method``, zero bias."""

    def __init__(self, fan_in: int, fan_out: int, init_method: Callable[[torch.Tensor], Any]) -> None:
        super().__init__()
        self.init_method = init_method
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in))
        self.bias = nn.Parameter(torch.empty(fan_out))
        megatron_layer_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)


def megatron_layer_init(layer: MegatronLinear) -> None:
    layer.init_method(layer.weight)
    with torch.no_grad():
        layer.bias.zero_()


class MegatronMLPStack(nn.Module):
    def __init__(self, vocab: int = 512, dim: int = 64) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        megatron_init_method(self.embedding.weight)
        self.layers = nn.ModuleList()
        for _ in range(MEGATRON_LAYERS):
            self.layers.append(nn.ModuleList([MegatronLinear(dim, 4 * dim, megatron_init_method),
                                              MegatronLinear(4 * dim, dim, megatron_output_init_method),
                                              nn.LayerNorm(dim)]))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embedding(idx)
        for fc1, fc2, norm in self.layers:
            x = x + fc2(nn.functional.gelu(fc1(norm(x))))
        return x @ self.embedding.weight.t()


def megatron_init(model: MegatronMLPStack) -> None:
    """Megatron-style initialization again (its layers initialize only in ``__init__``)."""
    megatron_init_method(model.embedding.weight)
    for module in model.modules():
        if isinstance(module, MegatronLinear):
            megatron_layer_init(module)


def _megatron() -> Spec:
    def forward(model: nn.Module) -> torch.Tensor:
        with torch.no_grad():
            return model(_tokens(512))

    return Spec("megatron-style", "torch", MegatronMLPStack, forward, init=megatron_init)


# ---- the registry -----------------------------------------------------------------------

MODELS: dict[str, tuple[str, Callable[[str], Spec]]] = {
    "hf-llama": ("transformers", lambda size: _hf("llama", size, torch.float32)),
    "hf-llama-bf16": ("transformers", lambda size: _hf("llama", size, torch.bfloat16)),
    "hf-gpt2": ("transformers", lambda size: _hf("gpt2", size, torch.float32)),
    "hf-bert": ("transformers", lambda size: _hf("bert", size, torch.float32)),
    "hf-t5": ("transformers", lambda size: _hf("t5", size, torch.float32)),
    "timm-vit": ("timm", lambda size: _timm("vit", size, torch.float32)),
    "timm-vit-bf16": ("timm", lambda size: _timm("vit", size, torch.bfloat16)),
    "timm-resnet50": ("timm", lambda size: _timm("resnet", size, torch.float32)),
    "torchtitan-llama3": ("torchtitan", _torchtitan),
    "litgpt-gpt": ("litgpt", lambda size: _litgpt()),
    "nanogpt": ("torch", lambda size: _nanogpt(torch.float32)),
    "nanogpt-bf16": ("torch", lambda size: _nanogpt(torch.bfloat16)),
    "megatron-style": ("torch", lambda size: _megatron()),
}


def spec(name: str, size: str = "test") -> Spec:
    """The builder of model ``name`` (a key of MODELS) at ``size`` ("test" or "bench")."""
    return MODELS[name][1](size)
