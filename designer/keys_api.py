"""HTTP API of a workspace's API keys (partner admins: `keys:write`): list them, create one (its secret is
in this answer only; the server keeps a hash), revoke one, and the scopes a key may hold."""
from __future__ import annotations

from flask import Blueprint, g

from designer.access import requires
from designer.errors import ApiError
from designer.request_context import body, runtime, workspace
from runtime import keys

bp = Blueprint("keys_api", __name__, url_prefix="/api/v1/keys")


@bp.get("")
@requires("keys:write")
def list_keys():
    return {"keys": keys.list_for(runtime(), workspace())}


@bp.get("/scopes")
@requires("keys:write")
def list_scopes():
    return {"scopes": list(keys.SCOPES)}


@bp.post("")
@requires("keys:write")
def create_key():
    args = body()
    if not isinstance(args, dict):
        raise ApiError(400, "invalid_argument", "the body is a JSON object {\"name\", \"scopes\"}")
    try:
        shown, secret = keys.create(runtime(), workspace(), args.get("name"), args.get("scopes"), g.principal.actor)
    except keys.KeyProblem as err:
        raise ApiError(400, "invalid_argument", str(err), [{"field": err.field}]) from None
    return {"key": shown, "secret": secret}, 201


@bp.delete("/<key_id>")
@requires("keys:write")
def revoke_key(key_id: str):
    if not keys.revoke(runtime(), workspace(), key_id):
        raise ApiError(404, "not_found", f"no key {key_id!r} in this workspace")
    return "", 204
