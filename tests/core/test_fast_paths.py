import pytest
import torch

import vcon
from vcon.compressors.base import largest_mask, smallest_mask


def _reference_smallest(values, k):
    """The definition: the first k of a stable ascending sort of each row."""
    mask = torch.zeros_like(values, dtype=torch.bool)
    mask.scatter_(1, values.argsort(dim=1, stable=True)[:, :k], True)
    return mask
from vcon.compressors.prune import Prune


def _layer(spec, original="shared", out_features=6, in_features=8):
    torch.manual_seed(0)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(in_features, out_features))]))
    vcon.compress(model, spec, original=original)
    return model.blocks[0][0]


@pytest.mark.parametrize("spec", [{"name": "prune", "sparsity": 0.5}, {"name": "binary"}, {"name": "quant", "bits": 3}])
def test_shared_transition_gradient_is_exactly_the_blended_weights_gradient(spec):
    layer = _layer(spec)
    x = torch.randn(5, 8)
    layer.beta = 0.3
    blended = torch.lerp(layer.exported_weight(), layer.weight.detach(), 0.3)
    out = layer(x)
    assert torch.equal(out, torch.nn.functional.linear(x, blended, layer.bias))
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    assert torch.equal(layer.weight.grad, grad_out.t() @ x)  # beta + (1 - beta) = 1, without rounding


def test_masked_gradient_keeps_the_generic_blend():
    layer = _layer({"name": "prune", "sparsity": 0.5, "gradient": "masked"})
    layer.beta = 0.25
    layer(torch.ones(1, 8)).sum().backward()
    mask = layer.compressor.state(layer.weight, 0.5)
    expected = torch.where(mask, torch.ones(()), torch.full((), 0.25)).expand(6, 8)
    assert torch.allclose(layer.weight.grad, expected)


@pytest.mark.parametrize("bias", ["shared", "separate"])
def test_lowrank_transition_is_one_addmm_with_the_lerp_gradients(bias):
    layer = _layer({"name": "lowrank", "rank": 2, "bias": bias})
    params = [layer.weight, layer.factor_a, layer.factor_b, layer.bias] + ([layer.factor_bias] if bias == "separate" else [])
    x = torch.randn(5, 8)
    layer.beta = 0.4
    layer(x).sum().backward()
    got = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None
    reference = torch.lerp(layer.factor_b @ layer.factor_a, layer.weight, 0.4)
    blended_bias = layer.bias if bias == "shared" else torch.lerp(layer.factor_bias, layer.bias, 0.4)
    torch.nn.functional.linear(x, reference, blended_bias).sum().backward()
    for mine, theirs in zip(got, (p.grad for p in params)):
        assert torch.allclose(mine, theirs, atol=1e-6)


def test_pruned_entries_are_positive_zero():
    weight = torch.tensor([[-1.0, -0.1, 2.0, -0.05]])
    pruned = Prune(sparsity=0.5).values(weight, None, 0.5)
    assert pruned.tolist() == [[-1.0, 0.0, 2.0, 0.0]] and not torch.signbit(pruned[0, [1, 3]]).any()


@pytest.mark.parametrize("k", [0, 1, 3, 7, 8])
def test_largest_mask_is_the_complement_of_smallest_mask_with_ties(k):
    values = torch.tensor([[0.5, 0.2, 0.2, 0.9, 0.2, 0.1, 0.7, 0.2], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])
    assert torch.equal(smallest_mask(values, k), _reference_smallest(values, k))
    assert torch.equal(largest_mask(values, k), ~_reference_smallest(values, k))
    wide = torch.randint(0, 4, (3, 50), generator=torch.Generator().manual_seed(k)).float()  # kthvalue path
    assert torch.equal(largest_mask(wide, 5 * k), ~_reference_smallest(wide, 5 * k))


def test_n_m_fast_path_matches_the_general_selection_with_ties():
    torch.manual_seed(3)
    weight = torch.randint(-2, 3, (16, 32)).float()  # many ties
    for granularity, k in (("2:4", 2), ("1:4", 3), ("3:8", 5)):
        spec = Prune(granularity=granularity)
        m = int(granularity.split(":")[1])
        expected = ~_reference_smallest(weight.abs().reshape(-1, m), k)
        assert torch.equal(spec.state(weight, spec.final_level), expected.reshape(16, 32))
