"""The workflow schema's compressor options must stay equal to the compressors' own fields (the last
copy left; the cell keys, lengths, dataset and model facts come from where they are defined)."""
from __future__ import annotations

import dataclasses

from vcon import grid
from vcon.compressors import list_compressors
from vcon.compressors.registry import COMPRESSORS

SCHEMA = grid.workflow_schema()


def test_schema_compressors_are_the_registry():
    spec = SCHEMA["$defs"]["compressor"]
    assert spec["properties"]["name"]["enum"] == list_compressors()
    options = {branch["if"]["properties"]["name"]["const"]: set(branch["then"]["properties"]) - {"name"}
               for branch in spec["allOf"]}
    assert options == {name: {f.name for f in dataclasses.fields(cls)} for name, cls in COMPRESSORS.items()}


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
