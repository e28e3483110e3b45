"""vcon.grid: cell counts of the shipped configs (counted by hand), canonical strings, errors."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from vcon.grid import GridError, canonical_length, canonical_seed, expand, load

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def tiny() -> dict:
    return yaml.safe_load((CONFIGS / "test-tiny.yaml").read_text())


def test_default_counts():
    # 2 pretraining runs (one per model); 2 experiments x 5 seeds = 10 dense, 10 dense from scratch;
    # x 3 compressors each: 30 post-shot, 30 iterative; VCON: vit-digits 5 x 3 x 3 Q = 45 + ablation
    # 5 seeds x prune95 x 3 other shapes at 6ep = 15, bert-mini 5 x 3 x 1 Q = 15.
    grid = load(CONFIGS / "default.yaml")
    assert grid.counts() == {"pretrain": 2, "dense": 10, "dense-scratch": 10, "posthoc": 30, "iterative": 30,
                             "vcon": 75}
    assert len(grid) == 157
    compressors = {cell.compressor for cell in grid.cells.values() if cell.model == "bert-mini"}
    assert compressors == {"none", "prune95", "binary", "lowrank1"}


def test_paper_counts():
    # 15 experiments (vit-tiny 1, vit-small 3, vit-base 3, bert-base 8) x 3 seeds = 45 dense.
    # vit-tiny/cifar10, 2 starts x 3 seeds: 5 compressors x (post-shot, iterative, 3 Q) + 3 compressors x 3
    # other shapes at 12ep = 34 -> 204. The other 14 experiments x 3 seeds x 3 compressors x 5 = 630.
    grid = load(CONFIGS / "paper.yaml")
    assert grid.counts() == {"dense": 45, "posthoc": 30 + 126, "iterative": 30 + 126, "vcon": 144 + 378}
    assert len(grid) == 879
    tiny_cells = [c for c in grid.cells.values() if c.model == "vit-tiny" and c.method != "dense"]
    assert {c.compressor for c in tiny_cells} == {"prune90", "prune90-row", "prune-2of4", "binary", "lowrank16"}
    assert {c.start for c in tiny_cells} == {"pretrained", "finetuned"}
    assert {c.compressor for c in grid.cells.values() if c.model == "vit-base"} == {"none", "prune90", "binary",
                                                                                   "lowrank16"}


def test_tiny_counts():
    # 1 pretraining; 1 experiment x 2 seeds: 2 dense, 2 from scratch; x 2 compressors: 4 post-shot,
    # 4 iterative, 8 VCON (2 Q).
    grid = load(CONFIGS / "test-tiny.yaml")
    assert grid.counts() == {"pretrain": 1, "dense": 2, "dense-scratch": 2, "posthoc": 4, "iterative": 4, "vcon": 8}


def test_run_ids_and_cell_configs():
    grid = load(CONFIGS / "test-tiny.yaml")
    assert list(grid.cells)[:7] == [
        "vit-digits/glyphs/pretrain/seed0",
        "vit-digits/digits/dense/seed0",
        "vit-digits/digits/dense-scratch/seed0",
        "vit-digits/digits/prune90/posthoc/q0/seed0",
        "vit-digits/digits/prune90/iterative/t2ep/seed0",
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
    assert grid.counts() == {"pretrain": 1, "dense": 2, "dense-scratch": 2, "posthoc": 8, "iterative": 8, "vcon": 16}
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
    with pytest.raises(GridError, match="unknown start 'fine-tuned' \\(did you mean 'finetuned'\\?\\); allowed: "
                                        "pretrained, finetuned"):
        expand(config)


def test_paper_dense_is_reference_not_init():
    grid = load(CONFIGS / "paper.yaml")
    cell = grid.cells["vit-tiny/cifar10/prune90/vcon/q12ep-linear/seed42"]
    assert cell.config["init"] == "WinKawaks/vit-tiny-patch16-224" and cell.init_run is None
    assert cell.config["epochs"] == 60 and cell.config["batch_size"] == 128 and cell.config["lr"] == 1e-4
    assert cell.resources == {"threads": 8, "mem_mb": 32000, "runtime": 240, "gpu": 1}
    bert = grid.cells["bert-base/glue-mnli/binary/vcon/q2ep-linear/seed43"]
    assert bert.resources["runtime"] == 900 and bert.config["lr"] == 2e-5


@pytest.mark.parametrize("value, expected", [
    (120, "120"), ("120", "120"), (120.0, "120"), ("12ep", "12ep"), (" 12 EP ", "12ep"), ("012ep", "12ep"),
    (0, "0"),
])
def test_canonical_length(value, expected):
    assert canonical_length(value) == expected


@pytest.mark.parametrize("value", [1.5, -3, True, "12 epochs", "-1ep", "1.5", None])
def test_canonical_length_rejects(value):
    with pytest.raises(GridError):
        canonical_length(value)


def test_canonical_seed():
    assert [canonical_seed(s) for s in (0, "7", 3.0)] == ["0", "7", "3"]
    with pytest.raises(GridError):
        canonical_seed(-1)


def test_number_formatting_does_not_change_paths():
    a, b = tiny(), tiny()
    a["q"], b["q"] = [13, "2ep"], [13.0, "2EP"]
    a["seeds"], b["seeds"] = [0, 1], [0.0, "1"]
    assert list(expand(a).cells) == list(expand(b).cells)
    assert "vit-digits/digits/binary/vcon/q13-linear/seed1" in expand(a).cells


@pytest.mark.parametrize("key, value, message", [
    ("seeds", [0, 0], "duplicate seeds"),
    ("q", [120, "120"], "duplicate Q values"),
    ("q", [120, 120.0], "duplicate Q values"),
    ("methods", ["vcon", "vcon"], "duplicate methods"),
])
def test_duplicates_are_errors(key, value, message):
    config = tiny()
    config[key] = value
    with pytest.raises(GridError, match=message):
        expand(config)


@pytest.mark.parametrize("change", [
    lambda c: c.update(models={}),
    lambda c: c.update(seeds=[]),
    lambda c: c.update(compressors={}, dense=False),
    lambda c: c["models"]["vit-digits"].update(datasets={}),
])
def test_zero_cells_is_an_error(change):
    config = tiny()
    change(config)
    with pytest.raises(GridError, match="zero cells"):
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
    with pytest.raises(GridError, match="may not set q"):
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
