"""Transaction-set bodies: the segments between ST and SE as a readable JSON body and back, losslessly.

A set with a table (nodes/edi/sets) becomes named elements by position (`{"BEG": {"BEG01": "00", ...}}`),
repeated segments as arrays and loops as arrays of iterations under `<trigger>_loop`; the 856 HL loop nests
by HL01/HL02. A segment the table does not expect where it stands (unknown, out of order, once too often)
is kept in its iteration's `extra` with its offset, so from_body(to_body(x)) == x for every input. Sets and
versions without a table keep the generic body {"segments": [...]}.
"""
from __future__ import annotations

import re
from typing import Any

from nodes.edi.sets import table_for
from nodes.edi.sets.table import Loop

MAX_ELEMENTS = 999      # element keys run BEG01..BEG999
MAX_DEPTH = 12          # nesting of loops and HL levels a body may carry
_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}")


class BodyError(ValueError):
    """A body from_body cannot turn into segments; `path` names the offending place (`PO1_loop[2].PID`)."""

    def __init__(self, message: str, path: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


def to_body(set_id: str, version: str, segments: list[list]) -> dict[str, Any]:
    """The JSON body for the segments of one transaction set (ST and SE excluded)."""
    table = table_for(set_id, version)
    if table is None:
        return {"segments": [list(segment) for segment in segments]}
    root = Loop(table.entries)
    body, _ = _read(root, segments, 0, [], is_root=True)
    return body


def from_body(set_id: str, version: str, body: dict[str, Any]) -> list[list]:
    """The segments (ST and SE excluded) a body stands for; BodyError names what does not fit."""
    if not isinstance(body, dict):
        raise BodyError("a body must be a JSON object", "body")
    if "segments" in body:
        return _generic(body)
    # a structured body read under another version (or none) still writes with its set's table
    table = table_for(set_id, version) or table_for(set_id, "004010")
    if table is None:
        raise BodyError(f"no table for set {set_id!r}: its body must be {{\"segments\": [...]}}", "body")
    return _write(Loop(table.entries), body, "", 0, is_root=True)


# --- segments -> body -------------------------------------------------------------------------------

def _read(loop: Loop, segments: list, start: int, outer: list, is_root: bool = False) -> tuple[dict, int]:
    """One iteration of `loop` from segments[start:] (the root reads them all); returns it and where it ended.
    `outer` holds the enclosing frames (loop, position) so a segment a parent expects ends this iteration."""
    out: dict[str, Any] = {}
    entries = loop.entries
    pos, i = 0, start
    if not is_root:  # the trigger, which the caller matched
        out[entries[0].key] = _elements(segments[i])
        pos, i = 1, i + 1
    hierarchy: Loop | None = None
    while i < len(segments):
        segment = segments[i]
        sid = _segment_id(segment)
        j = _match(entries, pos, sid, out)
        if j is None:
            if not is_root and any(_match(e.entries, p, sid, None) is not None for e, p in outer):
                break
            out.setdefault("extra", []).append({"at": i - start, "segment": _copy(segment)})
            i += 1
            continue
        entry, pos = entries[j], j
        if isinstance(entry, Loop):
            iteration, i = _read(entry, segments, i, [*outer, (loop, pos)])
            out.setdefault(entry.key, []).append(iteration)
            if entry.hierarchy:
                hierarchy = entry
        elif entry.repeat:
            out.setdefault(entry.key, []).append(_elements(segment))
            i += 1
        else:
            out[entry.key] = _elements(segment)
            i += 1
    if hierarchy is not None:
        out[hierarchy.key] = _nest(out[hierarchy.key])
    return out, i


def _match(entries: tuple, pos: int, sid: str | None, filled: dict | None) -> int | None:
    """The first entry at or after `pos` that takes segment `sid` (a one-time segment only while empty).
    With filled=None (an enclosing frame asking) a one-time segment at `pos` counts as taken."""
    if sid is None:
        return None
    for j in range(pos, len(entries)):
        entry = entries[j]
        if isinstance(entry, Loop):
            if entry.trigger == sid:
                return j
        elif entry.id == sid:
            if entry.repeat or (filled is not None and entry.key not in filled):
                return j
            if filled is None and j > pos:
                return j
    return None


def _nest(iterations: list[dict]) -> list[dict]:
    """HL iterations as a tree: each goes under the open ancestor its HL02 names, else to the top level.
    Only the open path is a candidate, so reading the tree depth-first gives the original order back."""
    top: list[dict] = []
    path: list[tuple[str, dict]] = []
    for iteration in iterations:
        hl = iteration.get("HL", {})
        parent = hl.get("HL02")
        while path and path[-1][0] != parent:
            path.pop()
        if path and parent not in (None, "") and len(path) < MAX_DEPTH:
            path[-1][1].setdefault("HL_loop", []).append(iteration)
        else:
            top.append(iteration)
            path = []
        path.append((hl.get("HL01"), iteration))
    return top


def _segment_id(segment: Any) -> str | None:
    if isinstance(segment, list) and segment and isinstance(segment[0], str) and _SEGMENT_ID.fullmatch(segment[0]):
        return segment[0]
    return None


def _elements(segment: list) -> dict[str, Any]:
    """Named elements by position; empty ones are left out except the last (so the length survives)."""
    sid, values = segment[0], segment[1:]
    return {f"{sid}{n:02d}": _copy(value) for n, value in enumerate(values, 1)
            if value != "" or n == len(values)}


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


# --- body -> segments -------------------------------------------------------------------------------

def _write(loop: Loop, body: Any, path: str, depth: int, is_root: bool = False) -> list[list]:
    if not isinstance(body, dict):
        raise BodyError("a loop iteration must be a JSON object", path)
    if depth > MAX_DEPTH:
        raise BodyError(f"nested deeper than {MAX_DEPTH} levels", path)
    entries = loop.entries
    known = {entry.key: entry for entry in entries}
    allowed = set(known) | {"extra"} | ({"HL_loop"} if loop.hierarchy else set())
    for key in body:
        if key not in allowed:
            raise BodyError(f"'{key}' is not a segment or loop of this place; unknown segments go in 'extra' "
                            f"as {{\"at\": <offset>, \"segment\": [...]}}", _join(path, key))
    if not is_root and entries[0].key not in body:
        raise BodyError(f"a {loop.key} iteration needs its {loop.trigger} segment", path)
    out: list[list] = []
    for entry in entries:
        if entry.key not in body:
            continue
        value, here = body[entry.key], _join(path, entry.key)
        if isinstance(entry, Loop):
            for n, iteration in enumerate(_array(value, here)):
                out += _write(entry, iteration, f"{here}[{n}]", depth + 1)
        elif entry.repeat:
            out += [_segment(entry.id, v, f"{here}[{n}]") for n, v in enumerate(_array(value, here))]
        else:
            out.append(_segment(entry.id, value, here))
    for extra in sorted(_extras(body.get("extra"), _join(path, "extra")), key=lambda e: e[0]):
        out.insert(extra[0], extra[1])
    if loop.hierarchy and "HL_loop" in body:
        here = _join(path, "HL_loop")
        for n, child in enumerate(_array(body["HL_loop"], here)):
            out += _write(loop, child, f"{here}[{n}]", depth + 1)
    return out


def _segment(sid: str, elements: Any, path: str) -> list:
    if not isinstance(elements, dict):
        raise BodyError(f"a {sid} segment must be an object of its elements ({sid}01, {sid}02, ...)", path)
    values: dict[int, Any] = {}
    for key, value in elements.items():
        number = key[len(sid):] if isinstance(key, str) and key.startswith(sid) else ""
        if not number.isdigit() or not 1 <= int(number) <= MAX_ELEMENTS or key != f"{sid}{int(number):02d}":
            raise BodyError(f"'{key}' is not an element of {sid} ({sid}01 to {sid}{MAX_ELEMENTS})", path)
        values[int(number)] = _element(value, _join(path, key))
    segment = [sid] + [""] * (max(values, default=0))
    for number, value in values.items():
        segment[number] = value
    return segment


def _element(value: Any, path: str) -> Any:
    """An element value: text, a composite (list of text) or a repetition ({"repeat": [...]})."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and set(value) == {"repeat"} and isinstance(value["repeat"], list):
        return {"repeat": [_element(v, f"{path}.repeat[{n}]") for n, v in enumerate(value["repeat"])]}
    raise BodyError("an element is text, a list of components or {\"repeat\": [...]}", path)


def _extras(value: Any, path: str) -> list[tuple[int, list]]:
    if value is None:
        return []
    out = []
    for n, extra in enumerate(_array(value, path)):
        here = f"{path}[{n}]"
        if not isinstance(extra, dict) or not isinstance(extra.get("at"), int) or extra["at"] < 0 \
                or not isinstance(extra.get("segment"), list):
            raise BodyError("an extra segment is {\"at\": <offset in its iteration>, \"segment\": [id, ...]}", here)
        out.append((extra["at"], _raw(extra["segment"], here)))
    return out


def _generic(body: dict) -> list[list]:
    segments = body.get("segments")
    return [_raw(segment, f"segments[{n}]") for n, segment in enumerate(_array(segments, "segments"))]


def _raw(segment: Any, path: str) -> list:
    if not isinstance(segment, list) or not segment or not isinstance(segment[0], str):
        raise BodyError("a segment is a list whose first item is its id", path)
    return [segment[0]] + [_element(v, f"{path}[{n}]") for n, v in enumerate(segment[1:], 1)]


def _array(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise BodyError("expected an array", path)
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
