"""Aggregation refuses what it cannot trust (another cell's metrics, an unknown schema, a truncated
file, a config other than the workflow's now) and flags environment drift; every report file is
written to a temporary name and renamed."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from damage import change_digit, truncate

import vcon.atomic
from vcon.integrity import seal
from vcon.commands import build_parser
from vcon import run_ids
from vcon.report import cli_aggregate, cli_plot, collect

PRUNE = {"name": "prune", "sparsity": 0.9}
PACKAGES = {"torch": "2.14.1", "numpy": "2.3.0"}
SEEDS = (0, 1, 2)
RUNS = [f"m/d/dense/seed{s}" for s in SEEDS] + [f"m/d/p90/posthoc/q0/seed{s}" for s in SEEDS] \
    + [f"m/d/p90/vcon/q2ep-linear/seed{s}" for s in SEEDS]
ACCURACY = {"dense": 0.90, "posthoc": 0.70, "vcon": 0.80}


def expected_config(identity: dict) -> dict:
    """The cell config the workflow would run now (as vcon.grid writes it into cells.csv)."""
    method = identity["method"]
    return {"model": "m", "dataset": "d", "compressor": None if method == "dense" else PRUNE,
            "method": "posthoc" if method == "dense" else method, "q": "2ep" if method == "vcon" else 0,
            "schedule": "linear", "iterative_t": None, "epochs": 8, "lr": 0.001, "seed": int(identity["seed"]),
            "device": "auto"}


def metrics_of(identity: dict, **changes) -> dict:
    """What the trainer records for the cell: q and iterative_t in steps, options filled in."""
    config = expected_config(identity)
    resolved = {**config, "q": 10 if config["q"] == "2ep" else 0, "iterative_t": 8, "device": "cpu",
                "steps_per_epoch": 5, "compressor": {**PRUNE, "granularity": "layer"} if config["compressor"] else None}
    resolved.update(changes.pop("config", {}))
    method = identity["method"]
    value = ACCURACY[method] + int(identity["seed"]) / 100
    return {"schema_version": 1,
            "cell": {"model": "m", "dataset": "d", "compressor": "none" if method == "dense" else "prune",
                     "method": method, "q": resolved["q"], "schedule": "linear", "seed": int(identity["seed"])},
            "config": resolved, "metric": "accuracy", "test": {"accuracy": value},
            "history": [{"epoch": 1, "step": 5, "beta": 0.0, "lr": 1e-3, "train_loss": 1.0,
                         "val_blended": value, "val_compressed": value}],
            "environment": {"packages": changes.pop("packages", PACKAGES), "git_commit": "c0ffee", "git_dirty": False},
            **changes}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    rows = []
    for run in RUNS:
        identity = run_ids.parse(run)
        path = tmp_path / "runs" / run / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(metrics_of(identity)))
        config = expected_config(identity)
        rows.append({**identity, "compressor_spec": json.dumps(config["compressor"], sort_keys=True)
                     if config["compressor"] else "", "config": json.dumps(config, sort_keys=True)})
    pd.DataFrame(rows).to_csv(tmp_path / "cells.csv", index=False)
    return tmp_path


def put(tree: Path, run: str, data) -> None:
    (tree / "runs" / run / "metrics.json").write_text(data if isinstance(data, str) else json.dumps(data))


def aggregate(tree: Path) -> pd.DataFrame:
    args = build_parser(["aggregate"]).parse_args(["aggregate", "--runs", str(tree / "runs"), "--cells",
                                                   str(tree / "cells.csv"), "--out", str(tree / "tables"),
                                                   "--headline-q", "2ep", "--bootstrap", "1000"])
    assert cli_aggregate.run(args) == 0
    return collect.read_runs(tree / "tables" / "runs.csv").set_index("run")


def test_untrusted_runs_are_flagged_and_left_out(tree):
    seed0 = run_ids.parse("m/d/p90/vcon/q2ep-linear/seed0")
    put(tree, "m/d/p90/vcon/q2ep-linear/seed1", metrics_of(seed0))  # a folder copied by hand
    put(tree, "m/d/p90/posthoc/q0/seed2", {**metrics_of(run_ids.parse("m/d/p90/posthoc/q0/seed2")),
                                           "schema_version": 3})
    text = json.dumps(metrics_of(run_ids.parse("m/d/p90/vcon/q2ep-linear/seed2")))
    put(tree, "m/d/p90/vcon/q2ep-linear/seed2", text[: len(text) // 2])  # truncated
    put(tree, "m/d/p90/posthoc/q0/seed1", metrics_of(run_ids.parse("m/d/p90/posthoc/q0/seed1"),
                                                     config={"epochs": 5}))  # made before a config edit
    runs = aggregate(tree)

    flagged = runs[runs["status"] != "ok"]
    assert flagged["status"].to_dict() == {
        "m/d/p90/posthoc/q0/seed1": "stale", "m/d/p90/posthoc/q0/seed2": "invalid",
        "m/d/p90/vcon/q2ep-linear/seed1": "invalid", "m/d/p90/vcon/q2ep-linear/seed2": "invalid"}
    problems = flagged["problem"].to_dict()
    assert problems["m/d/p90/vcon/q2ep-linear/seed1"] == \
        "metrics.json is another cell's (folder moved or renamed?): seed 0 (folder: '1')"
    assert problems["m/d/p90/posthoc/q0/seed2"] == "metrics.json has schema_version 3; this code reads 1 and 2"
    assert problems["m/d/p90/vcon/q2ep-linear/seed2"].startswith("unreadable metrics.json (truncated or not JSON): ")
    assert problems["m/d/p90/posthoc/q0/seed1"] == \
        "made from another config than the workflow's now: epochs 5 (workflow now: 8)"
    assert flagged["value"].isna().all()  # never used

    accuracy = pd.read_csv(tree / "tables" / "accuracy.csv").set_index("column")
    assert accuracy.loc["posthoc", ["n", "expected"]].tolist() == [1, 3]
    assert accuracy.loc["vcon", ["n", "expected"]].tolist() == [1, 3]
    assert accuracy.loc["dense", ["n", "expected"]].tolist() == [3, 3]
    md = (tree / "tables" / "accuracy.md").read_text()
    assert "70.00 (n=1/3)" in md and "80.00 (n=1/3)" in md
    assert "Left out (counted as missing): 4 run(s) whose metrics cannot be trusted for their cell" in md
    history = pd.read_csv(tree / "tables" / "history.csv")
    assert len(history) == 5  # the five trusted runs only


def test_a_sealed_metrics_json_is_checked_against_its_sha256(tree):
    """Schema 2 carries the sha256 of its content: a changed digit makes the run invalid, not a number."""
    runs = {f"m/d/p90/vcon/q2ep-linear/seed{s}": metrics_of(run_ids.parse(f"m/d/p90/vcon/q2ep-linear/seed{s}"))
            for s in SEEDS}
    for run, data in runs.items():
        put(tree, run, json.dumps(seal({**data, "schema_version": 2, "files": {}}), indent=2))
    change_digit(tree / "runs" / "m/d/p90/vcon/q2ep-linear/seed1" / "metrics.json", '"accuracy": 0.81',
                 '"accuracy": 0.91')
    truncate(tree / "runs" / "m/d/p90/vcon/q2ep-linear/seed2" / "metrics.json")
    table = aggregate(tree)
    assert table.loc["m/d/p90/vcon/q2ep-linear/seed0", "status"] == "ok"
    assert table.loc["m/d/p90/vcon/q2ep-linear/seed0", "value"] == 0.80
    assert table.loc["m/d/p90/vcon/q2ep-linear/seed1", ["status", "problem"]].tolist() == [
        "invalid", "metrics.json is damaged: its content does not match the sha256 recorded when it was written"]
    assert table.loc["m/d/p90/vcon/q2ep-linear/seed2", "problem"].startswith(
        "unreadable metrics.json (truncated or not JSON): ")
    assert "90.00 (n=1/3)" not in (tree / "tables" / "accuracy.md").read_text()
    assert "80.00 (n=1/3)" in (tree / "tables" / "accuracy.md").read_text()


def test_a_run_moved_to_another_q_or_method_is_refused(tree):
    vcon0 = metrics_of(run_ids.parse("m/d/p90/vcon/q2ep-linear/seed0"))
    put(tree, "m/d/p90/posthoc/q0/seed0", vcon0)
    runs = aggregate(tree)
    assert runs.loc["m/d/p90/posthoc/q0/seed0", "problem"] == \
        "metrics.json is another cell's (folder moved or renamed?): method 'vcon' (folder: 'posthoc'), q 10 (folder: '0')"


def test_environment_drift_is_a_column_and_a_note(tree):
    run = "m/d/dense/seed2"
    data = metrics_of(run_ids.parse(run), packages={**PACKAGES, "torch": "2.13.0"})
    data["environment"]["git_commit"] = "deadbee"
    put(tree, run, data)
    runs = aggregate(tree)
    assert runs.loc[run, "env_drift"] == "git_commit deadbee (group: c0ffee); torch 2.13.0 (group: 2.14.1)"
    assert runs.loc[run, "status"] == "ok"  # a valid run, used, but visible
    assert (runs.drop(index=run)["env_drift"] == "").all()
    for name in ("accuracy.md", "ablation.md"):
        assert "Environment drift: 1 run(s) were made with other package versions or code than the rest of their " \
               "model/dataset group" in (tree / "tables" / name).read_text()
    assert "% Environment drift: 1 run(s)" in (tree / "tables" / "accuracy.tex").read_text()


def test_every_report_file_is_renamed_into_place(tree, monkeypatch):
    renamed: list[str] = []
    real = os.replace

    def spy(src, dst):
        renamed.append(Path(dst).name)
        real(src, dst)

    monkeypatch.setattr(vcon.atomic.os, "replace", spy)
    aggregate(tree)
    args = build_parser(["plot"]).parse_args(["plot", "--figure", "gains", "--runs", str(tree / "tables" / "runs.csv"),
                                              "--history", str(tree / "tables" / "history.csv"), "--out",
                                              str(tree / "figures"), "--headline-q", "2ep", "--bootstrap", "200"])
    assert cli_plot.run(args) == 0
    written = sorted(p.name for p in (tree / "tables").iterdir()) + sorted(p.name for p in (tree / "figures").iterdir())
    assert sorted(renamed) == sorted(written)
    assert not [name for name in written if name.endswith(".tmp")]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "accuracy.md"
    path.write_text("old, complete\n")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("new, half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        vcon.atomic.atomic_write(path, half_then_fail)
    assert path.read_text() == "old, complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["accuracy.md"]


def test_atomic_files_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        vcon.atomic.write_text(tmp_path / "table.csv", "a,b\n")
    finally:
        os.umask(old)
    assert (tmp_path / "table.csv").stat().st_mode & 0o777 == 0o644
