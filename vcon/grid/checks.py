"""What the grid checks of each experiment before any job starts: names, lengths against the run,
ranks against the model, inits, and that no two cells are the same run."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vcon import lengths
from vcon.compressors import options as compressor_options
from vcon.data.registry import DATASETS
from vcon.grid.cells import GridError, canonical_length
from vcon.grid.parse import Experiment, unique
from vcon.models import hub
from vcon.models.registry import MODELS, entry_of
from vcon.names import did_you_mean
from vcon.train.config import FIELDS, ConfigError, check_sparse_evaluation

DENSE_RUN = re.compile(r"(?:^|/)runs/([^/]+)/([^/]+)/(?:dense|dense-scratch|pretrain)/seed\d+/?$")


def phase_lengths(exp: Experiment, methods: list[str]) -> tuple[list[str], str]:
    """Canonical Q values and T of one experiment, checked against the methods."""
    where = f"{exp.model}/{exp.dataset}"
    q_values = unique((canonical_length(q) for q in exp.q or []), f"Q values in {exp.q_where} ({where})")
    if any(lengths.parse(q).is_zero for q in q_values):
        raise GridError("Q = 0 is the post-shot baseline: list method 'posthoc' instead of Q 0")
    if "vcon" in methods and not q_values:
        raise GridError(f"method 'vcon' needs at least one Q value in `q` ({where})")
    iterative_t = canonical_length(exp.iterative_t, "iterative_t")
    if "iterative" in methods and lengths.parse(iterative_t).is_zero:
        raise GridError(f"method 'iterative' needs iterative_t > 0, steps or 'Nep' ({where})")
    return q_values, iterative_t


def own_compressors(exp: Experiment, compressors: Mapping[str, Any]) -> dict[str, Any]:
    """The compressors an experiment runs: the model's `compressors` list, else all of them."""
    if exp.compressors is None:
        return dict(compressors)
    where = f"models.{exp.model}.compressors"
    for name in exp.compressors:
        if name not in compressors:
            raise GridError(f"{where}: {name!r} is not a label of `compressors`{did_you_mean(name, compressors)}; "
                            f"allowed: {', '.join(compressors)}")
    return {name: compressors[name] for name in exp.compressors}


def check_experiment(exp: Experiment, methods: list[str], q_values: list[str], iterative_t: str,
                     ablation: Mapping[str, Any], compressors: Mapping[str, Any]) -> None:
    _check_names(exp)
    phases = [(exp.q_where, q) for q in q_values] if "vcon" in methods else []
    if "vcon" in methods and (ablation["models"] is None or exp.model in ablation["models"]):
        phases += [("ablation.q", q) for q in ablation["q"]]
    if "iterative" in methods:
        phases.append((exp.t_where, iterative_t))
    warmup = exp.training.get("warmup_steps")
    if warmup not in (None, 0):
        phases.append(("training.warmup_steps", canonical_length(warmup, "warmup_steps")))
    _check_lengths(exp, phases)
    _check_ranks(exp, compressors)
    _check_sparse_evaluation(exp)
    _check_init(exp, exp.training, "training")
    _check_init(exp, {**exp.training, **exp.dense_training}, "dense_training")


def _check_sparse_evaluation(exp: Experiment) -> None:
    for block, training in (("training", exp.training), ("dense_training", {**exp.training, **exp.dense_training})):
        try:
            check_sparse_evaluation(training, f"{exp.where}: {block}")
        except ConfigError as error:
            raise GridError(str(error)) from None


def check_spec(spec: Mapping[str, Any], where: str, note: str = "") -> None:
    """What ties a compressor spec's keys together (vcon.compressors.options.problems), before any job."""
    lines = compressor_options.problems(spec, where)
    if lines:
        raise GridError(lines[0] + note)


def duplicate_specs(compressors: Mapping[str, Any]) -> None:
    seen: dict[str, str] = {}
    for name, spec in compressors.items():
        key = json.dumps(spec, sort_keys=True)
        if key in seen:
            raise GridError(f"compressors.{name} has the same spec as compressors.{seen[key]} ({key}); every cell "
                            f"of it would run twice under two labels; allowed: distinct specs (remove one label)")
        seen[key] = name


def _check_names(exp: Experiment) -> None:
    """The dataset is registered; the model is registered, a hub id (owner/name) or a directory."""
    if exp.dataset not in DATASETS:
        raise GridError(f"{exp.where}: {DATASETS.unknown(exp.dataset)}")
    model = exp.registry_model
    if model in MODELS or hub.is_hub_id(model) or Path(model).expanduser().is_dir():
        return
    key = f"models.{exp.model}.model" if model != exp.model else f"models.{exp.model}"
    raise GridError(f"{key}: unknown model {model!r}{did_you_mean(model, MODELS)}; allowed: "
                    f"{', '.join(MODELS)}, a hub id (owner/name) or an existing directory "
                    f"(give a label its model with `model:`)")


