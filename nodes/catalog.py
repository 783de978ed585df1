"""The list of node types, one line per module (no scanning), and what the palette and runtime read from it.

A breaking change to a node type adds a new module version; the old one moves to RETIRED and keeps
running the flows that were deployed with it.
"""
from __future__ import annotations

from types import ModuleType
from typing import Any

from flows.spec import NodeSpec, Port
from nodes import (
    branch_choice,
    branch_filter,
    connector_erp,
    connector_file,
    connector_http,
    connector_oms,
    connector_sql,
    connector_tms,
    connector_wms,
    control_dead_letter,
    control_dedupe,
    control_discard,
    control_emit,
    control_respond,
    control_throttle,
    control_wait,
    edi_read,
    edi_write,
    event_file,
    event_manual,
    event_poll,
    event_schedule,
    event_subscribe,
    event_webhook,
    transform_aggregate,
    transform_conform,
    transform_lookup,
    transform_map,
    transform_set,
    transform_split,
)
from flows.jsonschema import json_schema

# The current version of each node type, in palette order.
TYPES: dict[str, ModuleType] = {
    "event.webhook": event_webhook,
    "event.manual": event_manual,
    "event.schedule": event_schedule,
    "event.poll": event_poll,
    "event.file": event_file,
    "event.subscribe": event_subscribe,
    "connector.http": connector_http,
    "connector.sql": connector_sql,
    "connector.file": connector_file,
    "connector.erp": connector_erp,
    "connector.oms": connector_oms,
    "connector.wms": connector_wms,
    "connector.tms": connector_tms,
    "edi.read": edi_read,
    "edi.write": edi_write,
    "transform.map": transform_map,
    "transform.set": transform_set,
    "transform.conform": transform_conform,
    "transform.lookup": transform_lookup,
    "transform.split": transform_split,
    "transform.aggregate": transform_aggregate,
    "branch.choice": branch_choice,
    "branch.filter": branch_filter,
    "control.dedupe": control_dedupe,
    "control.dead_letter": control_dead_letter,
    "control.respond": control_respond,
    "control.discard": control_discard,
    "control.emit": control_emit,
    "control.throttle": control_throttle,
    "control.wait": control_wait,
}

# Older versions still executed for flows deployed with them; none yet.
RETIRED: tuple[ModuleType, ...] = ()

_VERSIONS: dict[tuple[str, int], ModuleType] = {
    (m.SPEC.type, m.SPEC.version): m for m in (*RETIRED, *TYPES.values())
}


def specs() -> dict[str, NodeSpec]:
    """The current SPEC of every node type, by type id (what flows.validate takes)."""
    return {name: module.SPEC for name, module in TYPES.items()}


def get(type_: str, version: int | None = None) -> ModuleType:
    """The module of a node type at `version` (default: current); KeyError when there is none."""
    if version is None:
        return TYPES[type_]
    try:
        return _VERSIONS[(type_, version)]
    except KeyError:
        raise KeyError(f"{type_} version {version}") from None


def describe(spec: NodeSpec) -> dict[str, Any]:
    """A node type as the palette receives it (GET /api/v1/node-types, docs/api.md)."""
    return {
        "type": spec.type,
        "version": spec.version,
        "category": spec.category,
        "title": spec.title,
        "description": spec.description,
        "icon": spec.icon,
        "inputs": [_port(p) for p in spec.inputs],
        "outputs": [_port(p) for p in spec.outputs],
        "dynamic_outputs": spec.dynamic_outputs,
        "expressions": list(spec.expressions),
        "references": {path: ref.kind for path, ref in spec.references.items()},  # the inspector offers choices
        "preview": spec.preview,
        "summary": spec.summary,  # the canvas renders it under the title (flows/spec.py)
        "config_schema": json_schema(spec.config),
    }


def load_config(spec: NodeSpec, config: dict | None) -> dict:
    """The config with defaults filled in; marshmallow.ValidationError (messages by field) when invalid."""
    return spec.config().load(config or {})


def _port(port: Port) -> dict[str, Any]:
    return {"name": port.name, "label": port.label, "record": port.record, "optional": port.optional}
