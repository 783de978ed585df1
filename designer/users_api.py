"""HTTP API of a partner's users, for partner admins: list, create (a one-time password is made when none
is given), change name, admin flag, roles, unlock or reset the password, delete (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, g

from designer.access import requires_partner_admin
from designer.request_context import MAX_ID, body, runtime
from designer.workspaces_api import api_error
from runtime import members, tenancy

bp = Blueprint("users_api", __name__, url_prefix="/api/v1/users")


@bp.errorhandler(tenancy.Refused)
def _refused(err: tenancy.Refused):
    e = api_error(err)
    return e.to_dict(), e.status


@bp.get("")
@requires_partner_admin
def list_users():
    return {"users": members.list_users(runtime(), g.principal.partner_id)}


@bp.post("")
@requires_partner_admin
def create_user():
    user, password = members.create_user(runtime(), g.principal.partner_id, body())
    return {"user": user, **({"password": password} if password else {})}, 201


@bp.patch(f"/<int(max={MAX_ID}):user_id>")
@requires_partner_admin
def update_user(user_id: int):
    user, password = members.update_user(runtime(), g.principal.partner_id, user_id, body())
    return {"user": user, **({"password": password} if password else {})}


@bp.delete(f"/<int(max={MAX_ID}):user_id>")
@requires_partner_admin
def delete_user(user_id: int):
    members.remove_user(runtime(), g.principal.partner_id, user_id)
    return "", 204
