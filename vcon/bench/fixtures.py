"""The benchmark's fixtures: its models, their fixed input batches and the compressors it times."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

Batch = tuple[Tensor, Tensor]


@dataclass(frozen=True)
class BenchModel:
    name: str
    build: Callable[[], nn.Module]
    batch: Callable[[int, torch.Generator], Batch]


def vit_tiny_32() -> nn.Module:
    """ViT-Tiny's width on CIFAR-sized inputs: 12 blocks, width 192, 3 heads, 32x32 images, patch 4."""
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(img_size=32, patch_size=4, in_chans=3, num_classes=10, embed_dim=192, depth=12,
                             num_heads=3, mlp_ratio=4.0, drop_rate=0.0, attn_drop_rate=0.0, drop_path_rate=0.0)


def image_batch(batch_size: int, generator: torch.Generator) -> Batch:
    return (torch.randn(batch_size, 3, 32, 32, generator=generator),
            torch.randint(0, 10, (batch_size,), generator=generator))


BERT_MAX_LENGTH = 32


def bert_mini() -> nn.Module:
    """The registry's bert-mini with the synthetic-text vocabulary, as the default grid trains it."""
    from vcon.data.synthetic_text import VOCAB
    from vcon.models import build_model

    return build_model("bert-mini", 2, {"vocab_size": len(VOCAB), "max_length": BERT_MAX_LENGTH})


def text_batch(batch_size: int, generator: torch.Generator) -> Batch:
    from vcon.data.synthetic_text import VOCAB

    ids = torch.randint(0, len(VOCAB), (batch_size, BERT_MAX_LENGTH), generator=generator)
    return ids, torch.randint(0, 2, (batch_size,), generator=generator)


MODELS = {
    "vit-tiny": BenchModel("vit-tiny", vit_tiny_32, image_batch),
    "bert-mini": BenchModel("bert-mini", bert_mini, text_batch),
}

# label -> compressor spec; the compressors.
COMPRESSORS = {
    "prune-layer": {"name": "prune", "sparsity": 0.9, "granularity": "layer"},
    "prune-row": {"name": "prune", "sparsity": 0.9, "granularity": "row"},
    "prune-2:4": {"name": "prune", "granularity": "2:4"},
    "binary": {"name": "binary"},
    "quant4": {"name": "quant", "bits": 4},
    "lowrank16": {"name": "lowrank", "rank": 16},
}
