"""Each compressor's options are declared once (vcon.compressors.options): the compressor classes are
built on them, and the workflow schema is generated from them, without torch."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import yaml

from vcon import schema_errors
from vcon.compressors import COMPRESSORS, SpecError, from_spec, list_compressors, options
from vcon.grid import GridError, check, workflow_schema
from vcon.grid.validate import SCHEMA


def _field_facts(cls: type) -> list[tuple]:
    return [(f.name, f.default, dict(f.metadata)) for f in dataclasses.fields(cls)]


def test_the_registered_compressors_are_the_declared_options():
    assert list_compressors() == sorted(options.OPTIONS)


@pytest.mark.parametrize("name", sorted(options.OPTIONS))
def test_a_compressor_has_exactly_the_fields_of_its_options(name):
    cls, declared = COMPRESSORS.get(name), options.OPTIONS.get(name)
    assert issubclass(cls, declared) and cls.name == declared.name == name
    assert _field_facts(cls) == _field_facts(declared)
    assert all(f.metadata["doc"] and f.metadata["schema"] for f in dataclasses.fields(declared))


@pytest.mark.parametrize("name", sorted(options.OPTIONS))
def test_the_defaults_are_a_valid_spec_for_the_schema_and_the_compressor(name):
    spec = COMPRESSORS.get(name)().to_spec()
    assert _problems(spec) == []
    assert from_spec(spec).to_spec() == spec


def test_the_schema_file_keeps_no_copy_of_the_options():
    assert set(yaml.safe_load(SCHEMA.read_text())["$defs"]["compressor"]) == {"description"}
    assert workflow_schema()["$defs"]["compressor"]["properties"]["name"]["enum"] == list_compressors()


def test_building_the_workflow_schema_imports_no_torch():
    code = ("import sys, vcon.grid, vcon.compressors.options; "
            "vcon.grid.workflow_schema(); vcon.compressors.options.problems({'name': 'lowrank', 'start_rank': 2}); "
            "print(sorted(m for m in ('torch', 'vcon.compressors.base', 'vcon.compressors.lowrank') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def _problems(spec) -> list[str]:
    config = {"models": {"vit-digits": {"datasets": ["digits"]}}, "compressors": {"c": spec},
              "methods": ["posthoc"], "seeds": [0]}
    return schema_errors.problems(config, workflow_schema())


BAD = "compressors.c.{} = {} is not allowed; allowed: {}"
BAD_SPECS = [
    ({"name": "prune", "sparsity": 1.0}, BAD.format("sparsity", "1.0", "a number < 1")),
    ({"name": "prune", "sparsity": "high"}, BAD.format("sparsity", "'high'", "a number or null")),
    ({"name": "prune", "granularity": "block"}, BAD.format("granularity", "'block'", "layer, row or N:M such as 2:4")),
    ({"name": "prune", "granularity": 4}, BAD.format("granularity", "4", "a string")),
    ({"name": "prune", "update_every": -1}, BAD.format("update_every", "-1", "an integer >= 0")),
    ({"name": "prune", "gradient": "mask"},
     BAD.format("gradient", "'mask'", "one of straight_through, masked (did you mean 'masked'?)")),
    ({"name": "prune", "ramp_every": 0}, BAD.format("ramp_every", "0", "an integer >= 1")),
    ({"name": "prune", "ramp_start": -1}, BAD.format("ramp_start", "-1", "an integer >= 0")),
    ({"name": "prune", "ramp_updates": 0}, BAD.format("ramp_updates", "0", "an integer >= 1")),
    ({"name": "prune", "ramp_initial": 1}, BAD.format("ramp_initial", "1", "a number < 1")),
    ({"name": "prune", "ties": "keeps"}, BAD.format("ties", "'keeps'", "one of exact, keep (did you mean 'keep'?)")),
    ({"name": "prune", "sparsty": 0.5}, "compressors.c.sparsty: unknown key 'sparsty' (did you mean 'sparsity'?); "
                                        "allowed keys: name, sparsity, granularity, update_every, gradient, ramp_every, "
                                        "ramp_start, ramp_updates, ramp_initial, ties"),
    ({"name": "binary", "shares": [0.5, 0]}, BAD.format("shares.1", "0", "a number > 0")),
    ({"name": "binary", "shares": [0.5, 1.5]}, BAD.format("shares.1", "1.5", "a number <= 1")),
    ({"name": "binary", "shares": []}, BAD.format("shares", "[]", "at least 1 entries")),
    ({"name": "binary", "quantized_share": "fixed"}, BAD.format("quantized_share", "'fixed'", "one of frozen, trained")),
    ({"name": "binary", "scale": "column"}, BAD.format("scale", "'column'", "one of layer, row")),
    ({"name": "binary", "sign_zero": "minus"}, BAD.format("sign_zero", "'minus'", "one of plus, zero")),
    ({"name": "binary", "bits": 2},
     "compressors.c.bits: unknown key 'bits'; allowed keys: name, shares, quantized_share, scale, sign_zero"),
    ({"name": "quant", "bits": 9}, BAD.format("bits", "9", "an integer <= 8")),
    ({"name": "quant", "bits": 1}, BAD.format("bits", "1", "an integer >= 2")),
    ({"name": "quant", "bits": 2.5}, BAD.format("bits", "2.5", "an integer")),
    ({"name": "quant", "shares": 0.5}, BAD.format("shares", "0.5", "a list")),
    ({"name": "quant", "quantized_share": "train"},
     BAD.format("quantized_share", "'train'", "one of frozen, trained (did you mean 'trained'?)")),
    ({"name": "lowrank", "rank": 0}, BAD.format("rank", "0", "an integer >= 1")),
    ({"name": "lowrank", "start_rank": 0}, BAD.format("start_rank", "0", "an integer >= 1")),
    ({"name": "lowrank", "rank_stages": 0}, BAD.format("rank_stages", "0", "an integer >= 1")),
    ({"name": "lowrank", "bias": "own"}, BAD.format("bias", "'own'", "one of shared, separate")),
    ({"name": "lowrank", "optimizer_state": "keep"},
     BAD.format("optimizer_state", "'keep'", "one of reset, kept (did you mean 'kept'?)")),
    ({"name": "lowrank", "ranks": 4}, "compressors.c.ranks: unknown key 'ranks' (did you mean 'rank'?); "
                                      "allowed keys: name, rank, start_rank, rank_stages, bias, optimizer_state"),
    ({"name": "ternary"}, BAD.format("name", "'ternary'", "one of binary, lowrank, prune, quant (did you mean 'binary'?)")),
    ({"rank": 4}, "compressors.c: missing key 'name'"),
    ("prune", "compressors.c = 'prune' is not allowed; allowed: a mapping"),
]


@pytest.mark.parametrize("spec,line", BAD_SPECS, ids=[str(spec) for spec, _ in BAD_SPECS])
def test_the_generated_schema_refuses_each_bad_option_with_its_message(spec, line):
    assert _problems(spec) == [line]


def test_every_option_has_a_bad_value_case():
    covered = {(spec["name"], key) for spec, _ in BAD_SPECS if isinstance(spec, dict) and "name" in spec
               for key in spec if key != "name"}
    declared = {(name, f.name) for name, cls in options.OPTIONS.items() for f in dataclasses.fields(cls)}
    assert declared <= covered


@pytest.mark.parametrize("spec,line", BAD_SPECS, ids=[str(spec) for spec, _ in BAD_SPECS])
def test_a_cell_config_gets_the_same_message_as_a_workflow_config(spec, line):
    """`from_spec` (a cell config's compressor, the library) checks a spec the one way the workflow does."""
    with pytest.raises(SpecError) as caught:
        from_spec(spec)
    assert str(caught.value) == line.replace("compressors.c", "compressor")


TIED = [  # keys that are valid alone but not together
    ({"name": "prune", "granularity": "2:4", "sparsity": 0.9},
     "sparsity = 0.9 is not allowed; allowed: none with granularity '2:4', which means sparsity 0.5: drop the "
     "sparsity key"),
    ({"name": "prune", "granularity": "4:2"},
     "granularity = '4:2' is not allowed; allowed: N:M with 0 < N < M, e.g. '2:4'"),
    ({"name": "prune", "sparsity": 0.5, "ramp_initial": 0.6}, "ramp_initial = 0.6 is not allowed; allowed: at most "
                                                              "sparsity (0.5)"),
    ({"name": "binary", "shares": [0.5, 0.25]}, "shares = [0.5, 0.25] is not allowed; allowed: increasing shares"),
    ({"name": "lowrank", "rank": 8, "start_rank": 4}, "start_rank = 4 is not allowed; allowed: null or an integer >= "
                                                      "rank (8)"),
]


@pytest.mark.parametrize("spec,message", TIED, ids=[str(spec) for spec, _ in TIED])
def test_keys_that_do_not_go_together_get_one_message_in_both_configs(spec, message):
    with pytest.raises(SpecError) as caught:
        from_spec(spec)
    assert str(caught.value) == f"compressor.{message}"
    config = {"models": {"vit-digits": {"datasets": ["digits"]}}, "compressors": {"c": spec}, "methods": ["posthoc"],
              "seeds": [0]}
    with pytest.raises(GridError) as caught:
        check(config, "x.yaml")
    assert str(caught.value) == f"x.yaml: compressors.c.{message}"


def test_an_n_m_granularity_sets_the_sparsity():
    assert from_spec({"name": "prune", "granularity": "2:8"}).sparsity == 0.75
    assert from_spec({"name": "prune"}).sparsity == 0.9
