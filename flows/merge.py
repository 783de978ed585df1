"""The three-way merge of a template upgrade: what changed from the template version a flow was installed from
(base) to the new version (theirs), applied over the customer's copy (ours) per node config field, per mapping
target field where both mappings are JSONata objects, per flow setting, parameter and sample, and per lookup-table
row. Where both sides changed one thing differently it is a conflict, named by a path (`nodes.to_erp.config.url`,
`lookups.sku_xref.rows.A-1`), which a person resolves as "ours" or "theirs"; until then it holds our value and
nothing may be written. Mappings are read with the `parse` the caller passes in (nodes/expression_tree.py); without
it a mapping both sides changed is one conflict. Pure: no IO."""
from __future__ import annotations

import json
from typing import Any

from flows.diff import MAPPING_BODY, MAPPING_CONFIG, _shown
from flows.target_fields import Parse, top_level

class _Absent:  # a key one side does not have, distinct from JSON null
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()
RESOLUTIONS = ("ours", "theirs")


class _Merge:
    def __init__(self, resolutions: dict[str, str], parse: Parse | None):
        self.resolutions, self.parse = resolutions, parse
        self.conflicts: list[dict] = []
        self.changes: list[dict] = []

    def pick(self, path: str, base: Any, ours: Any, theirs: Any, where: dict) -> Any:
        if ours == theirs or theirs == base:
            return ours
        if ours == base:
            self.changes.append({"id": path, **where, "before": _out(base), "after": _out(theirs)})
            return theirs
        return self.conflict(path, base, ours, theirs, where)

    def conflict(self, path: str, base: Any, ours: Any, theirs: Any, where: dict) -> Any:
        chosen = self.resolutions.get(path)
        self.conflicts.append({"id": path, **where, "base": _out(base), "ours": _out(ours), "theirs": _out(theirs),
                               "resolution": chosen})
        return theirs if chosen == "theirs" else ours


def merge(base: dict, ours: dict, theirs: dict, base_lookups: dict, our_lookups: dict, their_lookups: dict,
          resolutions: dict[str, str] | None = None, parse: Parse | None = None) -> dict:
    """{"document": the merged flow, "lookups": {table: rows} of the tables that change, "changes": what of
    theirs was applied, "conflicts": each with base, ours, theirs and its `resolution` (None: unresolved)}."""
    m = _Merge(resolutions or {}, parse)
    doc: dict = {}
    for key in _keys(ours, theirs, base):
        if key in ("nodes", "edges"):
            continue
        b, o, t = (d.get(key, ABSENT) for d in (base, ours, theirs))
        if key in ("params", "samples", "settings") and all(isinstance(v, (dict, _Absent)) for v in (b, o, t)):
            value = _merge_dict(m, f"flow.{key}", b, o, t, {"field": key})
        else:
            value = m.pick(f"flow.{key}", b, o, t, {"field": key})
        if value is not ABSENT:
            doc[key] = value
    doc["nodes"] = _merge_nodes(m, _by_id(base), _by_id(ours), _by_id(theirs))
    doc["edges"] = _merge_edges(base, ours, theirs, {n["id"] for n in doc["nodes"]})
    tables = {}
    for table in _keys(their_lookups, base_lookups):
        b, o, t = (_rows(d.get(table)) for d in (base_lookups, our_lookups, their_lookups))
        rows = {}
        for key in _keys(o, t, b):
            value = m.pick(f"lookups.{table}.rows.{key}", b.get(key, ABSENT), o.get(key, ABSENT),
                           t.get(key, ABSENT), {"table": table, "key": key})
            if value is not ABSENT:
                rows[key] = value
        if rows != o:
            tables[table] = rows
    return {"document": doc, "lookups": tables, "changes": m.changes, "conflicts": m.conflicts}


def _merge_nodes(m: _Merge, base: dict, ours: dict, theirs: dict) -> list[dict]:
    out = []
    for nid in _keys(ours, theirs, base):
        b, o, t = (d.get(nid, ABSENT) for d in (base, ours, theirs))
        where = {"node": nid}
        if o is ABSENT or t is ABSENT or b is ABSENT:  # added or removed on a side: the node as a whole
            node = m.pick(f"nodes.{nid}", b, o, t, where)
        else:
            node = {}
            for key in _keys(o, t, b):
                if key == "config":
                    value = _merge_config(m, nid, o.get("type"), _obj(b.get(key)), _obj(o.get(key)),
                                          _obj(t.get(key)))
                else:
                    value = m.pick(f"nodes.{nid}.{key}", b.get(key, ABSENT), o.get(key, ABSENT), t.get(key, ABSENT),
                                   {**where, "field": key})
                if value is not ABSENT:
                    node[key] = value
        if node is not ABSENT:
            out.append(node)
    return out


