"""Test-control endpoints every sandbox system has: its clock (/<sys>/api/_clock) and a reset to the seed
(/<sys>/api/_reset), plus POST /_reset for every system at once. Real products have no such thing; tests need it.
Also a harmless authenticated read, GET /<sys>/api/whoami, that a connection test calls (the "who am I" or
"company info" read real products have): the systems otherwise accept any caller, so it is where wrong credentials
are refused (401) and right ones (CREDENTIALS) or none at all are answered.
"""
from __future__ import annotations

import base64

from flask import Blueprint, jsonify, request
from sqlalchemy import select
from sqlalchemy.engine import Connection

from sandbox import clock, rest, seed, store
from sandbox.rest import Problem

bp = Blueprint("sandbox_admin", __name__)
# the credentials every sandbox system takes: basic sandbox/sandbox, bearer sandbox-token, an API key sandbox-key
USER, PASSWORD, TOKEN, API_KEY = "sandbox", "sandbox", "sandbox-token", "sandbox-key"
_BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def ensure_seeded(conn: Connection, system: str) -> None:
    """Seed a system once; the marker lives in its counters so that a reset clears it too."""
    marker = system + ".seeded"
    if conn.execute(select(store.counters.c.value).where(store.counters.c.name == marker)).scalar() is None:
        seed.seed(conn, system)
        store.next_number(conn, marker)


def reset(conn: Connection, system: str) -> None:
    store.clear(conn, system)
    clock.remember(conn, system, None)  # the clock row is gone: real time again
    ensure_seeded(conn, system)


def add_routes(system_bp: Blueprint, system: str) -> None:
    """Give one system's blueprint its _clock and _reset endpoints."""

    def show_clock():
        with store.transaction(rest.engine()) as conn:
            return jsonify({"now": clock.stamp(conn, system), "frozen": clock.frozen_at(conn, system) is not None})

    def set_clock():
        data = rest.body()
        if "now" not in data:
            raise Problem(422, "missing_field", "'now' is required: an ISO 8601 time, or null for real time.", "now")
        try:
            at = None if data["now"] is None else clock.parse(data["now"])
        except (ValueError, TypeError):
            raise Problem(422, "invalid_field", "'now' must be an ISO 8601 time such as 2026-11-26T13:59:00Z.",
                          "now") from None
        with store.transaction(rest.engine()) as conn:
            clock.freeze(conn, system, at)
        return show_clock()

    def reset_system():
        with store.transaction(rest.engine()) as conn:
            reset(conn, system)
        return jsonify({"reset": system})

    def whoami():
        authorization = request.headers.get("Authorization")
        keys = [v for k, v in request.headers.items() if "key" in k.lower() and k.lower() != "idempotency-key"]
        if authorization is None and not keys:
            return jsonify({"system": system, "authenticated": False})
        if authorization in (_BASIC, f"Bearer {TOKEN}") or API_KEY in keys:
            return jsonify({"system": system, "authenticated": True})
        raise Problem(401, "unauthorized", "The credentials are not valid for this system.")

    system_bp.add_url_rule("/api/whoami", "whoami", whoami, methods=["GET"])
    system_bp.add_url_rule("/api/_clock", "show_clock", show_clock, methods=["GET"])
    system_bp.add_url_rule("/api/_clock", "set_clock", set_clock, methods=["POST"])
    system_bp.add_url_rule("/api/_reset", "reset", reset_system, methods=["POST"])


@bp.post("/_reset")
def reset_all():
    with store.transaction(rest.engine()) as conn:
        for system in store.SYSTEMS:
            reset(conn, system)
    return jsonify({"reset": list(store.SYSTEMS)})

