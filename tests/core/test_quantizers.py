import pytest
import torch

from vcon.compressors.binary import Binary
from vcon.compressors.kbit import Quant


def test_binary_values_are_plus_minus_mean_abs_per_layer():
    weight = torch.tensor([[0.5, -1.5], [0.0, -2.0]])
    out = Binary().values(weight, None, 1.0)
    assert out.tolist() == [[1.0, -1.0], [1.0, -1.0]]  # mean |w| = 1.0; sign(0) = +1


def test_binary_per_row_scale():
    weight = torch.tensor([[0.5, -1.5], [3.0, -1.0]])
    out = Binary(scale="row").values(weight, None, 1.0)
    assert out.tolist() == [[1.0, -1.0], [2.0, -2.0]]


def test_binary_exactly_two_values_per_group_on_random_weights():
    torch.manual_seed(0)
    weight = torch.randn(16, 24)
    out = Binary().values(weight, None, 1.0)
    scale = weight.abs().mean()
    assert set(out.unique().tolist()) == {scale.item(), -scale.item()}
    rows = Binary(scale="row").values(weight, None, 1.0)
    for row, w in zip(rows, weight):
        assert set(row.unique().tolist()) == {w.abs().mean().item(), -w.abs().mean().item()}


def test_binary_straight_through_forward_and_backward():
    weight = torch.tensor([[0.25, -0.75]], requires_grad=True)
    out = Binary().forward_weight(weight, None, 1.0)
    assert out.tolist() == [[0.5, -0.5]]
    (out * torch.tensor([[2.0, -3.0]])).sum().backward()
    assert weight.grad.tolist() == [[2.0, -3.0]]


def test_quant_two_bits_is_ternary_with_row_max_scale():
    weight = torch.tensor([[0.9, -0.3, 0.6, 0.1], [-2.0, 0.4, 1.2, 0.0]])
    out = Quant(bits=2).values(weight, None, 1.0)
    # L = 1: scale = max|w_row|; round(w / scale) in {-1, 0, 1}
    assert torch.equal(out, torch.tensor([[0.9, 0.0, 0.9, 0.0], [-2.0, 0.0, 2.0, 0.0]]))


@pytest.mark.parametrize("bits", range(2, 9))
def test_quant_values_on_the_k_bit_grid(bits):
    torch.manual_seed(bits)
    weight = torch.randn(8, 32)
    out = Quant(bits=bits).values(weight, None, 1.0)
    levels = 2 ** (bits - 1) - 1
    scale = weight.abs().amax(dim=1, keepdim=True) / levels
    steps = out / scale
    assert torch.allclose(steps, steps.round(), atol=1e-5)
    assert steps.round().abs().max() <= levels
    assert (out.unique().numel()) <= 8 * (2 * levels + 1)
    assert ((out - weight).abs() <= scale / 2 + 1e-6).all()


def test_quant_straight_through_backward():
    weight = torch.tensor([[0.3, -1.0]], requires_grad=True)
    out = Quant(bits=3).forward_weight(weight, None, 1.0)
    out.sum().backward()
    assert weight.grad.tolist() == [[1.0, 1.0]]


def test_partial_share_quantizes_the_largest_magnitudes_first():
    weight = torch.tensor([[4.0, -1.0, 3.0, -2.0]])
    out = Binary().values(weight, None, 0.5)
    # mean |w| = 2.5; the two largest |w| (4 and 3) are binarized, the rest stay full precision
    assert out.tolist() == [[2.5, -1.0, 2.5, -2.0]]


ZEROS = torch.tensor([[0.0, -2.0], [1.0, -0.0]])  # mean |w| = 0.75


def test_binary_sign_of_zero_is_plus_by_default_and_zero_as_the_authors():
    assert Binary().values(ZEROS, None, 1.0).tolist() == [[0.75, -0.75], [0.75, 0.75]]
    authors = Binary(sign_zero="zero").values(ZEROS, None, 1.0)
    assert authors.tolist() == [[0.0, -0.75], [0.75, 0.0]]
    assert Binary(sign_zero="zero", scale="row").values(ZEROS, None, 1.0).tolist() == [[0.0, -1.0], [0.5, 0.0]]


def test_binary_with_zeros_is_stored_exactly():
    from vcon.compressors.packing import bitwise_equal, decode

    compressed = Binary(sign_zero="zero").values(ZEROS, None, 1.0)
    form, parts = Binary(sign_zero="zero").encode(compressed)
    assert form == "codes2" and bitwise_equal(decode(form, parts, (2, 2)), compressed)
    assert Binary(sign_zero="zero").encode(Binary().values(ZEROS, None, 1.0))[0] == "signs"  # no zero: sign bits


