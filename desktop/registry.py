"""An ordered list of named entries that a record area adds itself to (no Qt, no database).

Navigation pages, per-resident actions, due-list sources and indicator sources are each one
`Registry`. The order of `add` calls is the order on screen; `temporarily` adds an entry for
the length of a `with` block (tests, plug-ins tried out) and takes it away again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryError(Exception):
    """A programming error: a key added twice or a missing key asked for."""


class Registry(Generic[T]):
    """Entries keyed by `key_of(entry)`, kept in the order they were added (or placed `before` another)."""

    def __init__(self, name: str, key_of: Callable[[T], str]) -> None:
        self.name = name
        self._key_of = key_of
        self._entries: list[T] = []

    def add(self, entry: T, *, before: str | None = None) -> T:
        """Add `entry` at the end, or just before the entry keyed `before`; returns the entry."""
        key = self._key_of(entry)
        if key in self:
            raise RegistryError(f"{self.name}: {key!r} is registered already")
        index = self._index(before) if before is not None else len(self._entries)
        self._entries.insert(index, entry)
        return entry

    def remove(self, key: str) -> T:
        """Take the entry keyed `key` out of the registry and return it."""
        return self._entries.pop(self._index(key))

    @contextmanager
    def temporarily(self, entry: T, *, before: str | None = None) -> Iterator[T]:
        """Registered inside the `with` block only."""
        self.add(entry, before=before)
        try:
            yield entry
        finally:
            self.remove(self._key_of(entry))

    def get(self, key: str) -> T:
        """The entry keyed `key` (RegistryError if none)."""
        return self._entries[self._index(key)]

    def find(self, key: str) -> T | None:
        """The entry keyed `key`, or None."""
        return next((entry for entry in self._entries if self._key_of(entry) == key), None)

    def keys(self) -> list[str]:
        """Every key, in order."""
        return [self._key_of(entry) for entry in self._entries]

    def entries(self) -> list[T]:
        """A copy of the entries, in order."""
        return list(self._entries)

    def _index(self, key: str) -> int:
        for index, entry in enumerate(self._entries):
            if self._key_of(entry) == key:
                return index
        raise RegistryError(f"{self.name}: nothing registered as {key!r}")

    def __contains__(self, key: object) -> bool:
        return any(self._key_of(entry) == key for entry in self._entries)

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
