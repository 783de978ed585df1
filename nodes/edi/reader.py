"""Reading X12: a file (bytes or text) -> its interchanges, every fault collected as an EdiError, never raised.

A file may hold several interchanges, each with its own delimiters; what cannot be read at all (no ISA,
a broken ISA, text after the last IEA) is an error of the reading, so no input makes the reader crash.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field

from nodes.edi import envelope
from nodes.edi.envelope import Group, Interchange, TransactionSet
from nodes.edi.errors import EdiError
from nodes.edi.tokens import decode, interchange_end, read_isa, split_segments

MAX_BYTES = 64 * 1024 * 1024  # what one read accepts; a node bounds its messages further


@dataclass(eq=False)
class Reading:
    interchanges: list[Interchange] = field(default_factory=list)
    errors: list[EdiError] = field(default_factory=list)  # faults outside any interchange
    warnings: list[EdiError] = field(default_factory=list)  # accepted, but worth a look (duplicates)
    encoding: str = "text"

    def all_errors(self) -> list[EdiError]:
        """Every fault in file order: each interchange's by position, then what stopped the reading."""
        found: list[EdiError] = []
        for interchange in self.interchanges:
            mine = list(interchange.errors)
            for group in interchange.groups:
                mine.extend(group.errors)
                for tset in group.sets:
                    mine.extend(tset.errors)
            found.extend(sorted(mine, key=lambda error: error.position or 0))
        return found + self.errors

    def groups(self) -> list[Group]:
        return [group for interchange in self.interchanges for group in interchange.groups]

    def sets(self) -> list[tuple[Interchange, Group, TransactionSet]]:
        return [(interchange, group, tset) for interchange in self.interchanges
                for group in interchange.groups for tset in group.sets]


def accepted(interchange: Interchange, group: Group, tset: TransactionSet) -> bool:
    """A set is accepted when neither it nor its group nor its interchange has a fault."""
    return not (tset.errors or group.errors or interchange.errors)


@contextmanager
def paused_gc():
    """The cyclic garbage collector paused: a large interchange is millions of small acyclic lists, and
    collecting while they are built took half of the reading time. Restored as it was, even on error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read(data: bytes | str, max_bytes: int = MAX_BYTES) -> Reading:
    """Every interchange in data. Faults are collected on the envelope they belong to; nothing is raised."""
    with paused_gc():
        return _read(data, max_bytes)


def _read(data: bytes | str, max_bytes: int) -> Reading:
    reading = Reading()
    if len(data) > max_bytes:
        reading.errors.append(EdiError("too_large", f"the interchange is {len(data)} bytes; at most {max_bytes} "
                                       "are read", "ISA", 1))
        return reading
    text, reading.encoding = decode(data)
    start = _skip_space(text, 0)
    if start >= len(text) or not text.startswith("ISA", start):
        what = "the input is empty" if start >= len(text) else f"it starts with {text[start:start + 20]!r}"
        reading.errors.append(EdiError("isa_missing", f"no ISA: {what}", "ISA", 1))
        return reading
    seen: set[tuple[str, str, str]] = set()
    while start < len(text):
        try:
            isa, delimiters, isa_end = read_isa(text, start)
        except EdiError as error:
            error.message = f"interchange {len(reading.interchanges) + 1}: {error.message}"
            reading.errors.append(error)
            return reading
        end, after, _ = interchange_end(text, start, delimiters)
        segments, problems = split_segments(text[isa_end:end], delimiters)
        segments.insert(0, isa)  # split by read_isa: it holds the separators themselves as ISA11 and ISA16
        interchange = envelope.build(segments, delimiters, problems)
        reading.interchanges.append(interchange)
        reading.warnings.extend(interchange.warnings)
        header = interchange.header
        key = (header["sender_id"], header["receiver_id"], header["control_number"])
        if key in seen:
            reading.warnings.append(EdiError(
                "interchange_duplicate", f"interchange {key[2]} from {key[0]} to {key[1]} appears twice in the file",
                "ISA", 1, "ISA13", interchange=key[2], value=key[2]))
        seen.add(key)
        start = _skip_space(text, after)
        if start < len(text) and not text.startswith("ISA", start):
            reading.errors.append(EdiError(
                "trailing_data", f"text after the IEA of interchange {key[2]}: {text[start:start + 20]!r}",
                text[start:start + 3], interchange.segment_count + 1, interchange=key[2]))
            break
    return reading


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and (text[at].isspace() or text[at] in "\x00\x15\x1a"):
        at += 1  # blank lines, an EBCDIC NL carried into ASCII, NUL padding and a DOS end-of-file mark
    return at
