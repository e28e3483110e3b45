"""Expand a workflow config (configs/*.yaml) into the cells of the benchmark, without importing torch.

A cell is one `vcon train` job. Its identity (model, dataset, compressor, method, Q or T, beta shape,
seed, start) is spelled as canonical strings and fixes its run directory:

    results/runs/{model}/{source dataset}/pretrain/seed{seed}     (a model's pretraining, if any)
    results/runs/{model}/{dataset}/dense/seed{seed}
    results/runs/{model}/{dataset}/dense-scratch/seed{seed}
    results/runs/{model}/{dataset}/{compressor}/posthoc/q0/seed{seed}
    results/runs/{model}/{dataset}/{compressor}/iterative/t{T}/seed{seed}
    results/runs/{model}/{dataset}/{compressor}/vcon/q{Q}-{schedule}/seed{seed}
    results/runs/{model}/{dataset}/finetuned/{compressor}/.../seed{seed}  (cells of the second start)

Everything else (epochs, lr, init, ...) lives in the cell's config dict (keys of docs/interfaces.md),
so changing it reruns the cell in place. Run ids never depend on how a number was written in YAML:
Q 120, "120" and 120.0 are all "120"; 12 epochs is "12ep".

Modules: `cells` (a cell and its run id), `parse` (the config's blocks), `checks` (what is checked
before any job), `expand` (config -> cells), `validate` (schema, then `expand`).
"""
from vcon.grid.cells import (
    CELLS_ROOT, DENSE, DENSE_METHODS, DENSE_SCRATCH, FINETUNED, PRETRAIN, PRETRAINED, RUNS_ROOT, STARTS, Cell, Grid,
    GridError, canonical_length, canonical_seed,
)
from vcon.grid.expand import cell_config, expand
from vcon.grid.parse import IDENTITY_KEYS
from vcon.grid.validate import check, load, workflow_schema

__all__ = ["CELLS_ROOT", "DENSE", "DENSE_METHODS", "DENSE_SCRATCH", "FINETUNED", "IDENTITY_KEYS", "PRETRAIN",
           "PRETRAINED", "RUNS_ROOT", "STARTS", "Cell", "Grid", "GridError", "canonical_length", "canonical_seed",
           "cell_config", "check", "expand", "load", "workflow_schema"]
