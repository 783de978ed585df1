"""HTTP API of templates: the gallery list (bundled, the partner's and imported, with the flows installed from
each and their version), one bundle, import with parameter values, the export of a flow as a bundle, a partner's
publishing of a new template version, and the three-way upgrade of an installed flow (preview, then write)."""
from __future__ import annotations

from flask import Blueprint, g

from designer import access, template_upgrades, templates
from designer.access import requires, requires_partner_admin
from designer.errors import ApiError
from designer.request_context import MAX_ID, body, int_arg, runtime, workspace
from runtime import partners

bp = Blueprint("templates_api", __name__, url_prefix="/api/v1")


@bp.get("/templates")
@requires("flows:read")
def list_templates():
    return {"templates": templates.list_templates(runtime(), workspace())}


@bp.get("/templates/<template_id>")
@requires("flows:read")
def get_template(template_id: str):
    return templates.get(runtime(), workspace(), template_id)


@bp.post("/templates/import")
@requires("flows:write")
def import_template():
    """Body: {"bundle": {...}} or {"template": "<id>"} (a gallery template), with optional "params",
    "flow_id" (install under another id) and "connections" (name -> base_url and auth)."""
    rt, ws = runtime(), workspace()
    args = body()
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", "the body is a JSON object", [{"field": "bundle"}])
    flow_id = args.get("flow_id")
    if flow_id is not None and not isinstance(flow_id, str):
        raise ApiError(400, "invalid_argument", "flow_id must be a string", [{"field": "flow_id"}])
    conns = args.get("connections") or {}
    if not isinstance(conns, dict):
        raise ApiError(400, "invalid_argument", "connections must be an object", [{"field": "connections"}])
    options = {"flow_id": flow_id, "connection_values": conns}
    if "bundle" in args:
        result = templates.import_bundle(rt, ws, args["bundle"], args.get("params"), **options)
    elif isinstance(args.get("template"), str):
        result = templates.install(rt, ws, templates.get(rt, ws, args["template"]), args.get("params"), **options)
    else:
        raise ApiError(400, "invalid_argument", "give a bundle or the id of a template", [{"field": "bundle"}])
    return result, 201


@bp.get("/flows/<flow_id>/export")
@requires("flows:read")
def export_flow(flow_id: str):
    bundle = templates.export(runtime(), workspace(), flow_id)
    # a partner's template goes out under the partner's brand (a white-labelled one never names Crossdock)
    brand = partners.branding_for(runtime(), g.principal.partner_id)
    bundle["publisher"] = {"name": brand["product_name"], "support": brand["support"]}
    return bundle, 200, {"Content-Disposition": f'attachment; filename="{flow_id}.template.json"'}


@bp.post("/templates/publish")
@requires_partner_admin
def publish_template():
    """A new version of a partner template, seen in the gallery of every workspace of the partner. Body:
    {"bundle": {...}} or {"flow_id": "..."} (a flow of the request's workspace), optional "template_id"."""
    rt, who = runtime(), g.principal
    args = body()
    ws = access.resolve_workspace(who) if isinstance(args, dict) and "bundle" not in args else ""
    return template_upgrades.publish(rt, who.partner_id, who.actor, ws, args), 201


@bp.get("/flows/<flow_id>/upgrade")
@requires("flows:read")
def preview_upgrade(flow_id: str):
    """What upgrading the flow to its template's newest version (or ?to=<version>) would change, and the
    conflicts a person resolves; writes nothing."""
    to = int_arg("to", minimum=1, maximum=MAX_ID)
    return template_upgrades.preview(runtime(), workspace(), flow_id, to)


@bp.post("/flows/<flow_id>/upgrade")
@requires("flows:write")
def upgrade_flow(flow_id: str):
    """Body: {"to_version", "revision", "resolutions": {conflict id: "ours"|"theirs"}}; 409 while a conflict is
    unresolved or the draft changed since the preview."""
    return template_upgrades.upgrade(runtime(), workspace(), flow_id, body())
