"""Runs through the queue: success with every step recorded, retry with backoff, dead letters,
lease recovery, per-key ordering. Each test runs on the embedded backend and on PostgreSQL + Redis."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from support.api import deploy, finished
from support.flowdocs import http_sink, order
from runtime import deployments, history, intake, jobs
from runtime.models import DeadLetter, Run, utcnow


def test_webhook_run_records_every_step(client, workspace, http_target):
    deploy(client, http_sink("f-ok", http_target.url + "/erp"))
    r = client.post(f"/hooks/{workspace}/orders", json=order("A-1", 2, 3))
    assert r.status_code == 202
    run = finished(client, r.json["run_id"])
    assert run["status"] == "succeeded"
    assert [s["node_id"] for s in run["steps"]] == ["hook", "map", "sink"]
    assert all(s["status"] == "succeeded" and s["duration_ms"] is not None for s in run["steps"])
    assert run["steps"][1]["output"] == {"ref": "A-1", "qty": 5}
    assert http_target.requests[0]["body"] == {"ref": "A-1", "qty": 5}
    assert http_target.requests[0]["headers"].get("Idempotency-Key")


def test_failing_twice_then_succeeding_is_retried_with_backoff(client, workspace, http_target):
    http_target.script = [(503, {"e": 1}, {}), (503, {"e": 2}, {}), (200, {"ok": True}, {})]
    deploy(client, http_sink("f-retry", http_target.url, retry={"max_attempts": 4, "backoff_s": 0.2}))
    run = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("R-1")).json["run_id"])
    assert run["status"] == "succeeded"
    sink = [s for s in run["steps"] if s["node_id"] == "sink"]
    assert [(s["attempt"], s["status"]) for s in sink] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert sink[0]["error"]["code"] == "http_5xx" and sink[0]["error"]["retry_in_s"] == 0.2
    assert sink[1]["error"]["retry_in_s"] == 0.4  # exponential
    gap = dt.datetime.fromisoformat(sink[2]["started_at"][:-1]) - dt.datetime.fromisoformat(sink[1]["finished_at"][:-1])
    assert gap.total_seconds() >= 0.35  # the second backoff was waited out, not skipped
    # every attempt carried the same idempotency key, so the target can drop duplicates
    assert len({r["headers"]["Idempotency-Key"] for r in http_target.requests}) == 1


def test_always_failing_node_ends_failed_with_a_dead_letter(client, rt, workspace, http_target):
    http_target.script = [(500, {"down": True}, {})]
    deploy(client, http_sink("f-dead", http_target.url, retry={"max_attempts": 2, "backoff_s": 0.1}))
    run = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("D-1")).json["run_id"])
    assert run["status"] == "failed"
    assert run["error"]["node"] == "sink" and run["error"]["code"] == "http_5xx"
    assert len(http_target.requests) == 2
    letters = client.get("/api/v1/dead-letters").json["dead_letters"]
    assert len(letters) == 1
    assert letters[0]["run_id"] == run["id"] and letters[0]["node_id"] == "sink"
    assert letters[0]["error_class"] == "technical" and letters[0]["payload"] == {"ref": "D-1", "qty": 1}


def test_business_error_is_not_retried(client, workspace, http_target):
    http_target.script = [(422, {"error": "unknown item"}, {})]
    deploy(client, http_sink("f-4xx", http_target.url, retry={"max_attempts": 5, "backoff_s": 0.1}))
    run = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("B-1")).json["run_id"])
    assert run["status"] == "failed" and len(http_target.requests) == 1
    assert run["error"]["class"] == "business"


def test_429_retry_after_is_honoured(client, workspace, http_target):
    http_target.script = [(429, {}, {"Retry-After": "1"}), (200, {"ok": True}, {})]
    deploy(client, http_sink("f-429", http_target.url, retry={"max_attempts": 3, "backoff_s": 0.05}))
    run = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("T-1")).json["run_id"])
    assert run["status"] == "succeeded"
    assert run["steps"][2]["error"]["retry_in_s"] == 1.0


def test_expired_lease_is_taken_over(rt, client, workspace, http_target):
    """A worker that died mid-run leaves a `running` run with a lease; once it expires it runs again."""
    version = deploy(client, http_sink("f-lease", http_target.url))
    rt.queue.stop()  # no worker picks the job: we play the dead worker ourselves
    run = intake.start(rt, workspace, "f-lease", version, order("L-1"), trigger="manual")
    with rt.sessions.begin() as s:
        s.execute(update(Run).where(Run.id == run.id).values(
            status="running", worker="dead-host:1", lease_until=utcnow() - dt.timedelta(seconds=1)))
    assert jobs.release_expired_leases(rt) >= 1  # the PostgreSQL schema is shared by the whole test run
    assert jobs.run_claimed(rt, run.id) == "succeeded"
    detail = history.get_run(rt, workspace, run.id)
    assert detail["attempt"] == 1 and detail["status"] == "succeeded"


def test_same_sequence_key_runs_in_arrival_order(rt, client, workspace, http_target):
    version = deploy(client, http_sink("f-seq", http_target.url, sequence_key="order.number"))
    rt.queue.stop()
    first = intake.start(rt, workspace, "f-seq", version, order("S-1", 1), trigger="manual")
    second = intake.start(rt, workspace, "f-seq", version, order("S-1", 2), trigger="manual")
    other = intake.start(rt, workspace, "f-seq", version, order("S-2", 3), trigger="manual")
    assert jobs.run_claimed(rt, second.id) == "waiting"  # the earlier message with its key goes first
    assert jobs.run_claimed(rt, other.id) == "succeeded"  # other keys do not wait
    assert jobs.run_claimed(rt, first.id) == "succeeded"
    assert jobs.run_claimed(rt, second.id) == "succeeded"
    assert [r["body"]["qty"] for r in http_target.requests] == [3, 1, 2]


def test_a_run_stays_on_its_version(rt, client, workspace, http_target):
    doc = http_sink("f-ver", http_target.url)
    version = deploy(client, doc)
    rt.queue.stop()
    run = intake.start(rt, workspace, "f-ver", version, order("V-1", 4), trigger="manual")
    doc["nodes"][1]["config"]["expression"] = "{'changed': true}"
    client.put("/api/v1/flows/f-ver", json=doc)
    assert client.post("/api/v1/flows/f-ver/deploy").json["version"] == version + 1
    assert jobs.run_claimed(rt, run.id) == "succeeded"
    assert http_target.requests[-1]["body"] == {"ref": "V-1", "qty": 4}


def test_dead_letters_are_stored_per_workspace(rt, client, workspace, http_target):
    http_target.script = [(400, {}, {})]
    deploy(client, http_sink("f-ws", http_target.url))
    finished(client, client.post(f"/hooks/{workspace}/orders", json=order("W-1")).json["run_id"])
    with rt.sessions() as s:
        rows = s.scalars(select(DeadLetter).where(DeadLetter.flow_id == "f-ws")).all()
    assert {d.workspace for d in rows} == {workspace}
    assert deployments.versions(rt, workspace, "f-ws")[0]["deployed"] is True


def test_a_run_that_cannot_be_planned_ends_failed_instead_of_running_for_ever(rt, workspace):
    from runtime.models import Flow, FlowVersion

    broken = {"schema": "crossdock.flow/1", "id": "gone", "name": "gone",
              "nodes": [{"id": "m", "type": "event.manual"}, {"id": "x", "type": "retired.type"}],
              "edges": [{"id": "e1", "source": "m", "source_port": "out", "target": "x", "target_port": "in"}]}
    with rt.sessions.begin() as s:  # a version whose node type this installation no longer has
        s.add(Flow(workspace=workspace, id="gone", name="gone", description="", document=broken, revision=1,
                   deployed_version=1))
        s.add(FlowVersion(workspace=workspace, flow_id="gone", version=1, document=broken))
    with rt.sessions.begin() as s:
        run = Run(workspace=workspace, flow_id="gone", version=1, status="queued", trigger="manual", input={},
                  attempt=0)
        s.add(run)
    assert jobs.run_claimed(rt, run.id) == "failed"
    detail = history.get_run(rt, workspace, run.id)
    assert detail["status"] == "failed" and detail["error"]["code"] == "not_runnable"


def test_non_finite_numbers_in_a_message_are_stored(client, workspace):
    doc = {"schema": "crossdock.flow/1", "id": "inf", "name": "inf",
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "inf"}},
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'ratio': a / b}"}}],
           "edges": [{"id": "e1", "source": "hook", "source_port": "out", "target": "map", "target_port": "in"}]}
    deploy(client, doc)
    run = finished(client, client.post(f"/hooks/{workspace}/inf", json={"a": 1, "b": 0}).json["run_id"])
    assert run["status"] in ("succeeded", "failed")  # stored either way: never stuck `running`


def test_a_business_key_with_nul_is_stored_without_it(client, workspace, http_target):
    doc = http_sink("f-nul", http_target.url, sequence_key="order.number")
    doc["settings"]["business_key"] = "order.number"
    deploy(client, doc)
    r = client.post(f"/hooks/{workspace}/orders", json=order("N\u00001"))
    assert r.status_code == 202
    run = finished(client, r.json["run_id"])
    assert run["business_key"] == "N1" and run["status"] == "succeeded"
