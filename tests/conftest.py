"""Shared fixtures: backends (embedded SQLite + in-process queue, and the machine's real PostgreSQL +
Redis when reachable), a Runtime per test, the Flask client, a local HTTP server, a live Crossdock.

Service-backed tests run whenever PostgreSQL and Redis answer (CROSSDOCK_TEST_DATABASE_URL,
CROSSDOCK_TEST_REDIS_URL override the defaults); CI sets CROSSDOCK_REQUIRE_SERVICES=1 so that a run
without them fails instead of quietly passing on the embedded backend alone.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import hypothesis
import pytest

from runtime.settings import Settings

# CI runs the same generated examples every time, so main never goes red by the luck of a draw;
# a developer's run explores new ones (and a failure found there becomes a fixed test case).
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

from support import routing, services
from support.services import BACKENDS, PG_URL, REDIS_URL

routing.install()  # one compile of each URL rule's builder for the run, not one per test's Flask app



@pytest.fixture(scope="session")
def pg_schema():
    """A fresh PostgreSQL schema for this test run, dropped at the end."""
    from sqlalchemy import create_engine

    schema = f"cd_test_{services.RUN_ID}"
    engine = create_engine(PG_URL)
    with engine.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield schema
    with engine.begin() as c:
        c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture(scope="session")
def redis_db():
    """Redis db 15 (or CROSSDOCK_TEST_REDIS_URL). Never flushed, since other test runs may share it:
    every test gets queue names of its own, and this run's queue keys are deleted at the end."""
    import redis

    yield REDIS_URL
    r = redis.Redis.from_url(REDIS_URL)
    for key in r.scan_iter(f"*{services.QUEUE_PREFIX}*"):
        r.delete(key)


@pytest.fixture(scope="session")
def embedded_db(tmp_path_factory):
    """An embedded database migrated once for the run. Every embedded test's data folder starts with a copy
    of it: migrating a new SQLite file costs ~0.3 s (0.9 s on a loaded machine), a copy a millisecond. The
    test's Runtime still runs db.migrate, which finds the schema at head; tests/runtime/test_db.py migrates
    new files itself."""
    from runtime import db

    folder = tmp_path_factory.mktemp("embedded-db")
    engine = db.make_engine(db.default_sqlite_url(str(folder)))
    db.migrate(engine)
    engine.dispose()  # the last connection closed: the WAL is checkpointed into the file and removed
    return folder / "crossdock.sqlite"


def _settings(backend: str, tmp_path, request, **extra) -> Settings:
    if backend == "embedded":
        data = tmp_path / "data"
        if not (data / "crossdock.sqlite").exists():  # make_settings twice in a test: the same database
            data.mkdir(exist_ok=True)
            shutil.copyfile(request.getfixturevalue("embedded_db"), data / "crossdock.sqlite")
        return Settings(data_dir=str(data), load_samples=False, **extra)
    services.count(request)
    return Settings(database_url=PG_URL, database_schema=request.getfixturevalue("pg_schema"),
                    redis_url=request.getfixturevalue("redis_db"), queue_name=services.queue_name(),
                    data_dir=str(tmp_path / "data"), load_samples=False, **extra)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def settings(backend, tmp_path, request) -> Settings:
    return _settings(backend, tmp_path, request)


@pytest.fixture
def make_settings(backend, tmp_path, request):
    return lambda **extra: _settings(backend, tmp_path, request, **extra)


@pytest.fixture
def workspace(settings) -> str:
    """A workspace of this test's own, so tests sharing the session's PostgreSQL schema never collide."""
    return f"ws{uuid.uuid4().hex[:10]}"


@pytest.fixture
def partner() -> str:
    """A partner of this test's own: it owns the test's workspace, and `client`/`api` are its admin."""
    return f"p{uuid.uuid4().hex[:10]}"


def _own_workspace(runtime, workspace: str, partner: str) -> None:
    from support import identity

    identity.make_partner(runtime, partner)
    runtime.ensure_workspace(workspace, partner_id=partner)


@pytest.fixture
def rt(settings, workspace, partner):
    """A Runtime whose runs execute on worker threads in this process (embedded queue, or real Redis)."""
    from runtime.wiring import Runtime

    runtime = Runtime(settings)
    _own_workspace(runtime, workspace, partner)
    if settings.embedded_queue:
        runtime.start_workers()
    else:
        _start_redis_worker_threads(runtime)
    yield runtime
    services.close(runtime)


def _start_redis_worker_threads(runtime) -> None:
    from runtime import jobs

    jobs.bind(runtime)
    runtime.queue.start_threads(2)


def _runtime_of(request):
    """The test's runtime: `rt` when the test uses it, else the worker-less `store`."""
    return request.getfixturevalue("rt" if "rt" in request.fixturenames else "store")


@pytest.fixture
def admin_id(request, partner) -> int:
    """The user id of the test partner's admin (the user `client` and `api` are logged in as)."""
    from support import identity

    return identity.make_user(_runtime_of(request), partner, "admin", email=f"admin@{partner}.test")


