"""The Snakemake workflow: schema validation, the paper grid's DAG, lint, and what reruns when
code, config or results change (a fake trainer in a copy of the workflow)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fake_workflow import REPO, job_counts, snakemake

from vcon.grid import GridError, check

# Every test below that runs Snakemake takes a few seconds (the finished tree: ~30 s once).
slow = pytest.mark.slow

REPORT_JOBS = {"aggregate": 1, "check_runs": 1}  # the tables, then the check that every run is usable
DATA_FIGURES = {"figure_beta_ablation": 1, "figure_transition_curves": 1, "figure_gains": 1}
ALL_FIGURES = {**DATA_FIGURES, "figure_schedules": 1}


def config_of(name: str) -> dict:
    return yaml.safe_load((REPO / "configs" / name).read_text())


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(seeds=["zero"]), "seeds.0 = 'zero' is not allowed; allowed: an integer"),
    (lambda c: c.update(methods=["posthoc", "magic"]),
     "methods.1 = 'magic' is not allowed; allowed: one of posthoc, iterative, vcon"),
    (lambda c: c.update(q=["12 epochs"]),
     "q.0 = '12 epochs' is not allowed; allowed: a step count >= 0 (120) or epochs ('12ep', '1.5ep')"),
    (lambda c: c["models"]["vit-digits"].update(dataset="typo"),
     "models.vit-digits.dataset: unknown key 'dataset' (did you mean 'datasets'?)"),
])
def test_bad_config_is_rejected(change, message):
    config = config_of("test-tiny.yaml")
    change(config)
    with pytest.raises(GridError, match=re.escape(f"bad.yaml: {message}")):
        check(config, "bad.yaml")


@slow
def test_paper_dry_run_lists_every_job(tmp_path):
    # 1,035 cells (tests/workflow/test_grid.py) + aggregate, check_runs, 4 figures, all; no data needed. Fetch jobs:
    # 11 data sets (CIFAR-10/100, ImageNet, 8 GLUE tasks) and 4 hub checkpoints (tests/workflow/test_fetch_rules.py).
    result = snakemake(REPO, "-n", "--quiet", "rules", "--configfile", "configs/paper.yaml", "-d", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert job_counts(result.stdout + result.stderr) == {"fetch_data": 11, "fetch_checkpoint": 4, "train": 1035,
                                                         **REPORT_JOBS, **ALL_FIGURES, "all": 1}


@slow
def test_default_dry_run(tmp_path):
    result = snakemake(REPO, "-n", "--quiet", "rules", "-d", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    # test_grid.test_default_counts: 220 runs, 2 of them pretraining; the figures report.figures lists.
    assert job_counts(result.stdout + result.stderr) == {"pretrain": 2, "train": 218, **REPORT_JOBS,
                                                         "figure_transition_curves": 1, "figure_gains": 1,
                                                         "figure_schedules": 1, "all": 1}


@slow
def test_lint_is_clean():
    result = snakemake(REPO, "--lint", timeout=120)
    assert result.returncode == 0 and "Congratulations" in result.stdout + result.stderr, result.stdout[-3000:]


# --- rerun behaviour on a finished tree ---------------------------------------------------------

def dry_run(root: Path, *args: str) -> dict[str, int]:
    result = snakemake(root, "-n", "--configfile", "configs/test-tiny.yaml", *args, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return job_counts(result.stdout + result.stderr)


def edit(path: Path, text: str = "\n# edited\n") -> None:
    """Edit a source now: its mtime is now, after the finished outputs' (never set in the future)."""
    path.write_text(path.read_text() + text)


@slow
def test_finished_tree_is_up_to_date(finished_tiny):
    assert (finished_tiny / "results/tables/accuracy.md").exists()
    assert (finished_tiny / "figures/gains.pdf").exists()
    assert (finished_tiny / "results/cells/vit-digits/digits/prune90/vcon/q3-linear/seed1.yaml").exists()
    assert dry_run(finished_tiny) == {}


@slow
def test_plot_code_edit_reruns_figures_only(tiny_copy):
    edit(tiny_copy / "vcon/report/plots.py")
    assert dry_run(tiny_copy) == {**ALL_FIGURES, "all": 1}


