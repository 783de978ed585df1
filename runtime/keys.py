"""API keys of a workspace: created with scopes and shown once, stored as a hash, verified on every API and
webhook request, revoked. A secret reads `cdk_<id>_<random>`; the id is public (it finds the row), the random
part is 256 bits, so a plain SHA-256 of the secret is as strong as a keyed hash and keeps every key valid
when the installation's secret key is rotated.

Verification reads a key's row through a per-process cache (runtime/readthrough.py): a revoke in this
process is seen at once, one in another process within KEYS_FRESH_S.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select, update

from runtime.models import ApiKey, Workspace, utcnow  # models imports identity_models' tables
from runtime.readthrough import ReadThrough

if TYPE_CHECKING:
    from runtime.wiring import Runtime

# The permissions a key may carry: a workspace's permissions (designer/access.py's table) plus `hooks:write`.
# `keys:write` and the partner-level permissions stay with partner admins: a key never mints keys.
SCOPES = ("flows:read", "runs:read", "mappings:write", "lookups:write", "runs:write", "flows:write",
          "connections:write", "audit:read", "hooks:write")
PREFIX = "cdk_"
SHAPE = re.compile(r"cdk_k_[0-9a-f]{10}_[A-Za-z0-9_-]{32,}\Z")
KEYS_FRESH_S = 5.0  # a revoke made in another process takes effect here within this
TOUCH_EVERY_S = 60.0  # last_used_at is written at most this often per key and process

_rows = ReadThrough(KEYS_FRESH_S)
_touched: dict[tuple, float] = {}
_touch_lock = threading.Lock()
ROW = (select(ApiKey.workspace, ApiKey.key_hash, ApiKey.scopes, ApiKey.revoked_at, Workspace.partner_id)
       .join(Workspace, Workspace.id == ApiKey.workspace).where(ApiKey.id == bindparam("id")))


@dataclass(frozen=True)
class KeyInfo:
    id: str
    workspace: str
    partner_id: str
    scopes: frozenset[str]


class KeyProblem(ValueError):
    """A create request the API answers with 400: `field` names what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def create(rt: Runtime, workspace: str, name: str, scopes, created_by: str) -> tuple[dict, str]:
    """A new key of `workspace`: its JSON (list_for's shape) and its secret, which is never stored."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 200:
        raise KeyProblem("name", "a key needs a name of 1 to 200 characters")
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise KeyProblem("scopes", "scopes must be a non-empty list of permission names")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise KeyProblem("scopes", f"unknown scopes {unknown}; a key may hold {list(SCOPES)}")
    key_id = "k_" + secrets.token_hex(5)
    secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=key_id, workspace=workspace, name=name, scopes=sorted(set(scopes)), key_hash=digest(secret),
                 created_by=created_by or "", created_at=utcnow())
    with rt.sessions.begin() as s:
        s.add(row)
        s.flush()
        shown = describe(row)
    return shown, secret


def verify(rt: Runtime, secret) -> KeyInfo | None:
    """The key `secret` names, if it is this key's secret and the key is not revoked."""
    key_id = key_id_of(secret)
    if key_id is None:
        return None
    settings = rt.settings  # which database: cheap to hash, unlike the engine's URL object
    cache_key = (settings.database_url or settings.data_dir, settings.database_schema, key_id)

    def load():
        with rt.reader.connect() as conn:
            row = conn.execute(ROW, {"id": key_id}).first()
        return tuple(row) if row is not None else None

    row = _rows.get(cache_key, load)
    if row is None:
        return None
    workspace, key_hash, scopes, revoked_at, partner_id = row
    if revoked_at is not None or not hmac.compare_digest(key_hash, digest(secret)):
        return None
    _touch(rt, cache_key, key_id)
    return KeyInfo(key_id, workspace, partner_id, frozenset(scopes or ()))


def revoke(rt: Runtime, workspace: str, key_id: str) -> bool:
    """Revoke a key of `workspace`; False when it has no such key. Revoking twice keeps the first time."""
    with rt.sessions.begin() as s:
        row = s.get(ApiKey, key_id)
        if row is None or row.workspace != workspace:
            return False
        if row.revoked_at is None:
            row.revoked_at = utcnow()
    _rows.forget()
    return True


def list_for(rt: Runtime, workspace: str) -> list[dict]:
    with rt.sessions() as s:
        rows = s.execute(select(ApiKey).where(ApiKey.workspace == workspace)
                         .order_by(ApiKey.created_at, ApiKey.id)).scalars().all()
        return [describe(r) for r in rows]


def describe(row: ApiKey) -> dict:
    return {"id": row.id, "name": row.name, "scopes": list(row.scopes or ()), "created_by": row.created_by,
            "created_at": _iso(row.created_at), "revoked_at": _iso(row.revoked_at),
            "last_used_at": _iso(row.last_used_at)}


def digest(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def key_id_of(secret) -> str | None:
    """`k_0123456789` of `cdk_k_0123456789_<random>`, or None when `secret` is not shaped like a key."""
    if not isinstance(secret, str) or len(secret) > 200 or not SHAPE.match(secret):
        return None
    key_id = secret[len(PREFIX):len(PREFIX) + 12]
    return key_id


def forget() -> None:
    """Drop the kept rows (tests, and any write to keys made outside this module)."""
    _rows.forget()


def _touch(rt: Runtime, cache_key: tuple, key_id: str) -> None:
    """last_used_at, at most once a minute per key: it tells an admin which keys are in use, not an audit."""
    now = time.monotonic()
    with _touch_lock:
        if now - _touched.get(cache_key, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
            return
        if len(_touched) > 20_000:
            _touched.clear()
        _touched[cache_key] = now
    try:
        with rt.sessions.begin() as s:
            s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
    except Exception:  # a busy database must not refuse a valid key; the next minute tries again
        with _touch_lock:
            _touched.pop(cache_key, None)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
