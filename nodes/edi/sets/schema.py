"""The JSON Schema of each set's body, derived from its table (the 005010 one, which holds the 004010 one)
and the segment names. The documents are kept in flows/x12/<set>.json as data; tests check they match:
regenerate them with `python -m nodes.edi.sets.schema flows/x12`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from nodes.edi.sets import TABLES
from nodes.edi.sets.segments import SEGMENTS
from nodes.edi.sets.table import Loop, SetTable

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_VERSION = 1
TEXT = {"type": "string"}
COMPOSITE = {"type": "array", "items": TEXT, "description": "a composite element: its components in order"}
ELEMENT = {"anyOf": [TEXT, COMPOSITE, {
    "type": "object", "description": "a repeated element (005010 repetition separator)",
    "properties": {"repeat": {"type": "array", "items": {"anyOf": [TEXT, COMPOSITE]}}},
    "required": ["repeat"], "additionalProperties": False}]}
EXTRA = {
    "type": "array",
    "description": "segments the table does not expect where they stand (unknown, out of order, once too often), "
                   "each with its offset among the segments of this iteration, so the body writes back unchanged",
    "items": {"type": "object", "required": ["at", "segment"], "additionalProperties": False, "properties": {
        "at": {"type": "integer", "minimum": 0},
        "segment": {"type": "array", "minItems": 1, "prefixItems": [TEXT], "items": {"$ref": "#/$defs/element"},
                    "description": "the segment as read: its id, then its elements"}}}}
GENERIC = {
    "$schema": DIALECT, "$id": f"crossdock.x12.generic/{SCHEMA_VERSION}", "title": "X12 generic body",
    "description": "The body of a set or version without a table: its segments between ST and SE, as read.",
    "type": "object", "required": ["segments"], "additionalProperties": False,
    "properties": {"segments": {"type": "array", "items": {
        "type": "array", "minItems": 1, "prefixItems": [TEXT], "items": {"$ref": "#/$defs/element"}}}},
    "$defs": {"element": ELEMENT},
}


def set_ids() -> list[str]:
    return sorted({set_id for set_id, _ in TABLES})


def json_schema(set_id: str) -> dict:
    """The JSON Schema document of a set's structured body."""
    table: SetTable = TABLES[(set_id, "005010")]
    defs: dict = {"element": ELEMENT, "extra": EXTRA}
    root = _iteration(table.entries, "", defs, hierarchy=None, is_root=True)
    return {
        "$schema": DIALECT, "$id": f"crossdock.x12.{set_id}/{SCHEMA_VERSION}",
        "title": f"X12 {set_id} {table.title} body", "version": SCHEMA_VERSION,
        "description": f"The body of an X12 {set_id} ({table.title}, functional group {table.functional_id}) "
                       "between ST and SE in 004010 and 005010: named elements by position, repeated segments "
                       "and loops as arrays. See docs/edi.md.",
        **root, "$defs": dict(sorted(defs.items())),
    }


def documents() -> dict[str, dict]:
    """File name -> schema document, for every set plus the generic body."""
    return {**{f"{set_id}.json": json_schema(set_id) for set_id in set_ids()}, "generic.json": GENERIC}


def _iteration(entries: tuple, path: str, defs: dict, hierarchy: str | None, is_root: bool = False) -> dict:
    properties: dict = {}
    for entry in entries:
        if isinstance(entry, Loop):
            name = f"{path}.{entry.key}" if path else entry.key
            defs[name] = {"title": f"{entry.trigger} loop iteration",
                          **_iteration(entry.entries, name, defs, name if entry.hierarchy else None)}
            properties[entry.key] = {"type": "array", "items": {"$ref": f"#/$defs/{name}"}}
        else:
            _segment(entry.id, defs)
            ref = {"$ref": f"#/$defs/{entry.id}"}
            properties[entry.key] = {"type": "array", "items": ref} if entry.repeat else ref
    if hierarchy:
        properties["HL_loop"] = {"type": "array", "items": {"$ref": f"#/$defs/{hierarchy}"},
                                 "description": "the levels below this one (HL02 naming this HL01)"}
    properties["extra"] = {"$ref": "#/$defs/extra"}
    out: dict = {"type": "object", "properties": properties, "additionalProperties": False}
    if not is_root:
        out["required"] = [entries[0].key]
    return out


def _segment(segment_id: str, defs: dict) -> None:
    if segment_id in defs:
        return
    title, names = SEGMENTS.get(segment_id, ("", ()))
    properties = {f"{segment_id}{n:02d}": {"$ref": "#/$defs/element", "title": name}
                  for n, name in enumerate(names, 1)}
    defs[segment_id] = {
        "title": f"{segment_id}: {title}" if title else segment_id, "type": "object", "properties": properties,
        "patternProperties": {f"^{segment_id}(0[1-9]|[1-9][0-9]{{1,2}})$": {"$ref": "#/$defs/element"}},
        "additionalProperties": False}


def outline(set_id: str) -> str:
    """The body's keys in table order, for docs/edi.md: `[]` marks arrays; a loop's members follow it, indented."""
    return "\n".join(_outline(TABLES[(set_id, "005010")].entries, "", None))


def _outline(entries: tuple, indent: str, header: str | None) -> list[str]:
    lines: list[str] = []
    run: list[str] = [header] if header else []
    inner = indent + "  " if header else indent
    for entry in entries:
        if isinstance(entry, Loop):
            if run:
                lines.append((indent if header and not lines else inner) + " ".join(run))
                run = []
            lines += _outline(entry.entries, inner, f"{entry.key}[]:")
            if entry.hierarchy:
                lines.append(f"{inner}  HL_loop[]: (the levels below, same shape)")
        else:
            run.append(entry.key + ("[]" if entry.repeat else ""))
    if run:
        lines.append((indent if header and not lines else inner) + " ".join(run))
    return lines


def render(document: dict) -> str:
    """Indented JSON with short objects and arrays on one line, so a segment's element reads as one line."""
    return _render(document, "") + "\n"


def _render(value, indent: str) -> str:
    flat = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or len(flat) + len(indent) <= 110 or not value:
        return flat
    inner = indent + " "
    if isinstance(value, list):
        return "[\n" + ",\n".join(inner + _render(v, inner) for v in value) + "\n" + indent + "]"
    items = (f"{inner}{json.dumps(k)}: {_render(v, inner)}" for k, v in value.items())
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "flows/x12")
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (folder / name).write_text(render(document), encoding="utf-8")
