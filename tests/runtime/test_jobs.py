"""Runs through the queue: success with every step recorded, retry with backoff, dead letters,
lease recovery, per-key ordering. Each test runs on the embedded backend and on PostgreSQL + Redis."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from support import wait_for
from support.api import deploy, finished
from support.flowdocs import done, http_sink, order
from runtime import deployments, history, intake, jobs
from runtime.models import DeadLetter, Flow, Payload, Run, utcnow


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
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'ratio': a / b}"}}, done()],
           "edges": [{"id": "e1", "source": "hook", "source_port": "out", "target": "map", "target_port": "in"},
                     {"id": "e2", "source": "map", "source_port": "out", "target": "done", "target_port": "in"}]}
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


# -- poison runs, payload limit, lost jobs: runs executed inline on a worker-less runtime -----------------

@pytest.fixture
def inline(make_settings, workspace, request):
    """A worker-less Runtime with small limits; the test claims and executes runs itself."""
    from runtime.wiring import Runtime

    runtime = Runtime(make_settings(step_payload_limit=300, step_payload_max=2000, lost_job_after_s=0.0))
    runtime.ensure_workspace(workspace)
    if "http_target" in request.fixturenames:  # a loopback Recorder, which the egress policy refuses unless allowed
        from runtime import egress

        egress.allow_origin(runtime, workspace, request.getfixturevalue("http_target").url)
    yield runtime
    runtime.close()


def _deploy_inline(rt, workspace, doc) -> int:
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=doc["id"], name=doc["id"], document=doc))
    return deployments.deploy(rt, workspace, doc["id"], doc)


def _map_to_sink(flow_id, expression, url) -> dict:
    doc = http_sink(flow_id, url)
    doc["nodes"][1]["config"]["expression"] = expression
    return doc


def _expire_lease(rt, run_id) -> None:
    with rt.sessions.begin() as s:
        s.execute(update(Run).where(Run.id == run_id).values(lease_until=utcnow() - dt.timedelta(seconds=1)))


def test_a_run_whose_worker_dies_three_times_ends_poison_and_is_never_claimed_again(inline, workspace,
                                                                                  http_target):
    version = _deploy_inline(inline, workspace, http_sink("f-poison", http_target.url))
    run = intake.start(inline, workspace, "f-poison", version, order("P-1"), trigger="webhook", trigger_node="hook")
    for takeover in (1, 2):
        assert not isinstance(jobs._claim(inline, run.id), str)  # a worker claims it ... and dies mid-run
        _expire_lease(inline, run.id)
        jobs.release_expired_leases(inline)
        row = stored(inline, run.id)
        assert (row.status, row.takeovers, row.lease_until, row.worker) == ("queued", takeover, None, None)
    assert not isinstance(jobs._claim(inline, run.id), str)
    _expire_lease(inline, run.id)
    jobs.release_expired_leases(inline)  # the third expiry: it would only kill the next worker too
    row = stored(inline, run.id)
    assert (row.status, row.takeovers, row.attempt) == ("failed", 3, 3)
    assert row.error["code"] == "poison" and row.finished_at is not None and row.lease_until is None
    assert jobs.run_claimed(inline, run.id) == "skip:failed"  # a job still in the queue does nothing
    assert stored(inline, run.id).attempt == 3 and not http_target.requests
    with inline.sessions() as s:
        [letter] = s.scalars(select(DeadLetter).where(DeadLetter.run_id == run.id)).all()
    assert (letter.code, letter.node_id, letter.payload) == ("poison", "hook", order("P-1"))
    failures, _next = history.list_runs(inline, workspace, status="failed")
    assert run.id in [r["id"] for r in failures]


def test_a_run_that_finishes_after_a_takeover_is_not_poison(inline, workspace, http_target):
    version = _deploy_inline(inline, workspace, http_sink("f-survive", http_target.url))
    run = intake.start(inline, workspace, "f-survive", version, order("P-2"), trigger="manual")
    for _ in range(2):
        jobs._claim(inline, run.id)
        _expire_lease(inline, run.id)
        jobs.release_expired_leases(inline)
    assert jobs.run_claimed(inline, run.id) == "succeeded"
    assert stored(inline, run.id).takeovers == 2 and len(http_target.requests) == 1


def test_the_poison_limit_is_a_setting(make_settings, workspace, http_target):
    from runtime.wiring import Runtime

    rt = Runtime(make_settings(poison_takeovers=1))
    try:
        rt.ensure_workspace(workspace)
        version = _deploy_inline(rt, workspace, http_sink("f-poison1", http_target.url))
        run = intake.start(rt, workspace, "f-poison1", version, order("P-3"), trigger="manual")
        jobs._claim(rt, run.id)
        _expire_lease(rt, run.id)
        jobs.release_expired_leases(rt)
        assert (stored(rt, run.id).status, stored(rt, run.id).error["code"]) == ("failed", "poison")
    finally:
        rt.close()


@pytest.mark.parametrize("message", [1.5, 7, "text", True, None])
def test_a_run_whose_whole_input_is_a_scalar_executes(inline, workspace, http_target, message):
    """SQLite hands back a JSON column holding a bare number as a number, not as text."""
    version = _deploy_inline(inline, workspace, _map_to_sink("f-scalar", "{'got': $}", http_target.url))
    run = intake.start(inline, workspace, "f-scalar", version, message, trigger="manual")
    assert jobs.run_claimed(inline, run.id) == "succeeded"
    assert http_target.requests[-1]["body"] == ({"got": message} if message is not None else {})


def test_a_step_output_over_the_limit_fails_the_step_and_is_not_stored(inline, workspace, http_target):
    version = _deploy_inline(inline, workspace, _map_to_sink("f-big", "{'big': $pad('', 5000, 'x')}",
                                                             http_target.url))
    run = intake.start(inline, workspace, "f-big", version, order("B-1"), trigger="manual")
    assert jobs.run_claimed(inline, run.id) == "failed"
    detail = history.get_run(inline, workspace, run.id)
    step = [s for s in detail["steps"] if s["node_id"] == "map"][0]
    assert step["status"] == "failed" and step["output"] is None
    assert step["error"]["code"] == "payload_too_large"
    assert step["error"]["details"] == {"kind": "output", "bytes": len('{"big":""}') + 5000, "limit": 2000}
    assert detail["error"]["code"] == "payload_too_large" and not http_target.requests  # it went nowhere
    with inline.sessions() as s:
        assert not s.scalars(select(Payload).where(Payload.run_id == run.id)).all()


def test_a_run_input_over_the_limit_fails_its_first_step_and_keeps_only_a_preview(inline, workspace, http_target):
    version = _deploy_inline(inline, workspace, http_sink("f-bigin", http_target.url))
    big = {"order": {"number": "B-2", "note": "y" * 5000, "lines": []}}
    run = intake.start(inline, workspace, "f-bigin", version, big, trigger="webhook", trigger_node="hook")
    assert jobs.run_claimed(inline, run.id) == "failed"
    [step] = history.get_run(inline, workspace, run.id)["steps"]
    assert step["node_id"] == "hook" and step["error"]["code"] == "payload_too_large"
    assert step["error"]["details"]["kind"] == "input" and step["input"]["_truncated"] is True
    with inline.sessions() as s:
        assert not s.scalars(select(Payload).where(Payload.run_id == run.id)).all()
        [letter] = s.scalars(select(DeadLetter).where(DeadLetter.run_id == run.id)).all()
    assert letter.code == "payload_too_large" and letter.payload["_truncated"] is True
    assert letter.payload["preview"].startswith('{"order"') and len(letter.payload["preview"]) == 2000


def test_a_payload_between_the_row_limit_and_the_maximum_is_kept_whole_aside(inline, workspace, http_target):
    version = _deploy_inline(inline, workspace, _map_to_sink("f-mid", "{'mid': $pad('', 1000, 'x')}",
                                                             http_target.url))
    run = intake.start(inline, workspace, "f-mid", version, order("M-1"), trigger="manual")
    assert jobs.run_claimed(inline, run.id) == "succeeded"
    step = [s for s in history.get_run(inline, workspace, run.id)["steps"] if s["node_id"] == "map"][0]
    assert step["truncated"] and step["output"]["_truncated"] is True
    with inline.sessions() as s:
        whole = s.scalars(select(Payload.data).where(Payload.run_id == run.id, Payload.kind == "output")).all()
    assert {"mid": "x" * 1000} in whole
    assert http_target.requests[0]["body"] == {"mid": "x" * 1000}


def test_a_run_accepted_while_the_queue_was_down_is_enqueued_by_the_lost_job_sweep(inline, workspace,
                                                                                  http_target, monkeypatch, caplog):
    version = _deploy_inline(inline, workspace, http_sink("f-lost", http_target.url))
    kept = intake.start(inline, workspace, "f-lost", version, order("K-1"), trigger="manual")

    def down(run_id, delay_s=0.0):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as m:
        m.setattr(inline.queue, "enqueue_run", down)
        lost = intake.start(inline, workspace, "f-lost", version, order("L-2"), trigger="webhook")
    assert f"run {lost.id} accepted but not enqueued" in caplog.text
    assert lost.id not in inline.queue.held_run_ids()
    assert jobs.requeue_lost(inline) >= 1  # (on PostgreSQL other tests' runs share the table, not the queue)
    assert {kept.id, lost.id} <= inline.queue.held_run_ids()
    jobs.requeue_lost(inline)  # both have a job now: neither gets a second one
    job_runs = inline.queue.waiting_run_ids()
    assert job_runs.count(kept.id) == 1 and job_runs.count(lost.id) == 1
    assert jobs.run_claimed(inline, lost.id) == "succeeded"


def test_a_lease_released_while_redis_is_down_waits_queued_for_the_lost_job_sweep(inline, workspace, http_target,
                                                                                monkeypatch):
    version = _deploy_inline(inline, workspace, http_sink("f-down", http_target.url))
    run = intake.start(inline, workspace, "f-down", version, order("D-9"), trigger="manual")
    inline.queue.clear()  # its job was taken (by a worker that then died)
    jobs._claim(inline, run.id)
    _expire_lease(inline, run.id)

    def down(run_ids):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as m:
        m.setattr(inline.queue, "enqueue_runs", down)
        assert jobs.release_expired_leases(inline) >= 1  # no exception: a maintenance pass goes on
    assert stored(inline, run.id).status == "queued" and run.id not in inline.queue.held_run_ids(0.0)
    assert jobs.requeue_lost(inline) >= 1 and run.id in inline.queue.held_run_ids(0.0)
    assert jobs.run_claimed(inline, run.id) == "succeeded"


def test_a_delayed_job_that_no_scheduler_moves_is_replaced_once_overdue(inline, workspace, http_target):
    """A worker SIGKILLed while it held the RQ scheduler lock leaves delayed jobs unmoved for a minute."""
    version = _deploy_inline(inline, workspace, http_sink("f-overdue", http_target.url))
    run = intake.start(inline, workspace, "f-overdue", version, order("O-1"), trigger="manual")
    inline.queue.clear()
    inline.queue.enqueue_run(run.id, delay_s=2)  # as a retry or a sequence wait does; no scheduler runs here
    assert run.id in inline.queue.held_run_ids(0.0)
    wait_for(lambda: run.id not in inline.queue.held_run_ids(0.0), 5)  # due, and still not moved
    assert jobs.requeue_lost(inline) >= 1 and run.id in inline.queue.held_run_ids(0.0)
    assert jobs.run_claimed(inline, run.id) == "succeeded"


def test_a_run_handed_back_by_a_stopping_worker_keeps_its_steps_and_resumes_after_them(inline, workspace,
                                                                                      http_target):
    version = _deploy_inline(inline, workspace, http_sink("f-stop", http_target.url))
    run = intake.start(inline, workspace, "f-stop", version, order("S-9", 2), trigger="webhook",
                       trigger_node="hook")
    inline.queue.stopping.set()  # what SIGTERM does to a worker process
    try:
        assert jobs.run_claimed(inline, run.id) == "queued"
    finally:
        inline.queue.stopping.clear()
    row = stored(inline, run.id)
    assert (row.status, row.lease_until, row.takeovers) == ("queued", None, 0)
    assert [p["node"] for p in row.checkpoint["pending"]] == ["map"] and not http_target.requests
    assert jobs.run_claimed(inline, run.id) == "succeeded"
    detail = history.get_run(inline, workspace, run.id)
    assert [s["node_id"] for s in detail["steps"]] == ["hook", "map", "sink"]
    assert http_target.requests[0]["body"] == {"ref": "S-9", "qty": 2}


def stored(rt, run_id) -> Run:
    with rt.sessions() as s:
        return s.get(Run, run_id)
