"""Expand a workflow config (configs/*.yaml) into the cells of the benchmark, without importing torch.

A cell is one `vcon train` job. Its identity (model, dataset, compressor, method, Q or T, beta shape,
seed, start) is spelled as canonical strings and fixes its run directory below results/runs/
(`vcon.run_ids`). Everything else (epochs, lr, init, ...) lives in the cell's config dict (keys of
docs/interfaces.md), so changing it reruns the cell in place. Run ids never depend on how a number
was written in YAML: Q 120, "120" and 120.0 are all "120"; 12 epochs is "12ep".

Modules: `cells` (a cell), `parse` (the config's blocks), `checks` (what is checked before any job
beyond the schema), `expand` (config -> cells), `validate` (the schema, then `expand`: `check` and
`load` are the way in).
"""
from vcon.grid.cells import Cell, Grid, GridError, canonical_length
from vcon.grid.expand import cell_config
from vcon.grid.parse import IDENTITY_KEYS
from vcon.grid.validate import check, load, workflow_schema

__all__ = ["IDENTITY_KEYS", "Cell", "Grid", "GridError", "canonical_length", "cell_config", "check", "load",
           "workflow_schema"]
