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

from nodes.edi.sets import TABLES, table_version
from nodes.edi.sets.table import Loop

MAX_ELEMENTS = 999      # element keys run BEG01..BEG999
MAX_DEPTH = 12          # nesting of loops and HL levels a body may carry
MAX_LEVELS = 8          # HL levels to_body nests (S O T P I is 5); loops inside them stay within MAX_DEPTH
_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}")
_NUMBERS = [f"{n:02d}" for n in range(MAX_ELEMENTS + 1)]
_IDS: dict[str, bool] = {}         # the segment ids seen that a table may place
_NAMES: dict[str, list[str]] = {}  # segment id -> its element keys, [BEG01, BEG02, ...]
_POSITIONS: dict[str, dict[str, int]] = {}  # segment id -> {BEG01: 1, BEG02: 2, ...}
ONCE, REPEAT, LOOP = 0, 1, 2


class BodyError(ValueError):
    """A body from_body cannot turn into segments; `path` names the offending place (`PO1_loop[2].PID`)."""

    def __init__(self, message: str, path: str):
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class _Plan:
    """A loop compiled for speed: its entries as (key, segment id, kind, child plan) and, per segment id,
    the entry positions that take it."""

    def __init__(self, loop: Loop):
        self.entries = [(e.key, e.trigger, LOOP, _Plan(e)) if isinstance(e, Loop)
                        else (e.key, e.id, REPEAT if e.repeat else ONCE, None) for e in loop.entries]
        self.by_id: dict[str, list[int]] = {}
        for j, (_, sid, _, _) in enumerate(self.entries):
            self.by_id.setdefault(sid, []).append(j)
        self.hierarchy = loop.hierarchy
        self.nested = next((e[0] for e in self.entries if e[2] == LOOP and e[3].hierarchy), None)
        self.key = loop.key
        self.trigger = self.entries[0][1]
        self.index = {e[0]: j for j, e in enumerate(self.entries)}

    def match(self, pos: int, sid: str, filled: dict | None) -> int | None:
        """The first entry at or after `pos` that takes segment `sid` (a once-only segment only while empty).
        With filled=None (an enclosing iteration asking) a once-only segment at `pos` counts as taken."""
        for j in self.by_id.get(sid, ()):
            if j < pos:
                continue
            kind = self.entries[j][2]
            if kind != ONCE or (self.entries[j][0] not in filled if filled is not None else j > pos):
                return j
        return None


_PLANS = {key: _Plan(Loop(table.entries)) for key, table in TABLES.items()}


def _plan_for(set_id: str, version: str) -> _Plan | None:
    resolved = table_version(version)
    return _PLANS.get((set_id, resolved)) if resolved else None


def to_body(set_id: str, version: str, segments: list[list]) -> dict[str, Any]:
    """The JSON body for the segments of one transaction set (ST and SE excluded)."""
    plan = _plan_for(set_id, version)
    if plan is None:
        return {"segments": [_copy(segment) for segment in segments]}
    body, _ = _read(plan, segments, 0, [], is_root=True)
    return body


def from_body(set_id: str, version: str, body: dict[str, Any]) -> list[list]:
    """The segments (ST and SE excluded) a body stands for; BodyError names what does not fit."""
    if not isinstance(body, dict):
        raise BodyError("a body must be a JSON object", "body")
    if "segments" in body:
        return _generic(body)
    # a structured body read under another version (or none) still writes with its set's table
    plan = _plan_for(set_id, version) or _PLANS.get((set_id, "004010"))
    if plan is None:
        raise BodyError(f"no table for set {set_id!r}: its body must be {{\"segments\": [...]}}", "body")
    out: list[list] = []
    _write(plan, body, "", 0, out, is_root=True)
    return out


# --- segments -> body -------------------------------------------------------------------------------

