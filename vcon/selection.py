"""Which linear layers get compressed.

By default: every nn.Linear inside a numbered transformer block (`blocks.N.`, `layers.N.`,
`layer.N.`), i.e. the attention query/key/value/output projections (timm fuses q, k, v into one
`attn.qkv`) and both MLP linears, for timm ViTs, Hugging Face ViT (4.x and 5.x names) and BERT.
Embeddings, the patch embedding, the pooler and the classifier lie outside the blocks and stay dense.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence

from torch import nn

BLOCK_PATTERN = re.compile(r"(^|\.)(blocks|layers|layer)\.\d+\.")


def linear_layers(model: nn.Module) -> dict[str, nn.Linear]:
    """Every plain nn.Linear of the model (already compressed layers excluded), by name."""
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and not getattr(module, "is_compressed", False)
    }


def select_layers(model: nn.Module, patterns: Sequence[str] | None = None) -> dict[str, nn.Linear]:
    """The linear layers to compress, by name. `patterns` are shell-style globs matched against
    the full module name (e.g. ["*.attn.qkv", "*.mlp.*"]); None selects the transformer blocks' linears."""
    candidates = linear_layers(model)
    if patterns is None:
        chosen = {name: m for name, m in candidates.items() if BLOCK_PATTERN.search(name)}
        what = "no linear layer inside a numbered transformer block (blocks.N / layers.N / layer.N)"
    else:
        if isinstance(patterns, str):
            patterns = [patterns]
        chosen = {name: m for name, m in candidates.items() if any(fnmatch.fnmatchcase(name, p) for p in patterns)}
        what = f"no linear layer matches {list(patterns)}"
    if not chosen:
        names = ", ".join(candidates) or "none"
        raise ValueError(f"{what}; the model's linear layers are: {names}")
    return chosen
