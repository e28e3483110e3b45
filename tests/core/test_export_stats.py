import math

import pytest
import torch

import vcon


def _model(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential()
    model.add_module("blocks", torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(40, 24), torch.nn.Linear(24, 40))]))
    model.add_module("head", torch.nn.Linear(40, 3))
    return model


def _exported(spec):
    model = vcon.compress(_model(), spec)
    vcon.set_beta(model, 0.0)
    return model, vcon.export(model)


def test_export_prune_has_exact_zeros_and_head_stays_dense():
    model, exported = _exported({"name": "prune", "sparsity": 0.9})
    first = exported.blocks[0][0]
    assert isinstance(first, vcon.CompressedLinear)
    assert int((first.weight == 0).sum()) == round(0.9 * 960)
    assert type(exported.head) is torch.nn.Linear
    report = vcon.stats(model)
    assert report["total"]["zeros"] == 2 * 864
    assert report["total"]["sparsity"] == 1728 / 1920
    assert report["total"]["sparsity_denominator"].startswith("weight entries")
    layer = report["layers"][0]
    assert layer["name"] == "blocks.0.0" and layer["shape"] == [24, 40]
    # bitmask (120 bytes) + 96 fp32 values beats CSR (8 * 96 + 4 * 25); plus the fp32 bias
    assert layer["bytes_compressed"] == 120 + 4 * 96 + 4 * 24
    assert layer["bytes_dense"] == 4 * (960 + 24)


def test_export_binary_two_values_and_packed_bytes():
    model, exported = _exported({"name": "binary"})
    for layer in (exported.blocks[0][0], exported.blocks[0][1]):
        assert layer.weight.unique().numel() == 2
    report = vcon.stats(exported)
    assert [layer["distinct_values"] for layer in report["layers"]] == [2, 2]
    assert report["layers"][0]["bytes_compressed"] == 960 // 8 + 4 + 4 * 24
    assert report["total"]["bytes_ratio"] < 0.1


def test_quant_bytes_are_k_bits_plus_row_scales():
    _, exported = _exported({"name": "quant", "bits": 3})
    report = vcon.stats(exported)
    assert report["layers"][0]["bytes_compressed"] == math.ceil(960 * 3 / 8) + 4 * 24 + 4 * 24


def test_lowrank_stats_count_factors():
    model, exported = _exported({"name": "lowrank", "rank": 5})
    report = vcon.stats(model)
    assert [layer["rank"] for layer in report["layers"]] == [5, 5]
    assert report["layers"][0]["params_compressed"] == 5 * (40 + 24) + 24
    assert report["model"]["params_dense"] == sum(p.numel() for p in _model().parameters())


def test_export_leaves_the_training_model_untouched():
    model, exported = _exported({"name": "binary"})
    assert isinstance(model.blocks[0][0], vcon.VanishingLinear)
    assert exported.blocks[0][0].weight is not model.blocks[0][0].weight


def test_stats_of_an_uncompressed_model_is_an_error():
    with pytest.raises(ValueError, match="no compressed layer"):
        vcon.stats(_model())


def test_public_functions_stay_functions_once_their_modules_are_imported():
    """`vcon.export` and `vcon.stats` are functions; a submodule of the same name would replace them on
    the package as soon as anything imported it (the trainer does)."""
    import importlib

    import vcon

    importlib.import_module("vcon.exporting")
    importlib.import_module("vcon.statistics")
    assert callable(vcon.export) and callable(vcon.stats)
    assert vcon.export.__module__ == "vcon.exporting" and vcon.stats.__module__ == "vcon.statistics"
