"""`vit-digits`: a small timm ViT for tiny single-channel images (scikit-learn digits, 8x8).

With 2x2 patches each token sees only 4 pixels, so where a token sits matters from the first step:
the position embedding starts at std 0.5 (timm's 0.02 leaves tokens nearly indistinguishable and
training stalls for several epochs), and the other weights use timm's "jax" init (zero head).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vcon.models.registry import register_model
from vcon.models.spec import require_scratch, spec_int

PATCH_SIZE = 2
POS_EMBED_STD = 0.5
EMBED_DIM = 64
MLP_RATIO = 2.0

if TYPE_CHECKING:
    from vcon.models.classifier import Classifier


@register_model("vit-digits", width=min(EMBED_DIM, int(EMBED_DIM * MLP_RATIO)), family="timm-vit")
def build_vit_digits(num_classes: int, input_spec: Mapping[str, Any], init: str | None) -> Classifier:
    from timm.models.vision_transformer import VisionTransformer  # imported here: 2 s, needless for BERT jobs
    from torch import nn

    from vcon.models.classifier import Classifier

    require_scratch("vit-digits", init)
    channels = spec_int(input_spec, "channels", "vit-digits", default=1)
    image_size = spec_int(input_spec, "image_size", "vit-digits", default=8)
    if image_size % PATCH_SIZE:
        raise ValueError(f"vit-digits needs an image_size divisible by {PATCH_SIZE}, got {image_size}")
    net = VisionTransformer(
        img_size=image_size,
        patch_size=PATCH_SIZE,
        in_chans=channels,
        num_classes=num_classes,
        embed_dim=EMBED_DIM,
        depth=4,
        num_heads=4,
        mlp_ratio=MLP_RATIO,
        class_token=True,
        global_pool="token",
        drop_rate=0.0,
        pos_drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.0,
        weight_init="jax",
    )
    nn.init.normal_(net.pos_embed, std=POS_EMBED_STD)
    return Classifier(net, "timm-vit", num_classes, source="scratch")
