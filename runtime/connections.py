"""Named connections of a workspace to its systems (base URL and credentials), referenced by name from
connector nodes. Secrets are encrypted with a Fernet key derived from the installation's secret key;
keys named in `previous_secret_keys` still decrypt, so changing the key breaks no stored credential
(`run.py rotate-secrets` then re-encrypts everything with the new one). A connection re-pointed at another
origin (scheme, host, port) or system loses its stored secrets unless the same save gives them again: a
credential is never sent where it was not entered for."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, select

from nodes import file_paths, file_stores, sftp_store, sql_targets
from nodes.base import NodeError
from runtime.models import SystemConnection, utcnow
from runtime.readthrough import ReadThrough, database

SYSTEMS = ("erp", "oms", "wms", "tms", "http", "sql")  # sql: base_url is a database URL (connector.sql)
SYSTEMS += file_paths.SYSTEMS  # folder: base_url is a local folder; sftp: sftp://host[:port][/folder] (file nodes)
AUTH_TYPES = ("none", "basic", "bearer", "api_key")
SECRET_FIELDS = ("password", "token", "key", "passphrase")  # key: also an SFTP private key, passphrase its own
PLAIN_FIELDS = ("username", "header", "host_key")  # host_key: the SFTP server's pinned public key or fingerprint
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
# Resolved connections per process: a step needs its connection on every message, and reading the row and
# decrypting its secrets each time cost more than the request itself. Saves here forget them at once; a save
# in another process is seen within FRESH_S.
FRESH_S = 2.0
_resolved = ReadThrough(FRESH_S)


class InvalidConnection(ValueError):
    """A connection that cannot be stored: names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def fernet(secret_key: str) -> Fernet:
    # Fernet wants 32 url-safe base64 bytes; any secret key string is stretched to that by SHA-256
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode("utf-8")).digest()))


def keyring(settings) -> MultiFernet:
    """Encrypts with the current key; decrypts with it or any previous one."""
    return MultiFernet([fernet(k) for k in (settings.secret_key, *settings.previous_secret_keys)])


def rotate(rt, workspace: str | None = None) -> int:
    """Re-encrypt every stored secret (of one workspace, when given) with the current key; the count of
    connections rewritten."""
    box = keyring(rt.settings)
    with rt.sessions.begin() as s:
        query = select(SystemConnection).where(SystemConnection.secret.is_not(None))
        if workspace is not None:
            query = query.where(SystemConnection.workspace == workspace)
        rows = s.scalars(query).all()
        for row in rows:
            try:
                row.secret = box.rotate(row.secret.encode()).decode()
            except InvalidToken:
                raise KeyError(f"connection {row.workspace}/{row.name} was encrypted with a key that is neither "
                               "the current nor a previous one") from None
    _resolved.forget()
    return len(rows)


