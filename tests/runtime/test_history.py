"""Reading the run store: run list filters, cursor pages that stay stable while runs arrive, run detail
with whole payloads of truncated steps, dead letters; on both backends. Runs execute inline (no workers)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from runtime import deployments, history, intake, jobs
from runtime.models import DeadLetter, Flow, Run, utcnow
from support.flowdocs import done


@pytest.fixture
def store(make_settings, workspace):
    from runtime.wiring import Runtime

    runtime = Runtime(make_settings(step_payload_limit=200))
    runtime.ensure_workspace(workspace)
    yield runtime
    runtime.close()


def deploy(store, workspace, flow_id, expression="{'ref': ref}") -> int:
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id, "settings": {"business_key": "ref"},
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "map", "type": "transform.map", "config": {"expression": expression,
                                                                       "allow_empty": False}}, done()],
           "edges": [{"id": "e1", "source": "start", "source_port": "out", "target": "map", "target_port": "in"},
                     {"id": "e2", "source": "map", "source_port": "out", "target": "done", "target_port": "in"}]}
    with store.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=flow_id, name=flow_id, document=doc))
    return deployments.deploy(store, workspace, flow_id, doc)


def run(store, workspace, flow_id, message, execute=True) -> int:
    r = intake.start(store, workspace, flow_id, 1, message, trigger="manual", trigger_node="start")
    if execute:
        jobs.run_claimed(store, r.id)
    return r.id


def ids(runs):
    return [r["id"] for r in runs]


def test_filters_by_flow_status_key_and_workspace(store, workspace):
    deploy(store, workspace, "a")
    deploy(store, workspace, "b", expression="missing")  # empty result: mapping_empty, a dead letter
    ok1 = run(store, workspace, "a", {"ref": "PO-1"})
    ok2 = run(store, workspace, "a", {"ref": "PO-2"})
    bad = run(store, workspace, "b", {"ref": "PO-1"})
    waiting = run(store, workspace, "a", {"ref": "PO-3"}, execute=False)
    assert ids(history.list_runs(store, workspace)[0]) == [waiting, bad, ok2, ok1]
    assert ids(history.list_runs(store, workspace, flow_id="a")[0]) == [waiting, ok2, ok1]
    assert ids(history.list_runs(store, workspace, status="succeeded")[0]) == [ok2, ok1]
    assert ids(history.list_runs(store, workspace, status="failed,queued")[0]) == [waiting, bad]
    assert ids(history.list_runs(store, workspace, key="PO-1")[0]) == [bad, ok1]
    assert ids(history.list_runs(store, workspace, flow_id="b", key="PO-2")[0]) == []
    assert history.list_runs(store, workspace + "x") == ([], None)
    assert history.get_run(store, workspace + "x", ok1) is None


def test_since_and_until_bound_the_creation_time(store, workspace):
    deploy(store, workspace, "a")
    first, second, third = (run(store, workspace, "a", {"ref": r}, execute=False) for r in "xyz")
    with store.sessions.begin() as s:
        for day, run_id in enumerate((first, second, third), start=1):
            s.execute(update(Run).where(Run.id == run_id).values(created_at=dt.datetime(2020, 1, day, 12)))
    at = dt.datetime(2020, 1, 2, 12)
    assert ids(history.list_runs(store, workspace, since=at)[0]) == [third, second]
    assert ids(history.list_runs(store, workspace, until=at)[0]) == [first]  # until is exclusive
    assert ids(history.list_runs(store, workspace, since=at, until=dt.datetime(2020, 1, 3))[0]) == [second]


def test_cursor_pages_are_stable_while_runs_arrive(store, workspace):
    deploy(store, workspace, "a")
    original = [run(store, workspace, "a", {"ref": f"R{i}"}, execute=False) for i in range(5)]
    page1, cursor = history.list_runs(store, workspace, limit=2)
    assert ids(page1) == original[:-3:-1] and cursor == original[3]
    newer = [run(store, workspace, "a", {"ref": "N"}, execute=False) for _ in range(3)]  # arrive between pages
    page2, cursor = history.list_runs(store, workspace, limit=2, before=cursor)
    assert ids(page2) == [original[2], original[1]]
    page3, cursor = history.list_runs(store, workspace, limit=2, before=cursor)
    assert ids(page3) == [original[0]] and cursor is None
    assert ids(history.list_runs(store, workspace, limit=3)[0]) == newer[::-1]


def test_page_size_is_clamped(store, workspace):
    deploy(store, workspace, "a")
    for i in range(3):
        run(store, workspace, "a", {"ref": i}, execute=False)
    assert len(history.list_runs(store, workspace, limit=0)[0]) == 1
    assert len(history.list_runs(store, workspace, limit=10_000)[0]) == 3


def test_run_detail_has_its_steps_and_truncated_payloads_are_kept_whole(store, workspace):
    deploy(store, workspace, "a", expression="{'ref': ref, 'notes': notes}")
    big = {"ref": "BIG", "notes": "n" * 500}
    run_id = run(store, workspace, "a", big)
    detail = history.get_run(store, workspace, run_id)
    assert detail["status"] == "succeeded" and detail["business_key"] == "BIG" and detail["trigger"] == "manual"
    assert detail["duration_ms"] is not None and detail["created_at"].endswith("Z")
    start, mapped, end = detail["steps"]
    assert (start["seq"], start["node_id"], mapped["seq"], mapped["node_id"]) == (1, "start", 2, "map")
    assert (end["seq"], end["node_id"], end["output"]) == (3, "done", None)
    assert start["truncated"] and start["input"]["_truncated"] is True and start["input"]["bytes"] > 500
    assert history.step_payload(store, workspace, run_id, 1, "input") == big
    assert history.step_payload(store, workspace, run_id, 2, "output") == big
    assert history.step_payload(store, workspace + "x", run_id, 1, "input") is None
    small = history.get_run(store, workspace, run(store, workspace, "a", {"ref": "S", "notes": ""}))
    assert not any(s["truncated"] for s in small["steps"])
    assert small["steps"][1]["output"] == {"ref": "S", "notes": ""}
    assert history.step_payload(store, workspace, small["id"], 1, "input") is None


def test_dead_letters_are_listed_newest_first_by_status_and_flow(store, workspace):
    deploy(store, workspace, "a", expression="missing")
    deploy(store, workspace, "b", expression="missing")
    first = run(store, workspace, "a", {"ref": "1"})
    second = run(store, workspace, "a", {"ref": "2"})
    other = run(store, workspace, "b", {"ref": "3"})
    letters = history.list_dead_letters(store, workspace)
    assert [d["run_id"] for d in letters] == [other, second, first]
    d = letters[-1]
    assert (d["flow_id"], d["version"], d["node_id"], d["error_class"], d["code"], d["payload"], d["status"]) == (
        "a", 1, "map", "business", "mapping_empty", {"ref": "1"}, "open")
    assert d["resolved_at"] is None and d["created_at"].endswith("Z")
    assert [d["run_id"] for d in history.list_dead_letters(store, workspace, flow_id="a")] == [second, first]
    with store.sessions.begin() as s:
        s.execute(update(DeadLetter).where(DeadLetter.run_id == first).values(status="resolved",
                                                                              resolved_at=utcnow()))
    assert [d["run_id"] for d in history.list_dead_letters(store, workspace)] == [other, second]
    assert [d["run_id"] for d in history.list_dead_letters(store, workspace, status="resolved")] == [first]
    assert len(history.list_dead_letters(store, workspace, status="")) == 3
    assert len(history.list_dead_letters(store, workspace, limit=1)) == 1
    assert history.list_dead_letters(store, workspace + "x") == []
