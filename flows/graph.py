"""Checks a flow document as a graph against the node specs, returning problems instead of raising,
plus the pure wiring look-ups the runtime plans with. The only module that imports networkx.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Mapping

import networkx as nx
from marshmallow import ValidationError

from flows import document
from flows.problem import ERROR, WARNING, Problem
from flows.spec import NodeSpec

ExpressionCheck = Callable[[str], Problem | None]
REQUIRED_MESSAGE = "Missing data for required field."


def spec_for(specs: Mapping[str, NodeSpec], type_: Any, version: Any = 1) -> NodeSpec | None:
    """The spec of `type_` at `version`: the current one under "type", older ones under "type@version"."""
    if not isinstance(type_, str):
        return None
    older = specs.get(f"{type_}@{version}")
    if older is not None:
        return older
    spec = specs.get(type_)
    return spec if spec is not None and spec.version == version else None


def validate(flow: Any, specs: Mapping[str, NodeSpec], check_expression: ExpressionCheck | None = None) -> list[Problem]:
    """Every problem of `flow`: schema problems alone if it does not load, else the graph and config problems."""
    return checked(flow, specs, check_expression)[1]


def checked(flow: Any, specs: Mapping[str, NodeSpec],
            check_expression: ExpressionCheck | None = None) -> tuple[dict | None, list[Problem]]:
    """`document.load`'s document (None when it does not load) and `validate`'s problems, for a caller that
    needs both: loading a 50,000-node document twice costs half a second."""
    doc = None
    try:
        doc, problems = document.load(flow)
        if doc is None:
            return None, problems
        resolved = {n["id"]: spec_for(specs, n["type"], n["type_version"]) for n in doc["nodes"]}
        problems = []
        for node in doc["nodes"]:
            problems += _node_problems(node, specs, resolved[node["id"]], check_expression)
        edge_problems, wiring = _edge_problems(doc, resolved)
        problems += edge_problems
        problems += _reach_problems(doc, resolved, wiring)
        problems += _cycle_problems(doc, wiring)
        problems += _port_problems(doc, resolved)
        problems += _correlation_problems(doc, check_expression)
        return doc, problems
    except Exception as exc:  # the contract is "never raises"; a bug here must not hide the flow from the canvas
        return doc, [Problem("validator_error", f"The flow could not be checked ({type(exc).__name__}: {exc}).")]


def successors(flow: dict) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(node id, output port) -> [(target node id, input port)], in edge order; disabled nodes receive nothing."""
    nodes = {n.get("id"): n for n in flow.get("nodes") or [] if isinstance(n, dict)}
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for edge in flow.get("edges") or []:
        if not isinstance(edge, dict):
            continue
        src, tgt = nodes.get(edge.get("source")), nodes.get(edge.get("target"))
        if src is None or tgt is None or src.get("disabled") or tgt.get("disabled"):
            continue
        targets = out.setdefault((edge["source"], edge.get("source_port")), [])
        if (edge["target"], edge.get("target_port")) not in targets:  # a duplicate edge must not deliver twice
            targets.append((edge["target"], edge.get("target_port")))
    return out


def triggers(flow: dict, specs: Mapping[str, NodeSpec]) -> list[str]:
    """Ids of the enabled trigger (event) nodes, in document order."""
    found = []
    for node in flow.get("nodes") or []:
        if not isinstance(node, dict) or node.get("disabled"):
            continue
        spec = spec_for(specs, node.get("type"), node.get("type_version", 1))
        if spec is not None and spec.trigger:
            found.append(node["id"])
    return found


def _node_problems(node: dict, specs: Mapping[str, NodeSpec], spec: NodeSpec | None,
                   check_expression: ExpressionCheck | None) -> list[Problem]:
    nid, ntype, version = node["id"], node["type"], node["type_version"]
    if spec is None:
        current = specs.get(ntype)
        if current is None:
            return [Problem("unknown_node_type", f"Unknown node type {ntype!r}.", node=nid)]
        return [Problem("unsupported_type_version",
                        f"{ntype} version {version} is not available (this installation has version {current.version}).",
                        node=nid)]
    # a disabled node may be half configured; say so, but do not block deploy
    severity = WARNING if node.get("disabled") else ERROR
    found = _config_problems(spec.config, spec.expressions, check_expression, _Config(node["config"]))
    return [dataclasses.replace(p, node=nid, severity=severity) for p in found]


