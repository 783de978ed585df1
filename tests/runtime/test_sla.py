"""The SLA report of a workspace and month (runtime/sla.py), checked against runs executed here: endpoint
availability from the connector attempts, the intake's, runs and failures, time to resolve exceptions, the KPIs."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from designer import drafts
from runtime import deployments, egress, exceptions, intake, jobs, kpis, sla
from runtime.models import DeadLetter, Run
from support.flowdocs import http_sink
from support.processes import free_port


def execute(rt, workspace, flow_id, version, number, trigger="webhook"):
    run = intake.start(rt, workspace, flow_id, version, {"order": {"number": number, "lines": [{"qty": 1}]}},
                       trigger=trigger, trigger_node="hook")
    return run.id, jobs.run_claimed(rt, run.id)


def deploy(rt, workspace, doc) -> int:
    drafts.create(rt, workspace, doc)
    return deployments.deploy(rt, workspace, doc["id"], doc)


@pytest.fixture
def executed(store, workspace, http_target):
    """Five runs to the recorder (200, 500, 200, 422, 200; no retries) and one to a closed port."""
    http_target.script = [(200, {"ok": True}, {}), (500, {"error": "down"}, {}), (200, {"ok": True}, {}),
                          (422, {"code": "item_not_found", "message": "no such item"}, {}), (200, {"ok": True}, {})]
    version = deploy(store, workspace, http_sink("to-erp", http_target.url, retry={"max_attempts": 1}))
    closed = f"http://127.0.0.1:{free_port()}"
    egress.allow_origin(store, workspace, closed)
    down = deploy(store, workspace, http_sink("to-tms", closed, path="tms", retry={"max_attempts": 1}))
    statuses = [execute(store, workspace, "to-erp", version, f"PO-{i}")[1] for i in range(4)]
    statuses.append(execute(store, workspace, "to-erp", version, "PO-4", trigger="manual")[1])
    statuses.append(execute(store, workspace, "to-tms", down, "PO-5")[1])
    assert statuses == ["succeeded", "failed", "succeeded", "failed", "succeeded", "failed"]
    with store.read_sessions() as s:
        created = s.scalars(select(Run.created_at).where(Run.workspace == workspace)).all()
    months = {c.strftime("%Y-%m") for c in created}
    assert len(months) == 1  # the runs of one test all fall in one month (a test run across midnight of the 1st: rerun)
    return months.pop(), http_target.url.split("//", 1)[1], closed.split("//", 1)[1]


def test_availability_runs_and_failures_are_the_runs_executed(store, workspace, executed):
    month, erp_host, tms_host = executed
    report = sla.report(store, workspace, month)
    endpoints = {e["endpoint"]: e for e in report["availability"]["endpoints"]}
    assert endpoints[erp_host] == {"endpoint": erp_host, "system": "http", "calls": 5, "unavailable": 1,
                                   "by_cause": {"timeout": 0, "connection": 0, "5xx": 1}, "availability": 0.8}
    assert endpoints[tms_host]["calls"] == 1 and endpoints[tms_host]["by_cause"]["connection"] == 1
    assert endpoints[tms_host]["availability"] == 0.0
    assert report["availability"]["calls"] == 6 and report["availability"]["overall"] == round(4 / 6, 6)
    # the 422 answer is a business rejection: the endpoint was up
    assert report["availability"]["intake"] == {"webhook_runs": 5, "platform_faults": 0, "availability": 1.0}
    runs = report["runs"]
    assert (runs["total"], runs["succeeded"], runs["failed"], runs["unfinished"]) == (6, 3, 3, 0)
    assert runs["success_rate"] == 0.5
    assert {f["flow_id"]: (f["total"], f["failed"]) for f in runs["by_flow"]} == {"to-erp": (5, 2), "to-tms": (1, 1)}
    assert report["exceptions"]["opened"] == 3 and report["exceptions"]["open_at_end"] == 3
    assert report["exceptions"]["by_class"] == {"4xx": 1, "5xx": 1, "connection": 1}
    assert report["exceptions"]["resolved"] == 0 and report["exceptions"]["resolve_median_s"] is None
    start = dt.date.fromisoformat(month + "-01")
    last = (dt.date(start.year + start.month // 12, start.month % 12 + 1, 1) - dt.timedelta(days=1))
    assert report["kpis"] == kpis.summary(store, workspace, start, last)
    assert report["definitions"]["availability"].startswith("share of the month's connector attempts")


def test_time_to_resolve_is_from_arrival_to_resolution(store, workspace, executed):
    month = executed[0]
    with store.read_sessions() as s:
        ids = s.scalars(select(DeadLetter.id).where(DeadLetter.workspace == workspace).order_by(DeadLetter.id)).all()
    assert exceptions.resolve(store, workspace, ids[:2], "ops@example.test") == 2
    with store.read_sessions() as s:
        rows = s.execute(select(DeadLetter.created_at, DeadLetter.resolved_at).where(DeadLetter.id.in_(ids[:2]))).all()
    waits = sorted((r - c).total_seconds() for c, r in rows)
    report = sla.report(store, workspace, month)["exceptions"]
    assert report["resolved"] == 2 and report["by_resolution"] == {"manual": 2} and report["open_at_end"] == 1
    assert report["resolve_median_s"] == pytest.approx((waits[0] + waits[1]) / 2, abs=0.001)
    assert report["resolve_p95_s"] == pytest.approx(waits[1], abs=0.001)


def test_another_month_and_another_workspace_see_nothing(store, workspace, executed):
    month = executed[0]
    year, m = map(int, month.split("-"))
    before = f"{year - (m == 1)}-{(m - 2) % 12 + 1:02d}"
    empty = sla.report(store, workspace, before)
    assert empty["runs"]["total"] == 0 and empty["availability"]["endpoints"] == []
    assert empty["availability"]["overall"] is None and empty["exceptions"]["opened"] == 0
    other = sla.report(store, "no-such-workspace", month)
    assert other["runs"]["total"] == 0 and other["exceptions"]["opened"] == 0


@pytest.mark.parametrize("bad", ["2026-13", "2026-00", "26-01", "2026-1", "1999-12", "x", None, 202601, "2026-01 "])
def test_a_month_is_yyyy_mm(bad):
    with pytest.raises(sla.InvalidMonth):
        sla.month_range(bad)


def test_month_range_is_the_calendar_month():
    assert sla.month_range("2026-12") == (dt.datetime(2026, 12, 1), dt.datetime(2027, 1, 1))
    assert sla.month_range("2026-02") == (dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 1))
