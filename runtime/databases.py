"""What the SQL nodes of a workspace may reach (nodes/sql_targets.Guard): the workspace's egress policy
(runtime/egress.py) as for HTTP; never Crossdock's own database, even when the allow list covers its server; SQLite
files only inside the operator's `settings.sql_file_dirs`, never in Crossdock's data folder."""
from __future__ import annotations

import ipaddress
import os
import socket
from typing import Callable

from sqlalchemy.engine import URL

from nodes.sql_targets import DIALECTS, Guard
from runtime import egress

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def provider(rt, workspace: str) -> Callable[[], Guard]:
    """What a SQL node asks before it connects (PrepareEnv.databases)."""
    own = own_database(rt.engine.url, rt.settings.data_dir)
    files = tuple(os.path.realpath(d) for d in rt.settings.sql_file_dirs)
    return lambda: Guard(egress=egress.policy(rt, workspace), refused=own[0], refused_paths=own[1], file_dirs=files)


def own_database(url: URL, data_dir: str) -> tuple[frozenset, tuple[str, ...]]:
    """(refused (address range, port, database) entries, refused paths) for Crossdock's database at `url`. A server
    on a loopback or a local address answers on every loopback and local address of the machine: all are refused."""
    paths = (os.path.realpath(data_dir),)
    if url.get_backend_name() == "sqlite":
        return frozenset(), paths + ((os.path.realpath(url.database),) if url.database else ())
    port = int(url.port or DIALECTS.get(url.get_backend_name()) or 0)
    host = url.host or "localhost"  # no host: a local socket, i.e. this machine
    addresses = _addresses(host)
    local = _addresses(socket.gethostname()) | {str(n.network_address) for n in LOOPBACK}
    nets = {ipaddress.ip_network(a) for a in addresses}
    if addresses & local or any(ipaddress.ip_address(a) in n for a in addresses for n in LOOPBACK):
        nets |= {ipaddress.ip_network(a) for a in local} | set(LOOPBACK)
    return frozenset((net, port, url.database or "") for net in nets), paths


def _addresses(host: str) -> set[str]:
    try:
        return {info[4][0].split("%", 1)[0] for info in socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)}
    except socket.gaierror:
        return set()