class _Config:
    """A node's config as a cache key: equal when its repr is, which for JSON values (what a document
    holds) tells 1 from 1.0 from True and "1" from 1, as the schema does."""
    __slots__ = ("text", "value")

    def __init__(self, value: dict):
        self.text, self.value = repr(value), value

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Config) and self.text == other.text


# Checked configs by content: the canvas validates the whole flow on every edit and save, and a node's
# problems depend on nothing but its config, its type's schema and the expression check. A 50,000-node
# flow re-checks the one node that changed instead of 50,000 schema loads and expression compiles.
@functools.lru_cache(maxsize=65536)
def _config_problems(schema: type, expressions: tuple[str, ...], check_expression: ExpressionCheck | None,
                     key: Any) -> tuple[Problem, ...]:
    config = key.value
    problems = []
    try:
        _schema(schema).load(config)
    except ValidationError as err:
        for path, msg in document.error_paths(err.messages, _schema(schema)):
            code = "config_missing" if msg == REQUIRED_MESSAGE else "config_invalid"
            problems.append(Problem(code, msg, field=path or None))
    except Exception as exc:  # a node schema's own bug must not hide the rest of the flow's problems
        problems.append(Problem("config_invalid", f"The config could not be checked ({type(exc).__name__})."))
    if check_expression is not None:
        for path in expressions:
            for where, source in values_at(config, path):
                if not isinstance(source, str) or not source.strip():
                    continue  # absent or empty optional value; a required one is the config schema's to report
                found = _check(check_expression, source)
                if found is not None:
                    problems.append(dataclasses.replace(found, field=where))
    key.value = None  # the cache keeps this key: its text, not the document's config
    return tuple(problems)


@functools.lru_cache(maxsize=None)
def _schema(schema: type) -> Any:
    return schema()  # one instance per node type: building a marshmallow schema costs more than loading one


def _check(check_expression: ExpressionCheck, source: str) -> Problem | None:
    try:
        return check_expression(source)
    except Exception as exc:
        return Problem("expression_invalid", f"The expression could not be checked ({type(exc).__name__}).")


def _correlation_problems(doc: dict, check_expression: ExpressionCheck | None) -> list[Problem]:
    """The document thread's key expressions (settings.correlation) that do not compile, each named by its field."""
    problems = []
    for kind, source in sorted(((doc.get("settings") or {}).get("correlation") or {}).items()):
        problem = _check(check_expression, source) if check_expression else None
        if problem is not None:
            problems.append(dataclasses.replace(problem, field=f"settings.correlation.{kind}"))
    return problems


def values_at(config: Any, path: str) -> list[tuple[str, Any]]:
    """Concrete (path, value) pairs for a spec path: "rules[].when" -> ("rules[0].when", ...), and
    "headers.*" -> ("headers.Authorization", ...) for every value of an object."""
    if "." not in path and not path.endswith("[]"):  # the common case: a top-level field
        return [(path, config[path])] if isinstance(config, dict) and path in config else []
    found: list[tuple[str, Any]] = [("", config)]
    for part in path.split("."):
        deeper = []
        for where, value in found:
            if not isinstance(value, dict):
                continue
            if part == "*":
                deeper += [(f"{where}.{k}" if where else k, v) for k, v in value.items()]
                continue
            many = part.endswith("[]")
            key = part[:-2] if many else part
            if key not in value:
                continue
            here = f"{where}.{key}" if where else key
            if not many:
                deeper.append((here, value[key]))
            elif isinstance(value[key], list):
                deeper += [(f"{here}[{i}]", item) for i, item in enumerate(value[key])]
        found = deeper
    return found


# The wiring as successors by node, both in document order: plain dicts answer reachability and "is there a
# loop" in a tenth of the time building a networkx graph of 50,000 nodes takes; networkx names the loops.
Wiring = dict[str, dict[str, None]]


