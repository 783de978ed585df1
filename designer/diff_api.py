"""HTTP API of the version diff (issue 13): what changed between two versions of a flow, the draft and the
deployed one by default, as the editor's Changes panel shows it (flows/diff.py `version_diff`)."""
from __future__ import annotations

import re

from flask import Blueprint, request

from designer import drafts
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, runtime, workspace
from flows.diff import version_diff
from nodes.expression_tree import tree
from runtime import deployments, secrets

bp = Blueprint("diff_api", __name__, url_prefix="/api/v1")
VERSION = re.compile(r"[0-9]{1,10}\Z")  # ASCII digits only: str.isdigit() takes "²", which int() refuses
EMPTY = {"nodes": [], "edges": []}  # "deployed" of a flow never deployed: everything is new


@bp.get("/flows/<flow_id>/diff")
@requires("flows:read")
def flow_diff(flow_id: str):
    """?from=<version|draft|deployed> (default deployed) &to=<version|draft|deployed> (default draft)."""
    rt, ws = runtime(), workspace()
    f = drafts.get(rt, ws, flow_id)
    sides = {}
    for arg, default in (("from", "deployed"), ("to", "draft")):
        sides[arg] = _side(rt, ws, f, arg, request.args.get(arg) or default)
    return {"flow_id": flow_id, "from": sides["from"][0], "to": sides["to"][0],
            "diff": version_diff(secrets.masked(sides["from"][1]), secrets.masked(sides["to"][1]), tree)}


def _side(rt, ws: str, f, arg: str, ref: str) -> tuple[dict, dict]:
    if ref == "draft":
        return {"ref": "draft", "version": None, "revision": f.revision}, f.document
    if ref == "deployed":
        if f.deployed_version is None:
            return {"ref": "deployed", "version": None}, EMPTY
        version = f.deployed_version
    else:
        if not VERSION.match(ref) or not 1 <= int(ref) <= MAX_ID:
            raise ApiError(400, "invalid_argument", f"{arg} is a version number, draft or deployed", [{"field": arg}])
        version = int(ref)
    doc = deployments.document(rt, ws, f.id, version)
    if doc is None:
        raise ApiError(404, "not_found", f"flow {f.id!r} has no version {version}", [{"field": arg}])
    return {"ref": ref, "version": version}, doc
