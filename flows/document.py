"""The flow document `crossdock.flow/1`: its marshmallow schema, `load` (checked and normalised) and
`dump` (a fixed key order, so flow JSON diffs and merges cleanly in git).
"""
from __future__ import annotations

import copy
import json
import math
import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from flows import migrate
from flows.problem import Problem

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # params are bound as $name in JSONata
PARAM_TYPES = ("string", "number", "integer", "boolean", "object", "array")
INVALID = "invalid_document"
CORRELATION_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_CORRELATION_KEYS = 8  # key kinds a flow declares for the document thread


# JSON has no implicit conversions: "5" is not a number and 1 is not true, so the stock fields are too lenient.
class Text(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return value


class Number(fields.Field):
    default_error_messages = {"invalid": "Not a valid number."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.make_error("invalid")
        return value


class Integer(fields.Field):
    default_error_messages = {"invalid": "Not a valid integer."}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class Boolean(fields.Field):
    default_error_messages = {"invalid": "Not a valid boolean."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _id(**kwargs) -> Text:
    return Text(validate=validate.Regexp(ID_PATTERN, error="Must be 1-64 letters, digits, '_', '.' or '-'."),
                **kwargs)


def _check_schema_id(value: str) -> None:
    if value != migrate.CURRENT:
        raise ValidationError(f"Unknown schema {value!r}; this version reads {migrate.CURRENT!r}.")


_PARAM_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


class ParamSchema(Schema):
    type = Text(load_default="string", validate=validate.OneOf(PARAM_TYPES))
    default = fields.Raw(allow_none=True)
    description = Text(load_default="")
    required = Boolean(load_default=False)
    secret = Boolean()

    @validates_schema
    def default_matches_type(self, data, **kwargs):
        value = data.get("default")
        if value is not None and not _PARAM_CHECKS[data["type"]](value):
            raise ValidationError(f"Default is not of type {data['type']}.", field_name="default")


# No defaults filled in: what a flow leaves out, the runtime's installation-wide retry policy decides.
class RetrySchema(Schema):
    max_attempts = Integer(validate=validate.Range(1, 100))
    backoff_s = Number(validate=validate.Range(0, 86400))


class SettingsSchema(Schema):
    sequence_key = Text(validate=validate.Length(1, 200))  # message path whose value orders runs
    business_key = Text(validate=validate.Length(1, 200))  # message path shown and searched as "PO 4711"
    retry = fields.Nested(RetrySchema)
    # the document thread: key kind ("po", "order", "shipment", "tracking") -> JSONata evaluated on the run's
    # messages; runs sharing a key value of a kind are one business document's timeline (runtime/threads.py)
    correlation = fields.Dict(keys=Text(validate=validate.Regexp(CORRELATION_KIND, error=(
        "A key kind is 1-32 lower-case letters, digits or '_', starting with a letter."))),
        values=Text(validate=validate.Length(1, 500)), validate=validate.Length(max=MAX_CORRELATION_KEYS))
    thread_label = Text(validate=validate.Length(1, 100))  # what a run of this flow is in a thread: "shipped"


class PositionSchema(Schema):
    x = Number(required=True)
    y = Number(required=True)


class NodeSchema(Schema):
    id = _id(required=True)
    type = Text(required=True, validate=validate.Length(1, 100))
    type_version = Integer(load_default=1, validate=validate.Range(min=1))
    name = Text(validate=validate.Length(max=200))
    notes = Text(load_default="")
    config = fields.Dict(keys=Text(), values=fields.Raw(allow_none=True), load_default=dict)
    position = fields.Nested(PositionSchema, load_default=lambda: {"x": 0, "y": 0})
    disabled = Boolean()

    @post_load
    def name_defaults_to_id(self, data, **kwargs):
        data.setdefault("name", data["id"])
        return data


class EdgeSchema(Schema):
    id = _id(required=True)
    source = _id(required=True)
    source_port = Text(required=True, validate=validate.Length(1, 64))
    target = _id(required=True)
    target_port = Text(required=True, validate=validate.Length(1, 64))


class ViewportSchema(Schema):
    x = Number(required=True)
    y = Number(required=True)
    zoom = Number(required=True, validate=validate.Range(min=0, min_inclusive=False))


class FlowSchema(Schema):
    schema = Text(required=True, validate=_check_schema_id)
    id = _id(required=True)
    name = Text(validate=validate.Length(max=200))
    description = Text(load_default="")
    params = fields.Dict(keys=Text(validate=validate.Regexp(PARAM_NAME, error="Not a valid parameter name.")),
                         values=fields.Nested(ParamSchema), load_default=dict)
    settings = fields.Nested(SettingsSchema, load_default=dict)
    nodes = fields.List(fields.Nested(NodeSchema), load_default=list)
    edges = fields.List(fields.Nested(EdgeSchema), load_default=list)
    viewport = fields.Nested(ViewportSchema)
    samples = fields.Dict(keys=Text(), values=fields.Raw(allow_none=True))  # named example inputs

    @post_load
    def name_defaults_to_id(self, data, **kwargs):
        data.setdefault("name", data["id"])
        return data


def load(doc: Any) -> tuple[dict | None, list[Problem]]:
    """The document upgraded, checked and with defaults filled, or None and the problems (never raises)."""
    try:
        doc = migrate.upgrade(doc)
        if not isinstance(doc, dict):
            return None, [Problem(INVALID, "A flow document must be a JSON object.")]
        ids: set[str] = set()
        nodes, edges = _quick_list(doc, "nodes", _quick_node, ids), _quick_list(doc, "edges", _quick_edge, ids)
        quick = nodes is not None and edges is not None
        problems = [] if quick else _duplicate_ids(doc)  # the quick path refuses a list with a repeated id
        try:
            # the schema reads what is left; with a node or edge the quick path doubts, it reads it all
            data = FlowSchema().load({k: v for k, v in doc.items() if k not in ("nodes", "edges")} if quick else doc)
        except ValidationError as err:
            problems = _schema_problems(err.messages, doc) + problems
            data = None
        if problems:
            return None, problems
        out = dump(copy.deepcopy(data))
        if quick:
            out["nodes"], out["edges"] = nodes, edges
        return out, []
    except Exception as exc:  # a contract: garbage in gives problems out, never a traceback
        return None, [Problem(INVALID, f"The document could not be read ({type(exc).__name__}).")]


# The quick path: NodeSchema and EdgeSchema cost ~100 us a node in marshmallow, 5 s for a 50,000-node flow.
# These read the well-formed case directly, in dump form, and answer None whenever they doubt: the
# schema then reads the whole document, so it alone decides what is wrong and how that is said.
_NODE_KEYS = frozenset(("id", "type", "type_version", "name", "notes", "config", "position", "disabled"))
_EDGE_KEYS = frozenset(("id", "source", "source_port", "target", "target_port"))
_XY = frozenset(("x", "y"))
_ORIGIN = {"x": 0, "y": 0}


def _quick_list(doc: dict, key: str, read, ids: set[str]) -> list | None:
    items = doc.get(key, [])
    if type(items) is not list:
        return None
    out, seen = [], set()
    for item in items:
        done = read(item, ids) if type(item) is dict else None
        if done is None or done["id"] in seen:
            return None
        seen.add(done["id"])
        out.append(done)
    return out


def _is_id(value: Any, ids: set[str]) -> bool:
    """ID_PATTERN, remembering what matched: an edge names its nodes' ids again."""
    if type(value) is not str:
        return False
    if value in ids:
        return True
    if ID_PATTERN.match(value) is not None:
        ids.add(value)
        return True
    return False


def _is_number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _quick_node(node: dict, ids: set[str]) -> dict | None:
    get = node.get
    nid, type_, version, name = get("id"), get("type"), get("type_version", 1), get("name")
    notes, config, position = get("notes", ""), get("config", {}), get("position", _ORIGIN)
    if (not node.keys() <= _NODE_KEYS or not _is_id(nid, ids) or type(type_) is not str
            or not 1 <= len(type_) <= 100 or type(version) is not int or version < 1
            or (name is not None and (type(name) is not str or len(name) > 200)) or (name is None and "name" in node)
            or type(notes) is not str or type(config) is not dict or not all(type(k) is str for k in config)
            or type(position) is not dict or position.keys() != _XY
            or not _is_number(position["x"]) or not _is_number(position["y"])
            or type(get("disabled", False)) is not bool):
        return None
    out = {"id": nid, "type": type_, "type_version": version, "name": nid if name is None else name, "notes": notes}
    if "disabled" in node:
        out["disabled"] = node["disabled"]
    out["position"] = {"x": position["x"], "y": position["y"]}
    out["config"] = _sorted(config)
    return out


def _quick_edge(edge: dict, ids: set[str]) -> dict | None:
    if (edge.keys() != _EDGE_KEYS or not _is_id(edge["id"], ids) or not _is_id(edge["source"], ids)
            or not _is_id(edge["target"], ids) or type(edge["source_port"]) is not str
            or not 1 <= len(edge["source_port"]) <= 64 or type(edge["target_port"]) is not str
            or not 1 <= len(edge["target_port"]) <= 64):
        return None
    return {"id": edge["id"], "source": edge["source"], "source_port": edge["source_port"],
            "target": edge["target"], "target_port": edge["target_port"]}


def error_paths(messages: Any, schema: Schema | fields.Field | None, path: str = "") -> list[tuple[str, str]]:
    """(JSON path, message) for each marshmallow error, e.g. ("nodes[2].type", "Missing data for required field.").

    Walks the schema beside the errors so a Dict's "key"/"value" wrappers do not show up in paths."""
    out: list[tuple[str, str]] = []
    if isinstance(schema, fields.Nested):
        schema = schema.schema
    if isinstance(messages, list):
        for msg in messages:
            if isinstance(msg, (dict, list)):
                out += error_paths(msg, schema, path)
            else:
                out.append((path, str(msg)))
        return out
    if not isinstance(messages, dict):
        return [(path, str(messages))]
    for key, sub in messages.items():
        if key == "_schema":
            out += error_paths(sub, schema, path)
        elif isinstance(key, int):
            inner = schema.inner if isinstance(schema, fields.List) else schema
            out += error_paths(sub, inner, f"{path}[{key}]")
        elif isinstance(schema, fields.Dict) and isinstance(sub, dict) and set(sub) <= {"key", "value"}:
            here = _join(path, key)
            out += error_paths(sub.get("key", []), None, here)
            out += error_paths(sub.get("value", []), schema.value_field, here)
        else:
            child = _field(schema, key)
            out += error_paths(sub, child, _join(path, key))
    return out


def _field(schema: Any, key: Any) -> Any:
    if isinstance(schema, Schema):
        for name, fld in schema.fields.items():
            if (fld.data_key or name) == key:
                return fld
    return None


def _join(path: str, key: Any) -> str:
    key = str(key)
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def _schema_problems(messages: dict, doc: dict) -> list[Problem]:
    problems = []
    for path, msg in error_paths(messages, FlowSchema()):
        node = _id_at(doc, "nodes", path)
        edge = _id_at(doc, "edges", path)
        problems.append(Problem(INVALID, msg, node=node, edge=edge, field=path or None))
    return problems


def _id_at(doc: dict, key: str, path: str) -> str | None:
    """The id of the node or edge a path points into, so the canvas can mark it."""
    m = re.match(rf"^{key}\[(\d+)\]", path)
    items = doc.get(key)
    if not m or not isinstance(items, list) or int(m.group(1)) >= len(items):
        return None
    item = items[int(m.group(1))]
    return item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else None


def _duplicate_ids(doc: dict) -> list[Problem]:
    problems = []
    for key, what in (("nodes", "node"), ("edges", "edge")):
        items = doc.get(key)
        if not isinstance(items, list):
            continue
        seen: set[str] = set()
        for i, item in enumerate(items):
            ident = item.get("id") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            if ident in seen:
                problems.append(Problem(INVALID, f"Duplicate {what} id {ident!r}.", field=f"{key}[{i}].id",
                                        **{what: ident}))
            seen.add(ident)
    return problems


_ORDER = {
    "flow": ("schema", "id", "name", "description", "params", "settings", "nodes", "edges", "viewport", "samples"),
    "param": ("type", "default", "description", "required", "secret"),
    "settings": ("sequence_key", "business_key", "retry", "correlation", "thread_label"),
    "retry": ("max_attempts", "backoff_s"),
    # position before config: moving a node then changes one line, not one after a long mapping
    "node": ("id", "type", "type_version", "name", "notes", "disabled", "position", "config"),
    "position": ("x", "y"),
    "edge": ("id", "source", "source_port", "target", "target_port"),
    "viewport": ("x", "y", "zoom"),
}


def dump(doc: dict) -> dict:
    """`doc` with keys in a fixed order: nodes and edges as given, params and config keys sorted."""
    out = _ordered(doc, "flow")
    if isinstance(out.get("params"), dict):
        out["params"] = {k: _ordered(v, "param") for k, v in sorted(out["params"].items())}
    if isinstance(out.get("settings"), dict):
        out["settings"] = _ordered(out["settings"], "settings")
        if isinstance(out["settings"].get("retry"), dict):
            out["settings"]["retry"] = _ordered(out["settings"]["retry"], "retry")
    if isinstance(out.get("nodes"), list):
        out["nodes"] = [_dump_node(n) for n in out["nodes"]]
    if isinstance(out.get("edges"), list):
        out["edges"] = [_ordered(e, "edge") for e in out["edges"]]
    if isinstance(out.get("viewport"), dict):
        out["viewport"] = _ordered(out["viewport"], "viewport")
    return out


def dumps(doc: dict) -> str:
    """The text to store or commit: `dump` order, two-space indent, trailing newline."""
    return json.dumps(dump(doc), indent=2, ensure_ascii=False) + "\n"


def _dump_node(node: Any) -> Any:
    node = _ordered(node, "node")
    if isinstance(node, dict):
        if isinstance(node.get("position"), dict):
            node["position"] = _ordered(node["position"], "position")
        if isinstance(node.get("config"), dict):
            node["config"] = _sorted(node["config"])
    return node


def _ordered(obj: Any, kind: str) -> Any:
    if not isinstance(obj, dict):
        return obj
    known = _ORDER[kind]
    out = {k: obj[k] for k in known if k in obj}
    out.update((k, obj[k]) for k in sorted(obj, key=str) if k not in known)  # unknown keys last, still stable
    return out


_SCALARS = frozenset((str, int, float, bool, type(None)))


def _sorted(value: Any) -> Any:
    """A copy of `value` with dict keys sorted; shares nothing mutable with it."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else _sorted(v) for k, v in sorted(value.items(), key=_by_key)}
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else _sorted(v) for v in value]
    if type(value) in _SCALARS:
        return value
    return copy.deepcopy(value)


def _by_key(item: tuple) -> str:
    return str(item[0])
