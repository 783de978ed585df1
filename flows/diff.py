"""What changed between two versions of a flow document, as the audit log summarises a flow edit: nodes
added, removed and changed (with the names of the fields that changed), edges added and removed (by what
they connect), the flow's own fields, and whether the edit is one a mapper may make. Pure: no IO."""
from __future__ import annotations

from collections import Counter
from typing import Any

from flows.edit_scope import MAPPING_FIELDS, SAMPLE_FIELDS

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
