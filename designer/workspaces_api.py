"""HTTP API of a partner's customer workspaces: the caller's list, and for partner admins create (with a
template installed in the same step), rename, suspend or activate, settings, delete (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, g

from designer import templates
from designer.access import requires_login, requires_partner_admin
from designer.errors import ApiError
from designer.request_context import body, runtime
from runtime import tenancy

bp = Blueprint("workspaces_api", __name__, url_prefix="/api/v1/workspaces")
STATUS = {"invalid": 400, "not_found": 404, "conflict": 409}


def api_error(err: tenancy.Refused) -> ApiError:
    return ApiError(STATUS[err.kind], err.code, err.message, [{"field": err.field}] if err.field else [])


@bp.errorhandler(tenancy.Refused)
def _refused(err: tenancy.Refused):
    e = api_error(err)
    return e.to_dict(), e.status


@bp.get("")
@requires_login
def list_workspaces():
    who = g.principal
    return {"workspaces": tenancy.list_workspaces(runtime(), who.partner_id, dict(who.roles))}


@bp.post("")
@requires_partner_admin
def create_workspace():
    """Body: {"id", "name", "template"?: a gallery template id, "params"?: its parameter values}."""
    rt, who, args = runtime(), g.principal, body()
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", "the body is a JSON object", [{"field": "id"}])
    unknown = sorted(set(args) - {"id", "name", "template", "params"})
    if unknown:
        raise ApiError(400, "invalid_argument", f"no field {unknown[0]!r} here", [{"field": unknown[0]}])
    setup = None
    if args.get("template") is not None:
        bundle, params = _template(rt, args["template"], dict(who.roles)), args.get("params")
        setup = lambda ws: [templates.install(rt, ws, bundle, params)["flow_id"]]  # noqa: E731
    elif args.get("params") is not None:
        raise ApiError(400, "invalid_argument", "params go with a template", [{"field": "params"}])
    workspace, installed = tenancy.create(rt, who.partner_id, args.get("id"), args.get("name"), setup)
    return {"workspace": workspace, "installed": installed}, 201


@bp.patch("/<workspace>")
@requires_partner_admin
def update_workspace(workspace: str):
    return {"workspace": tenancy.update(runtime(), g.principal.partner_id, workspace, body())}


@bp.delete("/<workspace>")
@requires_partner_admin
def delete_workspace(workspace: str):
    tenancy.remove(runtime(), g.principal.partner_id, workspace)
    return "", 204


def _template(rt, template_id, workspaces: dict) -> dict:
    """A bundled template, or one imported into a workspace of the partner; 404 otherwise."""
    if not isinstance(template_id, str):
        raise ApiError(400, "invalid_argument", "template is the id of a template", [{"field": "template"}])
    for bundle in templates.bundled():
        if bundle["id"] == template_id:
            return bundle
    for ws in sorted(workspaces):  # the partner's own: another partner's imports stay theirs
        try:
            return templates.get(rt, ws, template_id)
        except ApiError:
            continue
    raise ApiError(404, "not_found", f"no template {template_id!r}", [{"field": "template"}])
