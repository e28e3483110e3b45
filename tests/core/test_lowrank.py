import pytest
import torch

import vcon
from vcon.compressors.lowrank import LowRank


def _model(out_features=12, in_features=20, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(in_features, out_features))]))
    return model


@pytest.mark.parametrize("rank", [1, 4, 12])
def test_init_is_the_best_rank_r_approximation(rank):
    model = _model()
    weight = model.blocks[0][0].weight.detach().clone()
    vcon.compress(model, {"name": "lowrank", "rank": rank})
    layer = model.blocks[0][0]
    assert layer.factor_a.shape == (rank, 20) and layer.factor_b.shape == (12, rank)
    singular = torch.linalg.svdvals(weight)
    error = torch.linalg.matrix_norm(weight - layer.factor_b @ layer.factor_a)
    assert error.item() == pytest.approx(singular[rank:].square().sum().sqrt().item(), abs=1e-5)
    assert torch.linalg.matrix_rank(layer.factor_b @ layer.factor_a).item() == rank


def test_exported_lowrank_is_two_linears_with_the_bias():
    model = _model()
    bias = model.blocks[0][0].bias.detach().clone()
    vcon.compress(model, {"name": "lowrank", "rank": 3})
    vcon.set_beta(model, 0.0)
    exported = vcon.export(model)
    layer = exported.blocks[0][0]
    assert isinstance(layer, vcon.LowRankLinear)
    assert layer.first.weight.shape == (3, 20) and layer.second.weight.shape == (12, 3)
    assert torch.equal(layer.second.bias, bias)
    x = torch.randn(5, 20)
    assert torch.allclose(layer(x), model.blocks[0][0](x), atol=1e-6)


def test_stepwise_reduction_re_truncates_by_svd():
    model = _model()
    vcon.compress(model, {"name": "lowrank", "rank": 2, "start_rank": 8, "rank_stages": 3}, iterative=True)
    layer = model.blocks[0][0]
    assert int(layer.active_rank) == 8
    before = (layer.factor_b @ layer.factor_a).detach()
    vcon.set_step(model, 50, iterative_total=100)  # stage 1 of 3: round(8 * (2/8)^(1/3)) = 5
    assert int(layer.active_rank) == 5
    b, a = layer.factors()
    expected = torch.linalg.svdvals(before)[5:].square().sum().sqrt()
    assert torch.linalg.matrix_norm(before - b @ a).item() == pytest.approx(expected.item(), abs=1e-5)
    vcon.set_step(model, 100, iterative_total=100)
    assert int(layer.active_rank) == 2
    assert torch.linalg.matrix_rank(vcon.export(model).blocks[0][0].second.weight).item() == 2


def test_rank_above_layer_is_a_clear_error():
    with pytest.raises(vcon.SpecError, match=r"rank 13 is above min\(out_features, in_features\) = 12"):
        vcon.compress(_model(), {"name": "lowrank", "rank": 13})


def test_lowrank_factorize_returns_b_times_a():
    weight = torch.diag(torch.tensor([3.0, 2.0, 1.0]))
    b, a = LowRank(rank=2).factorize(weight, 2)
    assert torch.allclose(b @ a, torch.diag(torch.tensor([3.0, 2.0, 0.0])), atol=1e-6)


def _authors_layer(weight, bias, rank, beta, x):
    """The authors' LowRankLayer: beta * W x + (1 - beta) * B A x, plus one bias for both."""
    u, s, vh = torch.linalg.svd(weight, full_matrices=False)
    factor_b, factor_a = u[:, :rank] @ torch.diag(s[:rank]), vh[:rank]
    return beta * x @ weight.t() + (1 - beta) * (x @ factor_a.t()) @ factor_b.t() + bias


@pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
def test_shared_bias_is_one_parameter_with_the_full_gradient(beta):
    model = _model()
    weight, bias = (p.detach().clone() for p in (model.blocks[0][0].weight, model.blocks[0][0].bias))
    vcon.compress(model, {"name": "lowrank", "rank": 3})
    layer = model.blocks[0][0]
    assert LowRank().bias == "shared" and layer.factor_bias is None and layer.compressed_bias is layer.bias
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias", "factor_a", "factor_b"]
    layer.beta = beta
    x = torch.randn(5, 20)
    out = layer(x)
    assert torch.allclose(out, _authors_layer(weight, bias, 3, beta, x), atol=1e-5)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    assert torch.allclose(layer.bias.grad, grad_out.sum(0), atol=1e-6)  # d(out)/d(bias) = 1 at every beta


def test_separate_bias_blends_two_and_exports_the_factor_bias():
    model = _model()
    vcon.compress(model, {"name": "lowrank", "rank": 3, "bias": "separate"})
    layer = model.blocks[0][0]
    with torch.no_grad():
        layer.factor_bias.add_(1.0)
    layer.beta = 0.25
    x = torch.randn(5, 20)
    out = layer(x)
    layer.beta = 1.0
    dense = layer(x)
    layer.beta = 0.0
    factored = layer(x)
    assert torch.allclose(out, 0.25 * dense + 0.75 * factored, atol=1e-5)
    assert torch.allclose(factored - dense, torch.ones(()) + (x @ (layer.factor_b @ layer.factor_a - layer.weight).t()),
                          atol=1e-5)
    assert torch.equal(vcon.export(model).blocks[0][0].second.bias, layer.factor_bias)


@pytest.mark.parametrize("bias,trained", [("shared", ["bias", "factor_a", "factor_b"]),
                                          ("separate", ["factor_a", "factor_b", "factor_bias"])])
def test_frozen_dense_branch_keeps_a_shared_bias_trainable(bias, trained):
    model = _model()
    vcon.compress(model, {"name": "lowrank", "rank": 3, "bias": bias}, original="frozen")
    assert [n for n, p in model.blocks[0][0].named_parameters() if p.requires_grad] == trained


