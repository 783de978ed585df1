"""The exception workbench's runtime side (issue 14): dead letters get their state row once however many processes
index them; a root cause leaves array positions out; classes come from codes and from a remote system's code; a
retry resolves its exceptions when it succeeds, found by the maintenance pass's settle over all workspaces; a
retry that fails again supersedes them; retention's pruning of a resolved dead letter takes its state row along."""
from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from runtime import exceptions, intake, retention
from runtime.exceptions import ExceptionState, Filter
from runtime.models import DeadLetter, Run, utcnow
from support import wait_for
from support.deploys import deploy
from support.flowdocs import done, edge

FLOW = {"schema": "crossdock.flow/1", "id": "qty", "name": "Quantity check",
        "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                  {"id": "map", "type": "transform.map",
                   "config": {"expression": "$number(qty) > 0 ? {'qty': $number(qty)} : $error('bad quantity')"}},
                  done()],
        "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}


def ended(rt, run_id: int) -> str:
    def status():
        with rt.sessions() as s:
            st = s.get(Run, run_id).status
        return st if st in ("succeeded", "failed", "dead_lettered", "canceled") else None
    return wait_for(status)


def failed_runs(rt, workspace: str, n: int) -> list[int]:
    runs = [intake.start_manual(rt, workspace, "qty", {"qty": "-1"}).id for _ in range(n)]
    assert {ended(rt, r) for r in runs} == {"failed"}
    return runs


def test_root_causes_leave_positions_out_and_classes_come_from_codes_and_the_remote_systems_code():
    assert exceptions.root_cause("unknown_sku", "lines[3].sku: 'x' is not in lookup table 't'") == \
        exceptions.root_cause("unknown_sku", "lines[0].sku: 'x' is not in lookup table 't'")
    assert exceptions.root_cause("unknown_sku", "'x'") != exceptions.root_cause("unknown_sku", "'y'")
    assert exceptions.kind_of("http_4xx", "business", "item_not_found: no Item X; HTTP 422") == "unknown_sku"
    assert exceptions.kind_of("http_4xx", "business", "POST http://erp/x: 409 Conflict") == "4xx"
    assert exceptions.kind_of("http_4xx", "business", "timeout: the remote's own") == "4xx"
    assert [exceptions.kind_of(c, "technical", "") for c in ("timeout", "connection_error", "http_5xx",
                                                              "expression_error", "budget_time", "unrouted")] == [
        "timeout", "connection", "5xx", "mapping_error", "budget", "unrouted"]
    assert exceptions.kind_of("credit_hold", "business", "") == "credit_hold"


