"""Which backends this test run uses, and the count of tests that ran on the real services.

Kept out of conftest.py so that every test module sees one copy of the counter."""
from __future__ import annotations

import os
import socket
import uuid

PG_URL = os.environ.get("CROSSDOCK_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CROSSDOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("CROSSDOCK_REQUIRE_SERVICES") == "1"
ran: list[str] = []
RUN_ID = uuid.uuid4().hex[:8]
QUEUE_PREFIX = f"q{RUN_ID}"  # every Redis key of this test run contains it


def queue_name() -> str:
    return f"{QUEUE_PREFIX}-{uuid.uuid4().hex[:8]}"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


SERVICES = REQUIRE_SERVICES or (_reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379))
BACKENDS = ["embedded", "services"] if SERVICES else ["embedded"]
# for a test about one backend only (`@pytest.mark.parametrize("backend", ONLY_..., indirect=True)`): the
# other backend's variant is never generated, so it is not a skip; without the services the services-only
# list is empty and pytest reports that test skipped, which is the one acceptable reason
ONLY_EMBEDDED = ["embedded"]
ONLY_SERVICES = [b for b in BACKENDS if b == "services"]


def count(request) -> None:
    ran.append(request.node.nodeid)


def close(runtime) -> None:
    """runtime.close(), without waiting out the Redis queue's lane threads: each sits in a BLPOP of up to
    LANE_POLL_S (0.5 s) between looks at its stop flag, and queue.stop() joins them, so every services test
    with worker threads paid half a second of teardown. Its lane connections are unblocked (CLIENT UNBLOCK:
    the BLPOP returns empty, as at its timeout) once the flag is set; what close() does is unchanged."""
    queue = runtime.queue
    pool = getattr(getattr(queue, "lane_connection", None), "connection_pool", None)
    stop = getattr(queue, "_stop", None)
    if pool is not None and stop is not None:
        stop.set()
        try:
            addrs = {"%s:%s" % c._sock.getsockname()[:2]
                     for c in list(getattr(pool, "_in_use_connections", ())) if getattr(c, "_sock", None)}
            if addrs:
                for client in queue.connection.client_list():
                    if client["addr"] in addrs:
                        queue.connection.client_unblock(client["id"])
        except Exception:  # Redis away, or a redis-py without these internals: close() waits as before
            pass
    runtime.close()
