"""Deploying and undeploying flows: immutable numbered versions and the webhook routes they own.

Deploying never touches a running run: runs are pinned to the version they started on.
"""
from __future__ import annotations

from sqlalchemy import delete, func, select, update

from flows.problem import Problem
from runtime import intake
from runtime.models import Flow, FlowVersion, WebhookRoute
from runtime.plan import compile_for


class DeployConflict(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def deploy(rt, workspace: str, flow_id: str, document: dict | None = None, version: int | None = None) -> int:
    """Make `document` the next version (or re-deploy an existing `version`) and route its webhooks."""
    with rt.sessions.begin() as s:
        flow = s.get(Flow, (workspace, flow_id), with_for_update=True)
        if flow is None:
            raise LookupError(flow_id)
        if version is None:
            version = (s.scalar(select(func.max(FlowVersion.version)).where(
                FlowVersion.workspace == workspace, FlowVersion.flow_id == flow_id)) or 0) + 1
            s.add(FlowVersion(workspace=workspace, flow_id=flow_id, version=version, document=document))
        else:
            row = s.get(FlowVersion, (workspace, flow_id, version))
            if row is None:
                raise LookupError(f"{flow_id} version {version}")
            document = row.document
        s.flush()
        routes = _routes(document)
        taken = s.execute(select(WebhookRoute).where(
            WebhookRoute.workspace == workspace, WebhookRoute.flow_id != flow_id,
            WebhookRoute.path.in_([r["path"] for r in routes]))).scalars().all()
        clashes = [r for r in routes for t in taken if (t.path, t.method) == (r["path"], r["method"])]
        if clashes:
            raise DeployConflict([Problem("webhook_taken", f"{c['method']} /hooks/{workspace}/{c['path']} is already "
                                                           f"used by another deployed flow", node=c["node_id"],
                                          field="path") for c in clashes])
        s.execute(delete(WebhookRoute).where(WebhookRoute.workspace == workspace, WebhookRoute.flow_id == flow_id))
        for r in routes:
            s.add(WebhookRoute(workspace=workspace, flow_id=flow_id, version=version, **r))
        s.execute(update(Flow).where(Flow.workspace == workspace, Flow.id == flow_id).values(
            deployed_version=version))
    intake.forget_routes()  # webhook routes this process keeps (other processes see them within 2 s)
    rt.events.publish("flow.deployed", {"workspace": workspace, "flow_id": flow_id, "version": version})  # monitors
    # planned now, in the background, so neither the answer to this deploy nor the first webhook waits for it
    rt.plans.warm((workspace, flow_id, version), lambda: compile_for(rt, document, workspace, flow_id, version))
    return version


def undeploy(rt, workspace: str, flow_id: str) -> None:
    with rt.sessions.begin() as s:
        s.execute(delete(WebhookRoute).where(WebhookRoute.workspace == workspace, WebhookRoute.flow_id == flow_id))
        s.execute(update(Flow).where(Flow.workspace == workspace, Flow.id == flow_id).values(deployed_version=None))
    intake.forget_routes()


def versions(rt, workspace: str, flow_id: str) -> list[dict]:
    with rt.sessions() as s:
        deployed = s.scalar(select(Flow.deployed_version).where(Flow.workspace == workspace, Flow.id == flow_id))
        rows = s.execute(select(FlowVersion.version, FlowVersion.created_at).where(
            FlowVersion.workspace == workspace, FlowVersion.flow_id == flow_id).order_by(
            FlowVersion.version.desc())).all()
    return [{"version": v, "created_at": iso(c), "deployed": v == deployed} for v, c in rows]


def _routes(document: dict) -> list[dict]:
    routes = []
    for node in document.get("nodes", []):
        if node.get("type") == "event.webhook" and not node.get("disabled"):
            cfg = node.get("config") or {}
            routes.append({"path": str(cfg.get("path", "")).strip("/"), "method": str(cfg.get("method", "POST")).upper(),
                           "node_id": node["id"], "respond": cfg.get("respond", "async"),
                           "timeout_s": float(cfg.get("timeout_s", 30))})
    return routes


def iso(value) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None




def document(rt, workspace: str, flow_id: str, version: int) -> dict | None:
    with rt.sessions() as s:
        row = s.get(FlowVersion, (workspace, flow_id, version))
    return row.document if row else None
