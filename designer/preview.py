"""The mapping preview: a node's expression evaluated the way a run evaluates it, so what the inspector
shows is what the deployed flow will produce.

The node is found in its flow (the saved draft, or the document the editor holds), its params bound with
their values (defaults) as the plan binds them, and `$run` given the run-time shape (nodes.base.bindings).
A node type whose SPEC names a `preview` field (transform.map: "expression") is previewed by its own
prepare and run; any other expression field through the same compile and evaluate helpers its run uses.
"""
from __future__ import annotations

import re
from collections import deque
from typing import Any, Callable, Mapping

from designer.errors import ApiError
from flows.graph import spec_for
from nodes import catalog
from nodes.base import NodeError, Wait, compile_field, evaluate_field
from runtime import dry_runs
from runtime.context import StepContext
from runtime.plan import Plan, param_values

PREVIEW_RUN_ID = "preview"  # a run id is a string at run time too (runtime.context.StepContext)
DRAFT_NODE = {"id": "preview", "type": "transform.map", "type_version": 1, "config": {}}


class PreviewLedger:
    def claim(self, scope: str, key: str, run_id: str) -> str | None:
        raise NodeError("not_previewable", "a preview claims nothing in the ledger")


class PreviewContext:
    """nodes.base.Context for one previewed step: the ids and params a run would have, and no side effects."""

    def __init__(self, workspace: str, flow_id: str | None, node_id: str | None, params: Mapping[str, Any],
                 lookups: Callable[[str, str], Any] | None = None):
        self.workspace, self.flow_id, self.node_id = workspace, flow_id, node_id
        self._lookups = lookups  # the workspace's tables, read-only ($lookup); None: every key is missing
        self.flow_version, self.run_id, self.attempt = 0, PREVIEW_RUN_ID, 1
        self.params = params
        self.ledger = PreviewLedger()

    def idempotency_key(self, business_key: str | None = None) -> str:
        return f"preview:{self.flow_id}:{self.node_id}"

    def respond(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        pass  # nobody waits on a preview

    def connection(self, name: str) -> Mapping[str, Any]:
        raise KeyError(f"a preview calls no connection ({name!r})")

    def lookup(self, table: str, key: str) -> Any:
        return self._lookups(table, key) if self._lookups is not None else None

    def log(self, message: str) -> None:
        pass


def preview(workspace: str, source: str, data: Any, doc: dict | None = None, node_id: str | None = None,
            field: str | None = None, params: Mapping[str, Any] | None = None,
            lookups: Callable[[str, str], Any] | None = None) -> dict:
    """{"output", "engine"} of `source` standing in for `field` of node `node_id` of `doc`, on `data`.
    Without a node, `source` is previewed as a new transform.map; `params` override the flow's values;
    `lookups(table, key)` reads the workspace's tables for `$lookup`."""
    doc = doc or {}
    node = _node(doc, node_id) if node_id is not None else DRAFT_NODE
    spec = spec_for(catalog.specs(), node.get("type"), node.get("type_version", 1))
    if spec is None:
        raise ApiError(400, "invalid_argument", f"node {node['id']!r} has a type this installation does not have",
                       [{"field": "node"}])
    field = field or spec.preview or (spec.expressions[0] if spec.expressions else None)
    if field is None or re.sub(r"\[\d+\]", "[]", field) not in spec.expressions:
        raise ApiError(400, "invalid_argument", f"{spec.type} has no expression field {field!r}", [{"field": "field"}])
    values = {**_param_values(doc), **(params or {})}
    ctx = PreviewContext(workspace, doc.get("id"), node.get("id"), values, lookups)
    try:
        expr = compile_field(source, field, "mapping_error")
        if field == spec.preview:
            output = _run(spec, node, field, source, data, ctx)
        else:
            output = evaluate_field(expr, data, ctx, field, "mapping_error")
    except NodeError as err:
        raise _mapping_error(err, field) from None
    return {"output": output, "engine": expr.engine}


def _param_values(doc: dict) -> dict:
    """The values a run binds (runtime.plan.param_values), from a document the editor may hold half-edited."""
    declared = doc.get("params")
    if not isinstance(declared, dict):
        return {}
    return param_values({"params": {k: v if isinstance(v, dict) else {} for k, v in declared.items()}})


def _node(doc: dict, node_id: str) -> dict:
    for node in doc.get("nodes") or []:
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    raise ApiError(400, "invalid_argument", f"the flow has no node {node_id!r}", [{"field": "node"}])


def _run(spec, node: dict, field: str, source: str, data: Any, ctx: PreviewContext) -> Any:
    """The node's own prepare and run, with the edited expression in place of the saved one."""
    module = catalog.get(spec.type, spec.version)
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    try:
        loaded = catalog.load_config(spec, {**config, field: source})
    except Exception as err:  # noqa: BLE001 - an invalid sibling field (e.g. allow_empty) is the inspector's to show
        raise ApiError(422, "invalid_config", f"the node's config is not valid: {err}", [{"field": field}]) from None
    prepare = getattr(module, "prepare", None)
    prepared = prepare(loaded, ctx) if prepare else loaded
    emitted = list(module.run(prepared, data, ctx))
    return emitted[0][1] if emitted else None


def _mapping_error(err: NodeError, field: str) -> ApiError:
    details = err.details if isinstance(err.details, dict) else {"code": err.code, "message": err.message}
    message = details.get("message") or err.message
    return ApiError(422, "mapping_error", message, [{"field": err.field or field, **details}])


class NewLedger:
    """control.dedupe in a preview: every key is new, so a sample that ran before still reaches the node."""

    def claim(self, scope: str, key: str, run_id: str) -> str | None:
        return None


class Upstream(Exception):
    """A sample does not reach the node through steps a preview may run; `code` and `message` say why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def upstream(plan: Plan, node_id: str, message: Any, ctx: StepContext) -> Any:
    """The message node `node_id` of `plan` receives when `message` enters at its trigger: the steps before it
    run as a dry run runs them (runtime/dry_runs.py: transforms, branches, lookups read, dedupe never claims),
    up to MAX_STEPS; Upstream when the sample goes elsewhere or would pass a node that writes."""
    trigger = next((n.id for n in plan.nodes.values() if n.module.SPEC.trigger), None)
    if trigger is None or trigger == node_id:
        return message
    pending, steps, stopped = deque([(trigger, message)]), 0, []
    while pending:
        current, data = pending.popleft()
        if current == node_id:
            return data
        node = plan.nodes.get(current)
        if node is None:
            continue
        steps += 1
        if steps > dry_runs.MAX_STEPS:
            break
        spec = node.module.SPEC
        if node.type not in dry_runs.PURE_TYPES and not spec.trigger and (
                spec.category not in dry_runs.PURE_CATEGORIES or node.type in dry_runs.NOT_PURE):
            stopped.append(current)
            continue
        try:
            emits = [("out", data)] if spec.trigger and node.type not in dry_runs.PURE_TYPES else \
                list(node.module.run(node.prepared, data, ctx.at(node.id, 1)))
        except (NodeError, Wait) as err:
            raise Upstream("upstream_failed", f"step {current!r} before this node fails on the sample: "
                                              f"{getattr(err, 'message', None) or err}") from None
        except Exception as err:  # noqa: BLE001 - a node's bug fails the preview's sample, as it fails a run
            raise Upstream("upstream_failed", f"step {current!r} crashed: {type(err).__name__}: {err}") from None
        for port, emitted in emits:
            for target, _in_port in plan.targets(node.id, port):
                pending.append((target, emitted))
    if stopped:
        raise Upstream("upstream_side_effect", f"the sample reaches this node only through {stopped[0]!r}, "
                                               f"which calls a system; a preview calls none")
    raise Upstream("not_reached", "the sample does not reach this node (a branch or filter sends it elsewhere)")
