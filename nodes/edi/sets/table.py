"""The vocabulary of a transaction-set table: which segments a loop holds, in which order, once or
repeated, and which loops nest in it. Tables are data; nodes/edi/structure.py walks them."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    """A segment at its place in a loop: an object in the body when it occurs once, an array when `repeat`."""

    id: str
    repeat: bool = False

    @property
    def key(self) -> str:
        return self.id


@dataclass(frozen=True)
class Loop:
    """A loop: its first segment (the trigger) starts each iteration; the body holds an array of iterations
    under `<trigger>_loop`. `hierarchy` nests the iterations by HL01/HL02 (the 856 HL loop)."""

    entries: tuple
    hierarchy: bool = False

    @property
    def trigger(self) -> str:
        return self.entries[0].id

    @property
    def key(self) -> str:
        return f"{self.trigger}_loop"


@dataclass(frozen=True)
class SetTable:
    """One transaction set in one version: its title, functional group id and top-level entries."""

    set_id: str
    version: str
    title: str
    functional_id: str
    entries: tuple = field(default_factory=tuple)

    def __post_init__(self):
        object.__setattr__(self, "entries", flatten(self.entries))


def many(*segment_ids: str) -> tuple[Segment, ...]:
    return tuple(Segment(s, repeat=True) for s in segment_ids)


def loop(trigger: str, *entries, hierarchy: bool = False) -> Loop:
    """A loop whose trigger occurs once per iteration; entries are Segments, Loops or tuples of them."""
    return Loop((Segment(trigger), *flatten(entries)), hierarchy=hierarchy)


def flatten(entries) -> tuple:
    out: list = []
    for entry in entries:
        if isinstance(entry, tuple):
            out += flatten(entry)
        elif isinstance(entry, str):
            out.append(Segment(entry))
        else:
            out.append(entry)
    return tuple(out)


def extended(base: SetTable, version: str, additions: dict[str, tuple] | None = None) -> SetTable:
    """`base` for another version, with segments added after the named ones (key: "<loop key>/<after id>",
    "" for the top level), so a later version's table is the earlier one plus what it introduced."""
    additions = additions or {}

    def grow(entries: tuple, where: str) -> tuple:
        out: list = []
        for entry in entries:
            if isinstance(entry, Loop):
                entry = Loop(grow(entry.entries, entry.key), hierarchy=entry.hierarchy)
            out.append(entry)
            out += flatten(additions.get(f"{where}/{entry.key}", ()))
        return tuple(out)

    return SetTable(base.set_id, version, base.title, base.functional_id, grow(base.entries, ""))
