"""What the workflow checks without torch (the JSON schema, vcon.grid's tables of datasets and models)
must stay equal to the trainer's registries and config, or a config could pass one check and fail
the other."""
from __future__ import annotations

import dataclasses

import pytest

from vcon import grid
from vcon.compressors import list_compressors
from vcon.compressors.lowrank import LowRank
from vcon.compressors.registry import COMPRESSORS
from vcon.data import list_datasets
from vcon.models.registry import list_models
from vcon.schema_errors import load_schema
from vcon.train.config import FIELDS

SCHEMA = load_schema(grid.SCHEMA)


def test_schema_training_keys_are_the_trainers():
    assert set(SCHEMA["$defs"]["training"]["properties"]) == set(FIELDS) - set(grid.IDENTITY_KEYS)


def test_schema_training_choices_are_the_trainers():
    from vcon.data.recipes import IMAGE_RECIPES

    properties = SCHEMA["$defs"]["training"]["properties"]
    assert tuple(properties["image_recipe"]["enum"]) == IMAGE_RECIPES
    assert properties["bf16"]["enum"] == [False, "auto", True]


def test_schema_compressors_are_the_registry():
    spec = SCHEMA["$defs"]["compressor"]
    assert spec["properties"]["name"]["enum"] == list_compressors()
    options = {branch["if"]["properties"]["name"]["const"]: set(branch["then"]["properties"]) - {"name"}
               for branch in spec["allOf"]}
    assert options == {name: {f.name for f in dataclasses.fields(cls)} for name, cls in COMPRESSORS.items()}
    assert grid.LOWRANK_DEFAULT_RANK == LowRank().rank


def test_schema_compressor_choices_are_the_compressors():
    from vcon.compressors import binary, lowrank, prune, quantized

    branches = {branch["if"]["properties"]["name"]["const"]: branch["then"]["properties"]
                for branch in SCHEMA["$defs"]["compressor"]["allOf"]}
    choices = {("prune", "gradient"): prune.GRADIENTS, ("prune", "ties"): prune.TIES,
               ("binary", "scale"): binary.SCALES, ("binary", "sign_zero"): binary.SIGN_ZEROS,
               ("binary", "quantized_share"): quantized.SHARE_MODES, ("quant", "quantized_share"): quantized.SHARE_MODES,
               ("lowrank", "bias"): lowrank.BIASES}
    for (name, key), values in choices.items():
        assert tuple(branches[name][key]["enum"]) == values, (name, key)


def test_grid_names_are_the_registries():
    assert sorted(grid.DATASETS) == list_datasets()
    assert list(grid.REGISTERED_MODELS) == list_models()


@pytest.mark.parametrize("name", ["digits", "synthetic-text"])
def test_offline_dataset_facts(name):
    from vcon.data import DatasetOptions, build_dataset
    from vcon.models.tokenizer import load_tokenizer

    tokenizer = load_tokenizer("bert-mini", "scratch") if name == "synthetic-text" else None
    data = build_dataset(name, DatasetOptions(tokenizer=tokenizer))
    assert (len(data.train), data.num_classes) == (grid.DATASETS[name].train_size, grid.DATASETS[name].classes)


@pytest.mark.parametrize("name, input_spec", [("vit-digits", {"channels": 1, "image_size": 8}),
                                              ("bert-mini", {"vocab_size": 100, "max_length": 32})])
def test_embedded_model_widths(name, input_spec):
    from vcon.selection import select_layers
    from vcon.models import build_model

    model = build_model(name, 10, input_spec)
    assert min(min(layer.weight.shape) for layer in select_layers(model).values()) == grid.MODEL_WIDTHS[name]


def test_fetch_plan_reads_the_readers_tables():
    """vcon/fetch/plan.py reads these from the readers' source (the Snakefile must not import torch)."""
    from vcon.data.cifar import CIFARS
    from vcon.data.glue import TASKS
    from vcon.fetch import plan
    from vcon.models.pretrained import HUB_MODELS

    assert plan.datasets() == {*CIFARS, *(f"glue-{task}" for task in TASKS), "imagenet"}
    assert plan.datasets() <= set(list_datasets())
    assert plan.hub_models() == {name: hub_id for name, (hub_id, _) in HUB_MODELS.items()}
