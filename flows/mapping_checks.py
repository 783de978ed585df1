"""Mappings checked against the schema of what they feed (issue 13), before deploy: a mapping that leaves a required
target field unmapped (a warning: the value may come from elsewhere, the system will refuse it if not), or maps a
constant of a type the target does not take (an error). Which schema: a system connector's body is its operation's
request schema; a transform.map feeding a connector that sends the message as it is, or a transform.conform, has
that connector's or record's schema. The schemas and the expression reader are passed in; no IO."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flows.problem import ERROR, WARNING, Problem

SYSTEMS = ("erp", "oms", "wms", "tms")
# nodes whose output is their input with fields added, routed or dropped: the source record passes through them
PASS_THROUGH = frozenset({"transform.lookup", "control.dedupe", "branch.choice", "branch.filter", "control.throttle",
                          "control.delay", "control.wait"})
MAX_NODES = 2000  # mapping nodes checked per document

# a mapping's expression -> its mapping (flows.mapping_parse through the expression parser), or None when it is
# not one the mapper can show
ReadMapping = Callable[[str], dict | None]


def schema_ids(doc: dict, node_id: str) -> tuple[str | None, str | None]:
    """(the canonical record the node receives, the id of the schema its mapping writes), each None if unknown.
    The target of a connector's body: "<system>.<operation>.body"; of a record: "canonical.<record>"."""
    nodes, edges = _graph(doc)
    node = nodes.get(node_id) or {}
    return _source_record(nodes, edges, node_id), _target(nodes, edges, node)


def _graph(doc: dict) -> tuple[dict[str, dict], list[dict]]:
    """Nodes by id and edges, of a document that may be half-edited: what is not shaped as they are is left out."""
    nodes = doc.get("nodes") if isinstance(doc.get("nodes"), list) else []
    edges = doc.get("edges") if isinstance(doc.get("edges"), list) else []
    return ({n["id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)},
            [e for e in edges if isinstance(e, dict) and isinstance(e.get("source"), str)
             and isinstance(e.get("target"), str)])


def _system_body(node: dict) -> str | None:
    kind, _, system = str(node.get("type", "")).partition(".")
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    if kind == "connector" and system in SYSTEMS and isinstance(config.get("operation"), str):
        return f"{system}.{config['operation']}.body"
    return None


def _target(nodes: dict, edges: list[dict], node: dict) -> str | None:
    if _system_body(node):
        return _system_body(node)
    if node.get("type") != "transform.map":
        return None
    found = set()
    for edge in edges:
        if edge.get("source") == node.get("id") and edge.get("source_port", "out") == "out":
            after = nodes.get(edge.get("target")) or {}
            config = after.get("config") if isinstance(after.get("config"), dict) else {}
            if after.get("type") == "transform.conform" and isinstance(config.get("record"), str):
                found.add(f"canonical.{config['record']}")
            elif _system_body(after) and not config.get("body"):
                found.add(_system_body(after))
    return found.pop() if len(found) == 1 else None


def _source_record(nodes: dict, edges: list[dict], node_id: str) -> str | None:
    seen, current = set(), node_id
    while current not in seen and len(seen) < len(nodes) + 1:
        seen.add(current)
        before = {e.get("source") for e in edges if e.get("target") == current}
        if len(before) != 1:
            return None
        current = before.pop()
        node = nodes.get(current) or {}
        config = node.get("config") if isinstance(node.get("config"), dict) else {}
        if node.get("type") == "transform.conform":
            return config.get("record") if isinstance(config.get("record"), str) else None
        if node.get("type") not in PASS_THROUGH:
            return None
    return None


def check(doc: Any, schemas: Mapping[str, dict], read_mapping: ReadMapping) -> list[Problem]:
    """The problems of each mapping in `doc` against its target schema (`schemas`: id -> JSON Schema)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        return []
    out: list[Problem] = []
    nodes, edges = _graph(doc)
    for node in list(nodes.values())[:MAX_NODES]:
        if node.get("disabled") or node.get("type") != "transform.map" and not _system_body(node):
            continue
        config = node.get("config") if isinstance(node.get("config"), dict) else {}
        field = "expression" if node.get("type") == "transform.map" else "body"
        source = config.get(field)
        target = _target(nodes, edges, node)
        schema = schemas.get(target) if target else None
        if not isinstance(source, str) or not isinstance(schema, dict):
            continue
        mapping = read_mapping(source)
        if mapping is not None:
            out += [Problem(code, message, node=node.get("id"), field=field, severity=severity)
                    for code, message, severity in problems(mapping, schema, target)]
    return out


def problems(mapping: dict, schema: dict, schema_id: str = "the target") -> list[tuple[str, str, str]]:
    """(code, message, severity) per required target field left unmapped and per constant of the wrong type."""
    mapped = {f["target"]: f["rule"] for f in mapping.get("fields") or []}
    arrays = {a["target"]: a for a in mapping.get("arrays") or []}
    found: list[tuple[str, str, str]] = []
    _walk(schema, "", mapped, arrays, schema_id, found)
    return found


def _walk(schema: dict, prefix: str, mapped: dict, arrays: dict, schema_id: str, found: list) -> None:
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for name in schema.get("required") or []:
        path = prefix + name
        if path not in mapped and path not in arrays and not any(t.startswith(path + ".") for t in [*mapped, *arrays]):
            found.append(("mapping_unmapped_required", f"required field {path!r} of {schema_id} is not mapped",
                          WARNING))
    for name, sub in properties.items():
        path = prefix + name
        if not isinstance(sub, dict):
            continue
        rule = mapped.get(path)
        if rule is not None and rule.get("kind") == "constant" and not _fits(rule["value"], sub):
            found.append(("mapping_type_mismatch", f"{path!r} takes {_describe(sub)}, the mapping gives the "
                                                   f"constant {rule['value']!r}", ERROR))
        if path in arrays and isinstance(sub.get("items"), dict):
            inner = arrays[path]
            _walk(sub["items"], "", {f["target"]: f["rule"] for f in inner["fields"]}, {}, f"{schema_id} {path}[]",
                  found)
        elif any(t.startswith(path + ".") for t in mapped) and _types(sub) & {"object"}:
            _walk(sub, path + ".", mapped, arrays, schema_id, found)


def _types(schema: dict) -> set[str]:
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind) if isinstance(kind, list) else set()


def _fits(value: Any, schema: dict) -> bool:
    if isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        return False
    types = _types(schema)
    if not types:
        return True
    actual = {"null"} if value is None else {"boolean"} if isinstance(value, bool) else \
        {"integer", "number"} if isinstance(value, int) or (isinstance(value, float) and value.is_integer()) else \
        {"number"} if isinstance(value, float) else {"string"} if isinstance(value, str) else {"object"}
    return bool(actual & types)


def _describe(schema: dict) -> str:
    if isinstance(schema.get("enum"), list):
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    types = sorted(_types(schema))
    return " or ".join(types) if types else "any value"
