"""HTTP API of the caller's partner (name, brand, rate limits; partner admins) and the brand every page
shows, open to all since the login page shows it too (docs/api.md)."""
from __future__ import annotations

from flask import Blueprint, g, request

from designer import access
from designer.access import public, requires_partner_admin
from designer.errors import ApiError
from designer.request_context import body, runtime
from runtime import alert_delivery, partners

bp = Blueprint("partner_api", __name__, url_prefix="/api/v1")


@bp.get("/partner")
@requires_partner_admin
def get_partner():
    return partners.describe(_partner())


@bp.put("/partner")
@requires_partner_admin
def update_partner():
    try:
        return partners.update(runtime(), _partner().id, body())
    except partners.InvalidPartner as err:
        raise ApiError(400, "invalid_partner", err.message, [{"field": err.field}] if err.field else []) from None


@bp.get("/partner/smtp")
@requires_partner_admin
def get_smtp():
    """The partner's outgoing mail server for alert e-mail (the password masked); null when none is set."""
    return {"smtp": alert_delivery.smtp_of(runtime(), _partner().id)}


@bp.put("/partner/smtp")
@requires_partner_admin
def put_smtp():
    try:
        return {"smtp": alert_delivery.save_smtp(runtime(), _partner().id, body())}
    except alert_delivery.Invalid as err:
        raise ApiError(400, "invalid_smtp", err.message, [{"field": err.field}] if err.field else []) from None


@bp.delete("/partner/smtp")
@requires_partner_admin
def delete_smtp():
    alert_delivery.delete_smtp(runtime(), _partner().id)
    return "", 204


@bp.get("/branding")
@public
def branding():
    """The logged-in caller's partner's brand, else that of ?partner=, else the installation's default; an
    unknown partner gets the default brand, so the answer says nothing about which partners exist."""
    try:
        who = access.principal()
    except ApiError:  # a key that is not valid: the brand is no secret, the default one will do
        who = None
    partner_id = who.partner_id if who is not None else request.args.get("partner") or "default"
    return partners.branding_for(runtime(), partner_id)


def _partner():
    found = partners.get(runtime(), g.principal.partner_id)
    if found is None:  # the caller's partner was removed under them
        raise ApiError(404, "not_found", "no such partner")
    return found
