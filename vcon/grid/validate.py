"""Checking a workflow config before any job: the JSON schema (shipped in this package; its cell-config
keys and length grammar come from the trainer's own CellConfig, its compressor specs from the
compressors' options), then the grid's checks."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from vcon import schema_errors
from vcon.compressors import options as compressor_options
from vcon.grid import extends
from vcon.grid.cells import Grid, GridError
from vcon.grid.expand import expand
from vcon.grid.parse import IDENTITY_KEYS, LABEL
from vcon.report import catalog
from vcon.schedules import BETA_SCHEDULES
from vcon.train.config import LENGTH, schema as cell_schema
from vcon.vocabulary import INTERVALS, METHODS, SPLITS, STARTS

SCHEMA = Path(__file__).with_name("config.schema.yaml")


@cache
def workflow_schema() -> dict[str, Any]:
    """The workflow config's JSON schema: config.schema.yaml with the trainer's cell keys (less the
    ones the grid sets), the compressor options, lengths, labels and every list of names filled in."""
    schema = schema_errors.load_schema(SCHEMA)
    defs = schema["$defs"]
    keys = {key: value for key, value in cell_schema()["properties"].items() if key not in IDENTITY_KEYS}
    defs["training"].update(type=["object", "null"], additionalProperties=False, properties=keys)
    defs["compressor"].update(compressor_options.schema())
    defs["iterative_variants"].update(compressor_options.iterative_variants_schema(LABEL.pattern))
    defs["length"].update(LENGTH)
    defs["label"]["pattern"] = LABEL.pattern
    defs["shape"]["enum"] = list(BETA_SCHEDULES)
    defs["starts"]["items"]["enum"] = list(STARTS)
    schema["properties"]["methods"]["items"]["enum"] = list(METHODS)
    report = schema["properties"]["report"]["properties"]
    report["figures"]["items"]["enum"] = list(catalog.FIGURE_INPUTS)
    report["split"]["enum"] = list(SPLITS)
    report["interval"]["enum"] = list(INTERVALS)
    return schema


def check(config: Any, source: str) -> Grid:
    """Validate a workflow config against the JSON schema, then expand it; every GridError names
    `source` (the config file) and the path inside it."""
    config = schema_errors.numbers_from_text(config, workflow_schema())
    lines = _unusable_compressors(config) or schema_errors.problems(config, workflow_schema(), IDENTITY_KEYS)
    if lines:
        raise GridError(schema_errors.message(lines, source))
    try:
        return expand(config)
    except GridError as error:
        raise GridError(f"{source}: {error}") from None


def _unusable_compressors(config: Any) -> list[str]:
    specs = config.get("compressors") if isinstance(config, dict) else None
    return [line for label, spec in (specs.items() if isinstance(specs, dict) else [])
            for line in compressor_options.unusable(spec, f"compressors.{label}")]


def load(path: str | Path) -> Grid:
    import yaml

    try:
        with open(path) as handle:
            config = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise GridError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if config is None:
        raise GridError(f"{path}: the file is empty; a workflow config needs at least models, compressors, methods "
                        f"and seeds (configs/default.yaml is one)")
    try:
        config = extends.resolve(config, Path(path).parent, (Path(path).resolve(),))
    except GridError as error:
        raise GridError(f"{path}: {error}") from None
    return check(config, str(path))
