"""The document thread's correlation index (issue 14): a run's end write indexes the keys its flow declares
(settings.correlation) on its input and on its steps' outputs; a thread follows keys through runs (PO -> order ->
shipment) in time order, bounded, within the workspace; flows without keys write no entry; entries go with the
runs they point to (retention)."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from flows import graph
from nodes import catalog
from nodes.expression import check
from runtime import intake, retention, tenancy, threads
from runtime.models import Run, utcnow
from runtime.thread_models import ThreadEntry
from support import wait_for
from support.flowdocs import done, edge
from support.deploys import deploy


def flow(flow_id: str, expression: str, correlation: dict | None, label: str | None = None) -> dict:
    """event.manual -> transform.map (the system's answer, say) -> end; keys read on the input and the map's output."""
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": f"Flow {flow_id}",
           "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                     {"id": "map", "type": "transform.map", "config": {"expression": expression}}, done()],
           "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}
    settings = {}
    if correlation is not None:
        settings["correlation"] = correlation
    if label:
        settings["thread_label"] = label
    if settings:
        doc["settings"] = settings
    return doc


# release: the OMS order carries the PO; the ERP's answer (the map) gives the order number
RELEASE = flow("release", "{'erp_order': 'SO-' & po}", {"po": "po", "order": "erp_order"}, "released to ERP")
# confirmation: the WMS's 945 names the order and the shipment with its tracking numbers
CONFIRM = flow("confirm", "$", {"order": "order", "shipment": "shipment.id", "tracking": "shipment.parcels.tracking"},
               "shipment confirmed")



def run_to_end(rt, workspace: str, flow_id: str, message) -> int:
    run_id = intake.start_manual(rt, workspace, flow_id, message).id

    def ended():
        with rt.sessions() as s:
            return s.get(Run, run_id).status in ("succeeded", "failed")
    wait_for(ended)
    return run_id


def entries(rt, **where) -> list[tuple]:
    with rt.sessions() as s:
        q = select(ThreadEntry.kind, ThreadEntry.value, ThreadEntry.run_id).order_by(ThreadEntry.id)
        for name, value in where.items():
            q = q.where(getattr(ThreadEntry, name) == value)
        return [tuple(r) for r in s.execute(q)]


def test_a_po_finds_the_release_and_the_shipment_linked_through_the_order_number(rt, workspace):
    deploy(rt, workspace, RELEASE)
    deploy(rt, workspace, CONFIRM)
    po = f"PO{uuid.uuid4().hex[:8]}"
    released = run_to_end(rt, workspace, "release", {"po": po})
    confirmed = run_to_end(rt, workspace, "confirm", {"order": f"SO-{po}", "shipment": {
        "id": "SH-3", "parcels": [{"tracking": "1Z1"}, {"tracking": "1Z2"}]}})
    run_to_end(rt, workspace, "confirm", {"order": "SO-other", "shipment": {"id": "SH-9", "parcels": []}})

    # the order number came back in the map's output (the ERP's answer), not in the run's input
    assert sorted(entries(rt, run_id=released)) == sorted([("po", po, released), ("order", f"SO-{po}", released)])
    assert sorted(k for k, v, _ in entries(rt, run_id=confirmed)) == ["order", "shipment", "tracking", "tracking"]

    for key, kind in ((po, None), (po, "po"), ("1Z2", None), ("SH-3", "shipment")):
        found = threads.thread(rt, workspace, key, kind)
        assert [e["run_id"] for e in found["entries"]] == [released, confirmed], key
        assert [e["label"] for e in found["entries"]] == ["released to ERP", "shipment confirmed"]
        assert found["entries"][0]["created_at"] <= found["entries"][1]["created_at"]
        assert {"kind": "order", "value": f"SO-{po}"} in found["keys"] and not found["truncated"]
        assert found["entries"][1]["flow_name"] == "Flow confirm" and found["entries"][1]["status"] == "succeeded"
    assert threads.thread(rt, workspace, po, "order")["entries"] == []  # the kind must match when given


def test_another_workspace_finds_nothing_and_a_flow_without_keys_writes_no_entry(rt, workspace, partner):
    other = f"ws{uuid.uuid4().hex[:10]}"
    tenancy.create(rt, partner, other, "Other")
    deploy(rt, workspace, RELEASE)
    deploy(rt, other, RELEASE)
    deploy(rt, workspace, flow("plain", "$", None))
    po = f"PO{uuid.uuid4().hex[:8]}"
    mine = run_to_end(rt, workspace, "release", {"po": po})
    theirs = run_to_end(rt, other, "release", {"po": po})
    plain = run_to_end(rt, workspace, "plain", {"po": po})
    assert [e["run_id"] for e in threads.thread(rt, workspace, po)["entries"]] == [mine]
    assert [e["run_id"] for e in threads.thread(rt, other, po)["entries"]] == [theirs]
    assert entries(rt, run_id=plain) == []


def test_keys_are_bounded_and_odd_values_are_skipped(rt, workspace):
    many = flow("many", "$", {"line": "lines.id", "flag": "flag", "obj": "obj", "empty": "blank"})
    deploy(rt, workspace, many)
    run_id = run_to_end(rt, workspace, "many", {"lines": [{"id": f"L{i}"} for i in range(40)], "flag": True,
                                                 "obj": {"a": 1}, "blank": "  "})
    found = entries(rt, run_id=run_id)
    assert len(found) == threads.MAX_VALUES and {k for k, _, _ in found} == {"line"}


def test_a_thread_is_bounded_in_runs(rt, workspace, monkeypatch):
    monkeypatch.setattr(threads, "MAX_RUNS", 3)
    deploy(rt, workspace, RELEASE)
    po = f"PO{uuid.uuid4().hex[:8]}"
    for _ in range(5):
        run_to_end(rt, workspace, "release", {"po": po})
    found = threads.thread(rt, workspace, po)
    assert len(found["entries"]) == 3 and found["truncated"]


def test_a_run_retried_indexes_its_keys_once(rt, workspace):
    deploy(rt, workspace, RELEASE)
    po = f"PO{uuid.uuid4().hex[:8]}"
    run_id = run_to_end(rt, workspace, "release", {"po": po})
    with rt.engine.begin() as conn:  # the same keys again, as an execution after a retry writes them
        threads.store(conn, [{"workspace": workspace, "kind": "po", "value": po, "run_id": run_id,
                              "flow_id": "release", "label": "x", "at": utcnow()}])
    assert len(entries(rt, run_id=run_id)) == 2


def test_entries_go_with_their_runs_when_retention_prunes_them(rt, workspace):
    deploy(rt, workspace, RELEASE)
    po = f"PO{uuid.uuid4().hex[:8]}"
    run_id = run_to_end(rt, workspace, "release", {"po": po})
    assert entries(rt, run_id=run_id)
    assert [e["run_id"] for e in threads.recent(rt, workspace, kind="po", value=po)] == [run_id]
    retention.prune(rt, now=utcnow() + dt.timedelta(days=400))
    with rt.sessions() as s:
        assert s.get(Run, run_id) is None
        assert s.scalar(select(func.count()).select_from(ThreadEntry).where(ThreadEntry.run_id == run_id)) == 0


def test_validate_names_a_correlation_key_that_does_not_compile():
    doc = flow("bad", "$", {"po": "po.(", "order": "order"})
    problems = graph.validate(doc, catalog.specs(), check)
    assert [p.field for p in problems] == ["settings.correlation.po"]
    bad_kind = flow("bad", "$", {"PO Number": "po"})
    problems = graph.validate(bad_kind, catalog.specs())
    assert any(p.field and p.field.startswith("settings.correlation") for p in problems)


def test_a_thread_follows_keys_through_several_runs_and_stops_at_the_hop_limit(rt, workspace, monkeypatch):
    deploy(rt, workspace, RELEASE)  # po -> order
    deploy(rt, workspace, CONFIRM)  # order -> shipment, tracking
    deploy(rt, workspace, flow("deliver", "$", {"tracking": "tracking", "pod": "pod"}, "delivered"))  # tracking -> pod
    po = f"PO{uuid.uuid4().hex[:8]}"
    chain = [run_to_end(rt, workspace, "release", {"po": po}),
             run_to_end(rt, workspace, "confirm", {"order": f"SO-{po}", "shipment": {
                 "id": f"SH-{po}", "parcels": [{"tracking": f"1Z-{po}"}]}}),
             run_to_end(rt, workspace, "deliver", {"tracking": f"1Z-{po}", "pod": f"POD-{po}"})]
    found = threads.thread(rt, workspace, po)
    assert [e["run_id"] for e in found["entries"]] == chain and not found["truncated"]
    assert [e["run_id"] for e in threads.thread(rt, workspace, f"POD-{po}")["entries"]] == chain
    monkeypatch.setattr(threads, "MAX_HOPS", 2)
    near = threads.thread(rt, workspace, po)
    assert [e["run_id"] for e in near["entries"]] == chain[:2] and near["truncated"]


def test_entries_are_listed_by_kind_event_and_time_for_absence_alerts(rt, workspace):
    deploy(rt, workspace, RELEASE)
    deploy(rt, workspace, CONFIRM)
    po = f"PO{uuid.uuid4().hex[:8]}"
    before = utcnow() - dt.timedelta(seconds=1)
    released = run_to_end(rt, workspace, "release", {"po": po})
    run_to_end(rt, workspace, "confirm", {"order": f"SO-{po}", "shipment": {"id": "SH-1", "parcels": []}})
    orders = threads.recent(rt, workspace, kind="order", label="released to ERP", since=before)
    assert [(e["value"], e["run_id"], e["flow_id"]) for e in orders] == [(f"SO-{po}", released, "release")]
    confirmed = threads.recent(rt, workspace, kind="order", value=f"SO-{po}", label="shipment confirmed")
    assert len(confirmed) == 1 and confirmed[0]["at"] >= orders[0]["at"]
    assert threads.recent(rt, workspace, kind="order", until=before) == []
