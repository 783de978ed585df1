"""Webhook intake: 202 with the run id, sync replies from control.respond (delivered by the run's events,
the database not polled), 504 when the flow takes longer than timeout_s, 502 when the run fails, bodies
that are not JSON, and requests refused before any run: no key or a bad one, a bad HMAC signature, a
suspended workspace."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from support import identity, processes, services, wait_for
from support.flowdocs import edge, http_sink, order
from runtime import accounts, keys
from runtime.wiring import Runtime
from runtime.models import Run, Workspace
from web.app import create_app


def deploy(client, doc) -> None:
    assert client.post("/api/v1/flows", json=doc).status_code == 201
    r = client.post(f"/api/v1/flows/{doc['id']}/deploy")
    assert r.status_code == 201, r.json


def finished(client, run_id) -> dict:
    def done():
        run = client.get(f"/api/v1/runs/{run_id}").json["run"]
        return run if run["status"] in ("succeeded", "failed") else None
    return wait_for(done)


def replying(flow_id: str, path: str, *, status: int = 200, body: str | None = None, **hook) -> dict:
    """webhook (sync) -> map -> control.respond."""
    respond = {"status": status}
    if body:
        respond["body"] = body
    return {"schema": "crossdock.flow/1", "id": flow_id,
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": path, "respond": "sync", **hook}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': order.number}"}},
                      {"id": "reply", "type": "control.respond", "config": respond}],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "reply")]}


def discard(i: int, after: str) -> tuple[dict, dict]:
    """A node that ends the flow on purpose after `after`, and its edge."""
    return ({"id": "end", "type": "control.discard", "config": {"reason": "the test reads the run"}},
            edge(i, after, "end"))


def runs(client) -> list[dict]:
    return client.get("/api/v1/runs").json["runs"]


def test_an_async_webhook_answers_202_and_the_run_carries_the_body(client, workspace, http_target):
    deploy(client, http_sink("f", http_target.url))
    r = client.post(f"/hooks/{workspace}/orders", json=order("A-1", 2))
    assert r.status_code == 202
    run_id = r.json["run_id"]
    assert r.json == {"run_id": run_id, "status": "queued", "run_url": f"/api/v1/runs/{run_id}"}
    run = finished(client, run_id)
    assert (run["trigger"], run["status"], run["input"]) == ("webhook", "succeeded", order("A-1", 2))
    assert run["steps"][0]["node_id"] == "hook"
    assert http_target.requests[0]["body"] == {"ref": "A-1", "qty": 2}


@pytest.mark.parametrize("raw, charset", [
    # spaces, a repeated key, an escape: kept as sent, read back as the value the webhook parsed
    (b'{ "order" : {"number": "A-1",\n  "lines": [{"qty": 2E0}], "lines": [{"qty": 2}]},'
     b' "note": "caf\\u00e9 \xe2\x82\xac" }', None),
    ('{"order": {"number": "A-1", "lines": [{"qty": 2}]}, "note": "café €"}'.encode("utf-16"), "utf-16"),
])
def test_a_json_body_is_stored_as_received_and_read_back_as_its_value(client, workspace, http_target, raw, charset):
    deploy(client, http_sink("f", http_target.url))
    content_type = "application/json" + (f"; charset={charset}" if charset else "")
    r = client.post(f"/hooks/{workspace}/orders", data=raw, headers={"Content-Type": content_type})
    assert r.status_code == 202, r.json
    run = finished(client, r.json["run_id"])
    assert run["input"] == {"order": {"number": "A-1", "lines": [{"qty": 2}]}, "note": "café €"}
    assert run["status"] == "succeeded"
    assert http_target.requests[0]["body"] == {"ref": "A-1", "qty": 2}


def test_a_body_that_is_not_json_is_taken_as_text(client, workspace):
    end, end_edge = discard(2, "map")
    deploy(client, {"schema": "crossdock.flow/1", "id": "edi",
                    "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "edi"}},
                              {"id": "map", "type": "transform.map", "config": {"expression": "$split(body, '~')"}},
                              end],
                    "edges": [edge(1, "hook", "map"), end_edge]})
    text = "ISA*00*~GS*PO~ST*850*0001~"
    r = client.post(f"/hooks/{workspace}/edi", data=text, content_type="application/edi-x12")
    assert r.status_code == 202
    run = finished(client, r.json["run_id"])
    assert run["input"] == {"body": text, "content_type": "application/edi-x12"}
    assert run["output"] == ["ISA*00*", "GS*PO", "ST*850*0001", ""]
    r = client.post(f"/hooks/{workspace}/edi", data="sku;qty\nA;1\n".encode(), content_type="text/csv")
    assert finished(client, r.json["run_id"])["input"]["body"] == "sku;qty\nA;1\n"


def test_a_get_webhook_takes_the_query_as_the_message(client, workspace):
    end, end_edge = discard(2, "map")
    deploy(client, {"schema": "crossdock.flow/1", "id": "ping",
                    "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "ping", "method": "GET"}},
                              {"id": "map", "type": "transform.map", "config": {"expression": "{'got': id}"}}, end],
                    "edges": [edge(1, "hook", "map"), end_edge]})
    r = client.get(f"/hooks/{workspace}/ping?id=42")
    assert r.status_code == 202
    assert finished(client, r.json["run_id"])["output"] == {"got": "42"}
    r = client.post(f"/hooks/{workspace}/ping", json={})  # the route is GET only
    assert r.status_code == 404 and r.json["error"]["code"] == "no_webhook"


def test_requests_without_a_route_are_404_no_webhook(client, workspace, http_target):
    deploy(client, http_sink("f", http_target.url))
    for path in (f"/hooks/{workspace}/nothing-here", "/hooks/no-such-workspace/orders", f"/hooks/{workspace}/orders/x"):
        r = client.post(path, json={})
        assert r.status_code == 404, path
        assert r.json["error"]["code"] == "no_webhook" and r.json["error"]["details"] == [{"field": "path"}]
    assert client.put(f"/hooks/{workspace}/orders", json={}).status_code == 404
    r = client.post(f"/hooks/{workspace}/ord%00ers", json={})  # PostgreSQL text cannot hold a NUL
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_argument"
    assert runs(client) == []


def test_malformed_json_is_400_and_starts_no_run(client, workspace, http_target):
    deploy(client, http_sink("f", http_target.url))
    for data, content_type in (("{not json", "application/json"), ('{"a": }', "text/plain"),
                               ("[" * 100_000, "application/json"), (b"\xff\xfe", "application/json")):
        r = client.post(f"/hooks/{workspace}/orders", data=data, content_type=content_type)
        assert r.status_code == 400, (data[:10], r.json)
        assert r.json["error"]["code"] == "invalid_json"
    assert runs(client) == []


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_what_json_cannot_carry_faithfully_is_400_and_starts_no_run(client, workspace, http_target, content_type):
    """NaN and infinities were stored as the strings "nan" and "inf"; a lone surrogate was a 500."""
    deploy(client, http_sink("f", http_target.url))
    for raw in (b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": 1e999}', b'{"a": -2e308}',
                b'{"k\\udfff": 1}', b'{"order": {"number": "\\ud800"}}', b'[' * 101 + b']' * 101):
        r = client.post(f"/hooks/{workspace}/orders", data=raw, content_type=content_type)
        assert r.status_code == 400, (raw, r.json)
        assert r.json["error"]["code"] == "invalid_json" and r.json["error"]["message"]
    assert runs(client) == []
    r = client.post(f"/hooks/{workspace}/orders", data=b'{"order": {"number": "\\ud83d\\ude00", "lines": []}, "n": 1e308}',
                    content_type=content_type)  # a surrogate pair is one character; 1e308 is a number
    assert r.status_code == 202
    assert finished(client, r.json["run_id"])["input"] == {"order": {"number": "\U0001F600", "lines": []}, "n": 1e308}


def test_a_text_body_is_decoded_by_its_charset_and_refused_when_it_is_not_text(client, workspace):
    end, end_edge = discard(1, "hook")
    deploy(client, {"schema": "crossdock.flow/1", "id": "edi",
                    "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "edi"}}, end],
                    "edges": [end_edge]})
    for raw, content_type, code in ((b"caf\xe9", "text/plain", "invalid_encoding"),  # Latin-1, declared as UTF-8
                                    (b"\xed\xbf\xbf", "text/csv; charset=utf-8", "invalid_encoding"),
                                    (b"\x89PNG\r\n\x1a\n\x00\x00", "application/octet-stream", "invalid_encoding"),
                                    (b"ISA*00*~", "application/edi-x12; charset=no-such", "unsupported_media_type")):
        r = client.post(f"/hooks/{workspace}/edi", data=raw, content_type=content_type)
        assert r.status_code in (400, 415) and r.json["error"]["code"] == code, (raw, r.json)
    assert runs(client) == []
    r = client.post(f"/hooks/{workspace}/edi", data="café".encode("latin-1"), content_type="text/plain; charset=ISO-8859-1")
    assert r.status_code == 202
    assert finished(client, r.json["run_id"])["input"]["body"] == "café"


@contextmanager
def run_reads(rt):
    """The SELECTs on the runs table this thread (the request's: the test client runs the app in it) issues."""
    seen, me = [], threading.get_ident()
    runs = re.compile(r'\bFROM\s+(?:"?\w+"?\.)?"?runs"?(?:\s|$)', re.I)

    def record(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == me and statement.lstrip().upper().startswith("SELECT") and runs.search(statement):
            seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)


def test_a_sync_reply_arrives_by_event_without_reading_the_run(rt, client, workspace):
    deploy(client, replying("s", "quote", status=201, body="{'accepted': ref}"))
    with run_reads(rt) as reads:
        for n in range(3):
            r = client.post(f"/hooks/{workspace}/quote", json=order(f"Q-{n}"))
            assert (r.status_code, r.json) == (201, {"accepted": f"Q-{n}"})
    assert reads == []  # a loop polling the run would read it at least once per request


def test_a_sync_reply_crosses_from_a_worker_process_by_event(request, tmp_path):
    """Production: the web app here, a `run.py worker` process on the same PostgreSQL and Redis."""
    import os

    from runtime.settings import from_env

    if "services" not in services.BACKENDS:
        pytest.skip("needs the machine's PostgreSQL and Redis")
    services.count(request)
    env = {**os.environ, "CROSSDOCK_DATABASE_URL": services.PG_URL,
           "CROSSDOCK_DATABASE_SCHEMA": request.getfixturevalue("pg_schema"),
           "CROSSDOCK_REDIS_URL": request.getfixturevalue("redis_db"), "CROSSDOCK_QUEUE": services.queue_name(),
           "CROSSDOCK_DATA_DIR": str(tmp_path),
           "CROSSDOCK_SECRET_KEY": "test-hooks-production-key"}  # production refuses the built-in key
    worker = processes.start(["worker"], env, tmp_path / "worker.log")  # starts while the web side does
    web = None
    try:
        web = Runtime(from_env(env))
        admin = identity.make_user(web, "default", "admin")
        client = identity.client_for(create_app(web), admin, "default", identity.hook_key(web, "default"))
        flow = f"s-{services.queue_name()}"
        deploy(client, replying(flow, flow, status=201, body="{'accepted': ref}"))
        with run_reads(web) as reads:
            r = client.post(f"/hooks/default/{flow}", json=order("X-1"))
        assert (r.status_code, r.json) == (201, {"accepted": "X-1"}), (tmp_path / "worker.log").read_text()
        assert reads == []
    finally:
        processes.stop(worker)
        if web is not None:
            web.close()


def test_a_sync_webhook_answers_with_the_reply_of_control_respond(client, workspace):
    deploy(client, replying("s", "quote", status=201, body="{'accepted': ref}"))
    r = client.post(f"/hooks/{workspace}/quote", json=order("Q-9"))
    assert r.status_code == 201
    assert r.is_json and r.json == {"accepted": "Q-9"}
    run = finished(client, int(r.headers["X-Crossdock-Run"]))
    assert run["status"] == "succeeded" and [s["node_id"] for s in run["steps"]] == ["hook", "map", "reply"]


def test_a_sync_webhook_without_a_reply_answers_with_the_output(client, workspace, http_target):
    http_target.script = [(200, {"erp_id": 77}, {})]
    deploy(client, http_sink("s", http_target.url, respond="sync"))
    r = client.post(f"/hooks/{workspace}/orders", json=order("S-1"))
    assert r.status_code == 200
    assert r.json["status"] == "succeeded" and r.json["output"] == {"erp_id": 77}
    assert finished(client, r.json["run_id"])["output"] == {"erp_id": 77}


def test_a_sync_webhook_answers_504_when_the_flow_takes_longer_than_its_timeout(rt, client, workspace, http_target):
    http_target.script = [(503, {"busy": True}, {})]  # the ERP is down: the step waits 30 s before a retry
    doc = http_sink("slow", http_target.url, respond="sync", retry={"max_attempts": 3, "backoff_s": 30})
    doc["nodes"][0]["config"]["timeout_s"] = 1
    deploy(client, doc)
    with run_reads(rt) as reads:
        r = client.post(f"/hooks/{workspace}/orders", json=order("T-1"))
    assert r.status_code == 504
    assert len(reads) == 1  # one look at the run after the timeout (an event may have been missed), no polling
    err = r.json["error"]
    assert err["code"] == "timeout" and "goes on" in err["message"]
    run = client.get(f"/api/v1/runs/{err['details'][0]['run_id']}").json["run"]
    assert run["status"] in ("queued", "running")  # the run goes on and retries later; it is not failed
    wait_for(lambda: http_target.requests)
    assert len(http_target.requests) == 1  # the retry waits out its backoff


def test_a_sync_webhook_answers_502_when_the_run_fails(rt, client, workspace, http_target):
    http_target.script = [(422, {"error": "unknown item"}, {})]  # a business error: final at once
    deploy(client, http_sink("bad", http_target.url, respond="sync"))
    with run_reads(rt) as reads:
        r = client.post(f"/hooks/{workspace}/orders", json=order("F-1"))
    assert r.status_code == 502 and reads == []  # the run.finished event carries the error
    err = r.json["error"]
    assert err["code"] == "run_failed"
    [detail] = err["details"]
    assert detail["node"] == "sink"
    assert client.get(f"/api/v1/runs/{detail['run_id']}").json["run"]["status"] == "failed"


@pytest.fixture
def small_body_client(make_settings, workspace, partner):
    """A client on a runtime that takes bodies of at most 1 KiB (no workers: no run executes here)."""
    runtime = Runtime(make_settings(max_body_bytes=1024))
    identity.make_partner(runtime, partner)
    runtime.ensure_workspace(workspace, partner_id=partner)
    admin = identity.make_user(runtime, partner, "admin")
    yield identity.client_for(create_app(runtime), admin, workspace, identity.hook_key(runtime, workspace))
    runtime.close()


def test_a_body_over_the_limit_is_413_and_starts_no_run(small_body_client, workspace):
    client = small_body_client
    deploy(client, http_sink("f", "http://127.0.0.1:9/x"))
    r = client.post(f"/hooks/{workspace}/orders", json={"blob": "x" * 2000})
    assert r.status_code == 413
    assert r.json["error"]["code"] == "payload_too_large" and "1024" in r.json["error"]["message"]
    assert client.post(f"/hooks/{workspace}/orders", json=order("small")).status_code == 202
    assert len(runs(client)) == 1


def keyless(client):
    """The same app and login, sending no key to /hooks/ unless the request names one."""
    other = identity.twin(client)
    other.hook_key = None
    return other


def test_a_webhook_without_a_valid_key_of_its_workspace_is_401_and_starts_no_run(api, workspace, hook_key):
    deploy(api, http_sink("f", "http://127.0.0.1:9/x"))
    rt = api.application.extensions["crossdock.runtime"]
    other_ws = workspace + "x"
    rt.ensure_workspace(other_ws, partner_id=accounts.workspace_state(rt, workspace)[0])
    revoked = identity.hook_key(rt, workspace)
    keys.revoke(rt, workspace, keys.key_id_of(revoked))
    refused = {"no key": {}, "a revoked key": {"X-Crossdock-Key": revoked},
               "a key of another workspace": {"X-Crossdock-Key": identity.hook_key(rt, other_ws)},
               "a key without hooks:write": {"X-Crossdock-Key": identity.hook_key(rt, workspace, ("runs:read",))},
               "a wrong secret": {"X-Crossdock-Key": hook_key[:-2] + ("xy" if not hook_key.endswith("xy") else "zz")},
               "not a key": {"Authorization": "Bearer nonsense"}, "basic auth": {"Authorization": "Basic " + hook_key}}
    c = keyless(api)
    for why, headers in refused.items():
        r = c.post(f"/hooks/{workspace}/orders", json=order("K-1"), headers=headers)
        assert r.status_code == 401, why
        assert r.json["error"]["code"] == "unauthorized", why
    assert runs(api) == []
    assert c.post(f"/hooks/{workspace}/orders", json=order("K-2"),
                  headers={"Authorization": f"Bearer {hook_key}"}).status_code == 202
    assert c.post(f"/hooks/{workspace}/orders", json=order("K-3"),
                  headers={"X-Crossdock-Key": hook_key}).status_code == 202
    assert len(runs(api)) == 2


def signed(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def test_an_hmac_webhook_takes_only_a_signature_of_the_body_made_with_its_secret(api, workspace, hook_key):
    secret = "s3cret-shared-with-the-shop-0123456789"
    doc = http_sink("f", "http://127.0.0.1:9/x")
    doc["nodes"][0]["config"].update(auth="hmac", hmac_secret=secret)
    deploy(api, doc)
    raw = b'{"order": {"number": "H-1", "lines": []}}'
    good = signed(secret, raw)
    c = keyless(api)
    for why, headers in {"no signature": {}, "an API key instead": {"X-Crossdock-Key": hook_key},
                         "another secret": {"X-Crossdock-Signature": signed("another-secret-0123456789", raw)},
                         "another body": {"X-Crossdock-Signature": signed(secret, raw + b" ")},
                         "another scheme": {"X-Crossdock-Signature": "sha1=" + good[len("sha256="):]},
                         "cut short": {"X-Crossdock-Signature": good[:-2]},
                         "not hex": {"X-Crossdock-Signature": "sha256=" + "z" * 64},
                         "in another header": {"X-Hub-Signature-256": good}}.items():
        r = c.post(f"/hooks/{workspace}/orders", data=raw, content_type="application/json", headers=headers)
        assert (r.status_code, r.json["error"]["code"]) == (401, "unauthorized"), why
    assert runs(api) == []
    mac = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    started = []
    for form in (good, good.upper().replace("SHA256=", "sha256="), mac.hex(), base64.b64encode(mac).decode()):
        r = c.post(f"/hooks/{workspace}/orders", data=raw, content_type="application/json",
                   headers={"X-Crossdock-Signature": form})
        assert r.status_code == 202, form
        started.append(r.json["run_id"])
    assert sorted(x["id"] for x in runs(api)) == sorted(started)


def test_an_hmac_webhook_reads_the_signature_header_its_sender_uses(api, workspace):
    """Shopify-style senders (the sandbox OMS among them) put a base64 digest in a header of their own."""
    secret = "sandbox-secret"
    doc = http_sink("f", "http://127.0.0.1:9/x")
    doc["nodes"][0]["config"].update(auth="hmac", hmac_secret=secret, signature_header="X-Oms-Hmac-Sha256")
    deploy(api, doc)
    raw = b'{"order": {"number": "O-1", "lines": []}}'
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    c = keyless(api)
    r = c.post(f"/hooks/{workspace}/orders", data=raw, content_type="application/json",
               headers={"X-Crossdock-Signature": digest})
    assert r.status_code == 401
    r = c.post(f"/hooks/{workspace}/orders", data=raw, content_type="application/json",
               headers={"X-Oms-Hmac-Sha256": digest})
    assert r.status_code == 202


def test_an_hmac_webhook_needs_its_secret_to_deploy(api):
    doc = http_sink("f", "http://127.0.0.1:9/x")
    doc["nodes"][0]["config"]["auth"] = "hmac"
    assert api.post("/api/v1/flows", json=doc).status_code == 201
    r = api.post("/api/v1/flows/f/deploy")
    assert r.status_code == 422, r.json
    assert any(d.get("field") == "hmac_secret" or "hmac_secret" in str(d) for d in r.json["error"]["details"])


def test_a_suspended_workspace_is_403_and_starts_no_run(api, workspace, hook_key):
    deploy(api, http_sink("f", "http://127.0.0.1:9/x"))
    rt = api.application.extensions["crossdock.runtime"]
    with rt.sessions.begin() as s:
        s.get(Workspace, workspace).status = "suspended"
    accounts.forget()  # what the workspaces API does after a change
    r = api.post(f"/hooks/{workspace}/orders", json=order("S-1"))
    assert (r.status_code, r.json["error"]["code"]) == (403, "workspace_suspended")
    r = keyless(api).post(f"/hooks/{workspace}/orders", json=order("S-2"))
    assert r.status_code == 401  # who may not call learns nothing of the workspace's state
    with rt.sessions.begin() as s:
        assert s.execute(Run.__table__.select().where(Run.workspace == workspace)).first() is None
        s.get(Workspace, workspace).status = "active"
    accounts.forget()
    assert api.post(f"/hooks/{workspace}/orders", json=order("S-3")).status_code == 202


def test_a_trigger_s_auth_comes_from_the_plan_when_the_process_has_it(api, workspace, monkeypatch):
    """A webhook of a planned version never reads its document (a big flow's is megabytes)."""
    from web import hooks

    deploy(api, http_sink("f", "http://127.0.0.1:9/x"))
    rt = api.application.extensions["crossdock.runtime"]
    rt.plan_for(workspace, "f", 1)
    monkeypatch.setattr(hooks, "_auth_kept", {})
    monkeypatch.setattr(hooks.deployments, "document", lambda *a: pytest.fail("read the version's document"))
    assert api.post(f"/hooks/{workspace}/orders", json=order("P-1")).status_code == 202
    assert keyless(api).post(f"/hooks/{workspace}/orders", json=order("P-2")).status_code == 401
