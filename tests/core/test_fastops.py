"""The float-mask selections equal their torch.where references bit for bit, signed zeros included,
and so do the compressors' values built on them."""
import math

import pytest
import torch

import vcon
from vcon.compressors.base import kth_smallest, sorted_columns
from vcon.compressors.binary import Binary
from vcon.compressors.fastops import any_equal, keep_above, sign_times, signs_times, where_above_
from vcon.compressors.prune import Prune
from vcon.compressors.kbit import Quant

SPECIAL = [0.0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, 0.5, -0.5, 3.0, -3.0, float("inf"), float("-inf")]


def _bits_equal(a, b):
    """Equal values and equal sign bits (torch.equal counts -0.0 == +0.0)."""
    return torch.equal(a, b) and torch.equal(torch.signbit(a), torch.signbit(b))


def _weights(seed, rows=12, cols=16):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(rows, cols, generator=generator)
    weight.view(-1)[: len(SPECIAL) - 2] = torch.tensor(SPECIAL[:-2])  # finite specials
    weight[3] = weight[3].round()  # ties
    return weight


@pytest.mark.parametrize("seed", range(3))
def test_keep_above_is_where_with_positive_zeros(seed):
    weight = _weights(seed)
    weight[5, 0], weight[6, 1] = float("inf"), float("-inf")  # kept: above any finite threshold
    magnitude = weight.abs()
    for threshold in (torch.tensor(0.0), torch.tensor(0.5), magnitude.median(dim=1, keepdim=True).values):
        expected = torch.where(magnitude > threshold, weight, 0.0)
        assert _bits_equal(keep_above(weight, magnitude, threshold), expected)
        assert not torch.signbit(expected[expected == 0]).any()


@pytest.mark.parametrize("scale_shape", [(), (12, 1)])
def test_signs_times_is_where_for_both_zeros(scale_shape):
    weight = _weights(0)
    weight[0, :len(SPECIAL)] = torch.tensor(SPECIAL)
    for scale in (torch.rand(scale_shape) + 0.1, torch.full(scale_shape, float("inf"))):
        assert _bits_equal(signs_times(weight, scale), torch.where(weight >= 0, scale, -scale))


def test_any_equal():
    a = torch.tensor([1.0, -0.0, 2.0])
    assert any_equal(a, torch.tensor([0.0, 0.0, 3.0]))  # -0.0 == +0.0
    assert not any_equal(a, torch.tensor([1.5, 1.0, float("nan")]))


def _reference_pruned(spec, weight, level):
    """Pruning written out one group at a time: a group is the layer, a row, or M consecutive weights of a row
    (N:M); it loses round-half-up(level x its size) of its smallest |w| (NaN counts as the largest), the lower
    index first among equals (ties: exact), or every |w| below the first one kept (ties: keep)."""
    m = int(spec.granularity.split(":")[1]) if ":" in spec.granularity else None
    groups = weight.reshape(-1, m) if m else weight if spec.granularity == "row" else weight.reshape(1, -1)
    k = math.floor(level * groups.shape[1] + 0.5)
    out = groups.clone()
    for r, row in enumerate(groups.tolist()):
        order = sorted(range(len(row)), key=lambda i: (math.isnan(row[i]), abs(row[i]), i))
        if spec.ties == "keep":
            first_kept = abs(row[order[k]])
            zeroed = [i for i, w in enumerate(row) if not abs(w) >= first_kept]
        else:
            zeroed = order[:k]
        out[r, zeroed] = 0.0
    return out.view_as(weight)


@pytest.mark.parametrize("ties", ["exact", "keep"])
@pytest.mark.parametrize("granularity", ["row", "2:4", "1:4", "3:8", "layer"])
@pytest.mark.parametrize("seed", range(4))
def test_pruned_values_equal_the_mask_reference(granularity, seed, ties):
    spec = Prune(granularity=granularity, ties=ties) if ":" in granularity else Prune(
        sparsity=0.7, granularity=granularity, ties=ties)
    weight = _weights(seed)
    if seed == 3:
        weight = weight.round()  # ties at most thresholds: the tie-break (exact) or keep-all (keep) path
    expected = _reference_pruned(spec, weight, spec.final_level)
    assert _bits_equal(spec.values(weight, None, spec.final_level), expected)


@pytest.mark.parametrize("granularity", ["row", "layer", "2:4"])
def test_kept_ties_keep_more_weights_than_exact_counts(granularity):
    """ties: keep keeps every |w| equal to the threshold: on tied weights more survive than the
    exact count, and always at least as many."""
    weight = _weights(3).round()
    exact = Prune(sparsity=0.5, granularity=granularity, ties="exact")
    keep = Prune(sparsity=0.5, granularity=granularity, ties="keep")
    kept_exact = int((exact.values(weight, None, 0.5) != 0).sum())
    kept_keep = int((keep.values(weight, None, 0.5) != 0).sum())
    nonzero = int((weight != 0).sum())
    assert kept_exact == int(weight.numel() * 0.5) - int(((exact.state(weight, 0.5)) & (weight == 0)).sum())
    assert kept_keep > kept_exact and kept_keep <= nonzero
    untied = torch.randn(12, 16, generator=torch.Generator().manual_seed(9))  # no ties: the same weights
    assert _bits_equal(keep.values(untied, None, 0.5), exact.values(untied, None, 0.5))


