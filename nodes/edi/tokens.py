"""X12 tokens: the text of a file (BOM, EBCDIC), the delimiters an ISA declares, and its segments as lists.

Each interchange carries its own delimiters in its ISA, so a file is cut into interchanges first and each
one is split with one str.split per level (segment, element, then component/repeat only where present):
that keeps reading at C speed, which is what bench/edi.py measures.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from nodes.edi.errors import EdiError

ISA_ELEMENTS = 17  # "ISA" and ISA01..ISA16
LINE_BREAKS = ("\n", "\r\n", "\r")
MAX_FAULTS = 100  # of one kind per interchange: enough to fix a file, and a bound on what a hostile one costs
EBCDIC_ISA = b"\xc9\xe2\xc1"  # "ISA" in code page 037
EBCDIC_SPACES = b"\x40\x15\x25\x0d"  # space, NL, LF, CR in code page 037


@dataclass(frozen=True)
class Delimiters:
    """The separators of one interchange. segment is a line break when segments end at CR/LF; repetition
    is None when ISA11 is not a separator (before 00402, or a letter such as U)."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None

    @property
    def line_mode(self) -> bool:
        return self.segment in LINE_BREAKS


def decode(data: bytes | str) -> tuple[str, str]:
    """The text of an interchange file and the encoding it was read with: a BOM is dropped, an EBCDIC
    (cp037) file is recognised by its ISA, UTF-8 is tried before Latin-1 (which never fails)."""
    if isinstance(data, str):
        return (data[1:] if data.startswith("\ufeff") else data), "text"
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.lstrip(EBCDIC_SPACES).startswith(EBCDIC_ISA):
        return data.decode("cp037"), "cp037"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def read_isa(text: str, start: int) -> tuple[list[str], Delimiters, int]:
    """The ISA at text[start:] as its 17 raw elements, the delimiters it declares, and the offset where its
    segment ends (just past the terminator). ISA fields are fixed width, but widths are not trusted: the
    component separator is whatever follows the 16th element separator, the terminator what follows it."""
    element = text[start + 3:start + 4]
    if not element or element.isalnum() or element.isspace():
        raise EdiError("isa_invalid", "the ISA has no element separator after 'ISA'", "ISA", 1, "ISA01")
    limit = start + 400  # an ISA is 106 characters; a runaway search would mean it is not an ISA
    at = start + 3
    for number in range(2, 17):
        at = text.find(element, at + 1, limit)
        if at < 0:
            raise EdiError("isa_invalid", f"the ISA ends before ISA{number:02d} (an ISA has 16 elements)",
                           "ISA", 1, f"ISA{number:02d}")
    component = text[at + 1:at + 2]
    terminator = text[at + 2:at + 3]
    if not component or not terminator:
        raise EdiError("isa_invalid", "the ISA ends before its component separator (ISA16) and terminator",
                       "ISA", 1, "ISA16")
    end = at + 3
    if terminator == "\r" and text[end:end + 1] == "\n":
        terminator, end = "\r\n", end + 1
    if terminator.isalnum() or terminator in (element, component):
        raise EdiError("isa_invalid", f"the segment terminator {terminator!r} after ISA16 is not a delimiter",
                       "ISA", 1, "ISA16", value=terminator)
    if component.isalnum() or component.isspace() or component == element:
        raise EdiError("isa_invalid", f"ISA16 {component!r} cannot be the component separator", "ISA", 1,
                       "ISA16", value=component)
    isa = text[start:at + 2].split(element)
    repetition = isa[11]
    if (isa[12] < "00402" or repetition.isalnum() or repetition.isspace() or not repetition
            or repetition in (element, component, terminator)):
        repetition = None
    return isa, Delimiters(element, component, terminator, repetition), end


def interchange_end(text: str, start: int, delimiters: Delimiters) -> tuple[int, int, bool]:
    """Where the interchange whose ISA starts at start ends: (end of its text, where the next text starts,
    whether an IEA closes it). It ends after its IEA segment, or before the next ISA when the IEA is missing."""
    element = delimiters.element
    terminator = delimiters.segment[-1]  # a CR/LF interchange is searched by its last character
    iea = _segment_start(text, "IEA" + element, start, len(text), terminator)
    isa = _segment_start(text, "ISA" + element, start + 3, iea if iea >= 0 else len(text), terminator)
    if isa >= 0:
        return isa, isa, False
    if iea < 0:
        return len(text), len(text), False
    end = text.find(terminator, iea)
    if end < 0:
        return len(text), len(text), True
    return end, end + len(terminator), True


