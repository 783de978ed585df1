"""Live events reach Socket.IO clients of the run's workspace, in order, and no one else. On the
services backend the web server and the worker are separate processes (`run.py web`, `run.py worker`)
and events travel through Redis; on the embedded backend they go in-process. Connecting authenticates
like the API (session cookie or `auth: {"key": ...}`) and reaches only the workspaces the caller sees."""
from __future__ import annotations

import os
import subprocess
import threading
import uuid

import pytest
import redis
import requests
import socketio
from sqlalchemy import select

from support import identity, processes, wait_for
from support.flowdocs import http_sink, order

from runtime import egress, events, keys
from runtime.wiring import Runtime
from runtime.models import Run
from runtime.settings import Settings
from web.app import create_app



SCOPES = ["flows:read", "flows:write", "runs:read", "hooks:write"]


class Crossdock:
    def __init__(self, url: str, rt, worker: subprocess.Popen | None = None):
        self.url, self.rt, self.worker = url, rt, worker
        self._keys: dict[str, str] = {}

    def key(self, workspace: str) -> str:
        """A key of `workspace` that deploys, posts to its webhooks and listens to its runs."""
        if workspace not in self._keys:
            self._keys[workspace] = keys.create(self.rt, workspace, "live test", SCOPES, "tests")[1]
        return self._keys[workspace]

    def api(self, method: str, path: str, workspace: str, **kw):
        return requests.request(method, self.url + path, timeout=30, **kw,
                                headers={"X-Crossdock-Workspace": workspace, "X-Crossdock-Key": self.key(workspace)})


@pytest.fixture
def crossdock(backend, settings, tmp_path, request):
    if backend == "embedded":
        yield from _in_process(request.getfixturevalue("rt"))
    else:
        yield from _processes(settings, tmp_path)


def _in_process(rt):
    from werkzeug.serving import make_server

    from web.app import create_app

    server = make_server("127.0.0.1", 0, create_app(rt), threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield Crossdock(f"http://127.0.0.1:{server.server_port}", rt)
    server.shutdown()


def _processes(settings, tmp_path):
    """`run.py web` and `run.py worker` on the test's PostgreSQL schema, Redis and queue."""
    from runtime.wiring import Runtime

    rt = Runtime(settings)  # migrates the schema before the processes start; executes nothing itself
    port = processes.free_port()
    env = {**os.environ, "CROSSDOCK_DATABASE_URL": settings.database_url,
           "CROSSDOCK_DATABASE_SCHEMA": settings.database_schema, "CROSSDOCK_REDIS_URL": settings.redis_url,
           "CROSSDOCK_QUEUE": settings.queue_name, "CROSSDOCK_HOST": "127.0.0.1", "CROSSDOCK_PORT": str(port),
           "CROSSDOCK_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1",
           "CROSSDOCK_SECRET_KEY": "test-live-production-key"}  # production refuses the built-in key
    procs = {name: processes.start([name], env, tmp_path / f"{name}.log") for name in ("web", "worker")}
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url) or _exited(procs), timeout=60)
        assert not _exited(procs), _logs(tmp_path)
        yield Crossdock(url, rt, procs["worker"])
    finally:
        processes.stop_all(procs.values(), 10)  # their shutdowns overlap
        print(_logs(tmp_path))
        rt.close()



def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/api/v1/node-types", timeout=2).status_code == 401  # it answers, as it should
    except requests.ConnectionError:
        return False


def _exited(procs) -> bool:
    return any(p.poll() is not None for p in procs.values())


def _logs(tmp_path) -> str:
    return "\n".join(f"--- {f.name}\n{f.read_text(errors='replace')[-3000:]}" for f in tmp_path.glob("*.log"))


