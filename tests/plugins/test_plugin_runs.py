"""The example plugin's compressor and dataset in a real `vcon train` cell and in a tiny workflow grid
(real Snakemake, real trainer), installed from outside the package, no file of vcon/ edited for it."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from workflow_run import REPO, private_runtime_dir, run_snakemake, stop_warm_workers, warm_worker_log

from vcon.grid import check

# vit-digits compresses 4 blocks of qkv 192x64, proj 64x64, fc1 128x64, fc2 64x128: 32,768 weights
# each; random-prune at 0.75 zeroes round(0.75 * n) of each layer.
WEIGHTS = 4 * (192 * 64 + 64 * 64 + 128 * 64 + 64 * 128)
ZEROS_75 = 4 * (9216 + 3072 + 6144 + 6144)
TINY = {"device": "cpu", "workers": 0, "threads": 1, "tensorboard": False}


@pytest.fixture(autouse=True)
def example(example_site, installed):
    installed(example_site)


@pytest.mark.slow
def test_vcon_train_runs_a_cell_of_the_plugin(tmp_path):
    cell = {"model": "vit-digits", "dataset": "bars", "train_size": 100, "batch_size": 20, "epochs": 1,
            "compressor": {"name": "random-prune", "sparsity": 0.75, "seed": 3}, "method": "vcon", "q": 2, **TINY}
    (tmp_path / "cell.yaml").write_text(yaml.safe_dump(cell))
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "vcon", "train", "--config", str(tmp_path / "cell.yaml"), "--out",
                             str(out), "--quiet"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cell"]["compressor"] == "random-prune" and metrics["cell"]["dataset"] == "bars"
    assert metrics["config"]["compressor"] == {"name": "random-prune", "sparsity": 0.75, "seed": 3}
    assert [row["step"] for row in metrics["history"]] == [5]  # 100 images / batch 20
    assert metrics["environment"]["packages"]["vcon-plugin-example"] == "0.1.0"
    total = metrics["compression"]["total"]
    assert (total["weights"], total["zeros"]) == (WEIGHTS, ZEROS_75) == (131072, 98304)


GRID = {
    "dense": False,
    "training": {**TINY, "eval_every": 5, "lr": 2.0e-3, "min_lr": 1.0e-5},
    "resources": {"threads": 1, "mem_mb": 1500, "runtime": 5, "gpu": 0},
    "models": {"vit-digits": {"datasets": {"bars": {"training": {"train_size": 100, "batch_size": 20,
                                                                  "epochs": 2}}}}},
    "compressors": {"random75": {"name": "random-prune", "sparsity": 0.75}},
    "methods": ["posthoc", "vcon"],
    "seeds": [0],
    "q": [5],
    "report": {"bootstrap": 1000},
}


@pytest.mark.slow
def test_a_workflow_grid_runs_the_plugin_to_the_tables(tmp_path):
    config = tmp_path / "plugin-grid.yaml"
    config.write_text(yaml.safe_dump(GRID))
    assert sorted(check(GRID, str(config)).cells) == [
        "vit-digits/bars/random75/posthoc/q0/seed0",
        "vit-digits/bars/random75/vcon/q5-linear/seed0"]
    runtime_dir = private_runtime_dir()
    try:
        result = run_snakemake(tmp_path, "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "--configfile",
                               str(config), "--cores", "2", "results/tables/accuracy.md", timeout=600,
                               env={"XDG_RUNTIME_DIR": str(runtime_dir)})
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + warm_worker_log(runtime_dir)
    finally:
        stop_warm_workers(runtime_dir)
    runs = pd.read_csv(tmp_path / "results" / "tables" / "runs.csv")
    assert sorted(runs["method"]) == ["posthoc", "vcon"] and (runs["status"] == "ok").all()
    for method in ("posthoc", "vcon"):
        metrics = json.loads((tmp_path / "results" / "runs" / "vit-digits" / "bars" / "random75" / method /
                              ("q0" if method == "posthoc" else "q5-linear") / "seed0" / "metrics.json").read_text())
        assert metrics["compression"]["total"]["zeros"] == ZEROS_75
    accuracy = (tmp_path / "results" / "tables" / "accuracy.md").read_text()
    assert "| vit-digits | bars | random75 |" in accuracy
