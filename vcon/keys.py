"""Keys declared once: a dataclass field carries its meaning, its default and its JSON schema, and
the schema of the whole dataclass is read from its fields. Used by the cell config
(vcon.train.config) and the compressor options (vcon.compressors.options); imports no torch."""
from __future__ import annotations

import dataclasses
from typing import Any


def key(doc: str, default: Any, schema: dict[str, Any]) -> Any:
    """A dataclass field that is a config key: its meaning, default and JSON schema."""
    return dataclasses.field(default=default, metadata={"doc": doc, "schema": schema})


def optional(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null."""
    return {"anyOf": [{"type": "null"}, schema]}


def properties(cls: type) -> dict[str, dict[str, Any]]:
    """The JSON schema of each key of a dataclass declared with `key`, in field order."""
    return {f.name: f.metadata["schema"] for f in dataclasses.fields(cls)}