@slow
def test_aggregation_code_edit_reruns_aggregation_and_figures(tiny_copy):
    edit(tiny_copy / "vcon/report/tables.py")
    assert dry_run(tiny_copy) == {**REPORT_JOBS, **DATA_FIGURES, "all": 1}


@slow
def test_fetch_code_edit_reruns_nothing(tiny_copy):
    edit(tiny_copy / "vcon/fetch/plan.py")  # not a trainer source: no cell's result depends on how data arrives
    assert dry_run(tiny_copy) == {}


@slow
def test_new_seed_runs_only_new_cells(tiny_copy):
    config = config_of("test-tiny.yaml")
    config["seeds"] = [0, 1, 2]
    (tiny_copy / "configs/test-tiny.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tiny_copy, "-n", "--configfile", "configs/test-tiny.yaml", timeout=120)
    counts = job_counts(result.stdout + result.stderr)
    assert counts == {"train": 11, **REPORT_JOBS, **DATA_FIGURES, "all": 1}  # 2 dense + (1 + 2 + 2) + (1 + 1 + 2)
    assert "seed0/metrics.json" not in "".join(l for l in result.stdout.splitlines() if l.strip().startswith("output:"))


@slow
def test_new_q_runs_only_new_cells(tiny_copy):
    config = config_of("test-tiny.yaml")
    config["q"] = [3, "2ep", 15]
    (tiny_copy / "configs/test-tiny.yaml").write_text(yaml.safe_dump(config))
    assert dry_run(tiny_copy) == {"train": 4, **REPORT_JOBS, **DATA_FIGURES, "all": 1}  # 2 compressors x 2 seeds


@slow
def test_one_cell_setting_change_reruns_that_cell_only(tiny_copy):
    config = config_of("test-tiny.yaml")
    config["compressors"]["binary"]["scale"] = "row"
    (tiny_copy / "configs/test-tiny.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tiny_copy, "-n", "--configfile", "configs/test-tiny.yaml", timeout=120)
    assert job_counts(result.stdout + result.stderr)["train"] == 8  # binary: 2 seeds x (post-shot, iterative, 2 Q)
    assert "params have changed" in result.stdout.lower()


@slow
def test_trainer_code_change_is_detected_and_can_be_kept(tiny_copy):
    edit(tiny_copy / "vcon/train/cli.py")
    assert dry_run(tiny_copy)["train"] == 22 and dry_run(tiny_copy)["pretrain"] == 1
    listed = snakemake(tiny_copy, "--list-changes", "code", "--configfile", "configs/test-tiny.yaml", timeout=120)
    assert "results/runs/vit-digits/digits/dense/seed0/metrics.json" in listed.stdout
    # Documented in docs/workflow.md: keep the finished runs despite the trainer edit.
    keep = ("--rerun-triggers", "mtime", "params", "input", "software-env")
    assert dry_run(tiny_copy, *keep) == {}
    # Editing report code is not a trainer change.
    edit(tiny_copy / "vcon/report/collect.py")
    assert "train" not in dry_run(tiny_copy, *keep)
    # --touch records the current code: plain calls are up to date afterwards.
    touched = snakemake(tiny_copy, "--touch", "--cores", "1", "--configfile", "configs/test-tiny.yaml", timeout=120)
    assert touched.returncode == 0, touched.stderr[-3000:]
    assert dry_run(tiny_copy) == {}


@slow
def test_pretraining_is_cached_and_a_change_to_it_reruns_what_starts_from_it(tiny_copy):
    """The finished tree does not pretrain again; a new pretraining setting reruns it and every cell
    that starts from it (dense fine-tuning and compression), not the dense runs from scratch."""
    assert "pretrain" not in dry_run(tiny_copy)
    config = config_of("test-tiny.yaml")
    config["models"]["vit-digits"]["pretrain"]["training"]["epochs"] = 2
    (tiny_copy / "configs/test-tiny.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tiny_copy, "-n", "--configfile", "configs/test-tiny.yaml", timeout=120)
    assert job_counts(result.stdout + result.stderr) == {"pretrain": 1, "train": 20, **REPORT_JOBS, **DATA_FIGURES,
                                                         "all": 1}  # 2 x (dense + (1 + 2 + 2) + (1 + 1 + 2))
    outputs = " ".join(line for line in result.stdout.splitlines() if line.strip().startswith("output:"))
    assert "dense-scratch" not in outputs and "glyphs/pretrain/seed0/metrics.json" in outputs