@pytest.mark.parametrize("granularity", ["row", "layer"])
def test_kept_ties_with_nan_or_inf_take_the_authors_rule(granularity):
    spec = Prune(sparsity=0.5, granularity=granularity, ties="keep")
    weight = torch.randn(6, 16, generator=torch.Generator().manual_seed(0))
    weight[2, 3], weight[4, 4] = float("nan"), float("inf")
    assert _bits_equal(spec.values(weight, None, 0.5), _reference_pruned(spec, weight, 0.5))


def test_pruned_rows_with_nan_or_inf_take_the_where_path():
    spec = Prune(sparsity=0.5, granularity="row")
    weight = torch.randn(6, 16, generator=torch.Generator().manual_seed(0))  # no ties
    weight[2, 3], weight[4, 4] = float("nan"), float("inf")
    magnitude = weight.abs()
    threshold, tied = kth_smallest(magnitude, 8)
    out = spec.values(weight, None, 0.5)
    assert not tied and out[2, 3] == 0.0 and out[4, 4] == float("inf")  # NaN pruned as by where(), not 0 * NaN
    assert _bits_equal(out, torch.where(magnitude > threshold, weight, 0.0))


@pytest.mark.parametrize("scale", ["layer", "row"])
def test_binary_values_equal_the_where_reference(scale):
    weight = _weights(2)
    weight[0, :len(SPECIAL) - 2] = torch.tensor(SPECIAL[:-2])
    mean = weight.abs().mean(dim=1, keepdim=True) if scale == "row" else weight.abs().mean()
    assert _bits_equal(Binary(scale=scale).values(weight, None, 1.0), torch.where(weight >= 0, mean, -mean))


def test_binary_zero_sign_values_equal_the_sign_reference():
    weight = _weights(2)
    weight[0, :len(SPECIAL) - 2] = torch.tensor(SPECIAL[:-2])
    for scale in ("layer", "row"):
        spec = Binary(scale=scale, sign_zero="zero")
        mean = weight.abs().mean(dim=1, keepdim=True) if scale == "row" else weight.abs().mean()
        values = spec.values(weight, None, 1.0)
        assert _bits_equal(values, torch.sign(weight) * mean)
        assert int((values == 0).sum()) == int((weight == 0).sum())  # exact zeros stay zero, nothing else


@pytest.mark.parametrize("scale_shape", [(), (12, 1)])
def test_sign_times_is_the_sign_product(scale_shape):
    weight = _weights(0)
    weight[0, :len(SPECIAL)] = torch.tensor(SPECIAL)
    for scale in (torch.rand(scale_shape) + 0.1, torch.full(scale_shape, float("inf"))):
        assert torch.equal(_bits(sign_times(weight, scale)), _bits(torch.sign(weight) * scale))  # 0 * inf: NaN


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_quant_values_equal_the_out_of_place_reference(bits):
    weight = _weights(bits)
    spec, levels = Quant(bits=bits), 2 ** (bits - 1) - 1  # a grid of 2 L + 1 values per row, step max|w_row| / L
    scale = weight.abs().amax(dim=1, keepdim=True) / levels
    expected = torch.clamp(torch.round(weight / scale), -levels, levels) * scale
    assert _bits_equal(spec.values(weight, None, 1.0), expected)


@pytest.mark.slow
def test_compiled_selections_keep_positive_zeros():
    weight = _weights(0)
    magnitude, threshold, scale = weight.abs(), torch.tensor(0.5), torch.tensor(0.25)
    other = -weight
    compiled = torch.compile(lambda: (keep_above(weight, magnitude, threshold), signs_times(weight, scale),
                                      where_above_(magnitude.clone(), threshold, other.clone(), weight)),
                             fullgraph=True)
    pruned, signs, chosen = compiled()
    assert _bits_equal(pruned, torch.where(magnitude > threshold, weight, 0.0))
    assert _bits_equal(signs, torch.where(weight >= 0, scale, -scale))
    assert _bits_equal(chosen, torch.where(magnitude > threshold, other, weight))


def _bits(tensor):
    return tensor.view({8: torch.int64, 4: torch.int32, 2: torch.int16}[tensor.element_size()])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_where_above_takes_the_bits_of_either_side(dtype):
    above, below = _weights(0).to(dtype), _weights(1).to(dtype)
    above[1, :4] = torch.tensor([float("nan"), -0.0, float("inf"), 0.0])
    below[2, :4] = torch.tensor([-0.0, float("nan"), 0.0, float("-inf")])
    magnitude = _weights(2).abs().to(dtype)
    magnitude[4, 0] = float("nan")
    for threshold in (torch.tensor(0.7, dtype=dtype), magnitude.median(dim=1, keepdim=True).values):
        expected = torch.where(magnitude > threshold, above, below)
        written = above.clone()
        out = where_above_(magnitude.clone(), threshold, written, below)
        assert torch.equal(_bits(out), _bits(expected)) and out.data_ptr() == written.data_ptr()


