"""The fetch jobs of the workflow: what each cell needs (vcon/fetch/plan.py), the paper grid's DAG (every train
job waits for the receipts of its data and checkpoint), none for the embedded grids, and the local rules run
by Snakemake, failing with the message of what to place where."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from fake_workflow import REPO, job_counts, make_workflow_copy, snakemake

from vcon import grid
from vcon.fetch import plan

slow = pytest.mark.slow

PAPER_CHECKPOINTS = {  # model label -> the hub id configs/paper.yaml gives it
    "vit-tiny": "WinKawaks/vit-tiny-patch16-224", "vit-small": "WinKawaks/vit-small-patch16-224",
    "vit-base": "google/vit-base-patch16-224", "bert-base": "google-bert/bert-base-uncased",
}
PAPER_DATASETS = ["cifar10", "cifar100", "imagenet", "glue-cola", "glue-sst2", "glue-mrpc", "glue-qqp", "glue-stsb",
                  "glue-mnli", "glue-qnli", "glue-rte"]


@pytest.mark.parametrize("config, dataset, checkpoints", [
    ({"model": "vit-tiny", "dataset": "cifar10", "init": "scratch"}, "cifar10", ["WinKawaks/vit-tiny-patch16-224"]),
    ({"model": "bert-base", "dataset": "glue-rte", "init": "pretrained"}, "glue-rte", ["google-bert/bert-base-uncased"]),
    ({"model": "a/b", "dataset": "imagenet", "init": "c/d"}, "imagenet", ["a/b", "c/d"]),
    ({"model": "a/b", "dataset": "glue-sst2", "init": "a/b"}, "glue-sst2", ["a/b"]),
    ({"model": "a/b", "dataset": "cifar100", "init": "results/runs/m/cifar100/dense/seed0"}, "cifar100", ["a/b"]),
    ({"model": "vit-digits", "dataset": "digits", "init": "scratch"}, None, []),
    ({"model": "bert-mini", "dataset": "synthetic-text", "init": "results/runs/bert-mini/x/pretrain/seed0"}, None, []),
    ({"model": "vit-digits", "dataset": "glyphs", "init": None}, None, []),
])
def test_what_a_cell_needs(config, dataset, checkpoints):
    assert (plan.dataset(config), plan.checkpoints(config)) == (dataset, checkpoints)


def test_local_directories_need_no_checkpoint(tmp_path, monkeypatch):
    (tmp_path / "owner" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert plan.checkpoints({"model": "owner/model", "init": str(tmp_path / "owner" / "model")}) == []


@pytest.mark.parametrize("name", ["default.yaml", "test-tiny.yaml"])
def test_embedded_grids_fetch_nothing(name):
    cells = grid.load(REPO / "configs" / name).cells.values()
    assert [(c.run_id, plan.dataset(c.config), plan.checkpoints(c.config)) for c in cells
            if plan.dataset(c.config) or plan.checkpoints(c.config)] == []


def dry_run_jobs(output: str) -> list[dict]:
    """Each job block of a (non-quiet) dry run: rule, input files, wildcards."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \S+:\n)", output):
        header = re.match(r"(?:local)?rule (\S+):\n", block)
        if not header:
            continue
        fields = dict(re.findall(r"^    (\w+): (.*)$", block, flags=re.M))
        jobs.append({"rule": header.group(1), "input": fields.get("input", "").split(", ") if "input" in fields else [],
                     "wildcards": fields.get("wildcards", "")})
    return jobs


@slow
def test_paper_dag_fetches_before_every_train_job(tmp_path):
    result = snakemake(REPO, "-n", "--configfile", "configs/paper.yaml", "-d", str(tmp_path), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout + result.stderr)
    assert (counts["fetch_data"], counts["fetch_checkpoint"]) == (11, 4)
    jobs = dry_run_jobs(result.stdout + result.stderr)
    fetched = {job["wildcards"] for job in jobs if job["rule"].startswith("fetch_")}
    assert fetched == {f"dataset={d}" for d in PAPER_DATASETS} | {f"hub_id={h}" for h in PAPER_CHECKPOINTS.values()}
    train = [job for job in jobs if job["rule"] == "train"]
    assert len(train) == counts["train"]
    for job in train:
        label, dataset = job["wildcards"].removeprefix("run=").split("/")[:2]
        receipts = {path for path in job["input"] if path.startswith("results/fetched/")}
        assert receipts == {f"results/fetched/data/{dataset}.json",
                            f"results/fetched/checkpoints/{PAPER_CHECKPOINTS[label]}.json"}, job


