"""Checks what a flow names outside itself against what its workspace has: connections, lookup tables,
webhook paths of other deployed flows, canonical records, and the params its expressions and templates use.

Which config fields name what is SPEC data (NodeSpec.references, NodeSpec.expressions); the workspace is
described as plain data by the caller, so this module does no IO and returns problems instead of raising.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from flows import canonical
from flows.graph import spec_for, values_at
from flows.problem import ERROR, WARNING, Problem
from flows.spec import NodeSpec, Reference

RESERVED = frozenset({"run", "lookup", "convertUnit"})  # bound by the runtime on every step (nodes.base.bindings)
# $lookup("table", key): a table an expression reads (nodes/mapping_functions.py); a missing one gives the default,
# so it is a warning
TABLE_CALL = re.compile(r"""\$lookup\(\s*(["'])([^"'\\]{1,200})\1""")

NameReader = Callable[[str], Iterable[str]]  # the {{params}} a text template uses
# the $names a JSONata source reads and does not bind itself; it may leave out those in the given set (the params)
VariableReader = Callable[[str, frozenset[str]], Iterable[str]]


@dataclass(frozen=True)
class Workspace:
    """What a workspace offers to reference. None for a kind means "not known here": that kind is not checked."""

    name: str
    # connection names; as a mapping, name -> its system ("erp"), so a node can be told it calls the wrong one
    connections: Mapping[str, str | None] | frozenset[str] | None = field(default=None, hash=False)
    lookups: frozenset[str] | None = None  # tables with at least one row (the store keeps no empty tables)
    # (METHOD, path without slashes) -> id of the flow whose deployed version routes it
    webhooks: Mapping[tuple[str, str], str] | None = field(default=None, hash=False)


def check(flow: Any, specs: Mapping[str, NodeSpec], workspace: Workspace | None = None, *,
          variables: VariableReader | None = None, placeholders: NameReader | None = None) -> list[Problem]:
    """Every reference of `flow` that does not resolve. Params (via `variables` for JSONata and
    `placeholders` for text templates) and records need no workspace; connections, lookup tables and
    webhook paths are checked only against a `workspace` that lists them."""
    try:
        if not isinstance(flow, dict) or not isinstance(flow.get("nodes"), list):
            return []  # a malformed document is flows.graph's to report
        declared = flow.get("params")
        params = frozenset(declared if isinstance(declared, dict) else ()) | RESERVED
        read = None if variables is None else functools.partial(_names, lambda source: variables(source, params))
        found: list[Problem] = []
        for node in flow["nodes"]:
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                continue
            spec = spec_for(specs, node.get("type"), node.get("type_version", 1))
            config = node.get("config") or {}
            if spec is None or not isinstance(config, dict) or not (spec.references or spec.expressions):
                continue
            here = _node(flow.get("id"), node["id"], config, spec, params, workspace, read, placeholders)
            if here and node.get("disabled"):  # a disabled node runs nothing: say so, but do not block deploy
                here = [dataclasses.replace(p, severity=WARNING) for p in here]
            found += here
        return found
    except Exception as exc:  # the contract is "never raises"
        return [Problem("validator_error", f"The flow's references could not be checked ({type(exc).__name__}: "
                                           f"{exc}).")]


def _node(flow_id: Any, nid: str, config: dict, spec: NodeSpec, params: frozenset[str],
          workspace: Workspace | None, read: Callable[[str], set[str]] | None, placeholders: NameReader | None
          ) -> list[Problem]:
    problems: list[Problem] = []
    for path, ref in spec.references.items():
        for where, value in values_at(config, path):
            if not isinstance(value, str) or not value:
                continue  # absent or empty: the config schema reports a required one
            problem = _resolve(flow_id, ref, value, config, params, workspace, placeholders)
            if problem is not None:
                problems.append(Problem(problem[0], problem[1], node=nid, field=where,
                                        severity=_severity(ref, spec, config)))
    if workspace is not None and workspace.lookups is not None:  # $lookup("table", key) of the mapper
        for path in spec.expressions:
            for where, source in values_at(config, path):
                for table in sorted({m[1] for m in TABLE_CALL.findall(source)} if isinstance(source, str) else ()):
                    if table not in workspace.lookups:
                        problems.append(Problem("unknown_lookup", _missing("lookup table", table, workspace.lookups,
                                                                           " (or it has no rows)"),
                                                node=nid, field=where, severity=WARNING))
    if read is not None:
        for path in spec.expressions:
            for where, source in values_at(config, path):
                if not isinstance(source, str) or not source.strip():
                    continue
                for name in sorted(read(source) - params):
                    problems.append(Problem("unknown_param", _param_message(f"${name}", name, params), node=nid,
                                            field=where))
    return problems


def _resolve(flow_id: Any, ref: Reference, value: str, config: dict, params: frozenset[str],
             workspace: Workspace | None, placeholders: NameReader | None) -> tuple[str, str] | None:
    """(code, message) when `value` names nothing, else None."""
    if ref.kind == "connection" and workspace is not None and workspace.connections is not None:
        if value not in workspace.connections:
            return "unknown_connection", _missing("connection", value, workspace.connections)
        system = workspace.connections.get(value) if isinstance(workspace.connections, Mapping) else None
        if ref.systems and system and system not in ref.systems:
            return "connection_system", (f"connection {value!r} is for the {system.upper()}; this node calls "
                                         f"the {ref.systems[0].upper()}")
    elif ref.kind == "lookup" and workspace is not None and workspace.lookups is not None:
        if value not in workspace.lookups:
            return "unknown_lookup", _missing("lookup table", value, workspace.lookups, " (or it has no rows)")
    elif ref.kind == "record":
        if value not in canonical.RECORDS:
            return "unknown_record", _missing("canonical record", value, canonical.RECORDS, "", "")
    elif ref.kind == "webhook" and workspace is not None and workspace.webhooks is not None:
        route = (str(config.get("method") or "POST").upper(), value.strip("/"))
        owner = workspace.webhooks.get(route)
        if owner is not None and owner != flow_id:
            return "webhook_taken", (f"{route[0]} /hooks/{workspace.name}/{route[1]} is already used by deployed "
                                     f"flow {owner!r}")
    elif ref.kind == "template" and placeholders is not None:
        unknown = sorted(_names(placeholders, value) - params)
        if unknown:
            return "unknown_param", _param_message("{{" + unknown[0] + "}}", unknown[0], params)
    return None


def _missing(what: str, value: str, have: Iterable[str], note: str = "", where: str = " in this workspace") -> str:
    close = difflib.get_close_matches(value, sorted(have), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no {what} {value!r}{where}{note}{hint}"


def _param_message(used: str, name: str, params: frozenset[str]) -> str:
    declared = sorted(params - RESERVED)
    close = difflib.get_close_matches(name, declared, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (it has {', '.join(declared)})" if declared else ""
    return f"{used} is not a param of this flow{hint}"


def _names(reader: NameReader, text: str) -> set[str]:
    try:
        return set(reader(text))
    except Exception:  # noqa: BLE001 - a text that does not parse is the config or expression check's to report
        return set()


def _severity(ref: Reference, spec: NodeSpec, config: dict) -> str:
    if ref.lenient_when is None:
        return ERROR
    key, values = ref.lenient_when
    try:
        loaded = spec.config().load(config)  # the field's default counts when the config leaves it out
    except Exception:  # noqa: BLE001 - an invalid config: judge by what it says
        loaded = config
    return WARNING if loaded.get(key) in values else ERROR