@pytest.mark.parametrize("spec", [Binary(), Binary(scale="row"), Binary(sign_zero="zero"), Quant(bits=4),
                                  Quant(bits=4, quantized_share="trained")])
@pytest.mark.parametrize("level", [0.0, 0.3, 0.5, 0.875, 1.0])
def test_partial_quantization_equals_the_mask_reference(spec, level):
    for weight in (_weights(5), _weights(6).round()):  # the second with ties at the threshold
        # the largest |w| are quantized first, the lower index first among equals
        magnitudes = weight.abs().flatten().tolist()
        order = sorted(range(len(magnitudes)), key=lambda i: (magnitudes[i], i))
        full = torch.zeros(weight.numel(), dtype=torch.bool)
        full[order[:len(order) - math.floor(level * len(order) + 0.5)]] = True
        expected = torch.where(full.view_as(weight), weight, spec.quantize(weight))
        assert torch.equal(_bits(spec.values(weight, None, level)), _bits(expected))


@pytest.mark.parametrize("spec, level", [(Prune(sparsity=0.7), 0.7), (Prune(sparsity=0.7, granularity="row"), 0.7),
                                         (Prune(granularity="2:4"), 0.5), (Prune(sparsity=0.7, ties="keep"), 0.7),
                                         (Prune(sparsity=0.7, granularity="row", ties="keep"), 0.7),
                                         (Binary(), 1.0), (Binary(), 0.5), (Binary(sign_zero="zero"), 1.0),
                                         (Binary(scale="row"), 1.0), (Quant(bits=4), 1.0), (Quant(bits=4), 0.5)])
def test_values_reuse_their_own_buffers_never_the_weight(spec, level):
    weight = _weights(7)
    before = weight.clone()
    out = spec.values(weight, None, level)
    assert torch.equal(_bits(weight), _bits(before)) and out.data_ptr() != weight.data_ptr()


@pytest.mark.parametrize("n", range(2, 9))
def test_sorting_networks_select_every_pair_of_neighbours(n):
    """0-1 principle: a comparator network sorts every input iff it sorts every 0/1 input."""
    zero_one = torch.tensor([[(row >> bit) & 1 for bit in range(n)] for row in range(2 ** n)], dtype=torch.float32)
    for values in (zero_one, torch.randn(64, n, generator=torch.Generator().manual_seed(n))):
        expected = values.sort(dim=1).values
        for k in range(n - 1):
            low, high = sorted_columns(values, (k, k + 1))
            assert torch.equal(low, expected[:, k]) and torch.equal(high, expected[:, k + 1])


def _compiled_and_eager(spec, beta):
    torch.manual_seed(0)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(16, 12))]))
    vcon.compress(model, spec, iterative=beta == "iterative")
    vcon.set_beta(model, 0.0 if beta == "iterative" else beta)
    if beta == "iterative":  # mid-ramp: a share of the weights quantized, a sparsity below the final one
        vcon.set_step(model, 50, iterative_total=100)
    layer, x = model.blocks[0][0], torch.randn(5, 16)
    grad = torch.randn(5, 12)
    results = []
    for run in (layer, torch.compile(layer)):
        layer.weight.grad = None
        out = run(x)
        out.backward(grad)
        results.append((out.detach(), layer.weight.grad.clone()))
    (eager, eager_grad), (compiled, compiled_grad) = results
    assert torch.allclose(compiled, eager, atol=1e-6)
    assert torch.allclose(compiled_grad, eager_grad, atol=1e-6)
    return layer, grad.t() @ x, eager_grad


@pytest.mark.slow
# One spec per compressor kind (each compiles for about 3 s): the eager tests above compare every granularity
# and sign rule with its reference, and test_compiled_selections_keep_positive_zeros compiles their primitives.
@pytest.mark.parametrize("spec", [{"name": "prune", "sparsity": 0.75, "granularity": "row"},
                                  {"name": "quant", "bits": 4, "quantized_share": "trained"},
                                  {"name": "binary", "sign_zero": "zero", "quantized_share": "trained"}])
@pytest.mark.parametrize("beta", [0.0, 0.5, "iterative"])
def test_compiled_layers_match_eager_with_identity_gradients(spec, beta):
    layer, identity, eager_grad = _compiled_and_eager(spec, beta)
    assert torch.equal(eager_grad, identity)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [{"name": "quant", "bits": 4}, {"name": "binary", "sign_zero": "zero"}])
def test_compiled_frozen_shares_match_eager_and_pass_no_gradient(spec):
    """quantized_share: frozen (INQ): the frozen entries get no gradient, the others the identity."""
    layer, identity, eager_grad = _compiled_and_eager(spec, "iterative")
    frozen = layer.iterative_state.frozen
    assert 0 < int(frozen.sum()) < frozen.numel()
    assert torch.equal(eager_grad, torch.where(frozen, 0.0, identity))
