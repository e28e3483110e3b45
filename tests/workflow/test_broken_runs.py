"""A broken run never passes unseen (fake trainer): a finished run that is damaged is moved to
results/quarantine/ and trained again by the same command; a run the tables cannot use makes the
workflow end non-zero with the one command that reruns it, unless report.allow_missing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from damage import truncate
from fake_workflow import snakemake
from run_results import metrics_stamps

from vcon.quarantine import QUARANTINE_ROOT
from vcon.report import completeness

slow = pytest.mark.slow
CONFIG = ("--configfile", "configs/test-tiny.yaml")
CHECK = "results/logs/check_runs.done"  # aggregate, then the check; no figures (a minute saved)
DAMAGED = "vit-digits/digits/prune90/iterative/t2ep-zhu-gupta/seed0"
BROKEN = "vit-digits/digits/binary/vcon/q3-linear/seed1"
SEED0 = "vit-digits/digits/binary/vcon/q3-linear/seed0"


def trained(calls: Path) -> list[str]:
    return sorted(line.strip().removeprefix("results/runs/") for line in calls.read_text().splitlines())


def break_run(root: Path) -> None:
    """seed0's metrics.json copied into seed1's folder: whole, but another cell's (invalid in runs.csv)."""
    shutil.copy(root / "results" / "runs" / SEED0 / "metrics.json", root / "results" / "runs" / BROKEN / "metrics.json")


@slow
def test_damaged_and_broken_runs_are_repaired_or_reported(tiny_copy, tmp_path, monkeypatch):
    """A damaged finished run (cut metrics.json) is moved aside and trained again by the same command; a
    run the tables cannot use (another cell's metrics) ends it non-zero, with the command that reruns it."""
    metrics = tiny_copy / "results" / "runs" / DAMAGED / "metrics.json"
    truncate(metrics)
    damaged = metrics.read_bytes()
    break_run(tiny_copy)
    before = metrics_stamps(tiny_copy / "results" / "runs")

    dry = snakemake(tiny_copy, "-n", *CONFIG, timeout=120)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert (f"vcon-bench: the finished run results/runs/{DAMAGED} is damaged (unreadable metrics.json (truncated or "
            f"not JSON): ") in dry.stderr
    assert "a run without -n moves it to results/quarantine/ and trains it again" in dry.stderr
    assert metrics.read_bytes() == damaged and not (tiny_copy / QUARANTINE_ROOT).exists()  # a dry run moves nothing

    monkeypatch.setenv("FAKE_TRAIN_LOG", str(tmp_path / "calls.log"))
    # The damaged run's own target (`rule all` asks for every run) and the check, without the figures.
    command = [f"results/runs/{DAMAGED}/metrics.json", CHECK, "--cores", "2", *CONFIG]
    result = snakemake(tiny_copy, *command, timeout=240)
    assert result.returncode == 1
    [moved] = (tiny_copy / QUARANTINE_ROOT / DAMAGED).iterdir()
    assert f"moved to {QUARANTINE_ROOT}/{DAMAGED}/{moved.name}, it is trained again" in result.stderr
    assert (moved / "metrics.json").read_bytes() == damaged  # kept, not deleted
    assert trained(tmp_path / "calls.log") == [DAMAGED]  # only the damaged run
    assert json.loads(metrics.read_text())["cell"]["method"] == "iterative"  # whole again
    after = metrics_stamps(tiny_copy / "results" / "runs")
    assert {run: stamp for run, stamp in after.items() if run != DAMAGED} == \
        {run: stamp for run, stamp in before.items() if run != DAMAGED}

    rerun = f"snakemake {' '.join(command)} --forcerun results/runs/{BROKEN}/metrics.json"
    assert ("1 of 23 runs the grid expects are not usable (the tables count them as missing):\n"
            f"  invalid: {BROKEN} (metrics.json is another cell's (folder moved or renamed?): seed 0 (folder: '1'))\n"
            f"Rerun exactly them: {rerun}\n"
            "Or accept these gaps: set report.allow_missing: true in the workflow config.") in result.stderr
    runs = pd.read_csv(tiny_copy / "results" / "tables" / "runs.csv").set_index("run")  # kept, the run marked
    assert runs["status"].to_dict() == {run: "invalid" if run == BROKEN else "ok" for run in runs.index}

    (tmp_path / "calls.log").unlink()
    again = snakemake(tiny_copy, *rerun.split()[1:], timeout=240)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert trained(tmp_path / "calls.log") == [BROKEN]
    assert (tiny_copy / "results" / "logs" / "check_runs.log").read_text() == \
        "all 23 runs the grid expects are usable\n"


def runs_csv(path: Path, statuses: dict[str, tuple[str, str]]) -> Path:
    """A runs.csv of `vcon aggregate` with these runs' status and problem."""
    rows = [{"run": run, "status": status, "problem": problem} for run, (status, problem) in statuses.items()]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_the_check_lists_every_unusable_run_and_one_command(tmp_path):
    runs = runs_csv(tmp_path / "runs.csv", {"a/d/dense/seed0": ("ok", ""),
                                            "a/d/dense/seed1": ("missing", "no metrics.json"),
                                            "a/d/p/vcon/q3-linear/seed0": ("stale", "made from another config")})
    code, message = completeness.report(str(runs), "snakemake --cores 2", allow_missing=False)
    assert code == 1
    assert message == (
        "2 of 3 runs the grid expects are not usable (the tables count them as missing):\n"
        "  missing: a/d/dense/seed1 (no metrics.json)\n"
        "  stale: a/d/p/vcon/q3-linear/seed0 (made from another config)\n"
        "Rerun exactly them: snakemake --cores 2 --forcerun results/runs/a/d/dense/seed1/metrics.json "
        "results/runs/a/d/p/vcon/q3-linear/seed0/metrics.json\n"
        "Or accept these gaps: set report.allow_missing: true in the workflow config.")
    code, allowed = completeness.report(str(runs), "snakemake --cores 2", allow_missing=True)
    assert code == 0
    assert allowed == message.replace("Or accept these gaps: set report.allow_missing: true in the workflow config.",
                                      "report.allow_missing is true: the workflow goes on with these gaps.")
    runs_csv(runs, {"a/d/dense/seed0": ("ok", "")})
    assert completeness.report(str(runs), "snakemake", allow_missing=False) == (
        0, "all 1 runs the grid expects are usable")


def test_allow_missing_must_be_a_boolean():
    from vcon.grid import GridError, check

    config = yaml.safe_load((Path(__file__).parents[2] / "configs" / "test-tiny.yaml").read_text())
    config["report"]["allow_missing"] = "yes"
    with pytest.raises(GridError, match=r"report.allow_missing = 'yes' is not allowed; allowed: true or false"):
        check(config, "gaps.yaml")
    config["report"]["allow_missing"] = True
    assert len(check(config, "gaps.yaml")) == 23  # configs/test-tiny.yaml: tests/workflow/test_grid.py counts them
