"""scripts/cell-costs: two variants of one cell of the CI grid, each in its own process, and the
command-line errors it reports before any work. (Its costs are timings and are not checked.)"""
import importlib.util
import json
import re
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cell-costs"
TINY = ROOT / "configs" / "test-tiny.yaml"
CELL = "vit-digits/digits/dense-scratch/seed0"  # 20 steps from scratch, validation every 2


@pytest.fixture(scope="module")
def cell_costs():
    loader = SourceFileLoader("cell_costs", str(SCRIPT))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("cell_costs", loader))
    loader.exec_module(module)
    return module


def test_each_variant_trains_the_cell_with_its_own_keys(cell_costs, capsys, tmp_path):
    out = tmp_path / "costs.json"
    assert cell_costs.main(["--config", str(TINY), "--cells", CELL, "--variant", f"every2={ROOT}",
                            "--variant", f"sparse={ROOT}:eval_sparse_from=10,eval_sparse_every=5", "--rounds", "1",
                            "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rows = re.findall(r"^  (\S+) +train +[\d.]+ \(([\d.]+)\).* (\d+) evaluations", text, flags=re.MULTILINE)
    assert rows == [("every2", "1.000", "10"), ("sparse", rows[1][1], "7")]  # steps 2, 4, 6, 8, then 10, 15, 20
    saved = json.loads(out.read_text())
    assert saved["variants"]["sparse"] == {"checkout": str(ROOT),
                                           "sets": ["eval_sparse_from=10", "eval_sparse_every=5"]}
    every2, sparse = (saved["rounds"][0][name][CELL] for name in ("every2", "sparse"))
    assert (every2["evaluations"], sparse["evaluations"]) == (10, 7)
    assert every2["test"] == sparse["test"]  # validating less often does not change the training
    assert "all 1 cells" in text


@pytest.mark.parametrize("args, message", [
    (["--variant", "after"], r"--variant 'after': expected NAME=CHECKOUT\[:KEY=VALUE,...\]"),
    (["--variant", "old=/nonexistent"], r"--variant 'old=/nonexistent': /nonexistent holds no vcon package"),
    (["--cells", "bert-mini/*"], r"no cell of .*test-tiny.yaml matches bert-mini/\*"),
    (["--cells", "vit-digits/digits/dense/seed0"], r"vit-digits/digits/dense/seed0 starts from "
                                                   r"results/runs/vit-digits/glyphs/pretrain/seed0, which holds no "
                                                   r"finished run in .*; run the workflow's pretraining first"),
    (["--rounds", "0"], r"--rounds 0: at least 1"),
])
def test_usage_errors_name_the_problem_and_the_fix(cell_costs, capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    defaults = {"--cells": [CELL]}
    given = {flag: None for flag in args if flag.startswith("--")}
    extra = [item for flag, value in defaults.items() if flag not in given for item in (flag, *value)]
    assert cell_costs.main(["--config", str(TINY), *extra, *args]) == 2
    assert re.search("^cell-costs: " + message, capsys.readouterr().err)
