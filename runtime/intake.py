"""Starting runs of deployed flows: webhook routes, webhook/schedule/manual starts with the keys the
flow computes. The run store (runtime/store/runs.py) writes each run before it is enqueued and before
the caller gets an answer, so an accepted message is never lost."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Row

from runtime.models import Flow, WebhookRoute
from runtime.plan import evaluate_key
from runtime.readthrough import ReadThrough
from runtime.store import runs

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
ROUTE = select(WebhookRoute.__table__).where(WebhookRoute.workspace == bindparam("workspace"),
                                             WebhookRoute.path == bindparam("path"),
                                             WebhookRoute.method == bindparam("method"))


class NotFound(LookupError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# Webhook routes per process: a query per request was a sixth of a loaded web process's samples. A deploy or
# undeploy in this process forgets them at once (runtime/deployments.py calls forget_routes); one made in
# another process (another web process) is seen here within ROUTES_FRESH_S, as is a missing route (a 404)
# becoming a route. Rows are immutable tuples: callers cannot change the kept ones.
ROUTES_FRESH_S = 2.0
_routes = ReadThrough(ROUTES_FRESH_S)


def forget_routes() -> None:
    """Call once deploy/undeploy has written routes."""
    _routes.forget()


def find_route(rt: Runtime, workspace: str, path: str, method: str) -> Row:
    """The deployed webhook route (flow_id, version, node_id, respond, timeout_s)."""
    path, method = path.strip("/"), method.upper()

    def load() -> Row | None:
        with rt.reader.connect() as conn:
            return conn.execute(ROUTE, {"workspace": workspace, "path": path, "method": method}).first()

    route = _routes.get((rt.engine.url, rt.settings.database_schema, workspace, path, method), load)
    if route is None:
        raise NotFound("no_webhook", f"no deployed flow listens on {method.upper()} /hooks/{workspace}/{path}")
    return route


def start(rt: Runtime, workspace: str, flow_id: str, version: int, message: Any, *, trigger: str,
          trigger_node: str | None = None, input_text: str | None = None, dry_run: bool = False) -> runs.Started:
    """Store and enqueue a run of a deployed version, with the keys its flow settings compute."""
    keys = rt.keys_for(workspace, flow_id, version, trigger_node)  # never the plan: a big flow's takes seconds
    return runs.start(rt, workspace, flow_id, version, message, trigger=trigger, trigger_node=trigger_node,
                      business_key=evaluate_key(keys.business_key, message),
                      sequence_key=evaluate_key(keys.sequence_key, message), input_text=input_text, dry_run=dry_run)


def start_manual(rt: Runtime, workspace: str, flow_id: str, message: Any = None, version: int | None = None,
                 dry_run: bool = False) -> runs.Started:
    with rt.read_sessions() as s:
        flow = s.get(Flow, (workspace, flow_id))
    if flow is None:
        raise NotFound("not_found", f"no flow {flow_id!r}")
    version = version or flow.deployed_version
    if not version:
        raise NotFound("not_deployed", f"flow {flow_id!r} is not deployed")
    plan = rt.plan_for(workspace, flow_id, version)
    trigger = next((n for n in plan.nodes.values() if n.type == "event.manual"), None) or next(
        (n for n in plan.nodes.values() if n.module.SPEC.trigger), None)
    if message is None and trigger is not None and isinstance(trigger.prepared, dict):
        message = trigger.prepared.get("sample")
    return start(rt, workspace, flow_id, version, message, trigger="manual",
                 trigger_node=trigger.id if trigger else None, dry_run=dry_run)
