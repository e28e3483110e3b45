"""A plugin that cannot be used (its name is a built-in's, it fails to import, what it declares is
wrong) is an error where its name is used, naming the distribution and the entry point; it never
replaces a built-in, and commands that do not name it work as before."""
from __future__ import annotations

import subprocess
import sys

import pytest
from distributions import make_distribution
from workflow_run import REPO

from vcon.compressors import SpecError, from_spec, list_compressors
from vcon.compressors.options import OPTIONS
from vcon.data.registry import DATASETS
from vcon.grid import GridError, check, load
from vcon.models.registry import MODELS
from vcon.train.config import ConfigError, describe_compressors, from_dict

GOOD_OPTIONS = '''
from dataclasses import dataclass
from typing import ClassVar
from vcon.keys import key

@dataclass(frozen=True)
class Options:
    name: ClassVar[str] = "{name}"
    implementation: ClassVar[str] = "{module}_impl:Mine"
    level: float = key("how much", 0.5, {{"type": "number", "minimum": 0, "maximum": 1}})
'''


def _compressor_plugin(root, name: str, module: str, options: str | None = None, implementation: str = ""):
    """A distribution MODULE-with-dashes declaring compressor `name` with the options class MODULE:Options
    (by default good ones, whose class MODULE_impl:Mine is `implementation`)."""
    options = GOOD_OPTIONS.format(name=name, module=module) if options is None else options
    return make_distribution(root, module.replace("_", "-"), {"vcon.compressors": {name: f"{module}:Options"}},
                             {f"{module}.py": options, f"{module}_impl.py": implementation})


def _origin(dist: str, point: str, group: str = "vcon.compressors") -> str:
    return f"the installed distribution {dist} 0.1 (entry point '{point}' of group {group})"


def test_a_plugin_named_like_a_built_in_is_refused_where_the_name_is_used(tmp_path, installed):
    installed(_compressor_plugin(tmp_path, "prune", "clash_options"))
    message = (f"compressor 'prune' is registered already (built in, or by code) and "
               f"{_origin('clash-options', 'prune = clash_options:Options')} declares it too; a plugin cannot "
               f"replace it: rename the entry point, or uninstall clash-options")
    with pytest.raises(SpecError) as raised:
        from_spec({"name": "prune", "sparsity": 0.5})
    assert str(raised.value) == f"compressor.name: {message}"
    with pytest.raises(GridError) as refused:
        check({"models": {"vit-digits": {"datasets": ["digits"]}}, "compressors": {"p": {"name": "prune"}},
               "methods": ["posthoc"], "seeds": [0]}, "grid.yaml")
    assert str(refused.value) == f"grid.yaml: compressors.p.name: {message}"
    assert list_compressors() == ["binary", "lowrank", "quant"]
    assert from_spec({"name": "binary"}).name == "binary"


def test_a_plugin_dataset_named_like_a_built_in_is_refused(tmp_path, installed):
    installed(make_distribution(tmp_path, "digits-again", {"vcon.datasets": {"digits": "os:sep"}}))
    with pytest.raises(ConfigError) as raised:
        from_dict({"dataset": "digits"}, "cell.yaml")
    assert str(raised.value) == (
        f"cell.yaml: dataset: dataset 'digits' is registered already (built in, or by code) and "
        f"{_origin('digits-again', 'digits = os:sep', 'vcon.datasets')} declares it too; a plugin cannot replace "
        f"it: rename the entry point, or uninstall digits-again")


def test_a_plugin_that_fails_to_import_breaks_only_its_own_name(tmp_path, installed):
    installed(_compressor_plugin(tmp_path, "broken", "broken_options", options="import not_installed_anywhere\n"))
    message = (f"compressor 'broken' comes from {_origin('broken-options', 'broken = broken_options:Options')}, "
               f"which failed to import: ModuleNotFoundError: No module named 'not_installed_anywhere'; fix the "
               f"plugin, or uninstall broken-options")
    with pytest.raises(ConfigError) as raised:
        from_dict({"compressor": {"name": "broken"}}, "cell.yaml")
    assert str(raised.value) == f"cell.yaml: compressor.name: {message}"
    # everything else works, and says the plugin is there but unusable
    assert load(REPO / "configs" / "test-tiny.yaml").cells
    assert from_dict({"compressor": {"name": "prune"}}).compressor["name"] == "prune"
    assert OPTIONS.names() == ["binary", "lowrank", "prune", "quant"]
    assert OPTIONS.listing().endswith("; declared by plugins that cannot be used: broken")
    assert describe_compressors().endswith("  (declared by plugins that cannot be used: broken; a spec naming one "
                                           "says why)")


def test_vcon_train_names_the_broken_plugin_in_one_line_and_writes_nothing(tmp_path, installed):
    installed(_compressor_plugin(tmp_path / "site", "broken", "broken_options", options="raise RuntimeError('boom')\n"))
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "vcon", "train", "--out", str(out), "--set",
                             "compressor={name: broken}"], capture_output=True, text=True)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr == (f"vcon train: error: defaults: compressor.name: compressor 'broken' comes from "
                             f"{_origin('broken-options', 'broken = broken_options:Options')}, which failed to "
                             f"import: RuntimeError: boom; fix the plugin, or uninstall broken-options\n")


def _options(*body: str, decorator: str = "@dataclass(frozen=True)") -> str:
    return "\n".join([decorator, "class Options:", *(f"    {line}" for line in body)])