def _read(plan: _Plan, segments: list, start: int, outer: list, is_root: bool = False) -> tuple[dict, int]:
    """One iteration of `plan` from segments[start:] (the root reads them all); returns it and where it ended.
    `outer` holds the enclosing iterations (plan, position) so a segment a parent expects ends this one."""
    out: dict[str, Any] = {}
    entries, by_id, end = plan.entries, plan.by_id, len(segments)
    pos, i = 0, start
    if not is_root:  # the trigger, which the caller matched
        out[entries[0][0]] = _elements(segments[i])
        pos, i = 1, i + 1
    frames = [*outer, (plan, 0)]
    while i < end:
        segment = segments[i]
        sid = segment[0] if segment.__class__ is list and 0 < len(segment) <= MAX_ELEMENTS + 1 else None
        if sid.__class__ is not str or not _IDS.get(sid):  # _segment_id, inlined for the ids seen before
            sid = _segment_id(segment)
        j = None
        for candidate in by_id.get(sid, ()):  # plan.match, inlined: this loop runs once per segment
            if candidate >= pos and (entries[candidate][2] != ONCE or entries[candidate][0] not in out):
                j = candidate
                break
        if j is None:
            if sid is not None and not is_root and any(p.match(at, sid, None) is not None for p, at in outer):
                break
            out.setdefault("extra", []).append({"at": i - start, "segment": _copy(segment)})
            i += 1
            continue
        key, _, kind, child = entries[j]
        pos = j
        if kind == LOOP:
            frames[-1] = (plan, pos)
            iteration, i = _read(child, segments, i, frames)
            out.setdefault(key, []).append(iteration)
        else:
            if kind == REPEAT:
                out.setdefault(key, []).append(_elements(segment))
            else:
                out[key] = _elements(segment)
            i += 1
    if plan.nested and plan.nested in out:
        out[plan.nested] = _nest(out[plan.nested])
    return out, i


def _nest(iterations: list[dict]) -> list[dict]:
    """HL iterations as a tree: each goes under the open ancestor its HL02 names, else to the top level.
    Only the open path is a candidate, so reading the tree depth-first gives the original order back."""
    top: list[dict] = []
    path: list[tuple[Any, dict]] = []
    for iteration in iterations:
        hl = iteration.get("HL", {})
        parent = hl.get("HL02")
        while path and path[-1][0] != parent:
            path.pop()
        if path and parent not in (None, "") and len(path) < MAX_LEVELS:
            path[-1][1].setdefault("HL_loop", []).append(iteration)
        else:
            top.append(iteration)
            path = []
        path.append((hl.get("HL01"), iteration))
    return top


def _segment_id(segment: Any) -> str | None:
    """The id of a segment a table can place; None for one that goes to extra as it is (no list, an odd id,
    more elements than keys can name)."""
    if segment.__class__ is not list or not segment or len(segment) > MAX_ELEMENTS + 1:
        return None
    sid = segment[0]
    if sid.__class__ is not str:
        return None
    if sid in _IDS:
        return sid
    if _SEGMENT_ID.fullmatch(sid):  # only ids that match are kept: at most 36**2 + 36**3 of them
        _IDS[sid] = True
        return sid
    return None


def _elements(segment: list) -> dict[str, Any]:
    """Named elements by position; empty ones are left out except the last (so the length survives).
    Composite lists are shared with `segment`, not copied: this runs once per segment read."""
    sid = segment[0]
    names = _NAMES.get(sid)
    if names is None or len(names) < len(segment):
        names = _NAMES[sid] = [sid + number for number in _NUMBERS[1:max(len(segment), 24) + 1]]
    out = {name: value for name, value in zip(names, segment[1:]) if value != ""}
    if segment[-1] == "" and len(segment) > 1:
        out[names[len(segment) - 2]] = ""
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


# --- body -> segments -------------------------------------------------------------------------------

