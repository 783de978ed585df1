"""The no-code mapper's use cases (issue 13): a mapping compiled to JSONata and read back from it (flows/mapping_*),
a node's mapping context (the upstream output of the flow's saved samples, the source and target schemas), and the
preview of an edited expression over several samples at once beside the deployed version's output."""
from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from designer import drafts
from designer import preview as previews
from designer.errors import ApiError
from flows import canonical, mapping_checks
from flows.graph import spec_for
from flows.mapping_compile import compile_mapping
from flows.mapping_model import problems
from nodes import catalog, expression, mapping_reader, target_schemas
from runtime import deployments, lookups
from runtime.context import StepContext
from runtime.models import Flow
from runtime.plan import Plan, PlanError, compile_for

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_SOURCE = mapping_reader.MAX_SOURCE
MAX_SAMPLES = 5  # samples one preview runs
PREVIEW_RUN_ID = 0


def compile(mapping: Any) -> dict:
    """{"expression", "mapping"} (the mapping in its canonical form); 400 naming the first bad rule."""
    found = problems(mapping)
    if found:
        raise ApiError(400, "invalid_mapping", f"{found[0]['field']}: {found[0]['message']}",
                       [{"field": f"mapping.{p['field']}", "message": p["message"]} for p in found[:20]])
    source = compile_mapping(mapping)
    trouble = expression.check(source)
    if trouble is not None:  # the compiler wrote JSONata that does not compile: a bug, said as such
        raise ApiError(400, "invalid_mapping", f"the mapping compiles to invalid JSONata: {trouble.message}",
                       [{"field": "mapping"}])
    return {"expression": source, "mapping": parse(source)["mapping"]}


