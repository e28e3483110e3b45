"""What the blended layers prepare before the forward pass (vcon.blend.prepare_layers) is what each
layer would compute itself, and a stale one is never used."""
import copy

import pytest
import torch

import vcon
from vcon.blend import prepare_layers


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Linear(6, 4))])

    def forward(self, x):
        return self.blocks[0](x)


def _model(spec):
    torch.manual_seed(0)
    return vcon.compress(_Net(), spec)


def _hooks(model):
    return [h for h in model._forward_pre_hooks.values() if h is prepare_layers]


@pytest.mark.parametrize("spec", [{"name": "prune", "sparsity": 0.5}, {"name": "binary"}, {"name": "quant", "bits": 3},
                                  {"name": "prune", "sparsity": 0.5, "gradient": "masked"}, {"name": "lowrank", "rank": 2},
                                  {"name": "prune", "sparsity": 0.5, "granularity": "row", "ties": "keep"},
                                  {"name": "binary", "sign_zero": "zero"}, {"name": "lowrank", "rank": 2, "bias": "separate"}])
@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_prepared_and_direct_forward_give_the_same_outputs_and_gradients(spec, beta):
    x, results = torch.randn(5, 8), []
    for through_the_model in (True, False):  # the model runs the hook; its blocks alone do not
        model = _model(spec)
        vcon.set_beta(model, beta)
        out = model(x) if through_the_model else model.blocks[0](x)
        out.sum().backward()
        results.append([out.detach()] + [p.grad for p in model.parameters()])
    assert all((a is None and b is None) or torch.equal(a, b) for a, b in zip(*results))


def test_a_weight_changed_after_preparing_is_compressed_afresh():
    model = _model({"name": "binary"})
    vcon.set_beta(model, 0.0)
    layer, x = model.blocks[0][0], torch.randn(3, 8)
    prepare_layers(model, (x,))
    with torch.no_grad():
        layer.weight.mul_(-2.0)
    assert torch.equal(layer(x), torch.nn.functional.linear(x, layer.exported_weight(), layer.bias))


@pytest.mark.parametrize("change", ["beta", "level", "step"])
def test_a_changed_beta_level_or_step_is_not_served_stale_values(change):
    model = _model({"name": "prune", "sparsity": 0.5})
    vcon.set_beta(model, 0.5)
    layer, x = model.blocks[0][0], torch.randn(3, 8)
    prepare_layers(model, (x,))
    if change == "beta":
        vcon.set_beta(model, 0.0)
    elif change == "level":
        layer.set_level(0.25)
    else:
        vcon.set_step(model, 7)
    expected = torch.lerp(layer.exported_weight(), layer.weight.detach(), layer.beta)
    assert torch.equal(layer(x), torch.nn.functional.linear(x, expected, layer.bias))
    assert layer._prepared is None  # taken or dropped: not held between steps


def test_each_layer_takes_the_values_prepared_for_it():
    model = _model({"name": "binary"})
    vcon.set_beta(model, 0.0)
    taken = []
    for layer in vcon.vanishing_layers(model):
        take = layer._take_prepared
        layer._take_prepared = lambda take=take: taken.append(take()) or taken[-1]
    model(torch.randn(2, 8))
    layers = vcon.vanishing_layers(model)
    assert len(taken) == 2 and all(torch.equal(v, layer.exported_weight()) for v, layer in zip(taken, layers))


def test_compressing_twice_keeps_one_hook_and_export_drops_it():
    model = _model({"name": "prune", "sparsity": 0.5})
    model.add_module("head", torch.nn.ModuleList([torch.nn.Linear(4, 2)]))
    vcon.compress(model, {"name": "binary"}, layers=["head.*"])
    assert len(_hooks(model)) == 1
    assert len(_hooks(copy.deepcopy(model))) == 1
    assert _hooks(vcon.export(model)) == []


def test_a_low_rank_blend_is_rebuilt_for_changed_factors_or_grad_mode():
    model = _model({"name": "lowrank", "rank": 2})
    vcon.set_beta(model, 0.5)
    layer, x = model.blocks[0][0], torch.randn(3, 8)
    prepare_layers(model, (x,))
    with torch.no_grad():
        layer.factor_a.mul_(2.0)
    expected = torch.nn.functional.linear(x, torch.lerp(layer.factor_b @ layer.factor_a, layer.weight, 0.5),
                                          layer.bias)  # bias: shared
    assert torch.allclose(layer(x), expected, atol=1e-6)
    with torch.no_grad():
        prepare_layers(model, (x,))
    layer(x).sum().backward()  # prepared without a graph: not taken with grad enabled
    assert layer.factor_a.grad is not None and layer.weight.grad is not None


@pytest.mark.parametrize("share", ["frozen", "trained"])
@pytest.mark.parametrize("name", ["binary", "quant"])
def test_iterative_quantizers_through_the_hook_equal_their_references(name, share):
    """Mid-ramp INQ through the model's forward (with the hook): the output is x C^T + b for the
    layer's exact C, and the weight gradient is the identity where the share trains, 0 where it
    is frozen."""
    torch.manual_seed(0)
    model = vcon.compress(_Net(), {"name": name, "quantized_share": share}, iterative=True)
    vcon.set_beta(model, 0.0)
    vcon.set_step(model, 50, iterative_total=100)
    x = torch.randn(5, 8)
    layer = model.blocks[0][0]
    expected = torch.nn.functional.linear(x, layer.exported_weight(), layer.bias)
    hidden = model.blocks[0][0](x)
    assert torch.equal(hidden, expected)
    grad = torch.randn_like(hidden)
    layer.weight.grad = None
    model(x)  # through the hook, then backpropagate the same gradient into the first layer only
    hidden = layer(x)
    hidden.backward(grad)
    identity = grad.t() @ x
    if share == "frozen":
        frozen = layer.iterative_state.frozen
        assert 0 < int(frozen.sum()) < frozen.numel()
        identity = torch.where(frozen, 0.0, identity)
    assert torch.equal(layer.weight.grad, identity)
    assert layer._prepared is None


@pytest.mark.parametrize("bias", ["shared", "separate"])
def test_low_rank_transition_bias_follows_the_bias_option(bias):
    model = _model({"name": "lowrank", "rank": 2, "bias": bias})
    vcon.set_beta(model, 0.25)
    layer, x = model.blocks[0][0], torch.randn(3, 8)
    if bias == "separate":
        with torch.no_grad():
            layer.factor_bias.add_(1.0)
        expected_bias = torch.lerp(layer.factor_bias, layer.bias, 0.25)
    else:
        assert layer.factor_bias is None
        expected_bias = layer.bias
    prepare_layers(model, (x,))
    blended = 0.25 * layer.weight + 0.75 * (layer.factor_b @ layer.factor_a)  # beta W + (1 - beta) B A
    assert torch.allclose(layer(x), x @ blended.t() + expected_bias, rtol=0, atol=1e-6)