def test_concurrent_indexing_gives_each_dead_letter_one_state_row(rt, workspace):
    deploy(rt, workspace, FLOW)
    failed_runs(rt, workspace, 6)
    barrier = threading.Barrier(3)
    counts: list[int] = []

    def index():
        barrier.wait()
        counts.append(exceptions.index(rt, workspace))
    threads = [threading.Thread(target=index) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with rt.sessions() as s:
        letters = s.scalar(select(func.count()).select_from(DeadLetter).where(DeadLetter.workspace == workspace))
        states = s.scalars(select(ExceptionState).where(ExceptionState.workspace == workspace)).all()
    assert letters == len(states) == 6 and sum(counts) >= 6
    assert {st.kind for st in states} == {"mapping_error"} and len({st.root_cause for st in states}) == 1
    assert exceptions.index(rt, workspace) == 0


def test_a_retry_resolves_when_it_succeeds_and_supersedes_when_it_fails_again(rt, workspace):
    deploy(rt, workspace, FLOW)
    failed_runs(rt, workspace, 2)
    items, _ = exceptions.listed(rt, workspace, Filter())
    [second, first] = items
    bad = FLOW["nodes"][1]["config"]["expression"]
    fixed = {**FLOW, "nodes": [FLOW["nodes"][0], {**FLOW["nodes"][1], "config": {
        "expression": bad.replace("$number(qty) > 0", "true").replace("$number(qty)", "$abs($number(qty))")}},
        FLOW["nodes"][2]]}

    again = exceptions.retry(rt, workspace, [first["id"]])  # not fixed yet: fails again
    [started] = again["retries"]
    assert ended(rt, started["run_id"]) == "failed"
    exceptions.settle(rt)  # as the maintenance pass does, over every workspace
    assert exceptions.get(rt, workspace, first["id"])["resolution"] == "superseded"

    deploy(rt, workspace, fixed)  # the fix: a new version; retries run on the current one
    result = exceptions.retry(rt, workspace, [second["id"]])
    assert ended(rt, result["retries"][0]["run_id"]) == "succeeded"
    exceptions.settle(rt)  # as the maintenance pass does
    assert exceptions.retry(rt, workspace, [second["id"]])["retries"] == []  # resolved: not retried again
    got = exceptions.get(rt, workspace, second["id"])
    assert (got["status"], got["resolution"], got["retry"]["status"]) == ("resolved", "retried", "succeeded")
    with rt.sessions() as s:
        assert s.get(DeadLetter, second["id"]).resolved_at is not None


def test_a_retry_still_running_is_not_started_twice(rt, workspace):
    deploy(rt, workspace, FLOW)
    failed_runs(rt, workspace, 1)
    [one], _ = exceptions.listed(rt, workspace, Filter())
    with rt.sessions.begin() as s:  # its retry is queued (a run that has not ended)
        retry = Run(workspace=workspace, flow_id="qty", version=1, status="queued", trigger="replay",
                    created_at=utcnow())
        s.add(retry)
        s.flush()
        s.get(ExceptionState, one["id"]).retry_run_id = retry.id
    assert exceptions.retry(rt, workspace, [one["id"]]) == {"retries": [], "busy": [one["id"]], "problems": []}


def test_pruning_a_resolved_dead_letter_takes_its_state_row(rt, workspace):
    deploy(rt, workspace, FLOW)
    failed_runs(rt, workspace, 1)
    [one], _ = exceptions.listed(rt, workspace, Filter())
    assert exceptions.resolve(rt, workspace, [one["id"]], "dana") == 1
    retention.prune(rt, now=utcnow() + dt.timedelta(days=400), days=1)
    with rt.sessions() as s:
        assert s.get(DeadLetter, one["id"]) is None and s.get(ExceptionState, one["id"]) is None


def test_a_dry_run_reads_the_ledger_stops_before_the_first_node_that_would_write_and_claims_nothing(rt, workspace):
    from runtime import dry_runs
    from runtime.models import LedgerEntry

    doc = {**FLOW, "nodes": [*FLOW["nodes"][:2], {"id": "once", "type": "control.dedupe", "config": {"key": "qty"}},
                             {"id": "send", "type": "connector.http",
                              "config": {"method": "POST", "url": "http://127.0.0.1:9/orders"}}, done()],
           "edges": [edge(1, "start", "map"), edge(2, "map", "once"), edge(3, "once", "send"),
                     edge(4, "send", "done")]}
    deploy(rt, workspace, doc)
    failed_runs(rt, workspace, 1)
    [one], _ = exceptions.listed(rt, workspace, Filter())
    fixed = {**doc, "nodes": [doc["nodes"][0], {**doc["nodes"][1], "config": {"expression": "{'qty': 1}"}},
                              *doc["nodes"][2:]]}
    deploy(rt, workspace, fixed)

    [result] = dry_runs.dry_run(rt, workspace, [one["id"]])
    assert result["outcome"] == "reaches_side_effect" and result["version"] == 2
    steps = {s["node_id"]: s for s in result["steps"]}
    assert steps["map"]["before"]["status"] == "failed" and steps["map"]["after"] == {"qty": 1}
    assert (steps["once"]["status"], steps["once"]["port"]) == ("succeeded", "out")  # the ledger read, not written
    assert steps["send"]["status"] == "stopped" and steps["send"]["input"] == {"qty": 1}
    assert "done" not in steps
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.workspace == workspace)) == 0
    assert dry_runs.dry_run(rt, "someone-else", [one["id"]]) == []