def _merge_config(m: _Merge, nid: str, node_type: Any, base: dict, ours: dict, theirs: dict) -> dict:
    mapped = MAPPING_CONFIG.get(node_type, MAPPING_BODY if str(node_type).startswith("connector.") else None)
    out = {}
    for key in _keys(ours, theirs, base):
        b, o, t = (d.get(key, ABSENT) for d in (base, ours, theirs))
        path, where = f"nodes.{nid}.config.{key}", {"node": nid, "field": f"config.{key}"}
        if key == mapped and len({json.dumps(v, sort_keys=True) for v in (b, o, t) if v is not ABSENT}) == 3:
            value = _merge_mapping(m, path, b, o, t, where)
        else:
            value = m.pick(path, b, o, t, where)
        if value is not ABSENT:
            out[key] = value
    return out


def _merge_mapping(m: _Merge, path: str, base: str, ours: str, theirs: str, where: dict) -> Any:
    """Both sides edited a mapping: merged per top-level target field, the text of ours kept and theirs'
    changed fields spliced in; when a side is no JSONata object, or the splice does not read back as planned,
    the whole expression is one conflict."""
    sides = [top_level(x, m.parse) for x in (base, ours, theirs)] if m.parse is not None else [None]
    if any(s is None for s in sides):
        return m.conflict(path, base, ours, theirs, where)
    (fb, _), (fo, close), (ft, _) = sides
    texts = [{f.key: " ".join(x[f.value_start:f.value_end].split()) for f in fs}
             for x, fs in ((base, fb), (ours, fo), (theirs, ft))]
    raw_theirs = {f.key: theirs[f.value_start:f.value_end] for f in ft}
    before = len(m.conflicts), len(m.changes)
    wanted: dict[str, Any] = {}
    for key in _keys(texts[1], texts[2], texts[0]):
        target = {**where, "target": key}
        wanted[key] = m.pick(f"{path}.{key}", *(t.get(key, ABSENT) for t in texts), target)
    # the splice, from the end backwards so earlier offsets hold
    edits: list[tuple[int, int, str]] = []
    for i, f in enumerate(fo):
        value = wanted[f.key]
        if value is ABSENT:
            start, end = (f.key_start, fo[i + 1].key_start) if i + 1 < len(fo) else (
                (fo[i - 1].value_end, f.value_end) if i else (f.key_start, f.value_end))
            edits.append((start, end, ""))
        elif value != texts[1][f.key]:
            edits.append((f.value_start, f.value_end, raw_theirs.get(f.key, value)))
    added = [k for k in wanted if k not in texts[1] and wanted[k] is not ABSENT]
    if added:
        at = fo[-1].value_end if fo else close
        text = "".join(f"{',' if fo or n else ''}\n  {json.dumps(k)}: {raw_theirs.get(k, wanted[k])}"
                       for n, k in enumerate(added))
        edits.append((at, at, text))
    merged = ours
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        merged = merged[:start] + text + merged[end:]
    expected = {k: v for k, v in wanted.items() if v is not ABSENT}
    if not _reads_back(merged, expected, m.parse):
        del m.conflicts[before[0]:], m.changes[before[1]:]
        return m.conflict(path, base, ours, theirs, where)
    return merged


def _reads_back(text: str, expected: dict, parse: Parse) -> bool:
    found = top_level(text, parse)  # None also when the text does not parse
    return found is not None and {f.key: " ".join(text[f.value_start:f.value_end].split())
                                  for f in found[0]} == expected


def _merge_edges(base: dict, ours: dict, theirs: dict, node_ids: set) -> list[dict]:
    """Ours, less those theirs removed, plus those theirs added; none to a node the merge left out."""
    b, o, t = (_edge_map(d) for d in (base, ours, theirs))
    kept = [e for k, e in o.items() if k in t or k not in b]
    kept += [e for k, e in t.items() if k not in b and k not in o]
    out, ids = [], set()
    for e in kept:
        if e.get("source") in node_ids and e.get("target") in node_ids:
            e = dict(e)
            while e.get("id") in ids:
                e["id"] = f"{e['id']}-t"
            ids.add(e.get("id"))
            out.append(e)
    return out


def _merge_dict(m: _Merge, path: str, base: Any, ours: Any, theirs: Any, where: dict) -> Any:
    if ours is ABSENT and theirs is ABSENT:
        return ABSENT
    b, o, t = _obj(base), _obj(ours), _obj(theirs)
    out = {}
    for key in _keys(o, t, b):
        value = m.pick(f"{path}.{key}", b.get(key, ABSENT), o.get(key, ABSENT), t.get(key, ABSENT),
                       {**where, "key": key})
        if value is not ABSENT:
            out[key] = value
    return out


def _keys(*dicts: Any) -> list:
    """The keys of all, each once, in the order first met."""
    seen: dict = {}
    for d in dicts:
        for k in (d if isinstance(d, dict) else {}):
            seen.setdefault(k, None)
    return list(seen)


def _by_id(doc: Any) -> dict:
    nodes = _obj(doc).get("nodes")
    return {n["id"]: n for n in (nodes if isinstance(nodes, list) else []) if isinstance(n, dict) and "id" in n}


def _edge_map(doc: Any) -> dict:
    edges = _obj(doc).get("edges")
    return {tuple(str(e.get(k)) for k in ("source", "source_port", "target", "target_port")): e
            for e in (edges if isinstance(edges, list) else []) if isinstance(e, dict)}


def _rows(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _out(value: Any) -> Any:
    return None if value is ABSENT else _shown(value)
