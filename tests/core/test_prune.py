import pytest
import torch

import vcon
from vcon.compressors.base import smallest_mask
from vcon.compressors.prune import Prune


def test_smallest_mask_breaks_ties_by_lower_index():
    values = torch.tensor([[3.0, 1.0, 1.0, 1.0, 2.0]])
    assert smallest_mask(values, 2).tolist() == [[False, True, True, False, False]]
    assert smallest_mask(values, 0).sum() == 0
    assert smallest_mask(values, 5).sum() == 5


def test_layer_granularity_exact_mask_on_hand_set_weights():
    weight = torch.tensor([[0.5, -0.1, 0.3, 0.2], [-0.05, 0.4, -0.2, 0.6]])
    mask = Prune(sparsity=0.5).state(weight, 0.5)
    # four smallest |w|: 0.05, 0.1, then the tie 0.2 (row 0 col 3 and row 1 col 2): both, then 0.3 is kept
    assert mask.tolist() == [[True, False, True, False], [False, True, False, True]]


def test_layer_granularity_tie_at_threshold_prunes_lower_index_first():
    weight = torch.tensor([[0.2, 0.9, -0.2, 0.2, 0.5]])
    mask = Prune(sparsity=0.4).state(weight, 0.4)  # round(0.4 * 5) = 2 zeros among three tied 0.2
    assert mask.tolist() == [[False, True, False, True, True]]


def test_row_granularity_counts_zeros_per_row():
    weight = torch.tensor([[1.0, 2.0, 3.0, 4.0], [-8.0, 7.0, -6.0, 5.0]])
    mask = Prune(sparsity=0.5, granularity="row").state(weight, 0.5)
    assert mask.tolist() == [[False, False, True, True], [True, True, False, False]]


def test_n_m_granularity_keeps_n_largest_of_every_m():
    weight = torch.tensor([[1.0, -4.0, 3.0, 2.0, 0.5, 0.5, -0.5, 0.1]])
    spec = Prune(granularity="2:4")
    assert spec.sparsity == 0.5
    mask = spec.state(weight, spec.final_level)
    assert mask.tolist() == [[False, True, True, False, False, True, True, False]]


@pytest.mark.parametrize("granularity", ["layer", "row", "2:4", "1:4"])
@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.75, 0.9])
def test_exact_zero_count_and_magnitude_order(granularity, sparsity):
    torch.manual_seed(0)
    weight = torch.randn(12, 16)
    spec = Prune(sparsity=None if ":" in granularity else sparsity, granularity=granularity)
    pruned = spec.values(weight, None, spec.final_level)
    if granularity == "layer":
        groups, kept = weight.reshape(1, -1), pruned.reshape(1, -1)
    elif granularity == "row":
        groups, kept = weight, pruned
    else:
        m = int(granularity.split(":")[1])
        groups, kept = weight.reshape(-1, m), pruned.reshape(-1, m)
    expected = vcon.compressors.base.round_half_up(spec.sparsity * groups.shape[1])
    assert ((kept == 0).sum(dim=1) == expected).all()
    for row, kept_row in zip(groups.abs(), kept != 0):
        if 0 < kept_row.sum() < len(row):
            assert row[kept_row].min() >= row[~kept_row].max()


def test_ninety_percent_of_a_layer_is_round_s_times_n():
    torch.manual_seed(1)
    weight = torch.randn(7, 13)  # 91 weights: round(81.9) = 82 zeros
    pruned = Prune(sparsity=0.9).values(weight, None, 0.9)
    assert int((pruned == 0).sum()) == 82


def test_straight_through_gradient_reaches_pruned_weights():
    weight = torch.tensor([[1.0, -0.1, 2.0, 0.05]], requires_grad=True)
    spec = Prune(sparsity=0.5)
    out = spec.forward_weight(weight, None, 0.5)
    assert out.tolist() == [[1.0, 0.0, 2.0, 0.0]]
    out.sum().backward()
    assert weight.grad.tolist() == [[1.0, 1.0, 1.0, 1.0]]


def test_masked_gradient_stops_at_pruned_weights():
    weight = torch.tensor([[1.0, -0.1, 2.0, 0.05]], requires_grad=True)
    spec = Prune(sparsity=0.5, gradient="masked")
    spec.forward_weight(weight, None, 0.5).sum().backward()
    assert weight.grad.tolist() == [[1.0, 0.0, 1.0, 0.0]]


def _layer(spec):
    linear = torch.nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
    model = torch.nn.Sequential()
    model.add_module("layers", torch.nn.ModuleList([torch.nn.Sequential(linear)]))
    vcon.compress(model, spec)
    vcon.set_beta(model, 0.0)
    return model, model.layers[0][0]


