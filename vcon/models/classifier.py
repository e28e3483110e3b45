"""`Classifier`: the one module type the trainer sees, whatever the underlying network."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

FAMILIES = ("timm-vit", "hf-vit", "hf-bert")
# State-dict prefix of each family's classification head (what a new task replaces).
HEAD_PREFIXES = {"timm-vit": "net.head.", "hf-vit": "net.classifier.", "hf-bert": "net.classifier."}
TEXT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


class Classifier(nn.Module):
    """Wraps a network as `self.net` and returns plain `N x num_classes` logits.

    Images (`timm-vit`, `hf-vit`) come as an `N x C x H x W` tensor; text (`hf-bert`) as a mapping
    holding `input_ids` and optionally `attention_mask` / `token_type_ids` (other keys, e.g.
    labels, are ignored) or as a bare `input_ids` tensor.
    """

    def __init__(
        self,
        net: nn.Module,
        family: str,
        num_classes: int,
        source: str,
        tokenizer: Any | None = None,
    ) -> None:
        super().__init__()
        if family not in FAMILIES:
            raise ValueError(f"unknown model family {family!r}; expected one of {FAMILIES}")
        self.net = net
        self.family = family
        self.num_classes = num_classes
        self.source = source
        self.tokenizer = tokenizer

    @property
    def head_prefix(self) -> str:
        return HEAD_PREFIXES[self.family]

    def forward(self, inputs: torch.Tensor | Mapping[str, torch.Tensor]) -> torch.Tensor:
        if self.family == "hf-bert":
            if isinstance(inputs, torch.Tensor):
                inputs = {"input_ids": inputs}
            if not isinstance(inputs, Mapping):
                raise TypeError(f"hf-bert models take a mapping of token tensors, got {type(inputs).__name__}")
            return self.net(**{k: inputs[k] for k in TEXT_KEYS if k in inputs}).logits
        if not isinstance(inputs, torch.Tensor):
            raise TypeError(f"{self.family} models take an image tensor N x C x H x W, got {type(inputs).__name__}")
        if self.family == "timm-vit":
            return self.net(inputs)
        # HF ViT: other resolutions than the config's work by interpolating the position embeddings.
        size = self.net.config.image_size
        expected = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        resize = tuple(inputs.shape[-2:]) != expected
        return self.net(pixel_values=inputs, interpolate_pos_encoding=resize).logits

    def extra_repr(self) -> str:
        return f"family={self.family!r}, num_classes={self.num_classes}, source={self.source!r}"
