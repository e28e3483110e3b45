import pytest
import timm
import torch
from transformers import BertConfig, BertForSequenceClassification, ViTConfig, ViTForImageClassification


def tiny_timm_vit():
    return timm.models.vision_transformer.VisionTransformer(
        img_size=8, patch_size=2, in_chans=1, num_classes=5, embed_dim=32, depth=2, num_heads=2, mlp_ratio=2.0
    )


def tiny_hf_vit():
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                       image_size=8, patch_size=4, num_channels=1, num_labels=5)
    return ViTForImageClassification(config)


def tiny_bert():
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=16, num_labels=3)
    return BertForSequenceClassification(config)


class Logits(torch.nn.Module):
    """Calls a model on fixed inputs and returns plain logits."""

    def __init__(self, net, kind):
        super().__init__()
        self.net, self.kind = net, kind

    def forward(self, x):
        if self.kind == "timm":
            return self.net(x)
        if self.kind == "hf-vit":
            return self.net(pixel_values=x).logits
        return self.net(input_ids=x).logits


FAMILIES = {
    "timm": (tiny_timm_vit, lambda g: torch.randn(3, 1, 8, 8, generator=g)),
    "hf-vit": (tiny_hf_vit, lambda g: torch.randn(3, 1, 8, 8, generator=g)),
    "bert": (tiny_bert, lambda g: torch.randint(0, 50, (3, 10), generator=g)),
}


@pytest.fixture(params=sorted(FAMILIES))
def family(request):
    """(model in eval mode, input batch) for each model family."""
    torch.manual_seed(0)
    build, make_input = FAMILIES[request.param]
    model = Logits(build().eval(), request.param)
    return request.param, model, make_input(torch.Generator().manual_seed(0))
