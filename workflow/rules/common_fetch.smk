import re
import shlex

from vcon.fetch import plan as fetch_plan

# Data sets read from files and hub checkpoints, fetched once by `vcon fetch` on the machine running
# Snakemake (local rules: compute nodes need no network), before any cell that reads them trains.
# Embedded data and models need nothing, so the default grid has no fetch jobs. What each cell needs:
# vcon/fetch/plan.py (no torch import while listing jobs). Each fetch writes a receipt
# under results/fetched/, not under the data directory, which may be mounted read-only.
FETCH_DIR = "results/fetched"


FETCH_DATASETS = "|".join(re.escape(name) for name in sorted(fetch_plan.datasets()))


def data_receipt(dataset):
    return f"{FETCH_DIR}/data/{dataset}.json"


def checkpoint_receipt(hub_id):
    return f"{FETCH_DIR}/checkpoints/{hub_id}.json"


def _fetches():
    """Each cell's receipts, and the data directory of each data set (one per data set)."""
    receipts, roots = {}, {}
    for run_id, grid_cell in CELLS.items():
        dataset = fetch_plan.dataset(grid_cell.config)
        receipts[run_id] = [data_receipt(dataset)] if dataset else []
        receipts[run_id] += [checkpoint_receipt(hub_id) for hub_id in fetch_plan.checkpoints(grid_cell.config)]
        if dataset:
            roots.setdefault(dataset, {}).setdefault(grid_cell.config.get("data_root"), run_id)
    for dataset, by_root in roots.items():
        if len(by_root) > 1:
            where = "; ".join(f"{root!r} ({run_id})" for root, run_id in by_root.items())
            raise WorkflowError(f"invalid workflow config {config_source()}: {dataset} is read from more than one "
                                f"data_root: {where}. Give every cell of {dataset} the same data_root.")
    return receipts, {dataset: next(iter(by_root)) for dataset, by_root in roots.items()}


CELL_FETCHES, FETCH_ROOTS = _fetches()
FETCH_RECEIPTS = sorted({path for paths in CELL_FETCHES.values() for path in paths})


def fetched_inputs(wildcards):
    """The receipts of what a cell reads. Ancient: a receipt written again later (a refetch) reruns no
    finished cell; a deleted one, made anew, reruns those that read it (docs/workflow.md)."""
    return [ancient(path) for path in CELL_FETCHES[cell(wildcards).run_id]]
