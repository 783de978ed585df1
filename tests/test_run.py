"""run.py as a user runs it: validate and run a flow file; production mode with `web` and two
`worker` processes on PostgreSQL + Redis; nothing lost while every worker is stopped."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
import requests

from support import processes, services
from support import wait_for
from support.flowdocs import edge, http_sink, order
from support.services import BACKENDS, PG_URL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_validate_prints_every_problem_with_its_node_and_exits_1(tmp_path):
    doc = {"schema": "crossdock.flow/1", "id": "broken",
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "bad_map", "type": "transform.map", "config": {"expression": "order.(lines"}},
                     {"id": "loop_a", "type": "transform.map", "config": {"expression": "$"}},
                     {"id": "loop_b", "type": "transform.map", "config": {"expression": "$"}}],
           "edges": [edge(1, "start", "bad_map"), edge(2, "bad_map", "ghost"), edge(3, "start", "loop_a"),
                     edge(4, "loop_a", "loop_b"), edge(5, "loop_b", "loop_a")]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))
    result = cli("validate", str(path))
    assert result.returncode == 1
    out = result.stdout
    assert "dangling_edge" in out and "node bad_map" in out.split("dangling_edge")[1].splitlines()[0]
    assert "cycle" in out and "loop_a" in out.split("cycle")[1].splitlines()[0]
    line = [ln for ln in out.splitlines() if "expression_invalid" in ln][0]
    assert "node bad_map" in line and "column" in line


def test_validate_names_the_node_and_port_a_message_would_vanish_at(tmp_path):
    template = json.loads(open(os.path.join(ROOT, "flows", "templates", "order-release.json")).read())
    doc = template["flow"]
    doc["edges"] = [e for e in doc["edges"] if (e["source"], e["source_port"]) != ("sku_xref", "not_found")]
    path = tmp_path / "unwired.json"
    path.write_text(json.dumps(doc))
    result = cli("validate", str(path))
    assert result.returncode == 1
    [line] = [ln for ln in result.stdout.splitlines() if "unwired_route" in ln]
    assert "Port 'not_found' of 'OMS SKU to ERP item'" in line and line.endswith("[node sku_xref, field not_found]")


def test_validate_a_valid_flow_exits_0():
    result = cli("validate", "flows/samples/order-sync.json")
    assert result.returncode == 0, result.stdout
    assert "valid" in result.stdout


def test_validate_checks_references_against_a_workspace_only_when_told_which(tmp_path, store, settings, workspace):
    """The issue's typo: `erpp` passed validate. With --workspace the configured database is read (both backends)."""
    from runtime import connections

    connections.save(store, workspace, "erp", {"system": "erp", "base_url": "http://127.0.0.1:9/erp"})
    doc = {"schema": "crossdock.flow/1", "id": "typo",
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "typo"}},
                     {"id": "to_erp", "type": "connector.erp",
                      "config": {"connection": "erpp", "operation": "upsert_sales_order"}}],
           "edges": [edge(1, "hook", "to_erp")]}
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(doc))
    env = {"CROSSDOCK_DATA_DIR": settings.data_dir}
    if settings.database_url:
        env.update(CROSSDOCK_DATABASE_URL=settings.database_url, CROSSDOCK_DATABASE_SCHEMA=settings.database_schema)

    unchecked = cli_env(env, "validate", str(path))
    assert unchecked.returncode == 0, unchecked.stdout + unchecked.stderr
    assert "connections, lookup tables and webhook paths were not checked" in unchecked.stdout

    checked = cli_env(env, "validate", str(path), "--workspace", workspace)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    [line] = [ln for ln in checked.stdout.splitlines() if "unknown_connection" in ln]
    assert "no connection 'erpp' in this workspace" in line and "[node to_erp, field connection]" in line
    assert "not checked" not in checked.stdout

    doc["nodes"][1]["config"]["connection"] = "erp"
    path.write_text(json.dumps(doc))
    assert cli_env(env, "validate", str(path), "--workspace", workspace).returncode == 0
    missing = cli_env(env, "validate", str(path), "--workspace", "no-such-workspace")
    assert missing.returncode == 2 and "no workspace 'no-such-workspace'" in missing.stderr


