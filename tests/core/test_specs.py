import pytest

import vcon


def test_registry_lists_the_compressors():
    assert vcon.list_compressors() == ["binary", "lowrank", "prune", "quant"]


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
