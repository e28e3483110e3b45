"""What the training jobs of configs/paper.yaml ask a cluster for under profiles/slurm, from
Snakemake's dry run (no cluster needed): resources per model and dataset, torchrun for multi-GPU
cells, partition and account from the environment or the command line."""
from __future__ import annotations

import re

import pytest
import yaml
from localhost_cluster import REPO
from workflow_run import run_snakemake, workflow_args

PAPER = REPO / "configs" / "paper.yaml"
PROFILE = ("--workflow-profile", str(REPO / "profiles" / "slurm"))
TINY = "vit-tiny/cifar10/dense/seed42"
BASE_IMAGENET = "vit-base/imagenet/dense/seed42"


def dry_run(tmp_path, *extra: str, config=PAPER, env: dict[str, str] | None = None
            ) -> tuple[dict[str, dict[str, str]], str]:
    """Run id -> its train job's resources, and the whole output (shell commands included)."""
    targets = [f"results/runs/{run}/metrics.json" for run in (TINY, BASE_IMAGENET)]
    result = run_snakemake(tmp_path, *targets, *workflow_args(tmp_path, config), *PROFILE, "-n", "-p", *extra,
                           timeout=120, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    resources, run = {}, None
    for line in output.splitlines():
        if match := re.match(r"\s+wildcards: run=(\S+)", line):
            run = match[1]
        elif (match := re.match(r"\s+resources: (.*)", line)) and run:
            resources[run] = dict(item.split("=", 1) for item in match[1].split(", "))
    return resources, output


@pytest.mark.slow
def test_paper_jobs_are_sized_per_model_and_dataset(tmp_path):
    resources, output = dry_run(tmp_path, env={"VCON_SLURM_PARTITION": "gpu", "VCON_SLURM_ACCOUNT": "proj"})
    wanted = {"slurm_partition": "gpu", "slurm_account": "proj"}
    assert resources[TINY] | wanted == resources[TINY]
    assert resources[BASE_IMAGENET] | wanted == resources[BASE_IMAGENET]
    tiny = {key: resources[TINY][key] for key in ("gpu", "cpus_per_task", "mem_mb", "runtime")}
    base = {key: resources[BASE_IMAGENET][key] for key in ("gpu", "cpus_per_task", "mem_mb", "runtime")}
    assert tiny == {"gpu": "1", "cpus_per_task": "8", "mem_mb": "32000", "runtime": "240"}
    assert base == {"gpu": "4", "cpus_per_task": "32", "mem_mb": "192000", "runtime": "1440"}
    assert not {"gpu_model", "constraint"} & set(resources[TINY])  # only where the config sets them
    # One process per GPU on one node for the 4-GPU cell; plain python for the 1-GPU cell.
    assert f"torchrun --standalone --nproc-per-node 4 -m vcon train --config results/cells/{BASE_IMAGENET}.yaml" in output
    assert f"&& python -m vcon train --config results/cells/{TINY}.yaml" in output


@pytest.mark.slow
def test_site_settings_from_command_line_and_config(tmp_path):
    config = yaml.safe_load(PAPER.read_text())
    config["resources"].update(gpu_model="a100", constraint="80gb")
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(config))
    site = ("--default-resources", "slurm_partition=a100", "slurm_account=lab")
    resources, _ = dry_run(tmp_path, *site, config=tmp_path / "site.yaml", env={"VCON_SLURM_PARTITION": "ignored"})
    picked = {key: resources[TINY][key] for key in ("slurm_partition", "slurm_account", "gpu_model", "constraint")}
    assert picked == {"slurm_partition": "a100", "slurm_account": "lab", "gpu_model": "a100", "constraint": "80gb"}
