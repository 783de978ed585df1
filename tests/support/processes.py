"""Crossdock processes started by tests (`run.py web`, `run.py worker`), each in its own process group,
so that stopping one also stops what it forked (an RQ worker's scheduler) and nothing outlives the test."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from support import services

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(request, tmp_path, secret_key: str, **extra: str) -> dict:
    """The environment of `run.py web` / `run.py worker` on this test run's PostgreSQL schema and Redis, with a queue
    and a port of their own and `tmp_path` as the data folder (the test counts as service-backed)."""
    services.count(request)
    return {**os.environ, "CROSSDOCK_DATABASE_URL": services.PG_URL,
            "CROSSDOCK_DATABASE_SCHEMA": request.getfixturevalue("pg_schema"),
            "CROSSDOCK_REDIS_URL": request.getfixturevalue("redis_db"), "CROSSDOCK_QUEUE": services.queue_name(),
            "CROSSDOCK_PORT": str(free_port()), "CROSSDOCK_DATA_DIR": str(tmp_path),
            "CROSSDOCK_SECRET_KEY": secret_key, **extra}  # production refuses the built-in key


def start(args: list[str], env: dict, log_path) -> subprocess.Popen:
    log = open(log_path, "wb")
    return subprocess.Popen([sys.executable, "run.py", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(p: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM (RQ's warm shutdown), then SIGKILL to the whole group if it lingers."""
    stop_all([p], timeout)


def stop_all(procs, timeout: float = 15) -> None:
    """`stop` for several processes at once: all are asked first, then waited for, so their shutdowns overlap
    (a worker's takes 1-2 s on a loaded machine, most of it the interpreter freeing its objects; one after the
    other, a test's three processes took 4-12 s to stop)."""
    procs = list(procs)
    for p in procs:
        if p.poll() is None:
            _signal(p, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        _signal(p, signal.SIGKILL)  # children left behind in the group, if any
        if p.poll() is None:
            p.wait()


def _signal(p: subprocess.Popen, sig) -> None:
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