def parse(source: Any) -> dict:
    """{"mapping", "editable": true} or {"mapping": null, "editable": false, "note", "position"}."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        raise ApiError(400, "invalid_argument", f"expression is a string of at most {MAX_SOURCE} characters",
                       [{"field": "expression"}])
    return copy.deepcopy(mapping_reader.read(source))


class _DraftPlans:
    """Plans of documents being edited, by their content: the preview of 5 samples walks the same draft on each
    keystroke, and planning a flow compiles every expression in it."""

    def __init__(self, size: int = 32):
        self._plans: OrderedDict[tuple, Plan] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def get(self, rt: Runtime, workspace: str, doc: dict) -> Plan:
        key = (id(rt), workspace, hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest())
        with self._lock:
            if key in self._plans:
                self._plans.move_to_end(key)
                return self._plans[key]
        plan = compile_for(rt, doc, workspace, doc.get("id") or "preview", 0)
        with self._lock:
            self._plans[key] = plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        return plan


_draft_plans = _DraftPlans()


def samples(doc: dict, limit: int = MAX_SAMPLES) -> list[tuple[str, Any]]:
    """The flow's saved samples (name, input), then a manual trigger's sample, the first `limit`."""
    found = list((doc.get("samples") or {}).items()) if isinstance(doc.get("samples"), dict) else []
    for node in doc.get("nodes") or []:
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict) and "sample" in config and str(node.get("type")).startswith("event."):
            found.append((f"{node.get('id')}.sample", config["sample"]))
    return found[:max(0, min(limit, MAX_SAMPLES))]


def _context(rt: Runtime, workspace: str, plan: Plan) -> StepContext:
    return StepContext(workspace=workspace, flow_id=plan.flow_id, flow_version=plan.version, run_id=PREVIEW_RUN_ID,
                       params=plan.params, ledger=previews.NewLedger(), business_key=None,
                       root_run_id=PREVIEW_RUN_ID, on_respond=lambda *_: None,
                       lookups=lambda table, key: lookups.get(rt, workspace, table, key))


def _node(doc: dict, node_id: str) -> dict | None:
    return next((n for n in doc.get("nodes") or [] if isinstance(n, dict) and n.get("id") == node_id), None)


def _document(rt: Runtime, workspace: str, flow_id: str, doc: Any) -> dict:
    if doc is None:
        return drafts.get(rt, workspace, flow_id).document
    if not isinstance(doc, dict):
        raise ApiError(400, "invalid_argument", "document is a flow document", [{"field": "document"}])
    return doc


def _deployed(rt: Runtime, workspace: str, flow_id: str) -> dict | None:
    with rt.read_sessions() as s:
        flow = s.get(Flow, (workspace, flow_id))
        version = flow.deployed_version if flow is not None else None
    return deployments.document(rt, workspace, flow_id, version) if version else None


def context(rt: Runtime, workspace: str, flow_id: str, node_id: str, doc: Any = None) -> dict:
    """What the mapper of node `node_id` shows: the source schema and the upstream output per saved sample, and
    the target schema (flows/mapping_checks decides which)."""
    doc = _document(rt, workspace, flow_id, doc)
    if _node(doc, node_id) is None:
        raise ApiError(404, "not_found", f"the flow has no node {node_id!r}", [{"field": "node_id"}])
    source_record, target_id = mapping_checks.schema_ids(doc, node_id)
    inputs = [r["input"] for r in _inputs(rt, workspace, doc, node_id, samples(doc)) if r["error"] is None]
    target = target_schemas.get(target_id) if target_id else None
    return {"source": {"schema": canonical.describe(source_record) if source_record else None, "samples": inputs},
            "target": {"schema_id": target_id, "schema": target["schema"] if target else None}}


def _inputs(rt: Runtime, workspace: str, doc: dict, node_id: str, chosen: list[tuple[str, Any]]) -> list[dict]:
    """Per sample (name, message) {"sample", "input", "error"}: the message node `node_id` of `doc` receives."""
    if not chosen:
        return []
    try:
        plan = _draft_plans.get(rt, workspace, doc)
    except Exception as err:  # noqa: BLE001 - PlanError, or a document half-edited past what planning expects
        message = str(err) if isinstance(err, PlanError) else f"the flow cannot be planned: {type(err).__name__}"
        return [{"sample": str(name), "input": None, "error": {"code": "not_runnable", "message": message}}
                for name, _ in chosen]
    out = []
    for name, message in chosen:
        try:
            out.append({"sample": name, "input": previews.upstream(plan, node_id, message,
                                                                   _context(rt, workspace, plan)), "error": None})
        except previews.Upstream as why:
            out.append({"sample": name, "input": None, "error": {"code": why.code, "message": why.message}})
    return out


def preview_samples(rt: Runtime, workspace: str, flow_id: str, node_id: str, source: Any, doc: Any = None,
                    field: str | None = None, limit: int = MAX_SAMPLES) -> dict:
    """`source` standing in for the node's mapping on each saved sample's upstream output (up to MAX_SAMPLES),
    beside the deployed version's output of the same node on the same sample, with the target paths that differ."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        raise ApiError(400, "invalid_argument", f"expression is a string of at most {MAX_SOURCE} characters",
                       [{"field": "expression"}])
    doc = _document(rt, workspace, flow_id, doc)
    if _node(doc, node_id) is None:
        raise ApiError(404, "not_found", f"the flow has no node {node_id!r}", [{"field": "node_id"}])
    deployed = _deployed(rt, workspace, flow_id)
    deployed_node = _node(deployed, node_id) if deployed else None
    chosen = samples(doc, limit)  # the edited document's samples, walked through both versions
    before = {r["sample"]: r for r in _inputs(rt, workspace, deployed, node_id, chosen)} if deployed_node else {}
    read = (lambda table, key: lookups.get(rt, workspace, table, key))
    results = []
    for row in _inputs(rt, workspace, doc, node_id, chosen):
        result = {**row, "output": None, "deployed_output": None, "differs": [], "fields": {}}
        if row["error"] is None:
            try:
                result["output"] = _json(previews.preview(workspace, source, row["input"], doc, node_id, field,
                                                          lookups=read)["output"])
            except ApiError as err:
                result["error"] = {"code": err.code, "message": err.message}
        old = before.get(row["sample"])
        if old is not None and old["error"] is None:
            kept = _saved_source(deployed_node, field)
            try:
                result["deployed_output"] = _json(previews.preview(
                    workspace, kept, old["input"], deployed, node_id, field, lookups=read)["output"]) \
                    if kept is not None else None
            except ApiError:
                result["deployed_output"] = None
        result["fields"] = leaves(result["output"])
        if deployed_node is not None and result["error"] is None:
            was = leaves(result["deployed_output"])
            result["differs"] = sorted(k for k in set(result["fields"]) | set(was)
                                       if result["fields"].get(k, _MISSING) != was.get(k, _MISSING))
        results.append(result)
    return {"results": results, "deployed_version": bool(deployed_node)}


_MISSING = object()


def _saved_source(node: dict, field: str | None) -> str | None:
    """The expression the deployed node has in the field previewed."""
    config = node.get("config") if isinstance(node.get("config"), dict) else {}
    spec = spec_for(catalog.specs(), node.get("type"), node.get("type_version", 1))
    if field is None and spec is not None:
        field = spec.preview or (spec.expressions[0] if spec.expressions else None)
    value = config.get(field) if field else None
    return value if isinstance(value, str) else None


def _json(value: Any) -> Any:
    """The output as JSON carries it (a function or NaN in a result would fail the response)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        raise ApiError(422, "mapping_error", "the result holds something JSON cannot carry (a function, NaN)",
                       [{"field": "expression"}]) from None


def leaves(value: Any, prefix: str = "", out: dict | None = None) -> dict:
    """{"shipTo.city": "Columbus", "lines[0].itemNo": "HW-1"}: each scalar of a JSON value by its path."""
    out = {} if out is None else out
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            leaves(inner, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value:
        for i, inner in enumerate(value):
            leaves(inner, f"{prefix}[{i}]", out)
    elif prefix or value is not None:
        out[prefix] = value
    return out
