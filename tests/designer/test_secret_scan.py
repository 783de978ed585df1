"""Acceptance 4: secrets stored in connections and typed into nodes never come out. Store them, save the flow the
way the editor does, deploy twice, run, export and import, then call every GET endpoint of the API (walking the
app's URL map, so a new endpoint is scanned too) and search every response body for them: none is found."""
from __future__ import annotations

import base64
import datetime as dt
import itertools
import re

import asyncssh
from flows.spec import MASK
from runtime import secrets
from support.api import finished

CONN_PASSWORD, CONN_TOKEN, CONN_KEY = "scan-conn-pw-5501", "scan-conn-token-5502", "scan-conn-key-5503"
INLINE_TOKEN, INLINE_PASSWORD = "scan-inline-token-5504", "scan-inline-pw-5505"
HEADER_AUTH, HEADER_KEY, HEADER_COOKIE = "Bearer scan-hdr-5506", "scan-hdr-key-5507", "sid=scan-cookie-5508"
HMAC = "scan-hmac-secret-5509"
SFTP_PASSWORD, SFTP_KEY = "scan-sftp-pw-5510", asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
SFTP_KEY_LINE = SFTP_KEY.splitlines()[1]  # a line of the private key's body: JSON escapes the line breaks between them
SMTP_PASSWORD = "scan-smtp-pw-5511"  # the partner's SMTP server for alert e-mail
PLAIN = (CONN_PASSWORD, CONN_TOKEN, CONN_KEY, INLINE_TOKEN, INLINE_PASSWORD, HEADER_AUTH, HEADER_KEY, HEADER_COOKIE,
         HMAC, SFTP_PASSWORD, SFTP_KEY_LINE, SMTP_PASSWORD)
# what the requests carry on the wire, which a response must not echo either
ENCODED = (base64.b64encode(f"svc:{CONN_PASSWORD}".encode()).decode(),
           base64.b64encode(f"svc:{INLINE_PASSWORD}".encode()).decode())


def edge(i, source, target):
    return {"id": f"e{i}", "source": source, "source_port": "out", "target": target, "target_port": "in"}


def scan_flow(target: str) -> dict:
    return {"schema": "crossdock.flow/1", "id": "f-scan", "name": "Secret scan", "nodes": [
        {"id": "start", "type": "event.manual", "config": {"sample": {"number": "SO-1"}}},
        {"id": "erp", "type": "connector.erp", "config": {"connection": "erp", "operation": "find_sales_order",
                                                          "into": "erp"}},
        {"id": "inline", "type": "connector.http", "config": {
            "method": "POST", "url": target + "/inline/{{$.number}}", "auth": {"type": "bearer", "token": INLINE_TOKEN},
            "headers": {"Authorization": HEADER_AUTH, "X-Api-Key": HEADER_KEY, "Cookie": HEADER_COOKIE,
                        "X-Tenant": "acme"}}},
        {"id": "basic", "type": "connector.http", "config": {
            "method": "GET", "url": target + "/basic", "retry": {"max_attempts": 1},
            "auth": {"type": "basic", "username": "svc", "password": INLINE_PASSWORD}}},
        {"id": "done", "type": "control.discard", "config": {"reason": "end"}}],
        "edges": [edge(1, "start", "erp"), edge(2, "erp", "inline"), edge(3, "inline", "basic"),
                  edge(4, "basic", "done")]}


def hook_flow() -> dict:
    return {"schema": "crossdock.flow/1", "id": "f-hmac", "name": "HMAC hook", "nodes": [
        {"id": "hook", "type": "event.webhook", "config": {"path": "scan/hmac", "auth": "hmac", "hmac_secret": HMAC}},
        {"id": "done", "type": "control.discard", "config": {"reason": "end"}}], "edges": [edge(1, "hook", "done")]}


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    return response.json


