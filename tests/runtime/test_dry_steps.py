"""Dry runs started through the API (issue 13): connectors stop before the call and their step shows the request
they would send, secrets masked; nothing reaches a system, nothing is claimed in the ledger; the run says it was
a dry run. A real run of the same flow does call, so the test would see a dry run that leaks."""
from __future__ import annotations

from sqlalchemy import func, select

from runtime import connections
from runtime.models import DeadLetter, LedgerEntry
from runtime.thread_models import ThreadEntry
from support.api import deploy, finished
from support.flowdocs import edge


def erp_flow(flow_id: str = "dry-erp") -> dict:
    """manual -> map -> dedupe -> ERP upsert on the connection `erp`, its answer to a control.emit."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "nodes": [
        {"id": "start", "type": "event.manual", "config": {}},
        {"id": "map", "type": "transform.map", "config": {"expression": (
            "{'externalDocumentNo': number, 'customerNo': 'C1', "
            "'lines': [lines.{'itemNo': sku, 'quantity': qty}]}")}},
        {"id": "once", "type": "control.dedupe", "config": {"key": "externalDocumentNo"}},
        {"id": "erp", "type": "connector.erp", "config": {"connection": "erp", "operation": "upsert_sales_order"}},
        {"id": "tell", "type": "control.emit", "config": {"event": "order.sent"}},
        {"id": "done", "type": "control.discard", "config": {"reason": "end"}}],
        "edges": [edge(1, "start", "map"), edge(2, "map", "once"), edge(3, "once", "erp"), edge(4, "erp", "tell"),
                  edge(5, "once", "done", "duplicate"), edge(6, "tell", "done")]}


ORDER = {"number": "SO-7", "lines": [{"sku": "A-1", "qty": 3}]}


def _connection(rt, workspace, url):
    connections.save(rt, workspace, "erp", {"system": "erp", "base_url": url + "/erp/api",
                                            "auth": {"type": "bearer", "token": "s3cret-t0ken"}})


def _claims(rt, workspace) -> int:
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.workspace == workspace))


def test_a_dry_run_shows_the_request_and_sends_nothing(rt, client, workspace, http_target):
    _connection(rt, workspace, http_target.url)
    deploy(client, erp_flow())
    r = client.post("/api/v1/flows/dry-erp/runs", json={"input": ORDER, "dry_run": True})
    assert r.status_code == 202, r.json
    assert r.json["run"]["dry_run"] is True
    run = finished(client, r.json["run"]["id"])
    assert run["status"] == "succeeded" and run["dry_run"] is True
    steps = {s["node_id"]: s for s in run["steps"]}
    assert set(steps) == {"start", "map", "once", "erp"}  # stopped at the ERP: nothing after it ran
    shown = steps["erp"]["output"]["dry_run"]
    assert shown["stopped"] == "before the call"
    request = shown["request"]
    assert request["method"] == "POST" and request["url"] == http_target.url + "/erp/api/sales-orders"
    assert request["body"] == {"externalDocumentNo": "SO-7", "customerNo": "C1",
                               "lines": [{"itemNo": "A-1", "quantity": 3}]}
    assert "s3cret-t0ken" not in str(request) and request["headers"]["Authorization"] != ""
    assert request["headers"]["Idempotency-Key"]
    assert http_target.requests == []  # the system never heard of it
    assert _claims(rt, workspace) == 0  # neither the dedupe nor the effect ledger was written
    listed = client.get("/api/v1/runs?flow_id=dry-erp").json["runs"]
    assert [x["dry_run"] for x in listed] == [True]

    real = client.post("/api/v1/flows/dry-erp/runs", json={"input": ORDER})
    assert real.json["run"]["dry_run"] is False
    finished(client, real.json["run"]["id"])
    assert len(http_target.requests) == 1 and http_target.requests[0]["body"] == request["body"]
    assert http_target.requests[0]["headers"]["Authorization"] == "Bearer s3cret-t0ken"


def test_a_node_that_writes_without_http_stops_before_it_runs(rt, client, workspace, http_target):
    doc = erp_flow("dry-emit")
    doc["edges"] = [e for e in doc["edges"] if e["id"] not in ("e3", "e4")] + [edge(7, "once", "tell")]
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] != "erp"]
    deploy(client, doc)
    r = client.post("/api/v1/flows/dry-emit/runs", json={"input": ORDER, "dry_run": True})
    run = finished(client, r.json["run"]["id"])
    tell = next(s for s in run["steps"] if s["node_id"] == "tell")
    assert tell["output"]["dry_run"]["would_receive"]["externalDocumentNo"] == "SO-7"
    assert _claims(rt, workspace) == 0


def test_a_failing_dry_run_fails_without_an_exception_to_work_on(rt, client, workspace, http_target):
    _connection(rt, workspace, http_target.url)
    deploy(client, erp_flow("dry-fail"))
    connections.remove(rt, workspace, "erp")  # gone since the deploy: the ERP step fails
    r = client.post("/api/v1/flows/dry-fail/runs", json={"input": ORDER, "dry_run": True})
    run = finished(client, r.json["run"]["id"])
    assert run["status"] == "failed" and run["error"]["code"] == "unknown_connection"
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.workspace == workspace)) == 0


def test_dry_run_must_be_a_boolean(rt, client, workspace, http_target):
    _connection(rt, workspace, http_target.url)
    deploy(client, erp_flow("dry-bad"))
    r = client.post("/api/v1/flows/dry-bad/runs", json={"input": ORDER, "dry_run": "yes"})
    assert r.status_code == 400 and r.json["error"]["details"][0]["field"] == "dry_run"


def test_a_dry_run_leaves_no_document_thread_entry(rt, client, workspace):
    """A dry run sent nothing: the correlation index (issue 14's threads) does not list it; a real run does."""
    doc = {"schema": "crossdock.flow/1", "id": "dry-thread", "name": "dry-thread",
           "settings": {"correlation": {"po": "po"}},
           "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                     {"id": "done", "type": "control.discard", "config": {"reason": "end"}}],
           "edges": [edge(1, "start", "done")]}
    deploy(client, doc)
    dry = client.post("/api/v1/flows/dry-thread/runs", json={"input": {"po": "PO-1"}, "dry_run": True}).json["run"]
    real = client.post("/api/v1/flows/dry-thread/runs", json={"input": {"po": "PO-1"}}).json["run"]
    finished(client, dry["id"]), finished(client, real["id"])
    with rt.sessions() as s:
        indexed = s.scalars(select(ThreadEntry.run_id).where(ThreadEntry.workspace == workspace)).all()
    assert indexed == [real["id"]]
