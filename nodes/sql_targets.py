"""Where the SQL nodes (connector.sql, event.poll) may connect, and their engines: one SQLAlchemy engine per
database URL and guard for the whole process, so a worker keeps a small pool per target instead of a connection
per message.

The guard is the SQL side of the HTTP egress policy (nodes/http_client.py): a database host is resolved when a
connection is opened, every address is checked against the workspace's `Egress` (public addresses, plus its allow
list), and the driver connects to a checked address (psycopg: `hostaddr`, so TLS still verifies the name), so a
DNS answer that changes after the check cannot slip through. Crossdock's own database is refused even when the
allow list covers its server; a SQLite file only opens inside an operator's `sql_file_dirs`, never in Crossdock's
data folder, and ATTACH is refused on it. URL options that would read files of the server (libpq's passfile,
service, sslkey ...) are refused; the server account's ~/.pgpass is never read.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from nodes.http_client import Egress, Network

DIALECTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "mssql": 1433, "oracle": 1521, "sqlite": None}
# URL query options a connection may carry; anything else (passfile, service, sslkey, odbc_connect ...) could
# make the driver read a file of the Crossdock server or connect somewhere else
OPTIONS = {"postgresql": {"sslmode", "application_name", "connect_timeout", "target_session_attrs"},
           "mysql": {"charset"}, "mariadb": {"charset"}, "mssql": set(), "oracle": set(), "sqlite": set()}
CONNECT_TIMEOUT_S = 10
MAX_ENGINES = 32  # per process; past this the least recently used is disposed
SQLITE_ATTACH = 24  # sqlite3.SQLITE_ATTACH
NO_FILE = os.path.join(os.devnull, "none")  # a path that cannot exist (under a device): libpq skips it silently


class TargetDenied(Exception):
    """The guard refuses the database; the nodes report it as `egress_denied`."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Guard:
    """What a workspace's SQL nodes may reach. The runtime builds it (runtime/databases.py)."""

    egress: Egress = field(default_factory=Egress)
    # (address range, port, database) of Crossdock's own database: every address its server may answer on
    refused: frozenset[tuple[Network, int, str]] = frozenset()
    refused_paths: tuple[str, ...] = ()  # files and folders never opened as SQLite (Crossdock's data folder)
    file_dirs: tuple[str, ...] = ()  # folders SQLite files may be in; none: no SQLite file at all


def parse(text: str) -> URL:
    """A connection's database URL, checked without connecting: ValueError saying what is wrong."""
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as err:
        raise ValueError(f"not a database URL ({err})") from None
    dialect = url.get_backend_name()
    if dialect not in DIALECTS:
        raise ValueError(f"database {dialect!r} is not supported: one of {sorted(DIALECTS)}")
    extra = sorted(set(url.query) - OPTIONS[dialect])
    if extra:
        raise ValueError(f"URL option {extra[0]!r} is not allowed (allowed: {sorted(OPTIONS[dialect]) or 'none'})")
    if dialect != "sqlite" and not url.host:
        raise ValueError("the URL names no host (a local socket is not reachable from a flow)")
    if dialect == "sqlite" and url.database and url.database.startswith("file:"):
        raise ValueError("a SQLite URI filename is not allowed: give the file's path")
    return url


def url_of(connection: Mapping[str, Any]) -> URL:
    """The URL of a resolved `sql` connection (runtime/connections.py): its base_url with the stored password."""
    url = parse(str(connection.get("base_url") or ""))
    auth = connection.get("auth") or {}
    if auth.get("username"):
        url = url.set(username=str(auth["username"]))
    if auth.get("password"):
        url = url.set(password=str(auth["password"]))
    return url


def where(url: URL) -> str:
    """The target as logs and errors show it: never the password."""
    return url.render_as_string(hide_password=True)


_engines: OrderedDict[tuple[str, Guard], Engine] = OrderedDict()
_lock = threading.Lock()


def engine(url: URL, guard: Guard) -> Engine:
    """This process's engine for `url` under `guard` (each guard has its own pool: a connection opened under one
    workspace's allowances is never reused under another's)."""
    key = (url.render_as_string(hide_password=False), guard)
    with _lock:
        found = _engines.get(key)
        if found is not None:
            _engines.move_to_end(key)
            return found
    made = _make(url, guard)
    with _lock:
        found = _engines.get(key)
        if found is not None:
            made.dispose()
            return found
        _engines[key] = made
        while len(_engines) > MAX_ENGINES:
            _engines.popitem(last=False)[1].dispose()
    return made


def dispose_all() -> None:
    """Close every pooled connection (tests, and a process that ends)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for e in engines:
        e.dispose()


def _make(url: URL, guard: Guard) -> Engine:
    dialect = url.get_backend_name()
    if dialect == "sqlite":
        made = create_engine(url)
    else:
        args = {"connect_timeout": CONNECT_TIMEOUT_S} if dialect == "postgresql" else {}
        made = create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True, pool_recycle=600,
                             connect_args=args)

    @event.listens_for(made, "do_connect")
    def _checked(dialect_, conn_rec, cargs, cparams):  # noqa: ANN001 - SQLAlchemy's event signature
        if dialect_.name == "sqlite":
            _check_file(guard, cargs[0] if cargs else cparams.get("database", ""))
        else:
            _pin(guard, dialect_.name, cparams)

    if dialect == "sqlite":
        @event.listens_for(made, "connect")
        def _no_attach(dbapi_conn, conn_rec):  # noqa: ANN001
            # a statement's ATTACH would open any file, Crossdock's own database among them
            dbapi_conn.set_authorizer(lambda action, *args: 1 if action == SQLITE_ATTACH else 0)
    return made


def _pin(guard: Guard, dialect: str, cparams: dict) -> None:
    """Resolve the host once, check every address, and make the driver connect to a checked one."""
    host = str(cparams.get("host") or "")
    port = int(cparams.get("port") or DIALECTS.get(dialect) or 0)
    database = str(cparams.get("dbname") or cparams.get("database") or cparams.get("db") or "")
    if not host or host.startswith("/"):
        raise TargetDenied("a database reached through a local socket is not allowed")
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ConnectionError(f"{host}: the name does not resolve ({err})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    reason = guard.egress.denies(host, port, addresses)
    if reason:
        raise TargetDenied(reason)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip in net and port == p and database == d for net, p, d in guard.refused if net.version == ip.version):
            raise TargetDenied(f"{host}:{port}/{database} is Crossdock's own database")
    if dialect == "postgresql":
        cparams["hostaddr"] = addresses[0]
        cparams["passfile"] = NO_FILE  # never the server account's ~/.pgpass
    else:
        cparams["host"] = addresses[0]


def _check_file(guard: Guard, filename: str) -> None:
    if filename in ("", ":memory:"):
        return
    path = os.path.realpath(filename)
    for refused in guard.refused_paths:
        if _inside(path, refused):
            raise TargetDenied(f"{filename} is in Crossdock's own data folder")
    if not any(_inside(path, folder) for folder in guard.file_dirs):
        raise TargetDenied(f"{filename} is outside the folders SQLite files may be in (CROSSDOCK_SQL_FILE_DIRS)")


def _inside(path: str, folder: str) -> bool:
    folder = os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
