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
from vcon.train.config import LENGTH, schema as cell_schema

SCHEMA = Path(__file__).with_name("config.schema.yaml")


@cache
def workflow_schema() -> dict[str, Any]:
    """The workflow config's JSON schema: config.schema.yaml with the trainer's cell keys (less the
    ones the grid sets), the compressor options, lengths and labels filled in."""
    schema = schema_errors.load_schema(SCHEMA)
    defs = schema["$defs"]
    keys = {key: value for key, value in cell_schema()["properties"].items() if key not in IDENTITY_KEYS}
    defs["training"].update(type=["object", "null"], additionalProperties=False, properties=keys)
    defs["compressor"].update(compressor_options.schema())
    defs["iterative_variants"].update(compressor_options.iterative_variants_schema(LABEL.pattern))
    defs["length"].update(LENGTH)
    defs["label"]["pattern"] = LABEL.pattern
    report = schema["properties"]["report"]["properties"]
    report["figures"]["items"]["enum"] = list(catalog.FIGURE_INPUTS)
    report["split"]["enum"] = list(catalog.SPLITS)
    return schema


def check(config: Any, source: str) -> Grid:
    """Validate a workflow config against the JSON schema, then expand it; every GridError names
    `source` (the config file) and the path inside it."""
    lines = _unusable_compressors(config) or schema_errors.problems(config, workflow_schema(), IDENTITY_KEYS)
    if lines:
        raise GridError(schema_errors.message(lines, source))
    try:
        return expand(config or {})
    except GridError as error:
        raise GridError(f"{source}: {error}") from None


def _unusable_compressors(config: Any) -> list[str]:
    """The compressors named after a plugin that cannot be used, each with the reason (the schema would
    only say that the name is not allowed)."""
    specs = config.get("compressors") if isinstance(config, dict) else None
    if not isinstance(specs, dict):
        return []
    return [f"compressors.{label}.name: {problem}" for label, spec in specs.items() if isinstance(spec, dict)
            if (problem := compressor_options.OPTIONS.problem(spec.get("name")))]


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
