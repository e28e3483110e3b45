"""A run's id, its folder below the runs root, spelled and read in one place: the grid spells it
(`spell`), the report reads it back (`parse`), and the workflow's rules match it with the same pattern
(`PRETRAIN_RUN`, `TRAIN_RUN`). Imports nothing that imports torch, pandas or the grid.

    {model}/{source dataset}/pretrain/seed{seed}        a model's pretraining
    {model}/{dataset}/dense/seed{seed}                  dense fine-tuning (dense-scratch: from scratch)
    {model}/{dataset}/{compressor}/posthoc/q0/seed{seed}
    {model}/{dataset}/{compressor}/iterative/t{T}[-{iterative variant}]/seed{seed}
    {model}/{dataset}/{compressor}/vcon/q{Q}-{beta shape}/seed{seed}
    {model}/{dataset}/finetuned/{compressor}/.../seed{seed}   cells of the second start
"""
from __future__ import annotations

import re

from vcon.vocabulary import DENSE_METHODS, FINETUNED, ITERATIVE, NO_COMPRESSOR, POSTHOC, PRETRAIN, PRETRAINED, VCON

RUNS_ROOT = "results/runs"
CELLS_ROOT = "results/cells"  # the cell config of each run, as given to `vcon train --config`
IDENTITY = ("run", "model", "dataset", "start", "compressor", "method", "q", "schedule", "iterative_t",
            "iterative_variant", "seed")


def _pattern(named: bool, dense_methods: tuple[str, ...] = DENSE_METHODS, compressed: bool = True) -> str:
    """The regular expression of run ids; `named`: with a group per part of the identity (the parser),
    else without groups (Snakemake's wildcard constraints add their own)."""
    def part(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    word, length = r"[^/]+", r"[^/-]+"
    lead = f"{part('model', word)}/{part('dataset', word)}/"
    seed = f"/seed{part('seed', '[0-9]+')}"
    kinds = [part("dense_method", "|".join(map(re.escape, dense_methods)))]
    if compressed:
        blended = f"{part('method', f'{POSTHOC}|{VCON}')}/q{part('q', length)}(?:-{part('schedule', word)})?"
        gradual = f"{part('iterative', ITERATIVE)}/t{part('iterative_t', length)}(?:-{part('iterative_variant', word)})?"
        kinds.append(f"(?:{part('start', FINETUNED)}/)?{part('compressor', word)}/(?:{blended}|{gradual})")
    return f"{lead}(?:{'|'.join(kinds)}){seed}"


# What the workflow's train and pretrain rules match (wildcard constraints).
PRETRAIN_RUN = _pattern(named=False, dense_methods=(PRETRAIN,), compressed=False)
TRAIN_RUN = _pattern(named=False, dense_methods=tuple(m for m in DENSE_METHODS if m != PRETRAIN))
_PARSER = re.compile(_pattern(named=True))


def spell(model: str, dataset: str, method: str, seed: str, compressor: str = NO_COMPRESSOR, variant: str = "",
          start: str = PRETRAINED) -> str:
    """The run id of a cell; `variant`: "q0", "t{T}" or "t{T}-{label}", "q{Q}-{shape}" (dense runs: "")."""
    if method in DENSE_METHODS:
        return f"{model}/{dataset}/{method}/seed{seed}"
    where = f"{FINETUNED}/" if start == FINETUNED else ""
    return f"{model}/{dataset}/{where}{compressor}/{method}/{variant}/seed{seed}"


def parse(run_id: str) -> dict[str, str]:
    """The identity of a run from its id (every key of IDENTITY; "" where it has none); ValueError for a
    folder that does not follow the layout."""
    match = _PARSER.fullmatch(run_id)
    if match is None:
        raise ValueError(f"run directory {run_id!r} does not follow the grid's layout")
    parts = {key: value or "" for key, value in match.groupdict().items()}
    dense, blended, gradual = parts.pop("dense_method"), parts.pop("method"), parts.pop("iterative")
    identity = {key: parts.get(key, "") for key in IDENTITY}
    identity.update(run=run_id, method=dense or blended or gradual, compressor=parts["compressor"] or NO_COMPRESSOR,
                    start="" if dense else parts["start"] or PRETRAINED)
    return identity
