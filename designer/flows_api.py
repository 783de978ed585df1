"""HTTP API for flow drafts, validation, deployment and versions (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, g, request

from designer import drafts, references
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, body, refuse_nul, runtime, workspace
from flows import edit_scope
from flows.problem import errors
from runtime import deployments, secrets
from runtime.models import utcnow

bp = Blueprint("flows_api", __name__, url_prefix="/api/v1/flows")
bp.before_request(refuse_nul)


@bp.get("")
@requires("flows:read")
def list_flows():
    return {"flows": drafts.list_flows(runtime(), workspace())}


@bp.post("")
@requires("flows:write")
def create_flow():
    rt, ws = runtime(), workspace()
    f = drafts.create(rt, ws, body())
    return drafts.detail(f, references.workspace_of(rt, ws)), 201, {"ETag": f'"{f.revision}"'}


@bp.post("/validate")
@requires("flows:read")
def validate_flow():
    """Would this document deploy here? References are checked against the caller's workspace; with
    ?draft=true they are warnings, as on a saved draft (the editor checks as you type)."""
    rt, ws = runtime(), workspace()
    draft = request.args.get("draft", "").lower() in ("1", "true", "yes")
    problems = drafts.check(body(), references.workspace_of(rt, ws), draft=draft)
    return {"valid": not errors(problems), "problems": [p.to_dict() for p in problems]}


@bp.get("/<flow_id>")
@requires("flows:read")
def get_flow(flow_id: str):
    rt, ws = runtime(), workspace()
    f = drafts.get(rt, ws, flow_id)
    return drafts.detail(f, references.workspace_of(rt, ws)), 200, {"ETag": f'"{f.revision}"'}


@bp.put("/<flow_id>")
@requires("flows:write", "mappings:write")
def save_flow(flow_id: str):
    """A mapper (mappings:write without flows:write) may save only mapping, lookup and sample edits."""
    rt, ws = runtime(), workspace()
    doc = body()
    if not g.principal.can(ws, "flows:write"):
        problems = edit_scope.beyond_mapping(drafts.get(rt, ws, flow_id).document, doc)
        if problems:
            raise ApiError(403, "forbidden", "this role may change mappings, lookups and samples only",
                           [{"permission": "flows:write", **p.to_dict()} for p in problems])
    f = drafts.save(rt, ws, flow_id, doc, _if_match())
    return drafts.detail(f, references.workspace_of(rt, ws)), 200, {"ETag": f'"{f.revision}"'}


@bp.delete("/<flow_id>")
@requires("flows:write")
def delete_flow(flow_id: str):
    drafts.remove(runtime(), workspace(), flow_id)
    return "", 204


@bp.post("/<flow_id>/deploy")
@requires("flows:write")
def deploy_flow(flow_id: str):
    rt, ws = runtime(), workspace()
    args = body(required=False) or {}
    version = args.get("version") if isinstance(args, dict) else None
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):  # JSON true is no version
        raise ApiError(400, "invalid_argument", "version must be an integer", [{"field": "version"}])
    f = drafts.get(rt, ws, flow_id)
    if version is not None and not 1 <= version <= MAX_ID:
        raise ApiError(404, "not_found", f"flow {flow_id!r} has no version {version}", [{"field": "version"}])
    doc = None
    if version is None:  # roll-forward from the draft: refuse while it has errors
        doc = f.document
        _refuse_problems(errors(drafts.check(doc, references.workspace_of(rt, ws))))
    else:  # a rollback passed its graph checks once; what it names must still be there
        old = deployments.document(rt, ws, flow_id, version)
        if old is not None:
            _refuse_problems(errors(references.check(old, references.workspace_of(rt, ws))))
    try:
        deployed = deployments.deploy(rt, ws, flow_id, doc, version)
    except deployments.DeployConflict as err:
        raise ApiError(409, "webhook_taken", str(err), [p.to_dict() for p in err.problems]) from None
    except LookupError:
        raise ApiError(404, "not_found", f"flow {flow_id!r} has no version {version}", [{"field": "version"}]) from None
    return {"flow_id": flow_id, "version": deployed, "deployed_at": deployments.iso(utcnow())}, 201


@bp.post("/<flow_id>/undeploy")
@requires("flows:write")
def undeploy_flow(flow_id: str):
    rt, ws = runtime(), workspace()
    drafts.get(rt, ws, flow_id)
    deployments.undeploy(rt, ws, flow_id)
    return {"flow_id": flow_id, "deployed_version": None}


@bp.get("/<flow_id>/versions")
@requires("flows:read")
def list_versions(flow_id: str):
    rt, ws = runtime(), workspace()
    drafts.get(rt, ws, flow_id)
    return {"versions": deployments.versions(rt, ws, flow_id)}


@bp.get("/<flow_id>/versions/<int(max=2147483647):version>")
@requires("flows:read")
def get_version(flow_id: str, version: int):
    doc = deployments.document(runtime(), workspace(), flow_id, version)
    if doc is None:
        raise ApiError(404, "not_found", f"flow {flow_id!r} has no version {version}")
    return {"flow": secrets.masked(doc), "version": version}


def _refuse_problems(problems: list) -> None:
    # a webhook path another flow took is decided by deployments.deploy under its lock: 409 webhook_taken
    problems = [p for p in problems if p.code != "webhook_taken"]
    if problems:
        raise ApiError(422, "validation_failed", f"the flow has {len(problems)} problem(s); fix them to deploy",
                       [p.to_dict() for p in problems])


def _if_match() -> int | None:
    raw = request.headers.get("If-Match")
    if not raw or raw.strip() == "*":  # "*": whatever revision is current (RFC 9110)
        return None
    try:
        return int(raw.strip().strip('W/').strip('"'))
    except ValueError:
        raise ApiError(400, "invalid_argument", "If-Match must be a revision number", [{"field": "If-Match"}]) from None
