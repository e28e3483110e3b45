import copy

import pytest
import torch

import vcon
from vcon.selection import select_layers

SPECS = [
    {"name": "prune", "sparsity": 0.9, "granularity": "layer"},
    {"name": "prune", "sparsity": 0.5, "granularity": "row"},
    {"name": "prune", "granularity": "2:4"},
    {"name": "binary"},
    {"name": "binary", "scale": "row"},
    {"name": "quant", "bits": 4},
    {"name": "lowrank", "rank": 4},
    {"name": "lowrank", "rank": 4, "bias": "separate"},
]

EXPECTED_LAYERS = {
    "timm": ["net.blocks.0.attn.qkv", "net.blocks.0.attn.proj", "net.blocks.0.mlp.fc1", "net.blocks.0.mlp.fc2"],
    "hf-vit": [f"net.vit.layers.0.{n}" for n in
               ("attention.q_proj", "attention.k_proj", "attention.v_proj", "attention.o_proj", "mlp.fc1", "mlp.fc2")],
    "bert": [f"net.bert.encoder.layer.0.{n}" for n in
             ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
              "intermediate.dense", "output.dense")],
}


def test_default_selector_picks_block_linears_only(family):
    name, model, _ = family
    chosen = list(select_layers(model))
    per_block = len(EXPECTED_LAYERS[name])
    assert chosen[:per_block] == EXPECTED_LAYERS[name]
    assert len(chosen) == 2 * per_block  # two blocks; classifier, pooler and embeddings stay dense


def test_selector_matching_nothing_names_the_linear_layers(family):
    _, model, _ = family
    with pytest.raises(ValueError, match=r"no linear layer matches \['\*\.nothing'\].*the model's linear layers are: .*net\."):
        vcon.compress(model, {"name": "binary"}, layers=["*.nothing"])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(map(str, s.values())))
def test_beta_one_is_original_and_beta_zero_is_compressed(family, spec):
    _, model, x = family
    reference = model(x)
    blended = vcon.compress(copy.deepcopy(model), spec)
    assert torch.equal(blended(x), reference)
    vcon.set_beta(blended, 0.0)
    exported = vcon.export(blended)
    assert torch.allclose(blended(x), exported(x), atol=1e-5)
    assert (exported(x) - reference).abs().max() > 1e-6  # compression changed the function


@pytest.mark.parametrize("original", ["shared", "frozen", "copy"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(map(str, s.values())))
def test_weight_blend_equals_output_blend(family, spec, original):
    _, model, x = family
    blended = vcon.compress(copy.deepcopy(model), spec, original=original)
    for layer in vcon.vanishing_layers(blended):
        layer.beta = 1.0
    for name, layer in blended.named_modules():
        if isinstance(layer, (vcon.VanishingLinear, vcon.VanishingLowRank)):
            inputs = torch.randn(4, layer.in_features)
            layer.beta = 0.0
            compressed = layer(inputs)
            layer.beta = 1.0
            original_out = layer(inputs)
            layer.beta = 0.3
            assert torch.allclose(layer(inputs), 0.3 * original_out + 0.7 * compressed, atol=1e-5)
            layer.beta = 1.0


def test_general_block_blend_and_release():
    original, compressed = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    block = vcon.VanishingBlock(original, compressed)
    model = torch.nn.Sequential(block)
    x = torch.randn(4, 3)
    vcon.set_beta(model, 0.25)
    assert torch.allclose(model(x), 0.25 * original(x) + 0.75 * compressed(x), atol=1e-6)
    vcon.set_beta(model, 0.0)
    released = vcon.release_original(model)
    assert {id(p) for p in released} == {id(p) for p in original.parameters()}
    assert torch.equal(model(x), compressed(x))
    with pytest.raises(RuntimeError, match="released"):
        vcon.set_beta(model, 0.5)
        model(x)


def test_shared_original_trains_one_latent_weight():
    model = torch.nn.Sequential()
    model.add_module("layers", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(4, 2))]))
    weight = model.layers[0][0].weight
    vcon.compress(model, {"name": "binary"})
    layer = model.layers[0][0]
    assert layer.weight is weight
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("original,params", [("frozen", ["weight", "bias"]), ("copy", ["weight", "bias", "original_weight", "original_bias"])])
def test_frozen_and_copy_originals(original, params):
    model = torch.nn.Sequential()
    model.add_module("layers", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(4, 2))]))
    vcon.compress(model, {"name": "prune", "sparsity": 0.5}, original=original)
    layer = model.layers[0][0]
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == params
    vcon.set_beta(model, 0.5)
    layer(torch.randn(3, 4)).sum().backward()
    assert layer.weight.grad is not None
    vcon.set_beta(model, 0.0)
    released = vcon.release_original(model)
    assert len(released) == 2 and not hasattr(layer, "original_weight")


@pytest.mark.parametrize("bias,freed", [("shared", [(8, 8)]), ("separate", [(8, 8), (8,)])])
def test_beta_zero_skips_the_original_branch_and_release_frees_lowrank_dense_weight(bias, freed):
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(8, 8))]))
    vcon.compress(model, {"name": "lowrank", "rank": 2, "bias": bias})
    vcon.set_beta(model, 0.0)
    layer = model.blocks[0][0]
    x = torch.randn(2, 8)
    before = layer(x)
    released = vcon.release_original(model)
    assert [tuple(p.shape) for p in released] == freed
    assert layer.weight is None and (layer.bias is None) == (bias == "separate")
    assert torch.equal(layer(x), before)


def test_set_beta_requires_compressed_model_and_valid_range():
    with pytest.raises(ValueError, match="no vanishing layer"):
        vcon.set_beta(torch.nn.Linear(2, 2), 0.5)
    model = vcon.compress(torch.nn.ModuleDict({"layers": torch.nn.ModuleList([torch.nn.Linear(2, 2)])}), {"name": "binary"}, layers=["*"])
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\]"):
        vcon.set_beta(model, 1.5)