@slow
def test_one_data_root_per_data_set(tmp_path):
    config = yaml.safe_load((REPO / "configs" / "paper.yaml").read_text())
    config["models"]["vit-small"]["training"]["data_root"] = "/elsewhere"
    (tmp_path / "two-roots.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(REPO, "-n", "--configfile", str(tmp_path / "two-roots.yaml"), "-d", str(tmp_path), timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert re.search(r"two-roots\.yaml: cifar10 is read from more than one data_root: 'data' \(vit-(tiny|base)/cifar10/"
                     r"[^)]+\); '/elsewhere' \(vit-small/cifar10/[^)]+\)\. Give every cell of cifar10 the same "
                     r"data_root\.", output), output[-2000:]


@slow
def test_fetch_jobs_run_locally_and_say_what_to_place_where(tmp_path, monkeypatch):
    """The real rules and `vcon fetch`, run by Snakemake in a scratch working directory of the paper grid:
    ImageNet (never downloaded) and a checkpoint in offline mode with an empty cache fail at once, with the
    message in Snakemake's output; once ImageNet is in place its job succeeds and writes the receipt."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for name in ("VCON_DATA_ROOT", "VCON_IMAGENET_ROOT", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    imagenet, checkpoint = "results/fetched/data/imagenet.json", "results/fetched/checkpoints/google/vit-base-patch16-224.json"
    result = snakemake(REPO, "--cores", "2", "--keep-going", "--configfile", "configs/paper.yaml", "-d", str(work),
                       imagenet, checkpoint, timeout=180)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("vcon fetch: error: imagenet: data not found under data (set by config key data_root). Expected train, "
            f"val in data or data/imagenet.") in output
    assert "ImageNet is never downloaded here: it needs registering, so place it by hand." in output
    assert ("vcon fetch: error: google/vit-base-patch16-224: not in the Hugging Face cache of this machine "
            f"({tmp_path / 'hf-home' / 'hub'})") in output and "offline mode is on (HF_HUB_OFFLINE)" in output
    assert not (work / imagenet).exists() and not (work / checkpoint).exists()

    for split in ("train", "val"):
        (work / "data" / "imagenet" / split / "n01").mkdir(parents=True)
    result = snakemake(REPO, "--cores", "1", "--configfile", "configs/paper.yaml", "-d", str(work), imagenet,
                       timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    receipt = json.loads((work / imagenet).read_text())
    assert (receipt["what"], receipt["where"], receipt["downloaded"]) == ("imagenet", str(work / "data" / "imagenet"),
                                                                        False)
    assert Path(work / "results/logs/fetch/data/imagenet.log").read_text().startswith("imagenet: already in ")


@slow
def test_receipts_order_jobs_without_rerunning_finished_cells(tmp_path):
    """Receipts are ancient inputs: written again later (a refetch), they rerun nothing. A missing one is
    fetched again when a cell still to run needs it, and then the finished cells that read it rerun too: the
    reason docs/workflow.md says to keep results/fetched/. The fake trainer, hand-written receipts."""
    root = make_workflow_copy(tmp_path / "wf")
    config = {"dense": False, "training": {"data_root": "data"}, "models": {"vit": {"model": "someone/vit",
              "datasets": ["cifar10"]}}, "compressors": {"binary": {"name": "binary"}}, "methods": ["posthoc"],
              "seeds": [0], "q": [3]}
    data, checkpoint = root / "results/fetched/data/cifar10.json", root / "results/fetched/checkpoints/someone/vit.json"
    metrics = [f"results/runs/vit/cifar10/binary/posthoc/q0/seed{seed}/metrics.json" for seed in (0, 1)]

    def run(*args: str, seeds: int = 1) -> dict[str, int]:
        (root / "configs" / "fetchy.yaml").write_text(yaml.safe_dump({**config, "seeds": list(range(seeds))}))
        result = snakemake(root, *metrics[:seeds], "--cores", "1", *args, "--configfile", "configs/fetchy.yaml",
                           timeout=120)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return job_counts(result.stdout + result.stderr)

    assert run("-n") == {"fetch_data": 1, "fetch_checkpoint": 1, "train": 1}
    for receipt in (data, checkpoint):
        receipt.parent.mkdir(parents=True, exist_ok=True)
        receipt.write_text("{}\n")
    assert run() == {"train": 1}
    for receipt in (data, checkpoint):
        receipt.write_text('{"again": true}\n')
    assert run("-n") == {}
    assert run("-n", "--forcerun", "fetch_data") == {"fetch_data": 1}  # a refetch, receipt present: nothing else
    data.unlink()
    assert run("-n") == {}  # a finished cell does not wait for a fetch...
    assert run("-n", seeds=2) == {"fetch_data": 1, "train": 2}  # ...but reruns when its missing receipt is made anew
