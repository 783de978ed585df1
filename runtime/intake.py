"""Starting runs: webhook, manual and replay. A run is written to the database before it is
enqueued and before the caller gets an answer, so an accepted message is never lost."""
from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select

from runtime.models import Flow, Run, WebhookRoute
from runtime.plan import evaluate_key
from runtime.states import RunStatus

log = logging.getLogger(__name__)


class NotFound(LookupError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def find_route(rt, workspace: str, path: str, method: str) -> WebhookRoute:
    with rt.sessions() as s:
        route = s.get(WebhookRoute, (workspace, path.strip("/"), method.upper()))
    if route is None:
        raise NotFound("no_webhook", f"no deployed flow listens on {method.upper()} /hooks/{workspace}/{path}")
    return route


def start(rt, workspace: str, flow_id: str, version: int, message: Any, *, trigger: str,
          trigger_node: str | None = None, replay_of: int | None = None, start_node: str | None = None) -> Run:
    keys = rt.keys_for(workspace, flow_id, version)  # never the plan: a big flow's takes seconds to build
    run = Run(workspace=workspace, flow_id=flow_id, version=version, status=RunStatus.QUEUED.value,
              trigger=trigger, trigger_node=trigger_node, input=message, attempt=0, replay_of=replay_of,
              start_node=start_node, business_key=evaluate_key(keys.business_key, message),
              sequence_key=evaluate_key(keys.sequence_key, message))
    with rt.sessions.begin() as s:
        s.add(run)
    rt.events.publish("run.queued", {"workspace": workspace, "flow_id": flow_id, "run_id": run.id,
                                     "version": version, "status": "queued", "business_key": run.business_key})
    try:
        rt.queue.enqueue_run(run.id)
    except Exception as err:  # queue down: the run is stored `queued`; maintenance (jobs.requeue_lost) enqueues it
        log.warning("run %s accepted but not enqueued (%s: %s); it waits queued until the queue answers",
                    run.id, type(err).__name__, err)
    return run


def start_manual(rt, workspace: str, flow_id: str, message: Any = None, version: int | None = None) -> Run:
    with rt.sessions() as s:
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
                 trigger_node=trigger.id if trigger else None)


def wait_reply(rt, run_id: int, timeout_s: float) -> dict | None:
    """The reply a `control.respond` step stored, or None when the run did not give one in time."""
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while True:
        with rt.sessions() as s:
            reply, status = s.execute(select(Run.reply, Run.status).where(Run.id == run_id)).one()
        if reply is not None:
            return reply
        if status in (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value, RunStatus.CANCELED.value,
                      RunStatus.DEAD_LETTERED.value) or time.monotonic() >= deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)
