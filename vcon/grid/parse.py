"""Reading a workflow config's blocks: labels, the merged training and resources of each (model,
dataset) experiment, a model's pretraining and starts, the dense runs and the beta-shape ablation."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vcon import lengths
from vcon.data.registry import DATASETS
from vcon.grid.cells import PRETRAINED, STARTS, GridError, canonical_length, canonical_seed
from vcon.names import did_you_mean
from vcon.schedules import BETA_SCHEDULES

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# threads, mem_mb, runtime (minutes, per attempt) and gpu always; cpus_per_task (default: threads),
# gpu_model and constraint only where set (SLURM: --cpus-per-task, --gpus=MODEL:N, --constraint).
RESOURCE_KEYS = ("threads", "mem_mb", "runtime", "gpu", "cpus_per_task", "gpu_model", "constraint")
DEFAULT_RESOURCES = {"threads": 1, "mem_mb": 2000, "runtime": 30, "gpu": 0}
# Keys the grid sets itself; a `training:` block may not override them.
IDENTITY_KEYS = ("model", "dataset", "compressor", "method", "q", "schedule", "iterative_t", "seed")
SHAPES = tuple(BETA_SCHEDULES)


@dataclass(frozen=True)
class Pretrain:
    """A model's pretraining on a source task."""

    dataset: str
    seed: str
    training: dict[str, Any]
    resources: dict[str, Any]
    where: str


@dataclass(frozen=True)
class Experiment:
    """One (model label, dataset) of the config, with everything its cells share."""

    model: str  # the label
    dataset: str
    registry_model: str  # what `vcon train` builds: a registered name, hub id or directory
    pretrain: Pretrain | None
    compressors: list[str] | None  # labels of the top-level `compressors`; None: all of them
    starts: list[str]
    training: dict[str, Any]
    dense_training: dict[str, Any]
    resources: dict[str, Any]
    q: Any  # the Q values and T as written (checked by vcon.grid.checks)
    iterative_t: Any
    iterative_variants: dict[str, dict[str, dict[str, Any]]]  # compressor name -> label -> keys it sets
    where: str  # config paths, for messages
    q_where: str
    t_where: str


@dataclass(frozen=True)
class DenseRuns:
    """`dense: true|false` or `dense: {run, scratch, training}`: the dense fine-tuning runs (the
    uncompressed reference, and the `finetuned` start), and dense runs from scratch (what the
    pretrained start is worth)."""

    run: bool
    scratch: bool

    @classmethod
    def parse(cls, value: Any) -> DenseRuns:
        if value is None or isinstance(value, bool):
            return cls(bool(value), False)
        spec = mapping(value, "dense")
        return cls(bool(spec.get("run", True)), bool(spec.get("scratch", False)))


def label(value: Any, what: str) -> str:
    if not isinstance(value, str) or not LABEL.match(value):
        raise GridError(f"{what} {value!r} is not a valid name (letters, digits, '.', '_', '+', '-')")
    return value


def unique(values: Iterable[str], what: str) -> list[str]:
    values = list(values)
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise GridError(f"duplicate {what} after normalisation: {', '.join(repeated)}; allowed: each value once")
    return values


def mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise GridError(f"{what} must be a mapping, got {value!r}")
    return dict(value)


