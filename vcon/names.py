"""Names users type: the "did you mean" hint, and the registry that maps names to what they build."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from vcon.plugins import PluginGroup

T = TypeVar("T")


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """" (did you mean 'x'?)" for the closest of `choices`, or "" when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class UnknownName(ValueError):
    """A name no registry entry has; the message lists the registered ones."""


class Registry(Generic[T]):
    """Names of one kind (dataset, model, compressor) -> their entries, each name registered once;
    with an entry-point `group` (and its `adopt`), also the names other installed packages declare
    there, each made an entry by `adopt(loaded object, name)` (`vcon.plugins`). A name that cannot
    be used (a plugin's that clashes with a registered name or fails to load) is not in the
    registry: `get` raises, and `unknown` gives, the reason."""

    def __init__(self, kind: str, group: str | None = None, adopt: Callable[[Any, str], T] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._plugins = PluginGroup(group, kind, adopt) if group is not None else None

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def remove(self, name: str) -> None:
        """Forget a registered name (a script's or test's own entry)."""
        del self._entries[name]

    def _find(self, name: object) -> tuple[T | None, str | None]:
        """The entry of `name`; else None and why a plugin's name cannot be used (None: not declared)."""
        from_plugin = self._plugins is not None and self._plugins.declares(name)
        if name in self._entries:
            return (None, self._plugins.clash(name)) if from_plugin else (self._entries[name], None)
        if from_plugin:
            return self._plugins.load(name), self._plugins.problem(name)
        return None, None

    def get(self, name: str) -> T:
        entry, _ = self._find(name)
        if entry is None:
            raise UnknownName(self.unknown(name))
        return entry

    def unknown(self, name: object) -> str:
        """The error message for a name that is not in the registry: for a plugin's, why."""
        return self.problem(name) or f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; {self.listing()}"

    def problem(self, name: object) -> str | None:
        """Why a name that a plugin declares cannot be used; None for every other name."""
        declared = self._plugins is not None and self._plugins.declares(name)
        return self._find(name)[1] if declared else None

    def listing(self) -> str:
        broken = self.unusable()
        return f"registered {self.kind}s: {', '.join(self.names())}" + \
            (f"; declared by plugins that cannot be used: {', '.join(broken)}" if broken else "")

    def names(self) -> list[str]:
        """The names `get` gives an entry for, sorted (imports every plugin)."""
        declared = self._plugins.names() if self._plugins is not None else []
        return sorted(name for name in {*self._entries, *declared} if name in self)

    def unusable(self) -> list[str]:
        """The names plugins declare that cannot be used (each one's `problem` says why)."""
        declared = self._plugins.names() if self._plugins is not None else []
        return [name for name in declared if name not in self]

    def __contains__(self, name: object) -> bool:
        return self._find(name)[0] is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(name, self.get(name)) for name in self.names()]