def store_secrets_deploy_run_and_export(client, http_target, workspace) -> dict:
    """Everything that stores or uses a secret, through the API; the ids the GET endpoints need."""
    for name, system, auth in (("erp", "erp", {"type": "basic", "username": "svc", "password": CONN_PASSWORD}),
                               ("oms", "oms", {"type": "bearer", "token": CONN_TOKEN}),
                               ("hub", "http", {"type": "api_key", "header": "X-Key", "key": CONN_KEY})):
        ok(client.put(f"/api/v1/connections/{name}", json={"system": system, "base_url": http_target.url + f"/{name}/api",
                                                          "auth": auth}))
    ok(client.put("/api/v1/connections/drop", json={"system": "sftp", "base_url": "sftp://files.example.com/in", "auth": {
        "username": "edi", "password": SFTP_PASSWORD, "key": SFTP_KEY, "host_key": "SHA256:" + "A" * 43}}))
    ok(client.put("/api/v1/lookups/scan-table", json={"rows": {"A": "1"}}))
    ok(client.put("/api/v1/partner/smtp", json={"host": "smtp.example.com", "port": 587, "from": "alerts@scan.example",
                                                "username": "alerts", "password": SMTP_PASSWORD}))
    ok(client.put("/api/v1/trading-partners/hub", json={  # named like a connection: the scan's <name> values
        "partner": {"qualifier": "ZZ", "id": "HUB"}, "us": {"qualifier": "ZZ", "id": "CROSSDOCK"},
        "version": "004010", "usage": "T", "ack": {"expected": False}}))
    for doc in (scan_flow(http_target.url), hook_flow()):
        shown = ok(client.post("/api/v1/flows", json=doc), 201)["flow"]
        # the editor saves what it was shown: the masks keep the stored secrets
        shown["description"] = "saved from the editor"
        ok(client.put(f"/api/v1/flows/{doc['id']}", json=shown))
        ok(client.post(f"/api/v1/flows/{doc['id']}/deploy"), 201)
    ok(client.post("/api/v1/flows/f-scan/deploy"), 201)  # a second version
    run = ok(client.post("/api/v1/flows/f-scan/runs", json={"input": {"number": "SO-1"}}), 202)["run"]
    done = finished(client, run["id"])
    assert done["status"] == "succeeded", done["error"]
    erp, inline, basic = http_target.requests
    assert erp["headers"]["Authorization"] == "Basic " + ENCODED[0]  # the secrets worked on the wire
    assert inline["headers"]["Authorization"] == HEADER_AUTH and inline["headers"]["X-Api-Key"] == HEADER_KEY
    assert basic["headers"]["Authorization"] == "Basic " + ENCODED[1]
    http_target.script = [(500, {"down": True}, {})]  # a failed run: an error and a dead letter to read too
    failed = ok(client.post("/api/v1/flows/f-scan/runs", json={"input": {"number": "SO-2"}}), 202)["run"]
    assert finished(client, failed["id"])["status"] == "failed"
    bundle = ok(client.get("/api/v1/flows/f-scan/export"))
    ok(client.post("/api/v1/templates/import", json={"bundle": {**bundle, "id": "t-scan"}, "flow_id": "f-scan-copy"}),
       201)
    # a v2 of that template from the flow with its secrets: the copy's upgrade preview shows both sides
    ok(client.post("/api/v1/templates/publish", json={"flow_id": "f-scan", "template_id": "t-scan"}), 201)
    exception_ids = [e["id"] for e in ok(client.get("/api/v1/exceptions"))["exceptions"]]  # the failed run's
    return {"flow_id": ["f-scan", "f-hmac", "f-scan-copy"], "version": [1, 2], "run_id": [run["id"], failed["id"]],
            "exception_id": exception_ids,
            "kind": ["input", "output"], "template_id": ["t-scan"], "table": ["scan-table"],
            "workspace": [workspace], "bundle": bundle,
            "node_id": ["erp", "inline", "basic", "hook"],  # the mapper's context of each
            "schema_id": [s["id"] for s in ok(client.get("/api/v1/schemas"))["schemas"][:3]]}


def urls(app, values: dict, records: list[str]) -> dict[str, list[str]]:
    """Every GET rule under /api/ with each combination of values for its parameters."""
    found: dict[str, list[str]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/api/"):
            continue
        choices = {**values, "name": records if rule.endpoint.startswith("records") else ["erp", "oms", "hub", "drop"],
                   "seq": list(range(1, 8))}
        missing = [a for a in rule.arguments if a not in choices]
        assert not missing, f"{rule.rule}: give this test values for {missing}"
        args = sorted(rule.arguments)
        found[rule.rule] = [re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(combo[args.index(m.group(1))]), rule.rule)
                            for combo in itertools.product(*(choices[a] for a in args))]
    return found


def test_no_api_response_or_export_carries_a_stored_secret(client, workspace, http_target):
    values = store_secrets_deploy_run_and_export(client, http_target, workspace)
    bundle = values.pop("bundle")
    records = [r["title"] for r in ok(client.get("/api/v1/records"))["records"]]
    leaks, answered, bodies = [], {}, []
    for rule, paths in urls(client.application, values, records).items():
        queries = (["?format=csv", "?format=jsonl"] if rule.endswith("/export") and "audit" in rule
                   else ["?key=PO-SCAN"] if rule == "/api/v1/threads"  # a thread is searched by a key
                   else [f"?month={dt.date.today():%Y-%m}&format={f}" for f in ("json", "csv")]
                   if rule == "/api/v1/reports/sla" else [""])
        for path in paths:
            for query in queries:
                r = client.get(path + query)
                assert r.status_code < 500, (path, r.status_code)
                answered.setdefault(rule, []).append(r.status_code)
                body = r.get_data(as_text=True)
                bodies.append(body)
                leaks += [(path + query, s) for s in (*PLAIN, *ENCODED, secrets.PREFIX) if s in body]
    assert leaks == []
    # the scan saw what it was meant to see: every rule answered 200 at least once, the flow and its versions
    # with the masks, and the runs, the audit trail and the export
    assert [rule for rule, statuses in answered.items() if 200 not in statuses] == []
    shown = client.get("/api/v1/flows/f-scan").json["flow"]
    inline = next(n for n in shown["nodes"] if n["id"] == "inline")["config"]
    assert inline["auth"]["token"] == MASK and inline["headers"] == {
        "Authorization": MASK, "X-Api-Key": MASK, "Cookie": MASK, "X-Tenant": "acme"}
    for version in (1, 2):
        hook = client.get(f"/api/v1/flows/f-hmac/versions/{version}")
        if hook.status_code == 200:
            assert hook.json["flow"]["nodes"][0]["config"]["hmac_secret"] == MASK
    assert sum("scan-table" in b for b in bodies) and sum("SO-1" in b for b in bodies)
    exported = next(n for n in bundle["flow"]["nodes"] if n["id"] == "inline")["config"]  # dropped, not masked
    assert "token" not in exported["auth"] and exported["headers"] == {"X-Tenant": "acme"}
