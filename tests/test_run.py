"""run.py as a user runs it: validate and run a flow file; production mode with `web` and two
`worker` processes on PostgreSQL + Redis; nothing lost while every worker is stopped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from support import processes
from support import wait_for
from support.flowdocs import edge, http_sink, order
from support.services import BACKENDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS_TOKEN = "test-metrics-token"


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


def test_validate_a_valid_flow_exits_0(tmp_path):
    data = tmp_path / "data"
    result = cli_env({"CROSSDOCK_DATA_DIR": str(data)}, "validate", "flows/samples/order-sync.json")
    assert result.returncode == 0, result.stdout
    assert "valid" in result.stdout
    assert not data.exists()  # a file check keeps no data: no installation key made in the checkout


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



@pytest.fixture
def production(request, tmp_path):
    """Environment and process launcher for `run.py web` / `run.py worker` on PostgreSQL + Redis, with an
    API key of workspace `default` (every scope: `start.auth` are its headers) that may reach `http_target`."""
    from runtime import egress, keys
    from runtime.wiring import Runtime
    from runtime.settings import from_env

    env = processes.production_env(request, tmp_path, "test-run-production-key", CROSSDOCK_METRICS_TOKEN=METRICS_TOKEN)
    rt = Runtime(from_env(env))
    try:
        key = keys.create(rt, "default", "test_run", list(keys.SCOPES), "tests")[1]
        if "http_target" in request.fixturenames:
            egress.allow_origin(rt, "default", request.getfixturevalue("http_target").url)
    finally:
        rt.close()
    procs = []

    def start(*args):
        p = processes.start(list(args), env, tmp_path / f"{args[0]}-{len(procs)}.log")
        procs.append(p)
        return p

    stop = processes.stop

    start.env, start.stop, start.auth = env, stop, {"X-Crossdock-Key": key}
    start.base = f"http://127.0.0.1:{env['CROSSDOCK_PORT']}"
    yield start
    processes.stop_all(procs)  # their shutdowns overlap


def _wait_up(base):
    def up():
        try:
            return requests.get(base + "/api/v1/session", timeout=1).status_code == 401  # up, nobody logged in
        except (requests.ConnectionError, requests.Timeout):  # the server listens while its worker starts
            return False
    wait_for(up, 30, 0.2)


def _deploy(base, doc, auth):
    assert requests.post(base + "/api/v1/flows", json=doc, headers=auth).status_code == 201
    assert requests.post(f"{base}/api/v1/flows/{doc['id']}/deploy", headers=auth).status_code == 201


def _status(base, run_id, auth):
    return requests.get(f"{base}/api/v1/runs/{run_id}", headers=auth).json()["run"]["status"]


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_web_and_two_workers_share_the_runs(production, http_target):
    import redis
    from runtime import events
    from runtime.wiring import Runtime
    from runtime.models import Run
    from runtime.settings import from_env
    from sqlalchemy import select

    auth = production.auth
    production("web")
    _wait_up(production.base)
    _deploy(production.base, http_sink("prod", http_target.url), auth)
    production("worker")
    production("worker")
    _assert_keeps_alive(production.base, auth)
    seen: list = []
    client = _live_client(production.base, seen, auth["X-Crossdock-Key"])  # events from the workers, through Redis
    relay = redis.Redis.from_url(production.env["CROSSDOCK_REDIS_URL"])
    channel = events.channel(from_env(production.env))
    wait_for(lambda: relay.pubsub_numsub(channel)[0][1] >= 1)  # pub/sub keeps nothing: the web listens first
    ids = [requests.post(production.base + "/hooks/default/orders", json=order(f"P-{i}"), headers=auth).json()["run_id"]
           for i in range(60)]
    wait_for(lambda: all(_status(production.base, i, auth) == "succeeded" for i in ids), 60, 0.3)
    wait_for(lambda: {d.get("run_id") for e, d in seen if e == "run.finished"} >= set(ids), 30)
    client.disconnect()
    rt = Runtime(from_env(production.env))
    with rt.sessions() as s:
        workers = set(s.scalars(select(Run.worker).where(Run.id.in_(ids))))
    rt.close()
    assert len(workers) == 2, workers  # both worker processes executed runs
    assert len(http_target.requests) == 60
    # one registry across the processes: the web counted what it accepted, each worker what it executed
    assert requests.get(production.base + "/metrics", headers=auth).status_code == 401  # a workspace key is not it
    scraped = requests.get(production.base + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    samples = [(s.name, s.labels, s.value) for family in text_string_to_metric_families(scraped.text)
               for s in family.samples]
    mine = {"workspace": "default", "flow": "prod"}

    def total(name, **labels):
        return sum(v for n, got, v in samples if n == name and {**mine, **labels}.items() <= got.items())

    assert total("crossdock_runs_accepted_total", trigger="webhook") == 60
    assert total("crossdock_runs_finished_total", status="succeeded") == 60
    assert total("crossdock_runs_finished_total") == 60
    assert total("crossdock_steps_total", status="succeeded") == 60 * len(http_sink("prod", http_target.url)["nodes"])
    assert total("crossdock_run_execution_seconds_count") >= 60


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_webhook_while_every_worker_is_stopped_waits_queued(production, http_target):
    auth = production.auth
    production("web")
    _wait_up(production.base)
    _deploy(production.base, http_sink("nolose", http_target.url, path="nolose"), auth)
    worker = production("worker")
    time.sleep(1.0)
    production.stop(worker)  # every worker stopped
    r = requests.post(production.base + "/hooks/default/nolose", json=order("Q-1"), headers=auth)
    assert r.status_code == 202
    run_id = r.json()["run_id"]
    time.sleep(1.5)
    assert _status(production.base, run_id, auth) == "queued" and not http_target.requests
    production("worker")
    wait_for(lambda: _status(production.base, run_id, auth) == "succeeded", 30, 0.2)


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_production_refuses_to_start_with_the_built_in_key(production):
    env = {**production.env, "CROSSDOCK_SECRET_KEY": "dev-only-secret"}
    for command in ("web", "worker"):
        result = cli_env(env, command, timeout=60)
        assert result.returncode == 2 and "CROSSDOCK_SECRET_KEY" in result.stderr, result.stderr


def test_embedded_restart_finishes_runs_left_queued(tmp_path, http_target):
    """The in-process queue forgets everything on exit: the database is the truth and requeues."""
    from runtime import egress, intake
    from runtime.wiring import Runtime
    from runtime.settings import Settings
    from support import identity
    from web.app import create_app

    settings = Settings(data_dir=str(tmp_path), load_samples=False)
    first = Runtime(settings)  # web only: no workers started
    egress.allow_origin(first, "default", http_target.url)
    client = identity.client_for(create_app(first), identity.make_user(first, "default", "admin"), "default",
                                 identity.hook_key(first, "default"))
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


def _live_client(base: str, seen: list, key: str | None = None, headers: dict | None = None):
    """The monitor's live events as a page gets them, over a WebSocket from the first request on; with an
    API key, or with the headers (a session cookie) a browser sends."""
    import socketio

    client = socketio.Client(reconnection=False)
    client.on("*", lambda event, data: seen.append((event, data)))
    auth = {"workspace": "default", **({"key": key} if key else {})}
    client.connect(base, auth=auth, headers=headers or {}, transports=["websocket"], wait_timeout=10)
    assert client.transport() == "websocket"
    return client


def _assert_keeps_alive(base: str, auth: dict) -> None:
    """Requests on one connection: the server neither closes it nor asks to, whether the next request follows
    at once (its thread waits for it: run.py FOLLOW_S), after a pause (the connection went back to the poller),
    or two come in one write (pipelined: the second is already read when the first is answered)."""
    import http.client
    import socket
    import time
    from urllib.parse import urlsplit

    conn = http.client.HTTPConnection(urlsplit(base).hostname, urlsplit(base).port, timeout=10)
    conn.connect()
    first = conn.sock
    for pause in (0, 0, 0.2, 0, 0.05):
        time.sleep(pause)
        conn.request("GET", "/api/v1/node-types", headers=auth)
        res = conn.getresponse()
        res.read()
        assert res.status == 200 and not res.will_close, res.headers
    assert conn.sock is first  # http.client would have reconnected on a closed connection
    conn.close()
    one = f"GET /api/v1/branding HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    with socket.create_connection((urlsplit(base).hostname, urlsplit(base).port), timeout=10) as sock:
        sock.sendall(one + one)
        answers, data = 0, b""
        while answers < 2 and (chunk := sock.recv(65536)):
            data += chunk
            answers = data.count(b"HTTP/1.1 200")
        assert answers == 2, data[:300]


def first_start(log: str) -> tuple[str, str, str]:
    """The admin email, password and hook key the embedded first start printed."""
    lines = [ln.strip() for ln in log.splitlines()]
    email = next(ln.split()[-1] for ln in lines if ln.startswith("email:"))
    password = next(ln.split()[-1] for ln in lines if ln.startswith("password:"))
    key = next(ln for ln in lines if ln.startswith("cdk_"))
    return email, password, key


def test_embedded_server_keeps_connections_alive_carries_live_events_and_stops_cleanly(tmp_path, http_target):
    """`python3 run.py` (gunicorn): the first start prints the admin's password and the hook key, which work;
    keep-alive, a Socket.IO WebSocket hearing a run's events, and a SIGTERM with that WebSocket open ends the
    server (exit 0) without being killed."""
    env = {**os.environ, "CROSSDOCK_PORT": str(processes.free_port()), "CROSSDOCK_SANDBOX_PORT": str(processes.free_port()),
           "CROSSDOCK_DATA_DIR": str(tmp_path)}
    server = processes.start([], env, tmp_path / "embedded.log")
    base = f"http://127.0.0.1:{env['CROSSDOCK_PORT']}"
    try:
        _wait_up(base)
        email, password, key = wait_for(lambda: _printed(tmp_path / "embedded.log"), 30)
        browser = requests.Session()
        r = browser.post(base + "/api/v1/session", json={"email": email, "password": password})
        assert r.status_code == 200 and email == "admin@localhost", r.text
        browser.headers["X-Crossdock-CSRF"] = r.json()["csrf_token"]
        r = browser.patch(base + "/api/v1/workspaces/default",
                          json={"settings": {"egress": {"allow": [http_target.url.split("//")[1]]}}})
        assert r.status_code == 200, r.text
        cookie = {"Cookie": f"crossdock_session={browser.cookies['crossdock_session']}"}
        _assert_keeps_alive(base, cookie)
        seen: list = []
        client = _live_client(base, seen, headers=cookie)  # the monitor page, logged in
        gone = []
        client.on("disconnect", lambda *_: gone.append(True))
        assert browser.post(base + "/api/v1/flows", json=http_sink("live-ws", http_target.url, path="live-ws")).ok
        assert browser.post(base + "/api/v1/flows/live-ws/deploy").status_code == 201
        assert requests.post(base + "/hooks/default/live-ws", json=order("W-0")).status_code == 401  # no key
        run_id = requests.post(base + "/hooks/default/live-ws", json=order("W-1"),
                               headers={"X-Crossdock-Key": key}).json()["run_id"]
        wait_for(lambda: ("run.finished", run_id) in [(e, d.get("run_id")) for e, d in seen], 30)
        assert ("run.queued", run_id) in [(e, d.get("run_id")) for e, d in seen]
        # a step's progress too: the page's room reached the executor process, which sends only what is heard
        assert ("step.succeeded", run_id) in [(e, d.get("run_id")) for e, d in seen]
        processes.stop(server)
        assert server.returncode == 0, (tmp_path / "embedded.log").read_text()  # not killed
        wait_for(lambda: gone, 5)  # the server hung up on the live client rather than leaving it open
    finally:
        processes.stop(server)


def _printed(log_path):
    try:
        return first_start(log_path.read_text())
    except StopIteration:
        return None


def test_create_admin_makes_a_partner_admin_who_logs_in(tmp_path):
    env = {"CROSSDOCK_DATA_DIR": str(tmp_path)}
    made = cli_env(env, "create-admin", "--email", "Boss@Acme.example", "--partner", "acme", "--name", "Boss")
    assert made.returncode == 0, made.stderr
    password = made.stdout.split("one-time password (change it at the first login): ")[1].split()[0]
    given = subprocess.run([sys.executable, "run.py", "create-admin", "--email", "two@acme.example", "--partner",
                            "acme", "--password-stdin"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                           input="a-password-of-my-own\n", env={**os.environ, **env})
    assert given.returncode == 0 and "password" not in given.stdout.replace("partner admin", ""), given.stdout
    again = cli_env(env, "create-admin", "--email", "boss@acme.example")
    assert again.returncode == 2 and "exists" in again.stderr

    from runtime import accounts
    from runtime.wiring import Runtime
    from runtime.settings import Settings

    rt = Runtime(Settings(data_dir=str(tmp_path), load_samples=False))
    try:
        boss, two = accounts.find(rt, "boss@acme.example"), accounts.find(rt, "two@acme.example")
        assert (boss.partner_id, boss.partner_admin, boss.must_change_password, boss.name) == ("acme", True, True, "Boss")
        assert (two.partner_id, two.partner_admin, two.must_change_password) == ("acme", True, False)
        assert accounts.login(rt, "boss@acme.example", password).outcome == "ok"
        assert accounts.login(rt, "two@acme.example", "a-password-of-my-own").outcome == "ok"
    finally:
        rt.close()


def test_gunicorns_proxy_trust_is_remembered_per_peer_and_answers_as_before(monkeypatch):
    """run._remember_proxy_trust keeps gunicorn's answer to "may this peer set forwarding headers" per address:
    the same answers, and the address parsed once (a gunicorn upgrade that renames the function fails here)."""
    import ipaddress

    import run
    from gunicorn.http import message
    original = message._ip_in_allow_list
    monkeypatch.setattr(message, "_ip_in_allow_list", original)  # restored after the test
    allow = ["127.0.0.1", "::1"]
    networks = [ipaddress.ip_network(a) for a in allow]
    run._remember_proxy_trust()
    remembered = message._ip_in_allow_list
    assert remembered is not original
    parsed = []
    monkeypatch.setattr(ipaddress, "ip_address", lambda s, real=ipaddress.ip_address: parsed.append(s) or real(s))
    for peer in ("127.0.0.1", "10.1.2.3", "::1", "not an address") * 3:
        assert remembered(peer, allow, networks) == original(peer, allow, networks)
    assert parsed.count("10.1.2.3") == 1 + 3  # once through the remembered check, three times through the original
