"""The description of a node type (its SPEC): what the palette, the inspector and the validator read.

It lives in `flows` because it is part of the document model; `nodes` fills one in per node type.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import marshmallow
from marshmallow import fields

CATEGORIES = ("event", "connector", "transform", "branch", "control", "edi")  # edi: X12 read and write
# What a config value can name outside the node (flows/references.py checks each against the workspace):
# a connection, a lookup table, a canonical record, a webhook path, or a text template whose {{name}}
# placeholders are flow params.
REFERENCE_KINDS = ("connection", "lookup", "record", "webhook", "template")
# Secret config fields (credentials typed into a node): marked in the config schema, so that the runtime
# encrypts them at rest and every API shows MASK instead (runtime/secrets.py). A field is secret when its
# metadata has `"format": "secret"` (the inspector then shows a password input) or `"secret": True`; a Dict
# field with `"secret": SECRET_BY_NAME` holds secrets under the keys that look like credentials (headers).
SECRET_BY_NAME = "by_name"
MASK = "********"  # a secret as the API shows it; sent back, it keeps the stored value
CREDENTIAL_NAME = re.compile(r"auth|cookie|token|secret|passw|api-?key|apikey|private|credential|signature|session"
                             r"|(^|[-_])key$", re.I)


@dataclass(frozen=True)
class Port:
    name: str
    label: str = ""
    record: str | None = None  # canonical record type carried, e.g. "order"; None = any JSON
    # True when a message on this port has already left the flow (a connector's answer from the target
    # system), so leaving the port unwired ends it by design. Every other output port except `error`
    # must be wired or ended with control.discard (flows.graph reports it; the runtime fails `unrouted`).
    optional: bool = False
    # (config field, values) under which the node never sends on this port, e.g. a lookup that keeps
    # unknown keys ("missing", ("keep", "default")): the port then needs no edge. Absent field: it does.
    unused_when: tuple[str, tuple[Any, ...]] | None = None

    def unused(self, config: Any) -> bool:
        if self.unused_when is None or not isinstance(config, dict):
            return False
        key, values = self.unused_when
        # by type too: a config of 1 must not pass for True
        return key in config and any(type(config[key]) is type(v) and config[key] == v for v in values)


@dataclass(frozen=True)
class Reference:
    kind: str  # one of REFERENCE_KINDS
    # (config field, values) under which a missing target is harmless, e.g. a lookup that keeps unknown
    # keys as they are: its absence is then a warning, not an error
    lenient_when: tuple[str, tuple[Any, ...]] | None = None
    systems: tuple[str, ...] = ()  # the systems a named connection may be of, e.g. ("erp", "http"); () for any


@dataclass(frozen=True)
class NodeSpec:
    type: str  # "transform.map"
    version: int  # the current type_version; older versions stay registered beside it
    category: str  # one of CATEGORIES
    title: str
    description: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    config: type[marshmallow.Schema]  # config fields; load() errors become problems
    # Config paths that hold JSONata, checked at validate time: "expression", "rules[].when", "body".
    expressions: tuple[str, ...] = ()
    # Config path whose values add output ports, e.g. "rules[].port" for branch.choice.
    dynamic_outputs: str | None = None
    # Config paths that name something outside the node, e.g. {"connection": Reference("connection")};
    # "headers.*" is every value of the headers object, "rules[].when" every item of a list.
    references: Mapping[str, Reference] = field(default_factory=dict, hash=False)
    # The config field whose preview runs the node itself (prepare + run): its output is the node's output.
    preview: str | None = None
    icon: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    # What the canvas shows under the node's title, from its config: "{{operation}}[ on {{connection}}]".
    # {{a.b}} is the config value at that path, {{rules#}} the length of a list or object; a [...] section is
    # left out when a placeholder in it is empty. The palette API serves it; web/src/editor/nodes.tsx renders it.
    summary: str = ""

    @property
    def trigger(self) -> bool:
        return self.category == "event"

    def output_names(self, config: dict) -> list[str]:
        """Static output ports plus those the config adds (dynamic_outputs)."""
        names = [p.name for p in self.outputs]
        if self.dynamic_outputs:
            key, _, sub = self.dynamic_outputs.partition("[].")
            items = config.get(key) if isinstance(config, dict) else None
            for item in items if isinstance(items, list) else []:  # a malformed config adds no ports
                if isinstance(item, dict) and isinstance(item.get(sub), str) and item[sub] not in names:
                    names.append(item[sub])
        return names


def secret_paths(schema: type[marshmallow.Schema] | marshmallow.Schema) -> tuple[tuple[str, ...], ...]:
    """The secret fields of a config schema as paths: ("auth", "token"); "[]" steps into each list item,
    "*" into each value of a Dict whose key looks like a credential (CREDENTIAL_NAME)."""
    return _secret_paths(schema if isinstance(schema, type) else type(schema))


@functools.lru_cache(maxsize=None)
def _secret_paths(schema_class: type[marshmallow.Schema]) -> tuple[tuple[str, ...], ...]:
    found: list[tuple[str, ...]] = []
    for name, f in schema_class().fields.items():
        found += [(f.data_key or name, *rest) for rest in _field_secrets(f)]
    return tuple(found)


def _field_secrets(f: fields.Field) -> list[tuple[str, ...]]:
    if f.metadata.get("format") == "secret" or f.metadata.get("secret") is True:
        return [()]
    if isinstance(f, fields.Nested):
        inner = _secret_paths(f.schema if isinstance(f.schema, type) else type(f.schema))
        return [("[]", *p) for p in inner] if f.many else list(inner)
    if isinstance(f, fields.List):
        return [("[]", *p) for p in _field_secrets(f.inner)]
    if isinstance(f, fields.Dict) and f.metadata.get("secret") == SECRET_BY_NAME:
        return [("*",)]
    return []


def secret_values(spec: NodeSpec, config: Any) -> Iterator[tuple[str | int, ...]]:
    """The path (keys and list indexes) of every secret value set in a node's config; null and empty values
    are no secrets."""
    for path in secret_paths(spec.config):
        yield from _walk(config, path, ())


def _walk(value: Any, path: tuple[str, ...], at: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    step, rest = path[0], path[1:]
    if step == "[]":
        items = list(enumerate(value)) if isinstance(value, list) else []
    elif step == "*":
        items = [(k, v) for k, v in value.items() if isinstance(k, str) and CREDENTIAL_NAME.search(k)] \
            if isinstance(value, dict) else []
    else:
        items = [(step, value[step])] if isinstance(value, dict) and step in value else []
    for key, item in items:
        if rest:
            yield from _walk(item, rest, (*at, key))
        elif item not in (None, ""):
            yield (*at, key)
