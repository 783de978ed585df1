"""Experience APIs: a deployed flow with a webhook trigger published as a versioned endpoint of the
customer's own API, `/api/ext/<workspace>/v<version>/<name>` (web/ext_api.py serves it). Each version is
its own row, so publishing v2 leaves v1 answering until it is unpublished."""
from __future__ import annotations

import re

from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from designer import drafts
from designer.access import requires
from designer.errors import ApiError
from designer.request_context import MAX_ID, body, runtime, workspace
from flows import canonical
from runtime.deployments import iso
from runtime.identity_models import PublishedEndpoint
from runtime.models import WebhookRoute, utcnow

bp = Blueprint("published_api", __name__, url_prefix="/api/v1")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")  # a path segment of the customer's API


@bp.post("/flows/<flow_id>/publish")
@requires("flows:write")
def publish_flow(flow_id: str):
    rt, ws = runtime(), workspace()
    args = _checked(body())
    flow = drafts.get(rt, ws, flow_id)  # 404 for a flow this workspace does not have
    if not flow.deployed_version:
        raise ApiError(409, "not_deployed", f"deploy flow {flow_id!r} before publishing it")
    if route(rt, ws, flow_id) is None:
        raise ApiError(422, "no_webhook", f"flow {flow_id!r} has no event.webhook trigger to publish",
                       [{"field": "flow_id"}])
    row = PublishedEndpoint(workspace=ws, flow_id=flow_id, created_at=utcnow(), **args)
    try:
        with rt.sessions.begin() as s:
            s.add(row)
            s.flush()
            shown = describe(row)
    except IntegrityError:
        raise ApiError(409, "conflict", f"{args['name']} v{args['version']} is published already; publish "
                                        f"another version, or unpublish this one first",
                       [{"field": "version"}]) from None
    return {"published": shown}, 201


@bp.get("/published")
@requires("flows:read")
def list_published():
    return {"published": listing(runtime(), workspace())}


@bp.delete("/published/<name>/<int(max=2147483647):version>")
@requires("flows:write")
def unpublish(name: str, version: int):
    rt, ws = runtime(), workspace()
    with rt.sessions.begin() as s:
        row = s.get(PublishedEndpoint, (ws, name, version))
        if row is None:
            raise ApiError(404, "not_found", f"{name} v{version} is not published")
        s.delete(row)
    return "", 204


def listing(rt, ws: str) -> list[dict]:
    with rt.read_sessions() as s:
        rows = s.scalars(select(PublishedEndpoint).where(PublishedEndpoint.workspace == ws)
                         .order_by(PublishedEndpoint.name, PublishedEndpoint.version)).all()
        return [describe(r) for r in rows]


def find(rt, ws: str, name: str, version: int) -> dict | None:
    with rt.read_sessions() as s:
        row = s.get(PublishedEndpoint, (ws, name, version))
        return describe(row) if row is not None else None


def route(rt, ws: str, flow_id: str) -> Row | None:
    """The deployed webhook route of the flow (its POST one first), as runtime.intake.find_route gives it,
    or None when it has none."""
    with rt.reader.connect() as conn:
        routes = conn.execute(select(WebhookRoute.__table__).where(WebhookRoute.workspace == ws,
                                                                   WebhookRoute.flow_id == flow_id)).all()
    return min(routes, key=lambda r: (r.method != "POST", r.path), default=None)


def describe(row: PublishedEndpoint) -> dict:
    return {"name": row.name, "version": row.version, "flow_id": row.flow_id, "method": row.method,
            "path": f"/api/ext/{row.workspace}/v{row.version}/{row.name}", "request_record": row.request_record,
            "response_record": row.response_record, "description": row.description or "",
            "created_at": iso(row.created_at)}


def _checked(args) -> dict:
    """The publish request's fields, or 400 naming the first wrong one."""
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", 'the body is {"name": "orders", "version": 1, ...}',
                       [{"field": "name"}])
    name, version = args.get("name"), args.get("version")
    if not isinstance(name, str) or not NAME.match(name):
        raise ApiError(400, "invalid_argument", "name is 1-64 lower-case letters, digits, '_' or '-'",
                       [{"field": "name"}])
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_ID:
        raise ApiError(400, "invalid_argument", "version is a positive integer", [{"field": "version"}])
    out = {"name": name, "version": version, "description": args.get("description") or ""}
    if not isinstance(out["description"], str) or "\x00" in out["description"]:
        raise ApiError(400, "invalid_argument", "description must be text", [{"field": "description"}])
    for key in ("request_record", "response_record"):
        record = args.get(key)
        if record is not None and (not isinstance(record, str) or record not in canonical.RECORDS):
            raise ApiError(400, "invalid_argument", f"{key} is one of the canonical records "
                                                    f"{sorted(canonical.RECORDS)}", [{"field": key}])
        out[key] = record
    return out
