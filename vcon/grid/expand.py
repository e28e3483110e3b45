"""Expanding a workflow config into its cells: pretraining and dense runs first, then every
(compressor, method, Q, seed) of each experiment, from each of its starts."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from vcon import lengths, run_ids
from vcon.compressors.options import OPTIONS
from vcon.grid.cells import Cell, Grid, GridError, canonical_length
from vcon.grid.checks import (
    check_experiment, check_headline_iterative, check_spec, duplicate_specs, own_compressors, phase_lengths,
)
from vcon.grid.parse import DenseRuns, Experiment, Seeds, ablation, experiments, mapping
from vcon.train.config import FIELDS
from vcon.vocabulary import (
    DENSE, DENSE_SCRATCH, FINETUNED, ITERATIVE, NO_COMPRESSOR, POSTHOC, PRETRAIN, PRETRAINED, VCON,
)

# Run-id words that a compressor label would shadow.
RESERVED_LABELS = (DENSE, NO_COMPRESSOR, FINETUNED)


def expand(config: Mapping[str, Any]) -> Grid:
    """Every cell of a workflow config that the schema passed (`vcon.grid.check`, the one way here),
    pretraining and dense runs first; raises GridError for what the schema cannot tell."""
    dense_runs = DenseRuns.parse(config.get("dense"))
    compressors = config["compressors"]
    reserved = [name for name in compressors if name in RESERVED_LABELS]
    if reserved:
        raise GridError(f"compressors.{reserved[0]}: the label {reserved[0]!r} is a word of the run ids; allowed: any "
                        f"other label (reserved: {', '.join(RESERVED_LABELS)})")
    methods = config["methods"]
    seeds = Seeds.parse(config["seeds"])
    schedule = config.get("schedule", "linear")
    extra_shapes = ablation(config.get("ablation"), compressors)
    for label, spec in compressors.items():
        check_spec(spec, f"compressors.{label}")
    duplicate_specs(compressors)

    cells: list[Cell] = []
    pretrained: dict[str, Cell] = {}
    for exp in experiments(config):
        q_values, iterative_t = phase_lengths(exp, methods)
        own = own_compressors(exp, compressors)
        check_experiment(exp, methods, q_values, iterative_t, extra_shapes, own)
        check_headline_iterative(exp, methods, own, config.get("report"))
        start = _pretrain_cell(exp, pretrained, cells)
        _check_starts(exp, dense_runs, start)
        headline_q = _headline_q(config.get("report"), exp, q_values) if seeds.by_section else None
        for seed in seeds.all():
            cells += [cell for cell in _experiment_cells(exp, seed, start, dense_runs, own, methods, schedule,
                                                         q_values, iterative_t, extra_shapes)
                      if seed in seeds.sections[_section(cell, schedule, headline_q)]]
    repeated = sorted(run for run, n in Counter(c.run_id for c in cells).items() if n > 1)
    if repeated:
        raise GridError(f"duplicate cells: {', '.join(repeated[:5])}")
    return Grid({cell.run_id: cell for cell in cells})


def _headline_q(report: Any, exp: Experiment, q_values: list[str]) -> str:
    """The canonical headline Q of an experiment's model (report.headline_q), needed to tell the Q
    sweep from the headline when seeds differ by section."""
    value = (report or {}).get("headline_q", "best")
    if isinstance(value, Mapping):
        value = value.get(exp.model, value.get("default", "best"))
    if value == "best":
        raise GridError(f"seeds by section need the headline Q of {exp.model} (report.headline_q: a Q value, or "
                        f"{{{exp.model}: Q}}), not 'best'; allowed: one of {', '.join(q_values) or 'its Q values'}")
    return canonical_length(value, "report.headline_q")


def _section(cell: Cell, schedule: str, headline_q: str | None) -> str:
    """Which section of the study's seeds a cell belongs to (vcon.grid.parse.Seeds)."""
    identity = run_ids.parse(cell.run_id)
    if cell.method == DENSE_SCRATCH:
        return "scratch"
    if cell.method == VCON and identity["schedule"] != schedule:
        return "shapes"
    if cell.method == VCON and headline_q is not None and identity["q"] != headline_q:
        return "q_sweep"
    return "headline"


def _check_starts(exp: Experiment, dense_runs: DenseRuns, start: Cell | None) -> None:
    if FINETUNED in exp.starts and not dense_runs.run:
        raise GridError(f"models.{exp.model}: start {FINETUNED!r} begins from the dense runs, but `dense` makes "
                        f"none; allowed: dense: true (or dense.run: true), or the start {PRETRAINED!r} alone")
    if dense_runs.scratch and not start and exp.training.get("init", "scratch") == "scratch":
        raise GridError(f"{exp.where}: dense.scratch compares against a pretrained start, but this experiment "
                        f"starts from scratch already; allowed: a pretrain stage or training.init, or no dense.scratch")


