"""The mapping preview: a node's expression evaluated the way a run evaluates it, so what the inspector
shows is what the deployed flow will produce.

The node is found in its flow (the saved draft, or the document the editor holds), its params bound with
their values (defaults) as the plan binds them, and `$run` given the run-time shape (nodes.base.bindings).
A node type whose SPEC names a `preview` field (transform.map: "expression") is previewed by its own
prepare and run; any other expression field through the same compile and evaluate helpers its run uses.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

from designer.errors import ApiError
from flows.graph import spec_for
from nodes import catalog
from nodes.base import NodeError, compile_field, evaluate_field
from runtime.plan import param_values

PREVIEW_RUN_ID = "preview"  # a run id is a string at run time too (runtime.context.StepContext)
DRAFT_NODE = {"id": "preview", "type": "transform.map", "type_version": 1, "config": {}}


class PreviewLedger:
    def claim(self, scope: str, key: str, run_id: str) -> str | None:
        raise NodeError("not_previewable", "a preview claims nothing in the ledger")


class PreviewContext:
    """nodes.base.Context for one previewed step: the ids and params a run would have, and no side effects."""

    def __init__(self, workspace: str, flow_id: str | None, node_id: str | None, params: Mapping[str, Any]):
        self.workspace, self.flow_id, self.node_id = workspace, flow_id, node_id
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
        return None

    def log(self, message: str) -> None:
        pass


def preview(workspace: str, source: str, data: Any, doc: dict | None = None, node_id: str | None = None,
            field: str | None = None, params: Mapping[str, Any] | None = None) -> dict:
    """{"output", "engine"} of `source` standing in for `field` of node `node_id` of `doc`, on `data`.
    Without a node, `source` is previewed as a new transform.map; `params` override the flow's values."""
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
    ctx = PreviewContext(workspace, doc.get("id"), node.get("id"), values)
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
