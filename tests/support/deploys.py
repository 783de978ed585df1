"""Deploying a flow document straight through the runtime, for tests that need no HTTP API in between."""
from __future__ import annotations

from designer import drafts
from runtime import deployments
from runtime.models import Flow


def deploy(rt, workspace: str, doc: dict) -> int:
    """Deploy `doc` (a new version when the flow is there already); its version number."""
    with rt.sessions() as s:
        exists = s.get(Flow, (workspace, doc["id"])) is not None
    if not exists:
        drafts.create(rt, workspace, doc)
    return deployments.deploy(rt, workspace, doc["id"], drafts.load_or_400(doc))