def _train_size(exp: Experiment) -> int | None:
    """Training examples of an experiment: its `train_size`, else the dataset's (None: unknown)."""
    size = exp.training.get("train_size")
    if isinstance(size, int):
        return size
    return DATASETS.get(exp.dataset).train_size if exp.dataset in DATASETS else None


def _batch_size(exp: Experiment) -> Any:
    return exp.training.get("batch_size", FIELDS["batch_size"].default)


def _steps_per_epoch(exp: Experiment) -> int | None:
    size, batch = _train_size(exp), _batch_size(exp)
    if size is None or not isinstance(batch, int) or batch < 1:
        return None
    return -(-size // batch)


def _check_lengths(exp: Experiment, phases: list[tuple[str, str]]) -> None:
    """No Q, T or warm-up longer than the run; no two Q values of the same length in steps.
    `phases` holds (config path, canonical length)."""
    epochs = exp.training.get("epochs", FIELDS["epochs"].default)
    per_epoch = _steps_per_epoch(exp)
    total = per_epoch * epochs if per_epoch and isinstance(epochs, int) else None
    size = f"{exp.dataset}: {_train_size(exp)} training examples / batch_size {_batch_size(exp)} = " \
        f"{per_epoch} steps per epoch" if per_epoch else ""
    by_steps: dict[int, list[str]] = {}
    for path, canonical in phases:
        length = lengths.parse(canonical)
        steps = length.to_steps(per_epoch) if per_epoch or length.epochs is None else None
        too_long = (isinstance(epochs, int) and length.epochs is not None and length.epochs > epochs) or \
            (total is not None and steps is not None and steps > total)
        if too_long:
            run = f"{epochs} epochs" + (f" = {total} steps ({size})" if total else "")
            raise GridError(f"{path} = {canonical!r} is longer than the run of {exp.where} ({run}); "
                            f"allowed: at most {epochs}ep" + (f" or {total} steps" if total else ""))
        if steps is not None and path.rsplit(".", 1)[-1] == "q":
            by_steps.setdefault(steps, []).append(canonical)
    for steps, same in by_steps.items():
        if len(set(same)) > 1:
            raise GridError(f"{exp.q_where}: Q values {' and '.join(sorted(set(same)))} are the same length, "
                            f"{steps} steps, for {exp.where} ({size}); the cells would be the same run twice; "
                            f"allowed: distinct lengths")


def _check_ranks(exp: Experiment, compressors: Mapping[str, Any]) -> None:
    """A low-rank rank must fit the model's smallest compressed layer (where the registry knows it)."""
    entry = entry_of(exp.registry_model)
    width = entry.width if entry else None
    for name, spec in compressors.items():
        if spec["name"] != "lowrank" or width is None:
            continue
        rank = compressor_options.options_of(spec).rank
        if rank > width:
            raise GridError(f"compressors.{name}.rank = {rank} is above the smaller side ({width}) of the compressed "
                            f"layers of model {exp.registry_model!r} ({exp.where}); allowed: rank <= {width}")


def _check_init(exp: Experiment, training: Mapping[str, Any], key: str) -> None:
    """An init that is a run of another model cannot be loaded (a run of another dataset of the same
    model is a pretrained start: all but its head)."""
    init = training.get("init")
    match = DENSE_RUN.search(init) if isinstance(init, str) else None
    if match and match.group(1) != exp.model:
        raise GridError(f"{exp.where}.{key}.init = {init!r} is a run of model {match.group(1)}, not of "
                        f"{exp.model}; allowed: a run of the same model ({exp.model}), a checkpoint or scratch")


def headline_iterative(report: Any, model: str) -> dict[str, str]:
    """compressor name -> the iterative variant of the headline tables for a model label
    (`report.headline_iterative`: the model's entry, else `default`)."""
    chosen = (report or {}).get("headline_iterative") or {}
    return {**chosen.get("default", {}), **chosen.get(model, {})}


def check_headline_iterative(exp: Experiment, methods: list[str], compressors: Mapping[str, Any],
                             report: Any) -> None:
    """Every compressor with iterative variants has its headline variant named, and it exists."""
    if "iterative" not in methods:
        return
    chosen = headline_iterative(report, exp.model)
    for name in sorted({spec["name"] for spec in compressors.values()}):
        variants = exp.iterative_variants.get(name)
        if not variants:
            continue
        if chosen.get(name) not in variants:
            what = f"names {chosen[name]!r}, not a variant" if name in chosen else "names no variant"
            raise GridError(f"report.headline_iterative {what} of {name} for model {exp.model}; allowed: one of "
                            f"{', '.join(variants)} (e.g. report.headline_iterative: {{{exp.model}: "
                            f"{{{name}: {next(iter(variants))}}}}})")
