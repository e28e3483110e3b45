"""Reading a workflow config's blocks, after the schema checked their keys, types and names: the merged
training and resources of each (model, dataset) experiment, a model's pretraining and starts, the seeds
of each section, the dense runs and the beta-shape ablation."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vcon import lengths
from vcon.data.registry import DATASETS
from vcon.grid.cells import GridError, canonical_length
from vcon.vocabulary import PRETRAINED

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# threads, mem_mb, runtime (minutes, per attempt) and gpu always; cpus_per_task (default: threads),
# gpu_model and constraint only where set (SLURM: --cpus-per-task, --gpus=MODEL:N, --constraint).
RESOURCE_KEYS = ("threads", "mem_mb", "runtime", "gpu", "cpus_per_task", "gpu_model", "constraint")
DEFAULT_RESOURCES = {"threads": 1, "mem_mb": 2000, "runtime": 30, "gpu": 0}
# Keys the grid sets itself; a `training:` block may not override them.
IDENTITY_KEYS = ("model", "dataset", "compressor", "method", "q", "schedule", "iterative_t", "seed")


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
        return cls(value.get("run", True), value.get("scratch", False))


def unique(values: Iterable[str], what: str) -> list[str]:
    """Values in their canonical spelling, each once (the schema cannot tell 120 from "120")."""
    values = list(values)
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise GridError(f"duplicate {what} after normalisation: {', '.join(repeated)}; allowed: each value once")
    return values


def mapping(value: Mapping[str, Any] | None) -> dict[str, Any]:
    """A block of the config, or {} where it is left out or null."""
    return dict(value or {})


def merged(*layers: Mapping[str, Any] | None, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Blocks of the same keys merged, the later over the earlier."""
    out = dict(base or {})
    for layer in layers:
        out.update(mapping(layer))
    return out


def pretrain(config: Mapping[str, Any], model: str, entry: Mapping[str, Any]) -> Pretrain | None:
    """A model's pretraining on a source task: dataset, seed and merged training/resources."""
    if entry.get("pretrain") is None:
        return None
    where = f"models.{model}.pretrain"
    spec = entry["pretrain"]
    if spec["dataset"] not in DATASETS:
        raise GridError(f"{where}.dataset: {DATASETS.unknown(spec['dataset'])}")
    if "init" in merged(config.get("training"), entry.get("training")):
        raise GridError(f"models.{model}: a pretrain stage and training.init both give the starting point; "
                        f"allowed: one of them (remove init from training)")
    return Pretrain(spec["dataset"], str(int(spec.get("seed", 0))), merged(config.get("training"), spec.get("training")),
                    merged(config.get("resources"), entry.get("resources"), spec.get("resources"),
                           base=DEFAULT_RESOURCES),
                    where)


def experiments(config: Mapping[str, Any]) -> list[Experiment]:
    """Every (model, dataset) of the config: the dataset's value wins over the model's, the model's
    over the top level's."""
    out = []
    dense = config.get("dense") if isinstance(config.get("dense"), Mapping) else {}
    for model, entry in config["models"].items():
        its_pretrain = pretrain(config, model, entry)
        datasets = entry["datasets"]
        if isinstance(datasets, list):
            datasets = {name: None for name in datasets}
        for dataset, spec in datasets.items():
            spec = mapping(spec)
            where = f"models.{model}.datasets.{dataset}"
            out.append(Experiment(
                model=model,
                dataset=dataset,
                registry_model=entry.get("model", model),
                pretrain=its_pretrain,
                compressors=entry.get("compressors"),
                starts=entry.get("starts", config.get("starts")) or [PRETRAINED],
                training=merged(config.get("training"), entry.get("training"), spec.get("training")),
                dense_training=merged(dense.get("training"), entry.get("dense_training"), spec.get("dense_training")),
                resources=merged(config.get("resources"), entry.get("resources"), spec.get("resources"),
                                 base=DEFAULT_RESOURCES),
                q=spec.get("q", entry.get("q", config.get("q"))),
                iterative_t=spec.get("iterative_t", entry.get("iterative_t", config.get("iterative_t", 0))),
                iterative_variants={**mapping(config.get("iterative_variants")),
                                    **mapping(entry.get("iterative_variants"))},
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
            return cls({section: [str(int(s)) for s in value] for section in SEED_SECTIONS})
        headline = [str(int(s)) for s in value["headline"]]
        sections = {"headline": headline}
        for section in SEED_SECTIONS[1:]:
            chosen = [str(int(s)) for s in value.get(section, headline)]
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


def _origin(key: str, spec: Mapping[str, Any], entry: Mapping[str, Any], where: str, model: str) -> str:
    """The config path a per-experiment value was taken from."""
    return f"{where}.{key}" if key in spec else f"models.{model}.{key}" if key in entry else key


def ablation(value: Any, compressors: Mapping[str, Any]) -> dict[str, Any]:
    """Extra beta shapes at some Q, optionally for some compressors and models only."""
    spec = mapping(value)
    q_values = unique((canonical_length(q) for q in spec.get("q") or []), "ablation Q values")
    if any(lengths.parse(q).is_zero for q in q_values):
        raise GridError("ablation Q values must be > 0")
    for name in spec.get("compressors") or []:
        if name not in compressors:
            raise GridError(f"ablation compressor {name!r} is not in `compressors`")
    return {"schedules": spec.get("schedules") or [], "q": q_values, "compressors": spec.get("compressors"),
            "models": spec.get("models")}