NAMED = ("name: ClassVar[str] = 'bad'", "implementation: ClassVar[str] = 'bad_impl:Mine'")
BAD_OPTIONS = [
    ("class Options: pass",
     "it names <class 'bad_options.Options'>, not an options dataclass (@dataclass(frozen=True) class ...Options "
     "with vcon.keys.key(doc, default, schema) fields, as in vcon.compressors.options)"),
    (_options(*NAMED, decorator="@dataclass"), "Options is not frozen; declare it @dataclass(frozen=True)"),
    (_options("name: ClassVar[str] = 'other'"),
     "Options.name must be its entry point's name: declare name: ClassVar[str] = 'bad'"),
    (_options("name: str = 'bad'"), "Options.name must be its entry point's name: declare name: ClassVar[str] = 'bad'"),
    (_options(NAMED[0], "implementation: ClassVar[str] = 'x'"),
     "Options.implementation is 'x'; declare implementation: ClassVar[str] = 'module:Class', the compressor class "
     "built on Options"),
    (_options(*NAMED, "level: float = 0.5"), "Options.level is not declared with vcon.keys.key(doc, default, schema)"),
    (_options(*NAMED, "level: float = key('how much', 0.5, {'type': 'numbr'})"),
     "Options.level: its schema {'type': 'numbr'} is not a JSON schema ('numbr' is not valid under any of the given "
     "schemas)"),
    (_options(*NAMED, "level: float = key('how much', -1, {'type': 'number', 'minimum': 0})"),
     "Options.level: its default -1 is not allowed by its own schema {'type': 'number', 'minimum': 0}"),
]


@pytest.mark.parametrize("source,problem", BAD_OPTIONS, ids=[problem[:40] for _, problem in BAD_OPTIONS])
def test_a_bad_options_declaration_is_named(tmp_path, installed, source, problem):
    header = "from dataclasses import dataclass\nfrom typing import ClassVar\nfrom vcon.keys import key\n"
    installed(_compressor_plugin(tmp_path, "bad", "bad_options", options=header + source))
    with pytest.raises(SpecError) as raised:
        from_spec({"name": "bad"})
    assert str(raised.value) == (f"compressor.name: compressor 'bad' comes from "
                                 f"{_origin('bad-options', 'bad = bad_options:Options')}, which declares it wrong: "
                                 f"{problem}; fix the plugin, or uninstall bad-options")
    assert f"compressor.name: {OPTIONS.problem('bad')}" == str(raised.value)


IMPLEMENTATION_HEADER = "from dataclasses import dataclass\nfrom vcon.compressors import WeightCompressor\n" \
                        "from mine import Options\n"
BAD_IMPLEMENTATIONS = [
    ("Mine = 3", "mine_impl:Mine is 3, not a compressor class built on Options: @dataclass(frozen=True) class "
                 "Mine(Options, WeightCompressor) (or FactorCompressor)"),
    ("class Mine(WeightCompressor): pass", "mine_impl:Mine is <class 'mine_impl.Mine'>, not a compressor class "
                                           "built on Options: @dataclass(frozen=True) class Mine(Options, "
                                           "WeightCompressor) (or FactorCompressor)"),
    ("@dataclass(frozen=True)\nclass Mine(Options, WeightCompressor):\n    extra: int = 1",
     "mine_impl:Mine has keys that Options does not declare: extra; declare every key in the options"),
]


@pytest.mark.parametrize("source,problem", BAD_IMPLEMENTATIONS, ids=[p[:40] for _, p in BAD_IMPLEMENTATIONS])
def test_a_compressor_class_that_does_not_fit_its_options_is_named(tmp_path, installed, source, problem):
    installed(_compressor_plugin(tmp_path, "mine", "mine", implementation=IMPLEMENTATION_HEADER + source))
    assert OPTIONS.get("mine").name == "mine"  # the options alone are fine: the workflow schema has them
    with pytest.raises(SpecError) as raised:
        from_spec({"name": "mine"})
    assert str(raised.value) == (f"compressor.name: compressor 'mine' comes from "
                                 f"{_origin('mine', 'mine = mine:Options')}, which "
                                 f"declares it wrong: {problem}; fix the plugin, or uninstall mine")


def test_a_model_plugin_that_is_not_a_model_entry_is_named(tmp_path, installed):
    installed(make_distribution(tmp_path, "odd-model", {"vcon.models": {"odd": "odd_model:ODD"}},
                                {"odd_model.py": "ODD = 42\n"}))
    assert MODELS.problem("odd") == (
        f"model 'odd' comes from {_origin('odd-model', 'odd = odd_model:ODD', 'vcon.models')}, which declares it "
        f"wrong: it names 42, not a vcon.models.registry.ModelEntry(builder, width=...); fix the plugin, or "
        f"uninstall odd-model")
    assert "odd" not in MODELS and MODELS.problem("vit-digits") is None and MODELS.problem("nothing") is None


def test_a_name_two_plugins_declare_is_refused(tmp_path, installed):
    first = make_distribution(tmp_path / "a", "bars-a", {"vcon.datasets": {"bars": "os:sep"}})
    second = make_distribution(tmp_path / "b", "bars-b", {"vcon.datasets": {"bars": "os:sep"}})
    installed(first, second)
    assert DATASETS.problem("bars") == (
        f"dataset 'bars' is declared by 2 plugins: {_origin('bars-a', 'bars = os:sep', 'vcon.datasets')}; "
        f"{_origin('bars-b', 'bars = os:sep', 'vcon.datasets')}; uninstall all but one, or rename an entry point")
