from __future__ import annotations

import copy
import re

import pytest
import torch
from torch import nn

from vcon.models import Classifier, build_model, list_models
from vcon.models.pretrained import HUB_MODELS

IMAGE_SPEC = {"channels": 1, "image_size": 8}
TEXT_SPEC = {"vocab_size": 50, "max_length": 12}
SPECS = {"vit-digits": IMAGE_SPEC, "bert-mini": TEXT_SPEC}
FAMILIES = {"vit-digits": "timm-vit", "bert-mini": "hf-bert"}
BLOCK = re.compile(r"\.(blocks|layers|layer)\.\d+\.")


def make_inputs(name: str, batch: int = 3) -> torch.Tensor | dict[str, torch.Tensor]:
    if FAMILIES[name] == "hf-bert":
        ids = torch.randint(0, TEXT_SPEC["vocab_size"], (batch, TEXT_SPEC["max_length"]))
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    return torch.randn(batch, IMAGE_SPEC["channels"], IMAGE_SPEC["image_size"], IMAGE_SPEC["image_size"])


def test_every_registered_model_is_tested() -> None:
    assert sorted(list_models()) == sorted([*SPECS, *HUB_MODELS])


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("num_classes", [1, 2, 10])
def test_logits_shape(name: str, num_classes: int) -> None:
    model = build_model(name, num_classes=num_classes, input_spec=SPECS[name], init="scratch")
    assert isinstance(model, Classifier)
    assert (model.family, model.source, model.tokenizer) == (FAMILIES[name], "scratch", None)
    model.eval()
    with torch.no_grad():
        logits = model(make_inputs(name))
    assert logits.shape == (3, num_classes)
    assert logits.dtype == torch.float32


@pytest.mark.parametrize("name", sorted(SPECS))
def test_default_init_is_scratch(name: str) -> None:
    assert build_model(name, num_classes=2, input_spec=SPECS[name]).source == "scratch"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_same_seed_same_weights(name: str) -> None:
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        states.append(build_model(name, num_classes=3, input_spec=SPECS[name], init="scratch").state_dict())
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    torch.manual_seed(1)
    other = build_model(name, num_classes=3, input_spec=SPECS[name], init="scratch").state_dict()
    assert not all(torch.equal(states[0][k], other[k]) for k in states[0])


@pytest.mark.parametrize("name", sorted(SPECS))
def test_pretrained_init_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match=f"model '{name}' is built from code and has no pretrained weights"):
        build_model(name, num_classes=2, input_spec=SPECS[name], init="pretrained")


def linear_names(model: nn.Module) -> tuple[list[str], list[str]]:
    names = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return [n for n in names if BLOCK.search(n)], [n for n in names if not BLOCK.search(n)]


def test_vit_digits_architecture() -> None:
    model = build_model("vit-digits", num_classes=10, input_spec=IMAGE_SPEC, init="scratch")
    net = model.net
    assert net.patch_embed.proj.kernel_size == (2, 2)
    assert (net.embed_dim, len(net.blocks), net.blocks[0].attn.num_heads) == (64, 4, 4)
    assert net.blocks[0].mlp.fc1.out_features == 128
    assert net.pos_embed.shape == (1, 17, 64)
    assert net.cls_token is not None and net.global_pool == "token"
    inside, outside = linear_names(model)
    assert outside == ["net.head"]
    assert len(inside) == 16
    assert inside[:4] == [
        "net.blocks.0.attn.qkv", "net.blocks.0.attn.proj", "net.blocks.0.mlp.fc1", "net.blocks.0.mlp.fc2",
    ]
    assert not any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules())


def test_vit_digits_spec_defaults_and_other_sizes() -> None:
    assert build_model("vit-digits", num_classes=10).net.patch_embed.img_size == (8, 8)
    model = build_model("vit-digits", num_classes=4, input_spec={"channels": 3, "image_size": 16})
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 4)
    with pytest.raises(ValueError, match="image_size divisible by 2, got 7"):
        build_model("vit-digits", num_classes=4, input_spec={"channels": 1, "image_size": 7})


def test_bert_mini_architecture() -> None:
    model = build_model("bert-mini", num_classes=3, input_spec=TEXT_SPEC, init="scratch")
    config = model.net.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (64, 4, 4)
    assert (config.intermediate_size, config.vocab_size, config.max_position_embeddings) == (128, 50, 12)
    assert (config.hidden_dropout_prob, config.attention_probs_dropout_prob) == (0.1, 0.1)
    assert (config.num_labels, config.problem_type) == (3, "single_label_classification")
    assert config._attn_implementation == "eager"
    inside, outside = linear_names(model)
    assert outside == ["net.bert.pooler.dense", "net.classifier"]
    assert len(inside) == 24
    assert inside[0] == "net.bert.encoder.layer.0.attention.self.query"


def test_bert_mini_attention_is_the_function_of_the_fused_kernel() -> None:
    """Eager attention (bert-mini's) and the fused kernel give the same logits on a padded batch."""
    model = build_model("bert-mini", num_classes=2, input_spec=TEXT_SPEC).eval()
    fused = copy.deepcopy(model)
    fused.net.set_attn_implementation("sdpa")
    ids = torch.randint(4, 50, (3, 12), generator=torch.Generator().manual_seed(0))
    mask = (torch.arange(12) < torch.tensor([[12], [7], [3]])).long()
    batch = {"input_ids": ids * mask, "attention_mask": mask}
    with torch.no_grad():
        eager, reference = model(batch), fused(batch)
    assert fused.net.config._attn_implementation == "sdpa"
    torch.testing.assert_close(eager, reference, rtol=0, atol=1e-6)
    with torch.no_grad():  # the padding is masked: the shortest sentence alone gives the same logits
        alone = model({"input_ids": ids[2:, :3], "attention_mask": mask[2:, :3]})
    torch.testing.assert_close(alone, eager[2:], rtol=0, atol=1e-6)


def test_bert_mini_regression() -> None:
    model = build_model("bert-mini", num_classes=1, input_spec=TEXT_SPEC)
    assert model.net.config.problem_type == "regression"


def test_bert_mini_needs_text_spec() -> None:
    with pytest.raises(ValueError, match=r"model 'bert-mini' needs input_spec\['vocab_size'\]"):
        build_model("bert-mini", num_classes=2, input_spec={"max_length": 12})


def test_text_inputs_accept_extra_keys_and_bare_ids() -> None:
    model = build_model("bert-mini", num_classes=2, input_spec=TEXT_SPEC).eval()
    batch = make_inputs("bert-mini")
    with torch.no_grad():
        reference = model(batch)
        with_labels = model({**batch, "labels": torch.zeros(3, dtype=torch.long)})
        ids_only = model({"input_ids": batch["input_ids"]})
        bare = model(batch["input_ids"])
    assert torch.equal(reference, with_labels)
    assert torch.equal(ids_only, bare)


def test_wrong_input_kind() -> None:
    vit = build_model("vit-digits", num_classes=2)
    with pytest.raises(TypeError, match="timm-vit models take an image tensor"):
        vit({"input_ids": torch.zeros(1, 4, dtype=torch.long)})
    bert = build_model("bert-mini", num_classes=2, input_spec=TEXT_SPEC)
    with pytest.raises(TypeError, match="hf-bert models take a mapping of token tensors"):
        bert([1, 2, 3])