def _edge_problems(doc: dict, resolved: dict[str, NodeSpec | None]) -> tuple[list[Problem], Wiring]:
    nodes = {n["id"]: n for n in doc["nodes"]}
    succ: Wiring = {nid: {} for nid in nodes}
    problems: list[Problem] = []
    seen: set[tuple[str, str, str, str]] = set()
    outputs_of: dict[Any, list[str]] = {}
    inputs_of: dict[tuple[str, int], list[str]] = {}
    for edge in doc["edges"]:
        eid, src, tgt = edge["id"], edge["source"], edge["target"]
        dangling = [] if src in nodes and tgt in nodes else [end for end in ("source", "target")
                                                              if edge[end] not in nodes]
        for end in dangling:
            # name the end that does exist, so the canvas can mark the node the loose edge hangs on
            other = edge["target" if end == "source" else "source"]
            problems.append(Problem("dangling_edge", f"Edge {eid!r} {end} {edge[end]!r} is not a node of this flow.",
                                    node=other if other in nodes else None, edge=eid, field=end))
        if dangling:
            continue
        wiring = (src, edge["source_port"], tgt, edge["target_port"])
        if wiring in seen:
            problems.append(Problem("duplicate_edge", f"Edge {eid!r} repeats an edge from {src}.{wiring[1]} "
                                    f"to {tgt}.{wiring[3]}.", edge=eid))
            continue
        seen.add(wiring)
        succ[src][tgt] = None
        src_spec, tgt_spec = resolved[src], resolved[tgt]
        if src_spec is not None:
            # a type's ports, once; a node's own when its config adds some (branch.choice)
            mine = src if src_spec.dynamic_outputs else (src_spec.type, src_spec.version)
            outputs = outputs_of.get(mine)
            if outputs is None:
                outputs = outputs_of[mine] = src_spec.output_names(nodes[src]["config"])
            if edge["source_port"] not in outputs:
                problems.append(Problem("unknown_port", f"Node {src!r} has no output port {edge['source_port']!r} "
                                        f"(it has {', '.join(outputs) or 'none'}).", edge=eid, field="source_port"))
        if tgt_spec is not None and tgt_spec.trigger:
            problems.append(Problem("edge_into_trigger", f"Edge {eid!r} leads into trigger {tgt!r}; "
                                    "a trigger starts a flow and takes no input.", edge=eid, field="target"))
        elif tgt_spec is not None and edge["target_port"] not in (
                inputs_of.get((tgt_spec.type, tgt_spec.version))
                or inputs_of.setdefault((tgt_spec.type, tgt_spec.version), [p.name for p in tgt_spec.inputs])):
            inputs = ", ".join(p.name for p in tgt_spec.inputs) or "none"
            problems.append(Problem("unknown_port", f"Node {tgt!r} has no input port {edge['target_port']!r} "
                                    f"(it has {inputs}).", edge=eid, field="target_port"))
    return problems, succ


def _reach_problems(doc: dict, resolved: dict[str, NodeSpec | None], succ: Wiring) -> list[Problem]:
    disabled = {n["id"] for n in doc["nodes"] if n.get("disabled")}
    starts = [n["id"] for n in doc["nodes"] if resolved[n["id"]] is not None and resolved[n["id"]].trigger]
    enabled = [n for n in starts if n not in disabled]
    if not enabled:
        why = "all its triggers are disabled" if starts else "add an event node such as event.webhook"
        return [Problem("no_trigger", f"The flow has no trigger: {why}.")]
    live_reached = _reachable(succ, enabled, disabled)
    reached: set[str] | None = None  # through disabled nodes too: only asked when a node is not live_reached
    problems = []
    for node in doc["nodes"]:
        nid = node["id"]
        if node.get("disabled") or nid in live_reached:
            continue
        if reached is None:
            reached = _reachable(succ, starts)
        if nid not in reached:
            problems.append(Problem("unreachable_node", f"Node {nid!r} cannot be reached from any trigger.", node=nid))
        else:
            problems.append(Problem("unreachable_node", f"Node {nid!r} is reached only through disabled nodes.",
                                    node=nid, severity=WARNING))
    return problems