def _write(plan: _Plan, body: Any, path: str, depth: int, out: list, is_root: bool = False) -> None:
    """Append the segments of one iteration (the root: the whole body) to `out`."""
    if not isinstance(body, dict):  # subclasses too: a JSONata result holds its own list and dict types
        raise BodyError("a loop iteration must be a JSON object", path)
    if depth > MAX_DEPTH:
        raise BodyError(f"nested deeper than {MAX_DEPTH} levels", path)
    places = []  # the entries the body holds, in table order
    for key in body:
        j = plan.index.get(key)
        if j is not None:
            places.append(j)
        elif key != "extra" and (key != "HL_loop" or not plan.hierarchy):
            raise BodyError(f"'{key}' is not a segment or loop of this place; unknown segments go in 'extra' "
                            f"as {{\"at\": <offset>, \"segment\": [...]}}", _join(path, key))
    if not is_root and 0 not in places:
        raise BodyError(f"a {plan.key} iteration needs its {plan.trigger} segment", path)
    places.sort()
    start = len(out)
    for j in places:
        key, sid, kind, child = plan.entries[j]
        value = body[key]
        if value is None:
            continue
        if kind == ONCE:
            out.append(_segment(sid, value, path, key, None))
        elif not isinstance(value, list):
            raise BodyError("expected an array", _join(path, key))
        elif kind == REPEAT:
            out.extend(_segment(sid, v, path, key, n) for n, v in enumerate(value))
        else:
            for n, iteration in enumerate(value):
                _write(child, iteration, f"{_join(path, key)}[{n}]", depth + 1, out)
    if "extra" in body:
        for at, segment in sorted(_extras(body["extra"], _join(path, "extra")), key=lambda e: e[0]):
            out.insert(start + at, segment)
    if plan.hierarchy and "HL_loop" in body:
        here = _join(path, "HL_loop")
        for n, child in enumerate(_array(body["HL_loop"], here)):
            _write(plan, child, f"{here}[{n}]", depth + 1, out)


def _segment(sid: str, elements: Any, path: str, key: str, n: int | None) -> list:
    if not isinstance(elements, dict):
        raise BodyError(f"a {sid} segment must be an object of its elements ({sid}01, {sid}02, ...)",
                        _where(path, key, n))
    positions = _POSITIONS.get(sid)
    if positions is None:  # one map per table segment id, so bounded
        positions = _POSITIONS[sid] = {sid + number: at for at, number in enumerate(_NUMBERS) if at}
    values, top = [], 0
    for name, value in elements.items():
        number = positions.get(name)
        if number is None:
            raise BodyError(f"'{name}' is not an element of {sid} ({sid}01 to {sid}{MAX_ELEMENTS})",
                            _where(path, key, n))
        if value.__class__ is not str:
            value = _element(value, _join(_where(path, key, n), name))
        values.append((number, value))
        if number > top:
            top = number
    segment = [sid] + [""] * top
    for number, value in values:
        segment[number] = value
    return segment


def _element(value: Any, path: str, repeat: bool = True) -> Any:
    """An element value: text, a composite (list of text) or a repetition ({"repeat": [...]}) of those."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if repeat and isinstance(value, dict) and set(value) == {"repeat"} and isinstance(value["repeat"], list):
        return {"repeat": [_element(v, f"{path}.repeat[{n}]", False) for n, v in enumerate(value["repeat"])]}
    raise BodyError("an element is text, a list of components or {\"repeat\": [text or components, ...]}", path)


def _extras(value: Any, path: str) -> list[tuple[int, list]]:
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
    return [segment[0]] + [v if v.__class__ is str else _element(v, f"{path}[{n}]")
                           for n, v in enumerate(segment[1:], 1)]


def _array(value: Any, path: str) -> list:
    if not isinstance(value, list):
        raise BodyError("expected an array", path)
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _where(path: str, key: str, n: int | None) -> str:
    here = _join(path, key)
    return here if n is None else f"{here}[{n}]"
