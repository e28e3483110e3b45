"""The example plugin (examples/vcon-plugin-example), installed from outside the package: the real
registries find its compressor and dataset by name, its options reach the workflow schema, the
did-you-mean messages and `vcon train --help`, and a bad option is refused like a built-in's."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from vcon import schema_errors
from vcon.compressors import COMPRESSORS, SpecError, from_spec, list_compressors
from vcon.compressors.options import OPTIONS
from vcon.data.registry import DATASETS, build_dataset
from vcon.grid import workflow_schema
from vcon.train.config import ConfigError, from_dict


@pytest.fixture(autouse=True)
def example(example_site, installed):
    installed(example_site)


def test_the_registries_find_the_plugin_by_name():
    from vcon_plugin_example.options import RandomPruneOptions
    from vcon_plugin_example.random_prune import RandomPrune

    assert OPTIONS.get("random-prune") is RandomPruneOptions
    assert COMPRESSORS.get("random-prune") is RandomPrune
    assert list_compressors() == ["binary", "lowrank", "prune", "quant", "random-prune"]
    bars = DATASETS.get("bars")
    assert (bars.train_size, bars.classes, bars.files) == (600, 4, False)


def test_the_bars_dataset_builds_through_the_registry():
    bundle = build_dataset("bars")
    assert [len(split) for split in (bundle.train, bundle.val, bundle.test)] == [600, 200, 200]
    assert bundle.input_spec == {"channels": 1, "image_size": 8} and bundle.num_classes == 4
    image, label = bundle.train[0]
    assert image.shape == (1, 8, 8) and label in range(4)


def _problems(spec) -> list[str]:
    config = {"models": {"vit-digits": {"datasets": ["bars"]}}, "compressors": {"c": spec},
              "methods": ["posthoc"], "seeds": [0]}
    return schema_errors.problems(config, workflow_schema())


@pytest.mark.parametrize("spec,line", [
    ({"name": "random-prune", "sparsity": 0.5, "seed": 3}, None),
    ({"name": "random-prune", "sparsity": 1.0}, "compressors.c.sparsity = 1.0 is not allowed; allowed: a number < 1"),
    ({"name": "random-prune", "seed": -1}, "compressors.c.seed = -1 is not allowed; allowed: an integer >= 0"),
    ({"name": "random-prune", "sede": 1},
     "compressors.c.sede: unknown key 'sede' (did you mean 'seed'?); allowed keys: name, sparsity, seed"),
    ({"name": "random-prun"}, "compressors.c.name = 'random-prun' is not allowed; allowed: one of binary, lowrank, "
                              "prune, quant, random-prune (did you mean 'random-prune'?)"),
])
def test_the_workflow_schema_holds_the_plugin_options(spec, line):
    assert _problems(spec) == ([] if line is None else [line])


@pytest.mark.parametrize("spec,message", [
    ({"name": "random-prune", "sparsity": 1.0}, "compressor.sparsity = 1.0 is not allowed; allowed: a number < 1"),
    ({"name": "random-prune", "seed": 0.5}, "compressor.seed = 0.5 is not allowed; allowed: an integer"),
    ({"name": "random-prune", "sede": 1},
     "compressor.sede: unknown key 'sede' (did you mean 'seed'?); allowed keys: name, sparsity, seed"),
    ({"name": "random-prun"}, "compressor.name = 'random-prun' is not allowed; allowed: one of binary, lowrank, prune, "
                              "quant, random-prune (did you mean 'random-prune'?)"),
])
def test_a_bad_plugin_spec_is_refused_like_a_built_in_one(spec, message):
    with pytest.raises(SpecError) as raised:
        from_spec(spec)
    assert str(raised.value) == message
    with pytest.raises(ConfigError) as refused:
        from_dict({"compressor": spec}, "cell.yaml")
    assert str(refused.value) == f"cell.yaml: {message}"


def test_vcon_train_help_lists_the_plugin_compressor_and_its_keys():
    result = subprocess.run([sys.executable, "-m", "vcon", "train", "--help"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.endswith(
        "  random-prune\n"
        "    sparsity         share of the weights zeroed, drawn at random (default: 0.9)\n"
        "    seed             seed of the random mask (with the layer's shape) (default: 0)\n")


def test_checking_a_plugin_grid_imports_no_torch():
    code = ("import sys, vcon.grid; from vcon.data.registry import DATASETS; "
            "config = {'models': {'vit-digits': {'datasets': ['bars']}}, 'methods': ['posthoc'], 'seeds': [0], "
            "'compressors': {'r': {'name': 'random-prune', 'sparsity': 0.5}}}; "
            "print(len(vcon.grid.check(config, 'c.yaml').cells), DATASETS.get('bars').classes, 'torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "1 4 False\n"


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Module()
    model.blocks = torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.Linear(8, 8))])
    return model


def _exported_zeros(spec) -> list[torch.Tensor]:
    import vcon

    model = vcon.compress(_model(), spec)
    vcon.set_beta(model, 0.0)
    return [layer.weight == 0 for layer in vcon.export(model).blocks[0]]


def test_random_pruning_zeroes_exactly_its_share_where_its_seed_says():
    zeros = _exported_zeros({"name": "random-prune", "sparsity": 0.75, "seed": 1})
    assert [int(z.sum()) for z in zeros] == [60, 48]  # round(0.75 * 80), round(0.75 * 64)
    again = _exported_zeros({"name": "random-prune", "sparsity": 0.75, "seed": 1})
    other = _exported_zeros({"name": "random-prune", "sparsity": 0.75, "seed": 2})
    assert all(torch.equal(a, b) for a, b in zip(zeros, again))
    assert not any(torch.equal(a, b) for a, b in zip(zeros, other))
