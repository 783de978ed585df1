"""What changed between two versions of a flow document: as the audit log summarises a flow edit (nodes
added, removed and changed with the names of the fields that changed, edges added and removed by what they
connect, the flow's own fields, and whether the edit is one a mapper may make), and as the editor's Changes
panel shows it (`version_diff`: nodes moved, config changes per field with both values, mapping changes per
target field). Pure: no IO."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

from flows.edit_scope import MAPPING_FIELDS, SAMPLE_FIELDS
from flows.target_fields import Parse, mapping_fields

MAX_LISTED = 50  # a summary names at most this many nodes or edges of each kind, and counts the rest


def flow_diff(old: dict, new: dict) -> dict:
    """What changed between two flow documents: nodes added, removed and changed (by id and name, with
    the names of the fields that changed), edges added and removed (by what they connect), and the flow's
    own fields; `mapping_only` when a mapping, lookup or sample changed and every other change is layout
    (what a mapper may make: flows.edit_scope)."""
    old_nodes, new_nodes = nodes_of(old), nodes_of(new)
    added = [_ref(n) for nid, n in new_nodes.items() if nid not in old_nodes]
    removed = [_ref(n) for nid, n in old_nodes.items() if nid not in new_nodes]
    changed, mapping_only, mapped = [], True, False
    for nid, node in new_nodes.items():
        if nid in old_nodes:
            fields = _node_fields(old_nodes[nid], node)
            if fields:
                changed.append({**_ref(node), "fields": fields})
                free = {f"config.{f}" for f in MAPPING_FIELDS.get(node.get("type"), frozenset()) | SAMPLE_FIELDS}
                mapping_only &= all(f in free or f == "position" for f in fields)
                mapped |= any(f in free for f in fields)
    old_edges, new_edges = _edges(old), _edges(new)
    edges_added = [_link(e) for e in (new_edges - old_edges).elements()]
    edges_removed = [_link(e) for e in (old_edges - new_edges).elements()]
    doc_fields = sorted(k for k in (_dict(old).keys() | _dict(new).keys()) - {"nodes", "edges"}
                        if _dict(old).get(k) != _dict(new).get(k))
    mapping_only &= not (added or removed or edges_added or edges_removed
                         or set(doc_fields) - {"samples", "viewport"})
    diff = {"nodes_added": added, "nodes_removed": removed, "nodes_changed": changed,
            "edges_added": edges_added, "edges_removed": edges_removed}
    summary = {}
    for key, items in diff.items():
        if items:
            summary[key] = items[:MAX_LISTED]
            if len(items) > MAX_LISTED:
                summary[key.replace("nodes_", "nodes_count_").replace("edges_", "edges_count_")] = len(items)
    if doc_fields:
        summary["fields_changed"] = doc_fields
    summary["mapping_only"] = mapped and mapping_only
    return summary


MAX_CHANGES = 500  # a version diff lists at most this many changes of each kind, and says it cut the list
MAX_VALUE = 2000  # characters of a shown value (JSON text) before it is cut
MAPPING_CONFIG = {"transform.map": "expression"}  # the JSONata mappings compared per target field
MAPPING_BODY = "body"  # a connector's body is a JSONata mapping too


def version_diff(old: dict, new: dict, parse: Parse | None = None) -> dict:
    """The Changes panel: nodes added, removed and moved (position), config changes per field with the values
    before and after, and a mapping (`transform.map` expression, a connector's body) per target field when both
    sides are JSONata objects (read with `parse`, nodes/expression_tree.py; without it, whole), else as one
    whole-expression change; edges added and removed; the flow's own fields. Lists are cut at MAX_CHANGES
    (`truncated` says so), values at MAX_VALUE characters."""
    old_nodes, new_nodes = nodes_of(old), nodes_of(new)
    out: dict[str, Any] = {"nodes_added": [_ref(n) for nid, n in new_nodes.items() if nid not in old_nodes],
                           "nodes_removed": [_ref(n) for nid, n in old_nodes.items() if nid not in new_nodes],
                           "nodes_moved": [], "nodes_changed": []}
    for nid, node in new_nodes.items():
        before = old_nodes.get(nid)
        if before is None:
            continue
        if _dict(before.get("position")) != _dict(node.get("position")):
            out["nodes_moved"].append({**_ref(node), "from": before.get("position"), "to": node.get("position")})
        fields, mappings = _field_changes(before, node, parse)
        if fields or mappings:
            out["nodes_changed"].append({**_ref(node), "fields": fields, "mappings": mappings})
    old_edges, new_edges = _edges(old), _edges(new)
    out["edges_added"] = [_link(e) for e in (new_edges - old_edges).elements()]
    out["edges_removed"] = [_link(e) for e in (old_edges - new_edges).elements()]
    out["flow_fields"] = [_change(k, _dict(old).get(k, _ABSENT), _dict(new).get(k, _ABSENT))
                          for k in sorted((_dict(old).keys() | _dict(new).keys()) - {"nodes", "edges", "viewport"})
                          if _dict(old).get(k, _ABSENT) != _dict(new).get(k, _ABSENT)]  # the viewport is no change
    truncated = False
    for key, items in out.items():
        if len(items) > MAX_CHANGES:
            out[key], truncated = items[:MAX_CHANGES], True
    out["truncated"] = truncated
    out["changed"] = any(out[k] for k in out if k not in ("truncated",))
    return out


_ABSENT = object()


def _field_changes(old: dict, new: dict, parse: Parse | None) -> tuple[list[dict], list[dict]]:
    fields = [_change(k, old.get(k, _ABSENT), new.get(k, _ABSENT))
              for k in sorted((old.keys() | new.keys()) - {"config", "position"})
              if old.get(k, _ABSENT) != new.get(k, _ABSENT)]
    old_config, new_config = _dict(old.get("config")), _dict(new.get("config"))
    mapped = MAPPING_CONFIG.get(new.get("type"), MAPPING_BODY if str(new.get("type")).startswith("connector.")
                                else None)
    mappings: list[dict] = []
    for k in sorted(old_config.keys() | new_config.keys()):
        a, b = old_config.get(k, _ABSENT), new_config.get(k, _ABSENT)
        if a == b:
            continue
        per_target = mapping_changes(a, b, parse) if k == mapped and parse is not None else None
        if per_target is None:
            fields.append(_change(f"config.{k}", a, b))
        else:
            mappings += [{"field": f"config.{k}", **m} for m in per_target]
    return fields, mappings


def mapping_changes(old: Any, new: Any, parse: Parse) -> list[dict] | None:
    """Per target field: {"target", "change": added|removed|changed, "before", "after"}; None when either
    side is not a JSONata object constructor (the caller shows the whole expression)."""
    before, after = mapping_fields(old, parse), mapping_fields(new, parse)
    if before is None or after is None:
        return None
    out = []
    for target in sorted(before.keys() | after.keys()):
        a, b = before.get(target), after.get(target)
        if a != b:
            change = "added" if a is None else "removed" if b is None else "changed"
            out.append({"target": target, "change": change, "before": _shown(a), "after": _shown(b)})
    return out


def _change(field: str, before: Any, after: Any) -> dict:
    change = "added" if before is _ABSENT else "removed" if after is _ABSENT else "changed"
    return {"field": field, "change": change, "before": None if before is _ABSENT else _shown(before),
            "after": None if after is _ABSENT else _shown(after)}


def _shown(value: Any) -> Any:
    """The value as JSON carries it, a long one cut to MAX_VALUE characters of its JSON text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= MAX_VALUE:
        return value
    return text[:MAX_VALUE] + "…"


def nodes_of(doc: Any) -> dict[str, dict]:
    nodes = _dict(doc).get("nodes")
    return {n["id"]: n for n in (nodes if isinstance(nodes, list) else [])
            if isinstance(n, dict) and isinstance(n.get("id"), str)}


def _ref(node: dict) -> dict:
    return {"id": node["id"], "name": node.get("name") or node["id"], "type": node.get("type")}


def _node_fields(old: dict, new: dict) -> list[str]:
    fields = [k for k in sorted((old.keys() | new.keys()) - {"config"}) if old.get(k) != new.get(k)]
    old_config, new_config = _dict(old.get("config")), _dict(new.get("config"))
    fields += [f"config.{k}" for k in sorted(old_config.keys() | new_config.keys())
               if old_config.get(k) != new_config.get(k)]
    return fields


def _edges(doc: Any) -> Counter:
    edges = _dict(doc).get("edges")
    return Counter(tuple(str(e.get(k)) for k in ("source", "source_port", "target", "target_port"))
                   for e in (edges if isinstance(edges, list) else []) if isinstance(e, dict))


def _link(link: tuple) -> str:
    return f"{link[0]}.{link[1]} -> {link[2]}.{link[3]}"


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}
