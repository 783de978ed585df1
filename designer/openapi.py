"""The two OpenAPI 3.1 documents: Crossdock's own /api/v1, generated with apispec from the routes the app
has and the marshmallow schemas the registry (designer/api_schemas/operations.py) names for them; and a
workspace's experience API, from its published endpoints and the canonical records. Nothing is written by
hand, so the documents follow the code."""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app
from werkzeug.routing import Rule

from designer import access
from designer.api_schemas import common, operations
from flows import canonical, document

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")
OPENAPI_VERSION = "3.1.0"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
SECURITY_SCHEMES = {
    "session": {"type": "apiKey", "in": "cookie", "name": "crossdock_session",
                "description": "POST /api/v1/session sets it; unsafe requests also need the csrf header"},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-Crossdock-CSRF",
             "description": "the csrf_token of the session"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "an API key: cdk_<id>_<random>"},
    "key": {"type": "apiKey", "in": "header", "name": "X-Crossdock-Key", "description": "an API key"},
}
WORKSPACE = {"name": "X-Crossdock-Workspace", "in": "header", "required": False,
             "schema": {"type": "string", "minLength": 1, "maxLength": 64},
             "description": "the workspace acted in; default: the key's, else `default` or the user's first"}


@bp.get("/openapi.json")
@access.public
def openapi_json():
    return v1_document(current_app)


def v1_document(app: Flask) -> dict:
    """The /api/v1 document of this app (built once: the routes do not change after start)."""
    if "crossdock.openapi" not in app.extensions:
        app.extensions["crossdock.openapi"] = build(app)
    return app.extensions["crossdock.openapi"]


def build(app: Flask) -> dict:
    spec = _spec("Crossdock API", "The designer's and operators' HTTP API (docs/api.md). Errors are "
                 '{"error": {"code", "message", "details"}} with a 4xx.')
    spec.components.schema("Error", schema=common.Error)
    spec.components.response("Error", {"description": "refused: the code says why",
                                       "content": {"application/json": {"schema": "Error"}}})
    spec.components.parameter("Workspace", "header", {k: v for k, v in WORKSPACE.items() if k not in ("in",)})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        path, params = _path(rule)
        ops = {}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = operations.OPERATIONS.get((operations.key(path), method))
            if op is not None:  # tests/designer/test_openapi.py names the routes without an entry
                mark = getattr(app.view_functions.get(rule.endpoint), access.ACCESS_MARK, ("login",))
                ops[method.lower()] = _operation(op, method, params, rule.endpoint, mark)
        if ops:
            spec.path(path=path, operations=ops)
    return spec.to_dict()


def _spec(title: str, description: str) -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(title=title, version="1", openapi_version=OPENAPI_VERSION, plugins=[plugin],
                   info={"description": description})
    for cls, kind in ((document.Number, "number"), (document.Integer, "integer"), (document.Boolean, "boolean")):
        plugin.map_to_openapi_type(cls, kind, None)  # flows.document's strict fields are plain Field subclasses
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    return spec


def _path(rule: Rule) -> tuple[str, list[dict]]:
    """`/runs/<int(max=..):run_id>` -> `/runs/{run_id}` and its path parameters, typed as Werkzeug matches."""
    params = []
    for converter, name in _PARAM.findall(rule.rule):
        conv = rule._converters.get(name)
        if converter in ("int",):
            schema: dict[str, Any] = {"type": "integer", "minimum": 0}
            if getattr(conv, "max", None) is not None:
                schema["maximum"] = conv.max
        elif converter == "path":
            schema = {"type": "string", "minLength": 1}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule.rule), params


def _operation(op: operations.Operation, method: str, params: list[dict], endpoint: str, mark: tuple) -> dict:
    """`mark`: what designer.access put on the view: ("public",), ("login",), ("partner_admin",) or
    ("requires", permissions)."""
    out: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "operationId": endpoint.replace(".", "_"),
                           "parameters": list(params), "x-crossdock-access": _access(mark)}
    if mark[0] == "public":
        out["security"] = []
    else:
        session = {"session": [], "csrf": []} if method in UNSAFE else {"session": []}
        keys = [] if mark[0] == "partner_admin" else [{"bearer": []}, {"key": []}]  # keys never act for a partner
        out["security"] = [session, *keys]
        if mark[0] == "requires":  # the views that act in a workspace
            out["parameters"].append("Workspace")  # the component of build()
    for name, header in op.headers.items():
        out["parameters"].append({"name": name, "in": "header", "required": False, **header})
    if op.query is not None:
        out["parameters"].append({"in": "query", "schema": op.query})
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required, "content": _content(op.body)}
    reply: dict[str, Any] = {"description": op.summary}
    if op.reply is not None:
        reply["content"] = _content(op.reply)
    out["responses"] = {str(op.status): reply, "4XX": {"$ref": "#/components/responses/Error"}}
    return out


def _access(mark: tuple) -> str:
    if mark[0] == "requires":
        return " or ".join(mark[1])
    return {"public": "none", "partner_admin": "partner admin"}.get(mark[0], "logged in")


def _content(body: Any) -> dict:
    return body if isinstance(body, dict) else {"application/json": {"schema": body}}


def ext_document(workspace: str, endpoints: list[dict]) -> dict:
    """A workspace's experience API: one POST per published endpoint (name, version, request_record,
    response_record, description), its bodies the canonical records as JSON Schema."""
    spec = _spec(f"{workspace} API", "Published endpoints; each runs a deployed flow. Authenticate with an API "
                 "key of the workspace holding the hooks:write scope.")
    spec.components.schema("Error", schema=common.Error)
    for e in sorted(endpoints, key=lambda e: (e["name"], e["version"])):
        request_schema = _record(spec, e.get("request_record")) or {}
        reply = {"description": "the flow's reply (respond: sync), else the queued run",
                 "content": {"application/json": {"schema": _record(spec, e.get("response_record")) or {}}}}
        error = {"description": "refused", "content": {"application/json": {"schema": "Error"}}}
        spec.path(path=f"/api/ext/{workspace}/v{e['version']}/{e['name']}", operations={"post": {
            "summary": e.get("description") or f"{e['name']} v{e['version']}",
            "operationId": f"{e['name']}_v{e['version']}",
            "tags": [e["name"]],
            "security": [{"bearer": []}, {"key": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": request_schema}}},
            "responses": {"200": reply, "202": {"description": "accepted: the run is queued"},
                          "4XX": error, "5XX": error},
        }})
    return spec.to_dict()


def _record(spec: APISpec, name: str | None) -> dict | None:
    """A reference to the canonical record's JSON Schema, added to the components once."""
    if not name or name not in canonical.RECORDS:
        return None
    component = f"record_{name}"
    if component not in spec.components.schemas:
        described = canonical.describe(name)
        described.pop("$schema", None)  # the document's own dialect (OpenAPI 3.1 = JSON Schema 2020-12)
        described["x-crossdock-record"] = described.pop("$id")
        spec.components.schema(component, described)
    return {"$ref": f"#/components/schemas/{component}"}
