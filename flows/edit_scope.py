"""What a mapper may change in a flow: mapping expressions, lookup tables and keys, samples and layout.
`beyond_mapping` lists every other change between two documents, so a save by a user who may edit
mappings but not flows is refused with the exact changes named (the canvas can mark them)."""
from __future__ import annotations

from collections import Counter
from typing import Any

from flows import document
from flows.problem import Problem

# config fields a mapper may edit, by node type; "sample"/"samples" may be edited on any node
MAPPING_FIELDS = {
    "transform.map": frozenset({"expression"}),
    "transform.lookup": frozenset({"table", "key"}),
}
SAMPLE_FIELDS = frozenset({"sample", "samples"})
# the document's own fields a mapper may edit: example inputs and where things sit on the canvas
FREE_DOC_FIELDS = frozenset({"samples", "viewport", "nodes", "edges"})
FREE_NODE_FIELDS = frozenset({"position", "config"})
KEPT_SECRET = "********"  # a secret field as the API shows it: sending it back keeps the stored value
_ABSENT = object()


def beyond_mapping(old_doc: Any, new_doc: Any) -> list[Problem]:
    """Every change from `old_doc` to `new_doc` that is not a mapping, lookup or sample edit (nor layout).
    Nodes are matched by id; edges by what they connect, since a connection is the structure."""
    if not isinstance(old_doc, dict) or not isinstance(new_doc, dict):
        return [Problem("invalid_document", "A flow document must be a JSON object.")]
    old_doc, new_doc = _normalised(old_doc), _normalised(new_doc)
    problems = _doc_fields(old_doc, new_doc)
    old_nodes, new_nodes = _by_id(old_doc.get("nodes")), _by_id(new_doc.get("nodes"))
    for nid in new_nodes.keys() - old_nodes.keys():
        problems.append(Problem("node_added", f"node {nid!r} was added; a mapper may not add nodes", node=nid))
    for nid in old_nodes.keys() - new_nodes.keys():
        problems.append(Problem("node_removed", f"node {nid!r} was removed; a mapper may not remove nodes",
                                node=nid))
    for nid in old_nodes.keys() & new_nodes.keys():
        problems += _node_changes(nid, old_nodes[nid], new_nodes[nid])
    problems += _edge_changes(old_doc.get("edges"), new_doc.get("edges"))
    return sorted(problems, key=lambda p: (p.node or "", p.edge or "", p.field or "", p.code))


def _normalised(doc: dict) -> dict:
    """The document with its defaults filled (params, settings, node names), so a document sent with fewer
    fields than the stored one is not taken for a change; as it is when it does not load."""
    loaded, _ = document.load(doc)
    return doc if loaded is None else loaded


def _doc_fields(old: dict, new: dict) -> list[Problem]:
    problems = []
    for key in sorted((old.keys() | new.keys()) - FREE_DOC_FIELDS):
        if not _same(old.get(key, _ABSENT), new.get(key, _ABSENT)):
            problems.append(Problem("flow_changed", f"the flow's {key} changed; a mapper may change only "
                                                    "mappings, lookups and samples", field=key))
    return problems


def _node_changes(nid: str, old: dict, new: dict) -> list[Problem]:
    if old.get("type") != new.get("type"):
        return [Problem("node_type_changed", f"node {nid!r} changed its type from {old.get('type')!r} to "
                                             f"{new.get('type')!r}", node=nid, field="type")]
    problems = []
    for key in sorted((old.keys() | new.keys()) - FREE_NODE_FIELDS):
        if not _same(_node_field(old, key), _node_field(new, key)):
            problems.append(Problem("node_changed", f"node {nid!r}'s {key} changed; a mapper may change only "
                                                    "mappings, lookups and samples", node=nid, field=key))
    allowed = MAPPING_FIELDS.get(old.get("type"), frozenset()) | SAMPLE_FIELDS
    old_config, new_config = _dict(old.get("config")), _dict(new.get("config"))
    for key in sorted((old_config.keys() | new_config.keys()) - allowed):
        if not _same(old_config.get(key), new_config.get(key)):
            problems.append(Problem("config_changed", f"node {nid!r}'s {key} changed; a mapper may change only "
                                                      "mappings, lookups and samples", node=nid, field=key))
    return problems


def _node_field(node: dict, key: str) -> Any:
    """A node field with the document's defaults applied, so a loaded and a raw node compare alike."""
    defaults = {"name": node.get("id"), "notes": "", "type_version": 1, "disabled": False}
    value = node.get(key)
    return defaults.get(key) if value is None else value


def _edge_changes(old_edges: Any, new_edges: Any) -> list[Problem]:
    old, new = _connections(old_edges), _connections(new_edges)
    problems = []
    for link in (new - old):
        problems.append(Problem("edge_added", f"an edge {_describe(link)} was added; a mapper may not change "
                                              "edges", edge=_edge_id(new_edges, link), node=link[0]))
    for link in (old - new):
        problems.append(Problem("edge_removed", f"the edge {_describe(link)} was removed; a mapper may not "
                                                "change edges", edge=_edge_id(old_edges, link), node=link[0]))
    return problems


def _connections(edges: Any) -> Counter:
    return Counter(_link(e) for e in (edges if isinstance(edges, list) else []) if isinstance(e, dict))


def _link(edge: dict) -> tuple:
    return tuple(str(edge.get(k)) for k in ("source", "source_port", "target", "target_port"))


def _describe(link: tuple) -> str:
    return f"{link[0]}.{link[1]} -> {link[2]}.{link[3]}"


def _edge_id(edges: Any, link: tuple) -> str | None:
    for e in edges if isinstance(edges, list) else []:
        if isinstance(e, dict) and _link(e) == link and isinstance(e.get("id"), str):
            return e["id"]
    return None


def _by_id(nodes: Any) -> dict[str, dict]:
    return {n["id"]: n for n in (nodes if isinstance(nodes, list) else [])
            if isinstance(n, dict) and isinstance(n.get("id"), str)}


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _same(old: Any, new: Any) -> bool:
    """Equal, with a missing field the same as null and a secret sent back masked the same as kept."""
    old = None if old is _ABSENT else old
    new = None if new is _ABSENT else new
    return old == new or _masked_equal(old, new)


def _masked_equal(old: Any, new: Any) -> bool:
    """`new` is `old` with some secret values given back as the mask the API shows for them."""
    if new == KEPT_SECRET:
        return old is not None
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(old[k] == new[k] or _masked_equal(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(a == b or _masked_equal(a, b) for a, b in zip(old, new))
    return False