def training(*layers: Any, where: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        layer = mapping(layer, f"{where}: training")
        clash = sorted(set(layer) & set(IDENTITY_KEYS))
        if clash:
            raise GridError(f"{where}: training may not set {', '.join(clash)}; the grid sets them")
        merged.update(layer)
    return merged


def resources(*layers: Any, where: str) -> dict[str, Any]:
    merged = dict(DEFAULT_RESOURCES)
    for layer in layers:
        layer = mapping(layer, f"{where}: resources")
        unknown = sorted(set(layer) - set(RESOURCE_KEYS))
        if unknown:
            raise GridError(f"{where}: unknown resources {', '.join(unknown)}; valid: {', '.join(RESOURCE_KEYS)}")
        merged.update(layer)
    return merged


def starts(value: Any, model: str) -> list[str]:
    """The starting points of a model's compression cells (default: the pretrained model)."""
    if value is None:
        return [PRETRAINED]
    chosen = unique(value, f"starts of {model}")
    for start in chosen:
        if start not in STARTS:
            raise GridError(f"models.{model}: unknown start {start!r}{did_you_mean(start, STARTS)}; "
                            f"allowed: {', '.join(STARTS)}")
    return chosen


def pretrain(config: Mapping[str, Any], model: str, entry: Mapping[str, Any]) -> Pretrain | None:
    """A model's pretraining on a source task: dataset, seed and merged training/resources."""
    if entry.get("pretrain") is None:
        return None
    where = f"models.{model}.pretrain"
    spec = mapping(entry["pretrain"], where)
    dataset = label(spec.get("dataset"), f"{where}.dataset")
    if dataset not in DATASETS:
        raise GridError(f"{where}.dataset: {DATASETS.unknown(dataset)}")
    if "init" in training(config.get("training"), entry.get("training"), where=f"models.{model}"):
        raise GridError(f"models.{model}: a pretrain stage and training.init both give the starting point; "
                        f"allowed: one of them (remove init from training)")
    return Pretrain(dataset, canonical_seed(spec.get("seed", 0)),
                    training(config.get("training"), spec.get("training"), where=where),
                    resources(config.get("resources"), entry.get("resources"), spec.get("resources"), where=where),
                    where)


def experiments(config: Mapping[str, Any]) -> list[Experiment]:
    """Every (model, dataset) of the config: the dataset's value wins over the model's, the model's
    over the top level's."""
    out = []
    dense = config.get("dense") if isinstance(config.get("dense"), Mapping) else {}
    for model, entry in mapping(config.get("models"), "models").items():
        label(model, "model")
        entry = mapping(entry, f"models.{model}")
        its_pretrain = pretrain(config, model, entry)
        datasets = entry.get("datasets") or {}
        if isinstance(datasets, list):
            datasets = {name: None for name in unique(datasets, f"datasets of {model}")}
        for dataset, spec in mapping(datasets, f"models.{model}.datasets").items():
            label(dataset, "dataset")
            spec = mapping(spec, f"models.{model}.datasets.{dataset}")
            where = f"models.{model}.datasets.{dataset}"
            out.append(Experiment(
                model=model,
                dataset=dataset,
                registry_model=entry.get("model", model),
                pretrain=its_pretrain,
                compressors=entry.get("compressors"),
                starts=starts(entry.get("starts", config.get("starts")), model),
                training=training(config.get("training"), entry.get("training"), spec.get("training"), where=where),
                dense_training=training(dense.get("training"), entry.get("dense_training"),
                                        spec.get("dense_training"), where=where),
                resources=resources(config.get("resources"), entry.get("resources"), spec.get("resources"),
                                    where=where),
                q=spec.get("q", entry.get("q", config.get("q"))),
                iterative_t=spec.get("iterative_t", entry.get("iterative_t", config.get("iterative_t", 0))),
                iterative_variants={**iterative_variants(config.get("iterative_variants"), "iterative_variants"),
                                    **iterative_variants(entry.get("iterative_variants"),
                                                         f"models.{model}.iterative_variants")},
                where=where,
                q_where=_origin("q", spec, entry, where, model),
                t_where=_origin("iterative_t", spec, entry, where, model),
            ))
    return out


SEED_SECTIONS = ("headline", "q_sweep", "shapes", "scratch")


@dataclass(frozen=True)
class Seeds:
    """The seeds of each section of the study: `headline` (dense, post-shot, iterative, VCON at the
    headline Q), `q_sweep` (VCON at the other Q values), `shapes` (the ablation's other beta shapes),
    `scratch` (dense from scratch). `seeds: [...]` gives every section the same."""

    sections: dict[str, list[str]]

    @classmethod
    def parse(cls, value: Any) -> Seeds:
        if not isinstance(value, Mapping):
            seeds = unique((canonical_seed(s) for s in value or []), "seeds")
            return cls({section: seeds for section in SEED_SECTIONS})
        headline = unique((canonical_seed(s) for s in value.get("headline") or []), "seeds.headline")
        sections = {"headline": headline}
        for section in SEED_SECTIONS[1:]:
            chosen = unique((canonical_seed(s) for s in value.get(section, headline)), f"seeds.{section}")
            outside = [s for s in chosen if s not in headline]
            if outside:
                raise GridError(f"seeds.{section}: {', '.join(outside)} not among seeds.headline; allowed: a subset of "
                                f"the headline seeds (their dense runs are the reference)")
            sections[section] = chosen
        return cls(sections)

    @property
    def by_section(self) -> bool:
        return any(self.sections[s] != self.sections["headline"] for s in SEED_SECTIONS[1:])

    def all(self) -> list[str]:
        return self.sections["headline"]


def iterative_variants(value: Any, where: str) -> dict[str, dict[str, dict[str, Any]]]:
    """compressor name -> variant label -> the iterative keys it sets (the schema checked the keys)."""
    variants = {}
    for name, labels in mapping(value, where).items():
        variants[name] = {label(variant, f"{where}.{name} variant"): mapping(keys, f"{where}.{name}.{variant}")
                          for variant, keys in mapping(labels, f"{where}.{name}").items()}
    return variants


def _origin(key: str, spec: Mapping[str, Any], entry: Mapping[str, Any], where: str, model: str) -> str:
    """The config path a per-experiment value was taken from."""
    return f"{where}.{key}" if key in spec else f"models.{model}.{key}" if key in entry else key


def ablation(value: Any, compressors: Mapping[str, Any]) -> dict[str, Any]:
    """Extra beta shapes at some Q, optionally for some compressors and models only."""
    spec = mapping(value, "ablation")
    shapes = unique(spec.get("schedules") or [], "ablation schedules")
    for shape in shapes:
        if shape not in SHAPES:
            raise GridError(f"ablation.schedules: {shape!r} is not allowed{did_you_mean(shape, SHAPES)}; allowed: one "
                            f"of {', '.join(SHAPES)}")
    q_values = unique((canonical_length(q) for q in spec.get("q") or []), "ablation Q values")
    if any(lengths.parse(q).is_zero for q in q_values):
        raise GridError("ablation Q values must be > 0")
    for name in spec.get("compressors") or []:
        if name not in compressors:
            raise GridError(f"ablation compressor {name!r} is not in `compressors`")
    return {"schedules": shapes, "q": q_values, "compressors": spec.get("compressors"), "models": spec.get("models")}