@pytest.fixture
def hook_key(request, workspace) -> str:
    """The secret of a `hooks:write` key of the test's workspace; `client` and `api` send it to /hooks/."""
    from support import identity

    return identity.hook_key(_runtime_of(request), workspace)


@pytest.fixture
def client(rt, workspace, admin_id, hook_key):
    """A Flask test client logged in as the admin of the partner owning the test's workspace, acting in it."""
    from support import identity
    from web.app import create_app

    return identity.client_for(create_app(rt), admin_id, workspace, hook_key)


@pytest.fixture
def store(settings, workspace, partner):
    """A Runtime without worker threads, for tests that execute no run."""
    from runtime.wiring import Runtime

    runtime = Runtime(settings)
    _own_workspace(runtime, workspace, partner)
    yield runtime
    services.close(runtime)


@pytest.fixture
def lone_settings(settings):
    """`settings` on a database no other test writes: on PostgreSQL a schema of this test's own (migrated by
    the first Runtime, dropped after), for a test that reads every row of a kind, such as every deployed version
    or every queued run, where the session's shared schema holds those of the whole run so far."""
    from dataclasses import replace

    from sqlalchemy import create_engine

    if not settings.database_url:
        yield settings
        return
    schema = f"cd_lone_{services.RUN_ID}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    yield replace(settings, database_schema=schema)
    with engine.begin() as c:
        c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def lone_store(lone_settings, workspace, partner):
    """`store` on `lone_settings`' database."""
    from runtime.wiring import Runtime

    runtime = Runtime(lone_settings)
    _own_workspace(runtime, workspace, partner)
    yield runtime
    services.close(runtime)


@pytest.fixture
def api(store, workspace, admin_id, hook_key):
    """A client like `client`, on the worker-less `store`."""
    from support import identity
    from web.app import create_app

    return identity.client_for(create_app(store), admin_id, workspace, hook_key)


class Recorder:
    """A local HTTP server whose answers a test scripts: a list of (status, body, headers), the last repeating."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[tuple[int, object, dict]] = [(200, {"ok": True}, {})]
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                recorder.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                          "body": json.loads(raw) if raw else None})
                n = len(recorder.requests) - 1
                status, body, headers = recorder.script[min(n, len(recorder.script) - 1)]
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # a short poll: shutdown() waits for the serving loop to look, every 0.5 s by default (half a second
        # of teardown for each of the ~160 tests using it)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def http_target(request):
    """A Recorder the test's workspace may reach (a loopback address: the egress policy would refuse it)."""
    r = Recorder()
    if {"rt", "store"} & set(request.fixturenames):
        from runtime import egress

        egress.allow_origin(_runtime_of(request), request.getfixturevalue("workspace"), r.url)
    yield r
    r.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A whole embedded Crossdock on ephemeral ports: API, canvas, worker threads, sandbox, sample flows."""
    from werkzeug.serving import make_server

    from designer import samples
    from runtime.wiring import Runtime
    from sandbox.serve import start_in_thread
    from web.app import create_app

    from runtime import accounts

    data = tmp_path_factory.mktemp("live")
    sandbox = start_in_thread("127.0.0.1", 0, f"sqlite:///{data}/sandbox.sqlite")
    runtime = Runtime(Settings(data_dir=str(data), load_samples=True))
    first = accounts.bootstrap(runtime)  # as run.py's first start: admin@localhost and the samples hook key
    runtime.start_workers()
    samples.install(runtime, sandbox_url=f"http://127.0.0.1:{sandbox.server_port}")
    server = make_server("127.0.0.1", 0, create_app(runtime), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    base_obj = LiveServer(base, f"http://127.0.0.1:{sandbox.server_port}", runtime, first)
    yield base_obj
    server.shutdown()
    sandbox.shutdown()
    runtime.close()


class LiveServer(str):
    """The base URL (a str), with the sandbox URL, the runtime and the first start's admin login and hook
    key (workspace `default`) beside it."""

    def __new__(cls, url: str, sandbox_url: str, runtime, first):
        obj = super().__new__(cls, url)
        obj.sandbox_url = sandbox_url
        obj.runtime = runtime
        obj.admin_email, obj.admin_password, obj.hook_key = first.email, first.password, first.hook_key
        return obj


def pytest_collection_finish(session):
    """The garbage collector settled as a server process settles it (runtime/heap.py): everything alive once the
    tests are collected (modules, items: ~200,000 objects) is frozen out of its passes, and it runs every 10,000
    allocations instead of 700. Its full passes took ~18 % of the tests' CPU, and more as the run went on; a
    cycle is still collected, a little later."""
    from runtime import heap

    heap.settle()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(f"service-backed tests (PostgreSQL + Redis) run: {len(services.ran)}")


def pytest_sessionfinish(session, exitstatus):
    if services.REQUIRE_SERVICES and not services.ran and exitstatus == 0:
        session.exitstatus = 1  # CI promised real services; a run without them must not pass