class Listener:
    """A python-socketio client recording every event it receives."""

    def __init__(self, url: str, **auth):
        self.seen: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, data: self.seen.append((event, data)))
        self.client.connect(url, auth=auth, wait_timeout=10)

    @staticmethod
    def close(*listeners: "Listener") -> None:
        """Disconnect side by side: websocket-client waits up to 3 s for each close handshake."""
        threads = [threading.Thread(target=x.client.disconnect) for x in listeners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def of_run(self, run_id: int) -> list[tuple[str, str | None]]:
        return [(e, d.get("node_id")) for e, d in self.seen if d.get("run_id") == run_id]


def relay_ready(cd: Crossdock) -> None:
    """Redis pub/sub keeps nothing: wait until the web server listens on the channel before publishing."""
    if cd.rt.settings.redis_url:
        r = redis.Redis.from_url(cd.rt.settings.redis_url)
        wait_for(lambda: r.pubsub_numsub(events.channel(cd.rt.settings))[0][1] >= 1)


def deploy_and_post(cd: Crossdock, workspace: str, url: str, number: str) -> int:
    egress.allow_origin(cd.rt, workspace, url)  # the test's HTTP server is on loopback
    assert cd.api("POST", "/api/v1/flows", workspace, json=http_sink("f-live", url)).status_code == 201
    assert cd.api("POST", "/api/v1/flows/f-live/deploy", workspace).status_code == 201
    r = cd.api("POST", f"/hooks/{workspace}/orders", workspace, json=order(number))
    assert r.status_code == 202, r.text
    return r.json()["run_id"]


EXPECTED = [("run.queued", None), ("run.started", None),
            *[x for n in ("hook", "map", "sink") for x in (("step.started", n), ("step.succeeded", n))],
            ("run.finished", None)]


def test_clients_receive_their_workspace_events_in_order(crossdock, workspace, http_target):
    other = f"ws{uuid.uuid4().hex[:10]}"
    crossdock.rt.ensure_workspace(workspace)
    crossdock.rt.ensure_workspace(other)
    mine = Listener(crossdock.url, workspace=workspace, key=crossdock.key(workspace))
    flow_only = Listener(crossdock.url, workspace=workspace, flow_id="f-live", key=crossdock.key(workspace))
    elsewhere = Listener(crossdock.url, workspace=other, key=crossdock.key(other))
    relay_ready(crossdock)
    try:
        run_id = deploy_and_post(crossdock, workspace, http_target.url, "L-1")
        wait_for(lambda: ("run.finished", None) in mine.of_run(run_id), timeout=30)
        assert mine.of_run(run_id) == EXPECTED
        wait_for(lambda: ("run.finished", None) in flow_only.of_run(run_id))
        assert flow_only.of_run(run_id) == EXPECTED
        assert {d["workspace"] for _, d in mine.seen} == {workspace}
        if crossdock.worker is not None:  # executed by the separate worker process, not by the web server
            with crossdock.rt.sessions() as s:
                worker = s.scalar(select(Run.worker).where(Run.id == run_id))
            assert worker.endswith(f":{crossdock.worker.pid}")
        # the other workspace's client hears its own run, and heard nothing of the first one before it
        theirs = deploy_and_post(crossdock, other, http_target.url, "L-2")
        wait_for(lambda: ("run.finished", None) in elsewhere.of_run(theirs), timeout=30)
        assert {d["run_id"] for _, d in elsewhere.seen if "run_id" in d} == {theirs}  # flow.deployed has none
        assert elsewhere.of_run(theirs) == EXPECTED
        assert theirs not in {d.get("run_id") for _, d in mine.seen}
        assert [(e, d["flow_id"], d["version"]) for e, d in elsewhere.seen if e == "flow.deployed"] == [
            ("flow.deployed", "f-live", 1)]
    finally:
        Listener.close(mine, flow_only, elsewhere)


@pytest.fixture
def embedded(tmp_path):
    """Room handling is the same on both backends: one in-process Crossdock is enough for it."""
    from runtime.wiring import Runtime
    from runtime.settings import Settings

    rt = Runtime(Settings(data_dir=str(tmp_path / "data"), load_samples=False))
    rt.start_workers()
    yield from _in_process(rt)
    rt.close()


def test_join_and_leave_flow_rooms(embedded, http_target):
    narrow = Listener(embedded.url, workspace="default", flow_id="another-flow", key=embedded.key("default"))
    wide = Listener(embedded.url, workspace="default", key=embedded.key("default"))
    try:
        first = deploy_and_post(embedded, "default", http_target.url, "J-1")
        # events leave the server in one sequence: once `wide` has the last one, `narrow` was passed over
        wait_for(lambda: ("run.finished", None) in wide.of_run(first))
        assert narrow.client.call("join", {"flow_id": "f-live"}, timeout=10) == {"joined": "flow:default:f-live"}
        second = embedded.api("POST", "/hooks/default/orders", "default", json=order("J-2")).json()["run_id"]
        wait_for(lambda: ("run.finished", None) in narrow.of_run(second))
        assert narrow.of_run(second) == EXPECTED and narrow.of_run(first) == []
        assert narrow.client.call("leave", {"flow_id": "f-live"}, timeout=10) == {"left": "flow:default:f-live"}
        assert narrow.client.call("leave", {}, timeout=10) == {"left": "ws:default"}
    finally:
        Listener.close(narrow, wide)


@pytest.fixture
def app_of(tmp_path):
    """An app on an embedded runtime (Flask-SocketIO's test client refuses a message queue), with a
    workspace of partner `default` (`default`) and one of another partner (`theirs`)."""
    rt = Runtime(Settings(data_dir=str(tmp_path / "data"), load_samples=False))
    identity.make_partner(rt, "other")
    rt.ensure_workspace("theirs", partner_id="other")
    rt.ensure_workspace("second")
    yield create_app(rt)
    rt.close()


def connects(app, auth=None, flask_client=None, query_string=None) -> bool:
    sio = app.extensions["socketio"]
    client = sio.test_client(app, auth=auth, flask_test_client=flask_client, query_string=query_string)
    try:
        return client.is_connected()
    finally:
        if client.is_connected():
            client.disconnect()


def test_a_key_listens_to_its_own_workspace_only_and_needs_runs_read(app_of):
    rt = app_of.extensions["crossdock.runtime"]
    listener = identity.hook_key(rt, "default", ("runs:read",))
    assert connects(app_of, {"workspace": "default", "key": listener})
    assert connects(app_of, {"key": listener})  # a key's own workspace is its default
    assert connects(app_of, {"key": listener}, query_string="workspace=default")
    for ws in ("second", "theirs", "no-such-workspace", "a\x00b"):
        assert not connects(app_of, {"workspace": ws, "key": listener}), ws
    assert not connects(app_of, {"workspace": "default", "key": identity.hook_key(rt, "default")})  # hooks:write only
    for bad in (listener[:-1] + "?", "nonsense", 42, {"k": 1}):
        assert not connects(app_of, {"workspace": "default", "key": bad}), bad
    keys.revoke(rt, "default", keys.key_id_of(listener))
    assert not connects(app_of, {"workspace": "default", "key": listener})


def test_a_session_cookie_listens_to_the_workspaces_its_user_sees(app_of):
    rt = app_of.extensions["crossdock.runtime"]
    admin = identity.client_for(app_of, identity.make_user(rt, "default", "admin"))
    viewer = identity.client_for(app_of, identity.make_user(rt, "default", "viewer", "second"))
    stranger = identity.client_for(app_of, identity.make_user(rt, "other", "admin"))
    nobody = identity.client_for(app_of)
    assert connects(app_of, {"workspace": "default"}, admin) and connects(app_of, {"workspace": "second"}, admin)
    assert connects(app_of, {}, admin)  # the user's default workspace
    assert not connects(app_of, {"workspace": "theirs"}, admin)
    assert connects(app_of, {"workspace": "second"}, viewer) and not connects(app_of, {"workspace": "default"}, viewer)
    assert connects(app_of, {"workspace": "theirs"}, stranger)
    assert not connects(app_of, {"workspace": "default"}, stranger)
    for auth in ({"workspace": "default"}, {}, {"workspace": "no-such-workspace"}):
        assert not connects(app_of, auth, nobody)
    assert not connects(app_of, {"workspace": "default"})


def test_an_ended_session_no_longer_connects(app_of):
    rt = app_of.extensions["crossdock.runtime"]
    user = identity.make_user(rt, "default", "operator", "default")
    c = identity.client_for(app_of, user, "default")
    assert connects(app_of, {"workspace": "default"}, c)
    from runtime import accounts

    accounts.set_password(rt, user, "another-password-0123")  # ends every session of the user
    assert not connects(app_of, {"workspace": "default"}, c)


def test_a_client_of_the_server_authenticates_by_key(embedded):
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(embedded.url, auth={"workspace": "default"}, transports=["polling"], wait_timeout=10)
    client.connect(embedded.url + "?workspace=default", auth={"key": embedded.key("default")}, transports=["polling"],
                   wait_timeout=10)
    assert client.connected
    client.disconnect()
