"""Compressors, models and datasets from other installed packages, found through entry points.

A distribution declares each under one group, the entry point's name being the name users type and
its value what the registry holds (imported without torch):

    [project.entry-points."vcon.compressors"]
    random = "my_package.options:RandomPruneOptions"   # an options dataclass naming its `implementation`
    [project.entry-points."vcon.models"]
    my-net = "my_package.models:MY_NET"                 # a vcon.models.registry.ModelEntry
    [project.entry-points."vcon.datasets"]
    bars = "my_package.data:BARS"                       # a vcon.data.registry.DatasetEntry

When (see `vcon.names.Registry`): the entry points are read the first time a registry is asked; a
plugin is imported the first time its name is looked up, or when the registry lists every name. A
plugin that cannot be used (its name is already registered, two distributions declare it, it fails
to import, or what it declares is wrong) is an error where its name is used, naming the
distribution and the entry point; a listing leaves it out and names it apart. So a broken plugin
never stops a command that does not use it, and never replaces a built-in.

Standard library only: the workflow reads the registries before any job, without torch.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class BadDeclaration(ValueError):
    """What a plugin's entry point names is not what its group expects (the message says why)."""


@cache
def _declared(group: str) -> dict[str, tuple[EntryPoint, ...]]:
    """The entry points of `group` by name (more than one: declared by several distributions)."""
    found: dict[str, tuple[EntryPoint, ...]] = {}
    for point in entry_points(group=group):
        found[point.name] = found.get(point.name, ()) + (point,)
    return found


def origin(point: EntryPoint) -> str:
    """Where a plugin comes from, for messages: its distribution and entry point."""
    dist = f"{point.dist.name} {point.dist.version}" if point.dist is not None else "an unnamed distribution"
    return f"the installed distribution {dist} (entry point '{point.name} = {point.value}' of group {point.group})"


def _distribution(point: EntryPoint) -> str:
    return point.dist.name if point.dist is not None else "it"


class PluginGroup(Generic[T]):
    """The plugins of one registry: the entry points of `group`, each turned into an entry by
    `adopt(loaded object, name)` on first use and remembered, problems included. `adopt` raises
    BadDeclaration for a wrong declaration; anything else it raises counts as a failed import."""

    def __init__(self, group: str, kind: str, adopt: Callable[[Any, str], T]) -> None:
        self.group = group
        self.kind = kind
        self.adopt = adopt
        self._loaded: dict[str, T] = {}
        self._problems: dict[str, str] = {}
        _GROUPS.append(self)

    def names(self) -> list[str]:
        """The names plugins declare, without importing any."""
        return sorted(_declared(self.group))

    def declares(self, name: object) -> bool:
        return isinstance(name, str) and name in _declared(self.group)

    def clash(self, name: str) -> str:
        """The error for a declared name that is registered already (a built-in's)."""
        points = _declared(self.group)[name]
        return (f"{self.kind} {name!r} is registered already (built in, or by code) and "
                f"{' and '.join(origin(p) for p in points)} declares it too; a plugin cannot replace it: "
                f"rename the entry point, or uninstall {', '.join(_distribution(p) for p in points)}")

    def load(self, name: str) -> T | None:
        """The entry of a declared name, or None when it cannot be used (`problem` says why)."""
        if name not in self._loaded and name not in self._problems:
            try:
                self._loaded[name] = self._load(name)
            except _Unusable as error:
                self._problems[name] = str(error)
        return self._loaded.get(name)

    def problem(self, name: str) -> str | None:
        """Why a declared name cannot be used (after `load`), or None."""
        self.load(name)
        return self._problems.get(name)

    def _load(self, name: str) -> T:
        points = _declared(self.group)[name]
        if len(points) > 1:
            raise _Unusable(f"{self.kind} {name!r} is declared by {len(points)} plugins: "
                            f"{'; '.join(origin(p) for p in points)}; uninstall all but one, or rename an entry point")
        point = points[0]
        where = f"{self.kind} {name!r} comes from {origin(point)}"
        fix = f"fix the plugin, or uninstall {_distribution(point)}"
        try:
            return self.adopt(point.load(), name)
        except BadDeclaration as error:
            raise _Unusable(f"{where}, which declares it wrong: {error}; {fix}") from None
        except Exception as error:  # noqa: BLE001  (whatever a plugin's import raises is reported, not raised)
            raise _Unusable(f"{where}, which failed to import: {type(error).__name__}: {error}; {fix}") from None


class _Unusable(Exception):
    pass


def instances_of(cls: type[T], example: str) -> Callable[[Any, str], T]:
    """The `adopt` of a group whose entry points name an instance of `cls` (`example` shows one)."""

    def adopt(declared: Any, name: str) -> T:
        if not isinstance(declared, cls):
            raise BadDeclaration(f"it names {declared!r}, not {example}")
        return declared

    return adopt


_GROUPS: list[PluginGroup[Any]] = []


def distributions() -> dict[str, str]:
    """Name -> version of each installed distribution that declares a plugin of a registry made so far."""
    return {point.dist.name: point.dist.version for group in {g.group for g in _GROUPS}
            for points in _declared(group).values() for point in points if point.dist is not None}


def rescan() -> None:
    """Read the entry points again and forget every plugin loaded so far (after installing or
    removing a distribution in a running process; tests)."""
    _declared.cache_clear()
    for group in _GROUPS:
        group._loaded.clear()
        group._problems.clear()
