import pytest

import vcon


def test_registry_lists_the_compressors():
    assert vcon.list_compressors() == ["binary", "lowrank", "prune", "quant"]


@pytest.mark.parametrize("spec,message", [
    ({"name": "prun"},
     r"unknown compressor 'prun' \(did you mean 'prune'\?\); registered compressors: binary, lowrank, prune, quant"),
    ({"sparsity": 0.9}, r"a mapping with a 'name' key"),
    ({"name": "prune", "sparsity": 1.0}, r"sparsity must be a number in \[0, 1\), got 1.0"),
    ({"name": "prune", "sparsity": -0.1}, r"sparsity must be a number in \[0, 1\)"),
    ({"name": "prune", "granularity": "block"}, r"unknown granularity 'block'; valid: 'layer', 'row' or 'N:M'"),
    ({"name": "prune", "granularity": "4:2"}, r"needs 0 < N < M"),
    ({"name": "prune", "granularity": "2:4", "sparsity": 0.9}, r"disagrees with granularity '2:4'"),
    ({"name": "prune", "sparsty": 0.9}, r"unknown key 'sparsty' \(did you mean 'sparsity'\?\); valid keys: sparsity"),
    ({"name": "quant", "bits": 1}, r"bits must be an integer in 2..8, got 1"),
    ({"name": "quant", "bits": 9}, r"bits must be an integer in 2..8, got 9"),
    ({"name": "binary", "scale": "column"}, r"unknown scale 'column'; valid: layer, row"),
    ({"name": "lowrank", "rank": 0}, r"rank must be an integer >= 1"),
    ({"name": "lowrank", "rank": 8, "start_rank": 4}, r"start_rank must be an integer >= rank \(8\)"),
])
def test_bad_specs_raise_clear_errors(spec, message):
    with pytest.raises(vcon.SpecError, match=message):
        vcon.from_spec(spec)


def test_specs_round_trip_through_plain_dicts():
    spec = vcon.from_spec({"name": "prune", "sparsity": 0.75, "granularity": "row"})
    assert vcon.from_spec(spec.to_spec()) == spec
    assert spec.to_spec()["granularity"] == "row"


def test_n_m_needs_divisible_in_features():
    import torch
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(6, 4))]))
    with pytest.raises(vcon.SpecError, match="in_features divisible by 4, but blocks.0.0 has 6"):
        vcon.compress(model, {"name": "prune", "granularity": "2:4"})
