"""Names users type: the "did you mean" hint, and the registry that maps names to what they build."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """" (did you mean 'x'?)" for the closest of `choices`, or "" when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class UnknownName(ValueError):
    """A name no registry entry has; the message lists the registered ones."""


class Registry(Generic[T]):
    """Names of one kind (dataset, model, compressor) -> their entries, each name registered once."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of `add`: `@REGISTRY.register("name")` on what the name builds."""
        return lambda entry: self.add(name, entry)

    def remove(self, name: str) -> None:
        """Forget a registered name (a script's or test's own entry)."""
        del self._entries[name]

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise UnknownName(self.unknown(name))
        return self._entries[name]

    def unknown(self, name: object) -> str:
        """The error message for a name that is not registered."""
        return f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}; {self.listing()}"

    def listing(self) -> str:
        return f"registered {self.kind}s: {', '.join(self.names())}"

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(name, self._entries[name]) for name in self.names()]