def save(rt, workspace: str, name: str, data: dict) -> dict:
    """Create or replace a connection; secrets left out keep their stored value (the UI never sees them)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidConnection("name", "a name is 1-100 letters, digits, '_', '.' or '-'")
    if not isinstance(data, dict):
        raise InvalidConnection("", "a connection is a JSON object")
    system = data.get("system", "http")
    base_url = data.get("base_url")
    auth = data.get("auth") or {}
    if system not in SYSTEMS:
        raise InvalidConnection("system", f"system is one of {list(SYSTEMS)}")
    if system == "sql" and isinstance(auth, dict):
        base_url, auth = _database(base_url, auth)
    elif system in file_paths.SYSTEMS and isinstance(auth, dict):
        base_url, auth = _files(rt.settings, system, base_url, auth)
    elif not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")) or "\x00" in base_url:
        raise InvalidConnection("base_url", "base_url must be an http(s) URL")  # NUL: PostgreSQL text refuses it
    if not isinstance(auth, dict) or auth.get("type", "none") not in AUTH_TYPES:
        raise InvalidConnection("auth.type", f"auth.type is one of {list(AUTH_TYPES)}")
    box = keyring(rt.settings)
    with rt.sessions.begin() as s:
        row = s.get(SystemConnection, (workspace, name))
        secrets = _decrypt(box, row.secret) if row is not None and row.secret else {}
        if row is not None and (row.system != system or _origin(row.base_url) != _origin(base_url)):
            secrets = {}  # re-pointed: the stored credentials were entered for another place
        secrets.update({k: str(auth[k]) for k in SECRET_FIELDS if auth.get(k) is not None})
        values = dict(system=system, base_url=base_url.rstrip("/"), auth_type=auth.get("type", "none"),
                      settings={k: str(auth[k]) for k in PLAIN_FIELDS if auth.get(k) is not None},
                      secret=box.encrypt(json.dumps(secrets).encode()).decode() if secrets else None,
                      updated_at=utcnow())
        if row is None:
            s.add(SystemConnection(workspace=workspace, name=name, **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)
    _resolved.forget()
    return describe(get_row(rt, workspace, name))


def get_row(rt, workspace: str, name: str) -> SystemConnection | None:
    with rt.sessions() as s:
        return s.get(SystemConnection, (workspace, name))


def resolve(rt, workspace: str, name: str) -> dict[str, Any]:
    """The connection with secrets decrypted, for a running step; KeyError when there is none."""
    found = _resolved.get((database(rt.engine), rt.settings.database_schema, workspace, name),
                          lambda: _resolve(rt, workspace, name))
    return {**found, "auth": dict(found["auth"])}  # the caller's own: the kept one is never handed out


def _resolve(rt, workspace: str, name: str) -> dict[str, Any]:
    row = get_row(rt, workspace, name)
    if row is None:
        raise KeyError(f"no connection named {name!r} in workspace {workspace!r}")
    secrets = _decrypt(keyring(rt.settings), row.secret) if row.secret else {}
    return {"name": row.name, "system": row.system, "base_url": row.base_url,
            "auth": {"type": row.auth_type, **(row.settings or {}), **secrets}}


def describe(row: SystemConnection) -> dict:
    """What the API shows: never a secret, only which ones are set."""
    return {"name": row.name, "system": row.system, "base_url": row.base_url,
            "auth": {"type": row.auth_type, **(row.settings or {})}, "secret_set": bool(row.secret)}


def list_all(rt, workspace: str) -> list[dict]:
    with rt.sessions() as s:
        rows = s.scalars(select(SystemConnection).where(SystemConnection.workspace == workspace)
                         .order_by(SystemConnection.name)).all()
    return [describe(r) for r in rows]


def remove(rt, workspace: str, name: str) -> bool:
    with rt.sessions.begin() as s:
        removed = bool(s.execute(delete(SystemConnection).where(SystemConnection.workspace == workspace,
                                                                SystemConnection.name == name)).rowcount)
    _resolved.forget()
    return removed


def _database(base_url: Any, auth: dict) -> tuple[str, dict]:
    """A sql connection's URL checked (nodes/sql_targets.py), its password moved to the encrypted secrets, so the
    API never shows it."""
    if not isinstance(base_url, str) or "\x00" in base_url:
        raise InvalidConnection("base_url", "base_url is a database URL, e.g. postgresql+psycopg://user@host/db")
    try:
        url = sql_targets.parse(base_url)
    except ValueError as err:
        raise InvalidConnection("base_url", str(err)) from None
    auth = dict(auth)
    if url.password is not None and auth.get("password") is None:
        auth["password"] = url.password
    if auth.get("password") is not None or auth.get("username") is not None:
        auth["type"] = "basic"
    return url._replace(password=None).render_as_string(hide_password=False), auth  # set() keeps a None


def _files(settings, system: str, base_url: Any, auth: dict) -> tuple[str, dict]:
    """A folder connection's path (inside the operator's CROSSDOCK_FILE_DIRS), or an sftp connection's URL, user and
    pinned host key, checked (nodes/sftp_store.py checks them again at each use)."""
    if not isinstance(base_url, str) or "\x00" in base_url:
        raise InvalidConnection("base_url", "base_url is a folder path (folder) or sftp://host[:port][/folder]")
    if system == "folder":
        if not os.path.isabs(base_url):
            raise InvalidConnection("base_url", "base_url is an absolute folder path")
        try:
            file_stores.FolderStore(base_url, tuple(settings.file_dirs))
        except NodeError as err:
            raise InvalidConnection("base_url", err.message) from None
        return os.path.normpath(base_url), {"type": "none"}
    problem = sftp_store.check_sftp(base_url, auth)
    if problem:
        raise InvalidConnection(*problem)
    return base_url, {**auth, "type": "basic"}


def _origin(url: str) -> tuple:
    """(scheme, host, port) of a base URL; an unreadable one is its own origin."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").rstrip("."), parts.port or {"https": 443}.get(
            parts.scheme.lower(), 80)
    except ValueError:
        return (url,)


def _decrypt(box: MultiFernet, token: str) -> dict:
    try:
        return json.loads(box.decrypt(token.encode()))
    except InvalidToken:
        # encrypted with a key that is neither current nor listed as previous
        raise KeyError("the connection's secrets were encrypted with another secret key: list it in "
                       "CROSSDOCK_SECRET_KEY_PREVIOUS, or enter the secrets again") from None