def _reachable(succ: Mapping[str, Any], starts: list[str], avoiding: set[str] | frozenset = frozenset()) -> set[str]:
    """`starts` and every node reached from them without passing through `avoiding`: one walk for all
    starts, since a walk per trigger is quadratic in a flow of many triggers."""
    found = set(starts)
    todo = list(found)
    while todo:
        for child in succ[todo.pop()]:
            if child not in found and child not in avoiding:
                found.add(child)
                todo.append(child)
    return found


def _acyclic(succ: Wiring) -> bool:
    """Kahn's algorithm: True when taking away nodes nothing leads into empties the graph."""
    waiting = dict.fromkeys(succ, 0)
    for targets in succ.values():
        for target in targets:
            waiting[target] += 1
    ready = [nid for nid, count in waiting.items() if count == 0]
    taken = 0
    while ready:
        taken += 1
        for target in succ[ready.pop()]:
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return taken == len(succ)


def _cycle_problems(doc: dict, succ: Wiring) -> list[Problem]:
    if _acyclic(succ):  # the usual case
        return []
    graph = nx.DiGraph()
    graph.add_nodes_from(succ)
    graph.add_edges_from((source, target) for source, targets in succ.items() for target in targets)
    order = {n["id"]: i for i, n in enumerate(doc["nodes"])}
    problems = []
    for component in nx.strongly_connected_components(graph):
        first = min(component, key=order.__getitem__)
        if len(component) == 1 and not graph.has_edge(first, first):
            continue
        loop = [u for u, _ in nx.find_cycle(graph.subgraph(component), source=first)]
        path = " -> ".join(loop + [loop[0]])
        problems.append(Problem("cycle", f"The flow loops: {path}. Messages would circle for ever.", node=loop[0]))
    return sorted(problems, key=lambda p: order[p.node])


def _port_problems(doc: dict, resolved: dict[str, NodeSpec | None]) -> list[Problem]:
    """Every output port that can carry a message is wired or explicitly ended (docs/architecture.md).
    Ends by design: a node with no output ports (control.discard, control.respond), `error` (to the
    dead-letter queue), a port the spec marks optional (a connector's answer: the message already left
    the flow) and a port the config switches off (a choice that drops unmatched messages, a lookup that
    keeps unknown keys). Any other unwired port would lose messages without a trace."""
    nodes = {n["id"]: n for n in doc["nodes"]}
    targets: dict[tuple[str, str], list[str]] = {}
    for e in doc["edges"]:
        if e["source"] in nodes and e["target"] in nodes:
            targets.setdefault((e["source"], e["source_port"]), []).append(e["target"])
    problems = []
    for node in doc["nodes"]:
        spec = resolved[node["id"]]
        if spec is None:
            continue
        nid, config = node["id"], node["config"]
        ended = {p.name for p in spec.outputs if p.optional or p.unused(config)}
        for port in spec.output_names(config):
            if port == "error" or port in ended:
                continue
            wired = targets.get((nid, port))
            if wired and (node.get("disabled") or not all(nodes[t].get("disabled") for t in wired)):
                continue  # the common case: wired to a live node; name nothing for it
            field = _route_field(spec, config, port) or port
            where = f"Port {port!r} of {_label(node)}"
            if wired:
                names = ", ".join(dict.fromkeys(_label(nodes[t]) for t in wired))
                problems.append(Problem("unwired_route", f"{where} leads only to disabled {names}: its messages "
                                        "stop there.", node=nid, field=field, severity=WARNING))
            else:
                # a disabled node sends nothing yet; say so, but do not block deploy
                problems.append(Problem("unwired_route", f"{where} leads nowhere: connect it to the next step, "
                                        "or end it with a Discard node (control.discard) that says why.",
                                        node=nid, field=field, severity=WARNING if node.get("disabled") else ERROR))
    return problems


def _label(node: dict) -> str:
    name = node.get("name") or node["id"]
    return repr(name) if name == node["id"] else f"{name!r} ({node['id']})"


def _route_field(spec: NodeSpec, config: dict, port: str) -> str | None:
    key, _, sub = (spec.dynamic_outputs or "").partition("[].")
    items = config.get(key)
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get(sub) == port:
            return f"{key}[{i}].{sub}"
    return None
