"""The description of a node type (its SPEC): what the palette, the inspector and the validator read.

It lives in `flows` because it is part of the document model; `nodes` fills one in per node type.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import marshmallow

CATEGORIES = ("event", "connector", "transform", "branch", "control")
# What a config value can name outside the node (flows/references.py checks each against the workspace):
# a connection, a lookup table, a canonical record, a webhook path, or a text template whose {{name}}
# placeholders are flow params.
REFERENCE_KINDS = ("connection", "lookup", "record", "webhook", "template")


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
