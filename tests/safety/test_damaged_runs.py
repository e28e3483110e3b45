"""A run's files that other jobs read are checked before use: the pretrained model and the dense
model a cell starts from (and their metrics.json), against the sha256 and size recorded in
metrics.json when they were written. A flipped byte or a cut file stops the cell before it trains,
naming the file, what it is and the command that rebuilds it; a run written before the checksums
still starts a cell."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from damage import change_digit, flip_bytes, truncate
from helpers import REPO

from vcon.cli import main
from vcon.train.config import from_dict
from vcon.train.run import train_cell

FAST = {"tensorboard": False, "threads": 1, "checkpoint_minutes": None}
PRETRAIN = "results/runs/vit-digits/glyphs/pretrain/seed0"
DENSE = "results/runs/vit-digits/digits/dense/seed0"
CELL = "results/runs/vit-digits/digits/prune90/vcon/q2-linear/seed0"
ARGS = ["--set", "train_size=20", "--set", "batch_size=20", "--set", "epochs=1", "--set", "tensorboard=false",
        "--set", "threads=1", "--set", "compressor={name: prune, sparsity: 0.9}", "--set", "q=1", "--quiet"]


def rebuild(run: str) -> str:
    return (f"Rebuild it with `snakemake --forcerun {run}/metrics.json` (add the --configfile of your grid), or for "
            f"this run alone `vcon train --config {run.replace('results/runs/', 'results/cells/')}.yaml --out {run} "
            f"--force`")


PRETRAINED_MODEL = "the pretrained model of vit-digits (its dense run on glyphs, seed 0)"
DENSE_MODEL = "the dense model of vit-digits on digits (seed 0) that this cell starts from"


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A pretraining on glyphs and a dense run on digits that starts from it, in the workflow's layout."""
    root = tmp_path_factory.mktemp("finished")
    train_cell(from_dict({**FAST, "dataset": "glyphs", "train_size": 64, "batch_size": 32, "epochs": 1}),
               root / PRETRAIN, quiet=True)
    train_cell(from_dict({**FAST, "init": str(root / PRETRAIN), "train_size": 20, "batch_size": 20, "epochs": 1}),
               root / DENSE, quiet=True)
    return root


@pytest.fixture
def runs(finished, tmp_path, monkeypatch) -> Path:
    """A private copy of the finished runs, as the working directory."""
    shutil.copytree(finished, tmp_path / "wf")
    monkeypatch.chdir(tmp_path / "wf")
    return tmp_path / "wf"


def train_from(init: str, capsys) -> tuple[int, str]:
    code = main(["train", "--set", f"init={init}", *ARGS, "--out", CELL])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("init, what, damage", [(PRETRAIN, PRETRAINED_MODEL, flip_bytes),
                                                 (DENSE, DENSE_MODEL, flip_bytes),
                                                 (PRETRAIN, PRETRAINED_MODEL, truncate)],
                         ids=["pretrained-flipped", "finetuned-flipped", "pretrained-cut"])
def test_a_damaged_start_model_stops_the_cell(runs, capsys, init, what, damage):
    size = (runs / init / "dense.pt").stat().st_size
    damage(runs / init / "dense.pt")
    problem = (f"it has {size // 2} bytes, {size} were recorded when it was written" if damage is truncate
               else "its sha256 does not match the one recorded when it was written")
    code, err = train_from(init, capsys)
    assert (code, err) == (2, f"vcon train: error: {init}/dense.pt, {what}, is damaged: {problem}. {rebuild(init)}\n")
    assert not (runs / CELL).exists()


def test_a_changed_digit_in_the_start_metrics_stops_the_cell(runs, capsys):
    accuracy = json.loads((runs / DENSE / "metrics.json").read_text())["test"]["accuracy"]
    change_digit(runs / DENSE / "metrics.json", f'"accuracy": {accuracy}', f'"accuracy": {accuracy + 0.1}')
    code, err = train_from(DENSE, capsys)
    assert (code, err) == (2, f"vcon train: error: {DENSE}/metrics.json, the metrics of the run init names ({DENSE}), "
                              f"is damaged: its content does not match the sha256 recorded when it was written. "
                              f"{rebuild(DENSE)}\n")


def assert_refused(code: int, err: str, begins: str, init: str) -> None:
    """Exit 2 and one line: `begins`, a detail from the library, then the command that rebuilds `init`."""
    assert code == 2
    assert err.startswith(f"vcon train: error: {begins}")
    assert err.endswith(f". {rebuild(init)}\n") and err.count("\n") == 1


def test_a_cut_start_metrics_stops_the_cell(runs, capsys):
    truncate(runs / PRETRAIN / "metrics.json")
    assert_refused(*train_from(PRETRAIN, capsys), f"{PRETRAIN}/metrics.json, the metrics of the run init names "
                   f"({PRETRAIN}), is damaged: unreadable metrics.json (truncated or not JSON): ", PRETRAIN)


def as_written_before_checksums(run: Path) -> None:
    """metrics.json as schema 1 wrote it: no file records, no seal."""
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("files", "sha256"):
        del metrics[key]
    (run / "metrics.json").write_text(json.dumps({**metrics, "schema_version": 1}))


def test_a_run_written_before_checksums_still_starts_a_cell(runs, capsys):
    as_written_before_checksums(runs / PRETRAIN)
    code, err = train_from(PRETRAIN, capsys)
    assert code == 0, err
    assert json.loads((runs / CELL / "metrics.json").read_text())["schema_version"] == 2


def test_a_cut_model_of_a_run_written_before_checksums_is_named(runs, capsys):
    as_written_before_checksums(runs / PRETRAIN)
    truncate(runs / PRETRAIN / "dense.pt")
    assert_refused(*train_from(PRETRAIN, capsys), f"{PRETRAIN}/dense.pt, {PRETRAINED_MODEL}, is damaged: it cannot "
                   f"be read (RuntimeError: PytorchStreamReader failed reading zip archive", PRETRAIN)


def test_the_command_prints_one_line_and_no_traceback(runs):
    flip_bytes(runs / PRETRAIN / "dense.pt")
    env = {**os.environ, "PYTHONPATH": str(REPO), "VCON_WARM": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "vcon", "train", "--set", f"init={PRETRAIN}", *ARGS, "--out", CELL],
                          capture_output=True, text=True, env=env, timeout=300)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"vcon train: error: {PRETRAIN}/dense.pt, {PRETRAINED_MODEL}, is damaged: its sha256 does "
                           f"not match the one recorded when it was written. {rebuild(PRETRAIN)}\n")