def test_mask_recomputed_every_step_by_default():
    model, layer = _layer({"name": "prune", "sparsity": 0.5})
    assert layer.exported_weight().tolist() == [[0.0, 0.0, 3.0, 4.0]]
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[4.0, 3.0, 2.0, 1.0]]))
    assert layer.exported_weight().tolist() == [[4.0, 3.0, 0.0, 0.0]]


def test_frozen_mask_keeps_the_first_mask():
    model, layer = _layer({"name": "prune", "sparsity": 0.5, "update_every": 0})
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[4.0, 3.0, 2.0, 1.0]]))
    vcon.set_step(model, 100)
    assert layer.exported_weight().tolist() == [[0.0, 0.0, 2.0, 1.0]]


def test_mask_refreshed_every_k_steps():
    model, layer = _layer({"name": "prune", "sparsity": 0.5, "update_every": 10})
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[4.0, 3.0, 2.0, 1.0]]))
    vcon.set_step(model, 9)
    assert layer.exported_weight().tolist() == [[0.0, 0.0, 2.0, 1.0]]
    vcon.set_step(model, 10)
    assert layer.exported_weight().tolist() == [[4.0, 3.0, 0.0, 0.0]]


TIED = torch.tensor([[0.125, 0.25, 1.0, -0.25, 0.25, 0.5]])  # at sparsity 0.5, three 0.25 share the 3rd/4th place


def test_exact_ties_prune_the_stated_count_and_keep_ties_keep_extra_weights():
    exact, keep = Prune(sparsity=0.5), Prune(sparsity=0.5, ties="keep")
    assert exact.ties == "exact"  # the project's default: exact counts
    assert exact.values(TIED, None, 0.5).tolist() == [[0.0, 0.0, 1.0, 0.0, 0.25, 0.5]]
    # the authors: keep round(6 * 0.5) = 3, threshold = the 3rd largest |w| = 0.25, keep |w| >= 0.25
    assert keep.values(TIED, None, 0.5).tolist() == [[0.0, 0.25, 1.0, -0.25, 0.25, 0.5]]
    assert keep.state(TIED, 0.5).tolist() == [[False, True, True, True, True, True]]
    everything_tied = torch.tensor([[0.25, 1.0, -0.25, 0.25, 0.5]])  # round(0.4 * 5) = 2 of three tied 0.25
    assert Prune(sparsity=0.4, ties="keep").values(everything_tied, None, 0.4).tolist() == everything_tied.tolist()


def test_keep_ties_per_row_and_in_a_blended_layer():
    weight = torch.tensor([[0.5, 0.5, 0.5, 0.125], [4.0, 1.0, 2.0, 3.0]])
    keep = Prune(sparsity=0.5, granularity="row", ties="keep")
    assert keep.values(weight, None, 0.5).tolist() == [[0.5, 0.5, 0.5, 0.0], [4.0, 0.0, 0.0, 3.0]]
    assert Prune(sparsity=0.5, granularity="row").values(weight, None, 0.5).tolist() == [
        [0.0, 0.5, 0.5, 0.0], [4.0, 0.0, 0.0, 3.0]]
    for update_every in (1, 0):  # computed each step, or a stored mask
        model = torch.nn.Sequential()
        model.add_module("layers", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(6, 1, bias=False))]))
        with torch.no_grad():
            model.layers[0][0].weight.copy_(TIED)
        vcon.compress(model, {"name": "prune", "sparsity": 0.5, "ties": "keep", "update_every": update_every})
        vcon.set_beta(model, 0.0)
        assert model.layers[0][0](torch.eye(6)).flatten().tolist() == [0.0, 0.25, 1.0, -0.25, 0.25, 0.5]


@pytest.mark.parametrize("granularity", ["layer", "row", "2:4"])
def test_keep_ties_equal_exact_without_ties(granularity):
    weight = torch.randn(12, 16, generator=torch.Generator().manual_seed(3))
    sparsity = None if ":" in granularity else 0.75
    exact = Prune(sparsity=sparsity, granularity=granularity)
    keep = Prune(sparsity=sparsity, granularity=granularity, ties="keep")
    assert torch.equal(keep.values(weight, None, exact.final_level), exact.values(weight, None, exact.final_level))


def test_a_compressor_built_directly_is_checked_like_a_spec():
    """The one check of a spec (vcon.compressors.options.problems) also sees a compressor object."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    with pytest.raises(vcon.SpecError, match=r"^compressor.ties = 'authors' is not allowed; allowed: one of exact, keep$"):
        vcon.compress(model, Prune(ties="authors"), layers=["*"])
