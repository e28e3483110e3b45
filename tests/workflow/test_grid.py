"""vcon.grid: cell counts of the shipped configs (counted by hand), canonical strings, errors."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from vcon.grid import GridError, canonical_length, check, load, workflow_schema
from vcon.grid.validate import SCHEMA
from vcon.train.config import from_dict

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def tiny() -> dict:
    return yaml.safe_load((CONFIGS / "test-tiny.yaml").read_text())


def expand(config: dict):
    """The grid of a config, the one way the workflow gets it: the schema, then the expansion."""
    return check(config, "test.yaml")


def test_default_counts():
    # 2 pretraining runs (one per model); headline seeds 0-7: 2 experiments x 8 = 16 dense; x 3 compressors each:
    # 48 post-shot, 96 iterative (two variants), 48 VCON (the headline Q); dense from scratch on seeds 0-4: 10.
    grid = load(CONFIGS / "default.yaml")
    assert grid.counts() == {"pretrain": 2, "dense": 16, "dense-scratch": 10, "posthoc": 48, "iterative": 96,
                             "vcon": 48}
    assert len(grid) == 220
    compressors = {cell.compressor for cell in grid.cells.values() if cell.model == "bert-mini"}
    assert compressors == {"none", "prune95", "binary", "lowrank1"}
    assert {c.seed for c in grid.cells.values() if c.method == "dense-scratch"} == {"0", "1", "2", "3", "4"}


def test_studies_extending_the_default_share_its_cells():
    """The ablation and the level map extend the default: every cell they have in common with it is
    the same run (id and config), so it trains once."""
    default = load(CONFIGS / "default.yaml").cells
    # the pretraining(s), and per seed 0-4 and model: dense + 3 compressors x (post-shot, iterative, VCON at 6ep)
    for study, shared in (("ablation.yaml", 1 + 5 * (1 + 3 * 3)), ("levels.yaml", 2 + 5 * 2 * (1 + 3 * 3))):
        cells = load(CONFIGS / study).cells
        common = [run for run in cells if run in default]
        assert len(common) == shared, study
        assert all(cells[run].config == default[run].config for run in common)


def test_paper_counts():
    # 15 experiments (vit-tiny 1, vit-small 3, vit-base 3, bert-base 8) x 3 seeds = 45 dense.
    # vit-tiny/cifar10, 2 starts x 3 seeds: 5 compressors x (post-shot, 2 iterative variants, 3 Q) + 3
    # compressors x 3 other shapes at 12ep = 39 -> 234. The other 14 experiments x 3 seeds x 3 compressors x 6 = 756.
    grid = load(CONFIGS / "paper.yaml")
    assert grid.counts() == {"dense": 45, "posthoc": 30 + 126, "iterative": 2 * (30 + 126), "vcon": 144 + 378}
    assert len(grid) == 1035
    tiny_cells = [c for c in grid.cells.values() if c.model == "vit-tiny" and c.method != "dense"]
    assert {c.compressor for c in tiny_cells} == {"prune90", "prune90-row", "prune-2of4", "binary", "lowrank16"}
    assert {c.start for c in tiny_cells} == {"pretrained", "finetuned"}
    assert {c.compressor for c in grid.cells.values() if c.model == "vit-base"} == {"none", "prune90", "binary",
                                                                                   "lowrank16"}


def test_tiny_counts():
    # 1 pretraining; 1 experiment x 2 seeds: 2 dense, 2 from scratch; x 2 compressors: 4 post-shot,
    # 6 iterative (prune90 in two variants), 8 VCON (2 Q).
    grid = load(CONFIGS / "test-tiny.yaml")
    assert grid.counts() == {"pretrain": 1, "dense": 2, "dense-scratch": 2, "posthoc": 4, "iterative": 6, "vcon": 8}


def test_run_ids_and_cell_configs():
    grid = load(CONFIGS / "test-tiny.yaml")
    assert list(grid.cells)[:8] == [
        "vit-digits/glyphs/pretrain/seed0",
        "vit-digits/digits/dense/seed0",
        "vit-digits/digits/dense-scratch/seed0",
        "vit-digits/digits/prune90/posthoc/q0/seed0",
        "vit-digits/digits/prune90/iterative/t2ep-zhu-gupta/seed0",
        "vit-digits/digits/prune90/iterative/t2ep-straight-through/seed0",
        "vit-digits/digits/prune90/vcon/q3-linear/seed0",
        "vit-digits/digits/prune90/vcon/q2ep-linear/seed0",
    ]
    pretrained = "results/runs/vit-digits/glyphs/pretrain/seed0"
    pretrain = grid.cells["vit-digits/glyphs/pretrain/seed0"]
    assert pretrain.config["dataset"] == "glyphs" and pretrain.config["compressor"] is None
    assert pretrain.config["train_size"] == 2000 and pretrain.config["epochs"] == 1 and pretrain.config["seed"] == 0
    assert pretrain.config["eval_every"] is None and pretrain.config["init"] == "scratch" and pretrain.init_run is None
    vcon = grid.cells["vit-digits/digits/prune90/vcon/q3-linear/seed0"]
    assert vcon.config["q"] == 3 and vcon.config["schedule"] == "linear" and vcon.config["method"] == "vcon"
    assert vcon.config["init"] == pretrained and vcon.init_run == "vit-digits/glyphs/pretrain/seed0"
    assert vcon.config["compressor"] == {"name": "prune", "sparsity": 0.9, "granularity": "layer"}
    assert vcon.config["iterative_t"] is None and vcon.config["epochs"] == 4 and vcon.config["train_size"] == 100
    assert vcon.config["eval_every"] == 2
    iterative = grid.cells["vit-digits/digits/binary/iterative/t2ep/seed1"].config
    assert iterative["iterative_t"] == "2ep" and iterative["q"] == 0 and iterative["seed"] == 1
    dense = grid.cells["vit-digits/digits/dense/seed0"]
    assert dense.config["compressor"] is None and dense.config["init"] == pretrained
    assert dense.init_run == "vit-digits/glyphs/pretrain/seed0"
    scratch = grid.cells["vit-digits/digits/dense-scratch/seed1"]
    assert scratch.config["init"] == "scratch" and scratch.init_run is None and scratch.config["seed"] == 1
    assert {k: v for k, v in scratch.config.items() if k != "init"} == \
        {k: v for k, v in grid.cells["vit-digits/digits/dense/seed1"].config.items() if k != "init"}
    # Every key of the interface's cell config is present.
    assert {"model", "dataset", "init", "compressor", "method", "q", "schedule", "iterative_t", "original",
            "epochs", "batch_size", "lr", "weight_decay", "warmup_steps", "min_lr", "grad_clip", "seed",
            "device", "bf16", "workers", "data_root"} <= set(vcon.config)


def test_one_pretraining_per_model_for_all_its_datasets():
    config = tiny()
    config["models"]["vit-digits"]["datasets"]["synthetic-text"] = None
    config["models"]["vit-digits"]["pretrain"]["seed"] = 3
    grid = expand(config)
    assert [run for run in grid.cells if "/pretrain/" in run] == ["vit-digits/glyphs/pretrain/seed3"]
    for run in ("vit-digits/digits/binary/posthoc/q0/seed1", "vit-digits/synthetic-text/binary/posthoc/q0/seed1"):
        assert grid.cells[run].init_run == "vit-digits/glyphs/pretrain/seed3"


def test_compression_cells_can_also_start_from_the_dense_fine_tuning():
    config = tiny()
    config["models"]["vit-digits"]["starts"] = ["pretrained", "finetuned"]
    grid = expand(config)
    assert grid.counts() == {"pretrain": 1, "dense": 2, "dense-scratch": 2, "posthoc": 8, "iterative": 12, "vcon": 16}
    first = grid.cells["vit-digits/digits/binary/posthoc/q0/seed1"]
    second = grid.cells["vit-digits/digits/finetuned/binary/posthoc/q0/seed1"]
    assert (first.start, second.start) == ("pretrained", "finetuned")
    assert first.config["init"] == "results/runs/vit-digits/glyphs/pretrain/seed0"
    assert second.config["init"] == "results/runs/vit-digits/digits/dense/seed1"
    assert second.init_run == "vit-digits/digits/dense/seed1"
    assert {k: v for k, v in first.config.items() if k != "init"} == \
        {k: v for k, v in second.config.items() if k != "init"}
    assert second.row()["start"] == "finetuned" and grid.cells["vit-digits/digits/dense/seed1"].row()["start"] == ""


def test_finetuned_start_needs_dense_runs():
    config = tiny()
    config["starts"], config["dense"] = ["finetuned"], False
    with pytest.raises(GridError, match="start 'finetuned' begins from the dense runs, but `dense` makes none"):
        expand(config)
    config["starts"] = ["fine-tuned"]
    with pytest.raises(GridError, match="starts.0 = 'fine-tuned' is not allowed; allowed: one of pretrained, finetuned "
                                        "\\(did you mean 'finetuned'\\?\\)"):
        expand(config)


def test_paper_dense_is_reference_not_init():
    grid = load(CONFIGS / "paper.yaml")
    cell = grid.cells["vit-tiny/cifar10/prune90/vcon/q12ep-linear/seed42"]
    assert cell.config["init"] == "WinKawaks/vit-tiny-patch16-224" and cell.init_run is None
    assert cell.config["epochs"] == 60 and cell.config["batch_size"] == 128 and cell.config["lr"] == 1e-4
    assert cell.resources == {"threads": 8, "mem_mb": 32000, "runtime": 240, "gpu": 1}
    bert = grid.cells["bert-base/glue-mnli/binary/vcon/q2ep-linear/seed43"]
    assert bert.resources["runtime"] == 900 and bert.config["lr"] == 2e-5


def test_canonical_length_is_the_grammar_of_vcon_lengths_as_a_grid_error():
    """The spellings themselves: tests/core/test_lengths.py."""
    assert [canonical_length(v) for v in (120.0, " 12 EP ")] == ["120", "12ep"]
    with pytest.raises(GridError, match=re.escape("T must be a step count >= 0 (120) or epochs written like '12ep', "
                                                  "got '12 epochs'")):
        canonical_length("12 epochs", "T")


def test_number_formatting_does_not_change_paths():
    a, b = tiny(), tiny()
    a["q"], b["q"] = [13, "2ep"], [13.0, "2EP"]
    a["seeds"], b["seeds"] = [0, 1], [0.0, 1.0]
    assert list(expand(a).cells) == list(expand(b).cells)
    assert "vit-digits/digits/binary/vcon/q13-linear/seed1" in expand(a).cells


@pytest.mark.parametrize("key, value, message", [
    ("seeds", [0, 0], re.escape("seeds = [0, 0] is not allowed; allowed: no value twice")),
    ("q", [120, "120"], "duplicate Q values"),
    ("q", [120, 120.0], "duplicate Q values"),
    ("methods", ["vcon", "vcon"], re.escape("methods = ['vcon', 'vcon'] is not allowed; allowed: no value twice")),
])
def test_duplicates_are_errors(key, value, message):
    config = tiny()
    config[key] = value
    with pytest.raises(GridError, match=message):
        expand(config)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(models={}), "models = {} is not allowed; allowed: at least 1 keys"),
    (lambda c: c.update(seeds=[]), "seeds = [] is not allowed; allowed: at least 1 entries"),
    (lambda c: c.update(compressors={}, dense=False), "compressors = {} is not allowed; allowed: at least 1 keys"),
    (lambda c: c["models"]["vit-digits"].update(datasets={}),
     "models.vit-digits.datasets = {} is not allowed; allowed: a list or at least 1 keys"),
])
def test_a_grid_of_zero_cells_is_refused_by_the_schema(change, message):
    config = tiny()
    change(config)
    with pytest.raises(GridError, match=re.escape(message)):
        expand(config)


def test_sparse_evaluation_keys_come_in_pairs_before_any_job():
    config = tiny()
    config["models"]["vit-digits"]["datasets"]["digits"]["training"]["eval_sparse_from"] = "2ep"
    with pytest.raises(GridError, match="models.vit-digits.datasets.digits: training: eval_sparse_from = '2ep' needs "
                                        "eval_sparse_every"):
        expand(config)
    config["models"]["vit-digits"]["datasets"]["digits"]["training"]["eval_sparse_every"] = 5
    cell = expand(config).cells["vit-digits/digits/binary/vcon/q3-linear/seed0"]
    assert (cell.config["eval_every"], cell.config["eval_sparse_from"], cell.config["eval_sparse_every"]) == (2, "2ep", 5)


def test_invalid_grids():
    config = tiny()
    config["q"] = [0, 10]
    with pytest.raises(GridError, match="post-shot"):
        expand(config)
    config = tiny()
    config["training"]["q"] = 5
    with pytest.raises(GridError, match="training.q: key 'q' is not allowed here: the grid sets it for each cell from `q`"):
        expand(config)
    config = tiny()
    config["compressors"]["dense"] = {"name": "binary"}
    with pytest.raises(GridError, match="reserved"):
        expand(config)


def test_ablation_overlap_is_merged_not_duplicated():
    config = tiny()
    config["ablation"] = {"schedules": ["linear", "cosine"], "q": [3], "compressors": ["binary"]}
    grid = expand(config)
    assert grid.counts()["vcon"] == 8 + 2  # cosine at Q=3 for binary, 2 seeds; linear already there
    assert "vit-digits/digits/binary/vcon/q3-cosine/seed0" in grid.cells
    assert "vit-digits/digits/prune90/vcon/q3-cosine/seed0" not in grid.cells


def test_dense_switch():
    config = tiny()
    config["dense"] = False
    grid = expand(config)
    assert "dense" not in grid.counts() and "dense-scratch" not in grid.counts()
    assert grid.cells["vit-digits/digits/binary/posthoc/q0/seed0"].config["init"] == \
        "results/runs/vit-digits/glyphs/pretrain/seed0"
    config["dense"] = {"run": True}
    grid = expand(config)
    assert grid.counts()["dense"] == 2 and "dense-scratch" not in grid.counts()
    assert grid.cells["vit-digits/digits/binary/posthoc/q0/seed0"].init_run == "vit-digits/glyphs/pretrain/seed0"
    del config["models"]["vit-digits"]["pretrain"]
    grid = expand(config)
    assert "pretrain" not in grid.counts()
    assert grid.cells["vit-digits/digits/binary/posthoc/q0/seed0"].init_run is None
    assert grid.cells["vit-digits/digits/binary/posthoc/q0/seed0"].config["init"] == "scratch"


def test_config_is_not_mutated():
    config = tiny()
    before = copy.deepcopy(config)
    expand(config)
    assert config == before


VARIANTS = {"prune": {"zhu-gupta": {"gradient": "masked", "ramp_every": 2}, "ste": None}}


def with_variants(**report) -> dict:
    config = tiny()
    config["iterative_variants"] = copy.deepcopy(VARIANTS)  # in place of the shipped ones
    config["report"] = {**config.get("report", {}), "headline_iterative": {"default": {"prune": "zhu-gupta"}},
                        **report}
    return config


def test_iterative_variants_are_cells_of_their_own_with_their_keys_set():
    grid = check(with_variants(), "x.yaml")
    iterative = {run: cell for run, cell in grid.cells.items() if cell.method == "iterative" and cell.seed == "0"}
    assert sorted(iterative) == ["vit-digits/digits/binary/iterative/t2ep/seed0",
                                 "vit-digits/digits/prune90/iterative/t2ep-ste/seed0",
                                 "vit-digits/digits/prune90/iterative/t2ep-zhu-gupta/seed0"]
    zhu_gupta = iterative["vit-digits/digits/prune90/iterative/t2ep-zhu-gupta/seed0"]
    assert zhu_gupta.config["compressor"] == {"name": "prune", "gradient": "masked", "granularity": "layer",
                                              "ramp_every": 2, "sparsity": 0.9}
    assert (zhu_gupta.row()["iterative_t"], zhu_gupta.row()["iterative_variant"]) == ("2ep", "zhu-gupta")
    assert zhu_gupta.row()["iterative_variant"] == "zhu-gupta" and zhu_gupta.row()["iterative_t"] == "2ep"
    assert iterative["vit-digits/digits/prune90/iterative/t2ep-ste/seed0"].config["compressor"] == \
        {"name": "prune", "granularity": "layer", "sparsity": 0.9}
    others = [c for c in grid.cells.values() if c.compressor == "prune90" and c.method in ("posthoc", "vcon")]
    assert others and all(c.config["compressor"] == {"name": "prune", "granularity": "layer", "sparsity": 0.9}
                          for c in others)


def test_a_model_replaces_the_variants_of_the_compressor_names_it_lists():
    config = with_variants()
    config["models"]["vit-digits"]["iterative_variants"] = {"prune": {"zhu-gupta": {"ramp_every": 5,
                                                                                     "gradient": "masked"}}}
    grid = check(config, "x.yaml")
    runs = sorted(run for run, c in grid.cells.items() if c.method == "iterative" and c.compressor == "prune90")
    assert runs == ["vit-digits/digits/prune90/iterative/t2ep-zhu-gupta/seed0",
                    "vit-digits/digits/prune90/iterative/t2ep-zhu-gupta/seed1"]
    assert grid.cells[runs[0]].config["compressor"]["ramp_every"] == 5


@pytest.mark.parametrize("change,message", [
    (lambda c: c["report"].pop("headline_iterative"),
     "report.headline_iterative names no variant of prune for model vit-digits; allowed: one of zhu-gupta, ste"),
    (lambda c: c["report"].update(headline_iterative={"vit-digits": {"prune": "inq"}}),
     "report.headline_iterative names 'inq', not a variant of prune for model vit-digits; allowed: one of "
     "zhu-gupta, ste"),
    (lambda c: c["iterative_variants"]["prune"].update(again={"gradient": "straight_through"}),
     "iterative variants 'ste' and 'again' of compressor 'prune90' give the same spec"),
    (lambda c: c["iterative_variants"]["prune"].update(harsher={"sparsity": 0.99}),
     "iterative_variants.prune.harsher.sparsity: unknown key 'sparsity'; allowed keys: update_every, gradient, "
     "ramp_every, ramp_start, ramp_updates, ramp_initial"),
])
def test_bad_iterative_variants_are_refused_before_any_job(change, message):
    config = with_variants()
    change(config)
    with pytest.raises(GridError, match=re.escape(message)):
        check(config, "x.yaml")


def test_seeds_by_section():
    config = tiny()
    config["seeds"] = {"headline": [0, 1, 2], "q_sweep": [0], "scratch": [1, 2]}
    config["report"]["headline_q"] = "2ep"
    grid = check(config, "x.yaml")
    seeds = {}
    for cell in grid.cells.values():
        seeds.setdefault((cell.method, cell.variant), set()).add(cell.seed)
    assert seeds[("dense", "")] == seeds[("posthoc", "q0")] == seeds[("iterative", "t2ep")] == {"0", "1", "2"}
    assert seeds[("vcon", "q2ep-linear")] == {"0", "1", "2"}
    assert seeds[("vcon", "q3-linear")] == {"0"}
    assert seeds[("dense-scratch", "")] == {"1", "2"}


@pytest.mark.parametrize("seeds,headline_q,message", [
    ({"headline": [0, 1], "q_sweep": [2]}, "2ep", "seeds.q_sweep: 2 not among seeds.headline"),
    ({"headline": [0, 1], "q_sweep": [0]}, "best", "seeds by section need the headline Q of vit-digits"),
    ({"q_sweep": [0]}, "2ep", "seeds: missing key 'headline'"),
])
def test_bad_seed_sections(seeds, headline_q, message):
    config = tiny()
    config["seeds"], config["report"]["headline_q"] = seeds, headline_q
    with pytest.raises(GridError, match=re.escape(message)):
        check(config, "x.yaml")


def test_extends_merges_mappings_removes_nulls_and_replaces_the_rest(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(with_variants()))
    (tmp_path / "child.yaml").write_text(yaml.safe_dump({
        "extends": "base.yaml", "seeds": [7], "training": {"lr": 0.01},
        "iterative_variants": {"prune": {"ste": None}}, "report": {"headline_q": "3"}}))
    grid = load(tmp_path / "child.yaml")
    cells = list(grid.cells.values())
    assert {c.seed for c in cells if c.method != "pretrain"} == {"7"}  # a list replaces
    assert {c.config["lr"] for c in cells if c.method != "pretrain"} == {0.01}  # a mapping merges key by key:
    assert {c.config["batch_size"] for c in cells if c.method == "posthoc"} == {20}  # the base's other keys stay
    assert sorted(c.variant for c in cells if c.method == "iterative") == ["t2ep", "t2ep-zhu-gupta"]  # null removes


def test_extends_errors_name_the_file(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(GridError, match=r"a\.yaml: extends: .*a\.yaml -> .*b\.yaml -> .*a\.yaml is a cycle"):
        load(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: nowhere.yaml\n")
    with pytest.raises(GridError, match=r"extends: 'nowhere\.yaml' is not a file .*; allowed: another workflow "
                                        r"config file, relative to"):
        load(tmp_path / "c.yaml")


def test_a_number_yaml_reads_as_text_means_the_same_in_workflow_and_cell_configs():
    """YAML 1.1 reads 3e-4 (no dot) as a string: both configs take it as the number it spells."""
    config = tiny()
    config["training"]["lr"] = "3e-4"
    assert expand(config).cells["vit-digits/digits/binary/vcon/q3-linear/seed0"].config["lr"] == 0.0003
    assert from_dict({"lr": "3e-4", "min_lr": "1E-6"}).lr == 0.0003
    config["training"]["epochs"] = "4"  # an integer key takes no text
    with pytest.raises(GridError, match=re.escape("training.epochs = '4' is not allowed; allowed: an integer")):
        expand(config)


def _enums(node) -> list[list]:
    if isinstance(node, dict):
        return ([node["enum"]] if "enum" in node else []) + [e for value in node.values() for e in _enums(value)]
    return [e for value in node for e in _enums(value)] if isinstance(node, list) else []


def test_every_list_of_names_in_the_workflow_schema_comes_from_code():
    written = _enums(yaml.safe_load(SCHEMA.read_text()))
    assert len(written) == 6 and all(enum == [] for enum in written)  # none typed in by hand
    loaded = _enums(workflow_schema())
    assert all(loaded) and ["t", "bca"] in loaded and ["pretrained", "finetuned"] in loaded