def _experiment_cells(exp: Experiment, seed: str, start: Cell | None, dense_runs: DenseRuns,
                      compressors: Mapping[str, Any], methods: list[str], schedule: str, q_values: list[str],
                      iterative_t: str, extra_shapes: Mapping[str, Any]) -> list[Cell]:
    """One seed of an experiment: its dense runs, then each start's compression cells."""
    common = {"model": exp.registry_model, "dataset": exp.dataset, "seed": int(seed)}
    start_init = {"init": start.run_dir()} if start else {}
    dense_config = {**exp.training, **exp.dense_training}
    dense = Cell(exp.model, exp.dataset, NO_COMPRESSOR, DENSE, "", seed, config=cell_config(dense_config, **common, **start_init),
                 resources=exp.resources, init_run=start.run_id if start else None)
    cells = [dense] if dense_runs.run else []
    if dense_runs.scratch:
        cells.append(Cell(exp.model, exp.dataset, NO_COMPRESSOR, DENSE_SCRATCH, "", seed,
                          config=cell_config({**dense_config, "init": "scratch"}, **common), resources=exp.resources))
    origins = {PRETRAINED: (start_init, start.run_id if start else None),
               FINETUNED: ({"init": dense.run_dir()}, dense.run_id)}
    for start_name in exp.starts:
        init, init_run = origins[start_name]
        for name, spec in compressors.items():
            pairs = [(q, schedule) for q in q_values]
            if (extra_shapes["compressors"] is None or name in extra_shapes["compressors"]) and (
                    extra_shapes["models"] is None or exp.model in extra_shapes["models"]):
                pairs += [(q, shape) for q in extra_shapes["q"] for shape in extra_shapes["schedules"]
                          if (q, shape) not in pairs]
            iterative = iterative_specs(exp, name, spec)
            for method, variant, identity in _variants(methods, iterative_t, pairs, iterative):
                identity = {"compressor": spec, **identity}
                config = cell_config(exp.training, **common, **init, method=method, **identity)
                cells.append(Cell(exp.model, exp.dataset, name, method, variant, seed, config=config,
                                  resources=exp.resources, init_run=init_run, start=start_name))
    return cells


def _pretrain_cell(exp: Experiment, pretrained: dict[str, Cell], cells: list[Cell]) -> Cell | None:
    """The pretraining run of the experiment's model (made once per model label, added to `cells`)."""
    spec = exp.pretrain
    if spec is None:
        return None
    if spec.dataset == exp.dataset:
        raise GridError(f"{spec.where}.dataset = {spec.dataset!r} is also a target dataset of {exp.model}; allowed: "
                        f"a source task distinct from the target")
    if exp.model not in pretrained:
        config = cell_config(spec.training, model=exp.registry_model, dataset=spec.dataset, seed=int(spec.seed))
        cell = Cell(exp.model, spec.dataset, NO_COMPRESSOR, PRETRAIN, "", spec.seed, config=config, resources=spec.resources)
        pretrained[exp.model] = cell
        cells.append(cell)
    return pretrained[exp.model]


def cell_config(base: Mapping[str, Any], **identity: Any) -> dict[str, Any]:
    """Every key of the trainer's cell config (vcon.train.config.CellConfig), in its order, with its
    default where the config leaves it out: the YAML text of a cell depends on its values only."""
    merged = {**{name: f.default for name, f in FIELDS.items()}, **base, **identity}
    spec = merged["compressor"]
    if spec is not None:
        merged["compressor"] = {"name": spec["name"], **{k: spec[k] for k in sorted(spec) if k != "name"}}
    return {key: merged[key] for key in FIELDS}


def iterative_specs(exp: Experiment, label: str, spec: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Variant label -> compressor spec of a compressor's iterative cells: {"": spec} without
    variants, else the spec with each variant's keys set."""
    variants = exp.iterative_variants.get(spec["name"])
    if not variants:
        return {"": spec}
    specs = {variant: {**spec, **mapping(keys)} for variant, keys in variants.items()}
    fields = dataclasses.fields(OPTIONS.get(spec["name"]))
    seen: dict[str, str] = {}
    for variant, merged in specs.items():
        check_spec(merged, f"compressors.{label}", f" (with the iterative variant {variant!r} of {exp.where})")
        key = json.dumps({f.name: merged.get(f.name, f.default) for f in fields}, sort_keys=True, default=list)
        if key in seen:
            raise GridError(f"{exp.where}: iterative variants {seen[key]!r} and {variant!r} of compressor {label!r} "
                            f"give the same spec ({key}); allowed: variants that differ")
        seen[key] = variant
    return specs


def _variants(methods: list[str], iterative_t: str, vcon_pairs: list[tuple[str, str]],
              iterative: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, variant, identity keys) of one compressor: posthoc at Q = 0, iterative with its
    T (one per iterative variant, with its spec), VCON per (Q, shape)."""
    out: list[tuple[str, str, dict[str, Any]]] = []
    if POSTHOC in methods:
        out.append((POSTHOC, "q0", {"q": 0}))
    if ITERATIVE in methods:
        t = lengths.parse(iterative_t).value
        out += [(ITERATIVE, f"t{iterative_t}" + (f"-{variant}" if variant else ""),
                 {"iterative_t": t, "compressor": spec}) for variant, spec in iterative.items()]
    if VCON in methods:
        out += [(VCON, f"q{q}-{shape}", {"q": lengths.parse(q).value, "schedule": shape}) for q, shape in vcon_pairs]
    return out