def cli_env(env: dict, *args, timeout=120):
    return subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **env})


def test_run_executes_a_flow_file_once(tmp_path, http_target):
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(http_sink("once", http_target.url)))
    result = cli("run", str(path), "--input", json.dumps(order("C-1", 2, 2)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sink" in result.stdout and '"status": "succeeded"' in result.stdout
    assert http_target.requests[0]["body"] == {"ref": "C-1", "qty": 4}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def production(request, tmp_path):
    """Environment and process launcher for `run.py web` / `run.py worker` on PostgreSQL + Redis."""
    schema = request.getfixturevalue("pg_schema")
    services.count(request)
    env = {**os.environ, "CROSSDOCK_DATABASE_URL": PG_URL, "CROSSDOCK_DATABASE_SCHEMA": schema,
           "CROSSDOCK_REDIS_URL": request.getfixturevalue("redis_db"), "CROSSDOCK_QUEUE": services.queue_name(),
           "CROSSDOCK_PORT": str(_free_port()), "CROSSDOCK_DATA_DIR": str(tmp_path)}
    procs = []

    def start(*args):
        p = processes.start(list(args), env, tmp_path / f"{args[0]}-{len(procs)}.log")
        procs.append(p)
        return p

    stop = processes.stop

    start.env, start.stop = env, stop
    start.base = f"http://127.0.0.1:{env['CROSSDOCK_PORT']}"
    yield start
    for p in procs:
        processes.stop(p)


def _wait_up(base):
    def up():
        try:
            return requests.get(base + "/api/v1/node-types", timeout=1).ok
        except (requests.ConnectionError, requests.Timeout):  # the server listens while its worker starts
            return False
    wait_for(up, 30, 0.2)


def _deploy(base, doc):
    assert requests.post(base + "/api/v1/flows", json=doc).status_code == 201
    assert requests.post(f"{base}/api/v1/flows/{doc['id']}/deploy").status_code == 201


def _status(base, run_id):
    return requests.get(f"{base}/api/v1/runs/{run_id}").json()["run"]["status"]


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_web_and_two_workers_share_the_runs(production, http_target):
    import redis
    from runtime import events
    from runtime.core import Runtime
    from runtime.models import Run
    from runtime.settings import from_env
    from sqlalchemy import select

    production("web")
    _wait_up(production.base)
    _deploy(production.base, http_sink("prod", http_target.url))
    production("worker")
    production("worker")
    _assert_keeps_alive(production.base)
    seen: list = []
    client = _live_client(production.base, seen)  # events from the worker processes, through Redis
    relay = redis.Redis.from_url(production.env["CROSSDOCK_REDIS_URL"])
    channel = events.channel(from_env(production.env))
    wait_for(lambda: relay.pubsub_numsub(channel)[0][1] >= 1)  # pub/sub keeps nothing: the web listens first
    ids = [requests.post(production.base + "/hooks/default/orders", json=order(f"P-{i}")).json()["run_id"]
           for i in range(60)]
    wait_for(lambda: all(_status(production.base, i) == "succeeded" for i in ids), 60, 0.3)
    wait_for(lambda: {d.get("run_id") for e, d in seen if e == "run.finished"} >= set(ids), 30)
    client.disconnect()
    rt = Runtime(from_env(production.env))
    with rt.sessions() as s:
        workers = set(s.scalars(select(Run.worker).where(Run.id.in_(ids))))
    rt.close()
    assert len(workers) == 2, workers  # both worker processes executed runs
    assert len(http_target.requests) == 60


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_webhook_while_every_worker_is_stopped_waits_queued(production, http_target):
    production("web")
    _wait_up(production.base)
    _deploy(production.base, http_sink("nolose", http_target.url, path="nolose"))
    worker = production("worker")
    time.sleep(1.0)
    production.stop(worker)  # every worker stopped
    r = requests.post(production.base + "/hooks/default/nolose", json=order("Q-1"))
    assert r.status_code == 202
    run_id = r.json()["run_id"]
    time.sleep(1.5)
    assert _status(production.base, run_id) == "queued" and not http_target.requests
    production("worker")
    wait_for(lambda: _status(production.base, run_id) == "succeeded", 30, 0.2)


def test_embedded_restart_finishes_runs_left_queued(tmp_path, http_target):
    """The in-process queue forgets everything on exit: the database is the truth and requeues."""
    from runtime import intake
    from runtime.core import Runtime
    from runtime.settings import Settings
    from web.app import create_app

    settings = Settings(data_dir=str(tmp_path), load_samples=False)
    first = Runtime(settings)  # web only: no workers started
    client = create_app(first).test_client()
    client.post("/api/v1/flows", json=http_sink("restart", http_target.url))
    client.post("/api/v1/flows/restart/deploy")
    run_id = client.post("/hooks/default/orders", json=order("E-1")).json["run_id"]
    first.close()  # the process "exits" with the run still queued
    second = Runtime(settings)
    second.start_workers()
    try:
        wait_for(lambda: intake_status(second, run_id) == "succeeded", 20)
    finally:
        second.close()
    assert http_target.requests[0]["body"]["ref"] == "E-1"
    assert intake is not None


def intake_status(rt, run_id):
    from runtime.models import Run

    with rt.sessions() as s:
        return s.get(Run, run_id).status


def _live_client(base: str, seen: list):
    """The monitor's live events as a page gets them, over a WebSocket from the first request on."""
    import socketio

    client = socketio.Client(reconnection=False)
    client.on("*", lambda event, data: seen.append((event, data)))
    client.connect(base, auth={"workspace": "default"}, transports=["websocket"], wait_timeout=10)
    assert client.transport() == "websocket"
    return client


def _assert_keeps_alive(base: str) -> None:
    """Three requests on one connection: the server neither closes it nor asks to."""
    import http.client
    from urllib.parse import urlsplit

    conn = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    conn.connect()
    first = conn.sock
    for _ in range(3):
        conn.request("GET", "/api/v1/node-types")
        res = conn.getresponse()
        res.read()
        assert res.status == 200 and not res.will_close, res.headers
    assert conn.sock is first  # http.client would have reconnected on a closed connection
    conn.close()


def test_embedded_server_keeps_connections_alive_carries_live_events_and_stops_cleanly(tmp_path, http_target):
    """`python3 run.py` (gunicorn): keep-alive, a Socket.IO WebSocket hearing a run's events, and a SIGTERM
    with that WebSocket open ends the server (exit 0) without being killed."""
    env = {**os.environ, "CROSSDOCK_PORT": str(_free_port()), "CROSSDOCK_SANDBOX_PORT": str(_free_port()),
           "CROSSDOCK_DATA_DIR": str(tmp_path)}
    server = processes.start([], env, tmp_path / "embedded.log")
    base = f"http://127.0.0.1:{env['CROSSDOCK_PORT']}"
    try:
        _wait_up(base)
        _assert_keeps_alive(base)
        seen: list = []
        client = _live_client(base, seen)
        gone = []
        client.on("disconnect", lambda *_: gone.append(True))
        _deploy(base, http_sink("live-ws", http_target.url, path="live-ws"))
        run_id = requests.post(base + "/hooks/default/live-ws", json=order("W-1")).json()["run_id"]
        wait_for(lambda: ("run.finished", run_id) in [(e, d.get("run_id")) for e, d in seen], 30)
        assert ("run.queued", run_id) in [(e, d.get("run_id")) for e, d in seen]
        processes.stop(server)
        assert server.returncode == 0, (tmp_path / "embedded.log").read_text()  # not killed
        wait_for(lambda: gone, 5)  # the server hung up on the live client rather than leaving it open
    finally:
        processes.stop(server)