def _segment_start(text: str, tag: str, start: int, stop: int, terminator: str) -> int:
    """The offset of the first tag ("IEA*") in text[start:stop] that begins a segment: only whitespace
    lies between it and the previous terminator. -1 when there is none."""
    at = text.find(tag, start, stop)
    while at >= 0:
        back = at - 1
        while back >= start and text[back] != terminator and text[back].isspace():
            back -= 1
        if back >= start and text[back] == terminator:
            return at
        at = text.find(tag, at + 1, stop)
    return -1


def split_segments(text: str, delimiters: Delimiters, before: int = 1) -> tuple[list[list], list[EdiError]]:
    """The segments of an interchange's text after its ISA, each a list of elements with the trailing empty
    ones dropped, and the faults found on the way (positions count the before segments, the ISA, first).
    Each step is one comprehension over all segments; the rare cases (composites, trailing empties, odd
    ids, line breaks inside a segment) are then fixed on the few segments that have them."""
    element, component, repetition = delimiters.element, delimiters.component, delimiters.repetition
    if delimiters.line_mode:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        terminator, broken = "\n", False
    else:
        terminator = delimiters.segment
        if "\n" in text or "\r" in text:  # the usual line break after each terminator goes in one C pass
            text = text.replace(terminator + "\r\n", terminator).replace(terminator + "\n", terminator)
            broken = "\n" in text or "\r" in text
        else:
            broken = False
    pieces = text.split(terminator)
    if text[:1].isspace() or re.search(re.escape(terminator) + r"\s", text):  # indented, or odd spacing
        pieces = [piece.lstrip() for piece in pieces]
    pieces = [piece for piece in pieces if piece]
    if not pieces:
        return [], []
    segments = [piece.split(element) for piece in pieces]
    problems: list[EdiError] = []
    for index in [index for index, piece in enumerate(pieces) if piece[-1] == element]:
        elements = segments[index]
        while len(elements) > 1 and not elements[-1]:
            elements.pop()
    known_ids = _KNOWN_IDS
    for index in [index for index, elements in enumerate(segments) if elements[0] not in known_ids]:
        sid = segments[index][0]
        if sid in known_ids:  # found valid earlier in this same interchange
            continue
        if _valid_id(sid):
            known_ids.add(sid)
            continue
        if len(problems) == MAX_FAULTS:
            break
        problems.append(EdiError("segment_id_invalid", f"segment {index + before + 1} has no valid segment id: "
                                 f"{sid[:20]!r}", sid[:3], index + before + 1, value=sid[:20]))
    if broken:
        for index in [index for index, piece in enumerate(pieces) if "\n" in piece or "\r" in piece][:MAX_FAULTS]:
            elements = segments[index]
            number = next(n for n, value in enumerate(elements) if "\n" in value or "\r" in value)
            problems.append(EdiError(
                "element_line_break", f"{elements[0]}{number:02d} at segment {index + before + 1} runs over a line "
                f"break: a segment terminator {delimiters.segment!r} is missing", elements[0], index + before + 1,
                f"{elements[0]}{number:02d}", value=elements[number]))
    if component in text:
        for index in [index for index, piece in enumerate(pieces) if component in piece]:
            elements = segments[index]  # the segment id stays text even when a separator got into it
            segments[index] = _trimmed(elements[:1] + [_value(value, component, repetition)
                                                       for value in elements[1:]])
    if repetition is not None and repetition in text:
        for index in [index for index, piece in enumerate(pieces) if repetition in piece]:
            elements = segments[index]
            segments[index] = _trimmed(elements[:1] + [value if not isinstance(value, str) else
                                                       _value(value, component, repetition)
                                                       for value in elements[1:]])
    return segments, problems


def _trimmed(elements: list) -> list:
    """Without the trailing elements that were only separators (">" or "^" alone is an empty element)."""
    while len(elements) > 1 and elements[-1] == "":
        elements.pop()
    return elements


_KNOWN_IDS: set[str] = set()  # segment ids already found valid, so the check costs one set lookup


def _valid_id(segment_id: str) -> bool:
    return (2 <= len(segment_id) <= 3 and segment_id.isascii() and segment_id.isalnum()
            and segment_id[0].isalpha() and segment_id.upper() == segment_id)


def _value(text: str, component: str, repetition: str | None):
    """One element: a string, a composite (list of components), or {"repeat": [...]} of either."""
    if repetition is not None and repetition in text:
        repeats = [_components(item, component) for item in text.split(repetition)]
        while repeats and repeats[-1] == "":
            repeats.pop()
        if len(repeats) > 1:
            return {"repeat": repeats}
        return repeats[0] if repeats else ""
    return _components(text, component)


def _components(text: str, component: str):
    if component not in text:
        return text
    parts = text.split(component)
    while parts and not parts[-1]:
        parts.pop()
    if len(parts) > 1:
        return parts
    return parts[0] if parts else ""
