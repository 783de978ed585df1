"""The operations dashboard's figures (issue 14), from rows of known times: runs bucketed per minute or hour, p50/p95
per flow and per node (nearest rank), the workspace's queued runs per queue (ready and delayed) with the oldest's
age, open exceptions by class and age, flow health; another workspace's rows never count."""
from __future__ import annotations

import datetime as dt
import uuid

from runtime import dashboard
from runtime.models import DeadLetter, Flow, Run, Step

NOW = dt.datetime(2026, 11, 26, 12, 0, 30)


def add_run(s, workspace: str, flow_id: str, status: str, finished: dt.datetime | None, took_ms: float = 0,
            steps: tuple[tuple[str, float], ...] = (), **extra) -> Run:
    started = (finished or NOW) - dt.timedelta(milliseconds=took_ms)
    run = Run(workspace=workspace, flow_id=flow_id, version=1, status=status, trigger="manual",
              created_at=extra.pop("created_at", started), started_at=started, finished_at=finished, **extra)
    s.add(run)
    s.flush()
    for seq, (node, ms) in enumerate(steps, 1):
        s.add(Step(run_id=run.id, seq=seq, node_id=node, node_type="transform.map", status="succeeded",
                   started_at=started, duration_ms=ms))
    return run


def add_flow(s, workspace: str, flow_id: str) -> None:
    s.add(Flow(workspace=workspace, id=flow_id, name=f"Flow {flow_id}", deployed_version=1,
               document={"nodes": [{"id": "map", "name": "Map it"}, {"id": "send"}]}))


def test_runs_per_bucket_and_percentiles_per_flow_and_node(store, workspace):
    with store.sessions.begin() as s:
        add_flow(s, workspace, "orders")
        for i, ms in enumerate((100, 200, 300, 400)):  # finished 11:58:00, 11:58:50, 11:59:40, 12:00:30
            add_run(s, workspace, "orders", "succeeded", NOW - dt.timedelta(seconds=150 - 50 * i), ms,
                    steps=(("map", ms / 10), ("send", ms / 2)))
        add_run(s, workspace, "orders", "failed", NOW - dt.timedelta(seconds=10), 1000, steps=(("map", 1.0),))
        add_run(s, workspace, "orders", "succeeded", NOW - dt.timedelta(hours=2), 5)  # before the window
        add_run(s, workspace, "orders", "succeeded", NOW - dt.timedelta(seconds=5), 5, dry_run=True)  # not counted

    d = dashboard.workspace_dashboard(store, workspace, 300, now=NOW)
    assert (d["runs"]["total"], d["runs"]["succeeded"], d["runs"]["failed"], d["runs"]["success_rate"]) == (
        5, 4, 1, 0.8)
    assert d["bucket_s"] == 60
    assert [(b["t"], b["succeeded"], b["failed"]) for b in d["runs"]["per_minute"]] == [
        ("2026-11-26T11:55:00.000Z", 0, 0), ("2026-11-26T11:56:00.000Z", 0, 0), ("2026-11-26T11:57:00.000Z", 0, 0),
        ("2026-11-26T11:58:00.000Z", 2, 0), ("2026-11-26T11:59:00.000Z", 1, 0), ("2026-11-26T12:00:00.000Z", 1, 1)]
    [orders] = d["flows"]
    assert (orders["runs"], orders["failed"], orders["p50_ms"], orders["p95_ms"]) == (5, 1, 300.0, 1000.0)
    nodes = {n["node_id"]: n for n in orders["nodes"]}
    assert (nodes["map"]["name"], nodes["map"]["count"], nodes["map"]["p50_ms"], nodes["map"]["p95_ms"]) == (
        "Map it", 5, 20.0, 40.0)
    assert (nodes["send"]["name"], nodes["send"]["count"], nodes["send"]["p50_ms"]) == ("send", 4, 100.0)

    hourly = dashboard.workspace_dashboard(store, workspace, 7 * 3600, now=NOW)
    assert hourly["bucket_s"] == 3600 and len(hourly["runs"]["per_minute"]) == 8
    assert hourly["runs"]["total"] == 6
    assert [(b["succeeded"], b["failed"]) for b in hourly["runs"]["per_minute"][-3:]] == [(1, 0), (3, 0), (1, 1)]


def test_queues_count_the_workspaces_waiting_runs_ready_and_delayed(store, workspace, partner):
    other = f"ws{uuid.uuid4().hex[:10]}"
    store.ensure_workspace(other, partner_id=partner)
    with store.sessions.begin() as s:
        for age in (30, 90):
            add_run(s, workspace, "f", "queued", None, created_at=NOW - dt.timedelta(seconds=age))
        add_run(s, workspace, "f", "queued", None, created_at=NOW - dt.timedelta(seconds=600),
                not_before=NOW + dt.timedelta(seconds=60))  # waiting for its retry
        add_run(s, workspace, "f", "running", None, created_at=NOW - dt.timedelta(seconds=900))
        add_run(s, other, "f", "queued", None, created_at=NOW - dt.timedelta(seconds=5000))

    name = store.settings.queue_name
    assert dashboard.queues(store, workspace, NOW) == [{"queue": name, "depth": 2, "oldest_age_s": 90.0},
                                                       {"queue": f"{name}:delayed", "depth": 1, "oldest_age_s": 600.0}]
    assert dashboard.queues(store, other, NOW)[0] == {"queue": name, "depth": 1, "oldest_age_s": 5000.0}


def test_open_exceptions_by_class_and_age_and_flow_health(store, workspace):
    with store.sessions.begin() as s:
        for flow_id in ("quiet", "broken", "recovered", "healthy"):
            add_flow(s, workspace, flow_id)
        failed = add_run(s, workspace, "broken", "failed", NOW - dt.timedelta(minutes=5))
        add_run(s, workspace, "recovered", "failed", NOW - dt.timedelta(hours=3))
        add_run(s, workspace, "recovered", "succeeded", NOW - dt.timedelta(hours=2))
        add_run(s, workspace, "healthy", "succeeded", NOW - dt.timedelta(hours=1))
        for code, age_h, status in (("http_5xx", 0.5, "open"), ("item_not_found", 3, "open"),
                                    ("item_not_found", 30, "open"), ("http_5xx", 1, "resolved")):
            s.add(DeadLetter(workspace=workspace, run_id=failed.id, flow_id="broken", version=1, node_id="map",
                             error_class="business", code=code, message=f"{code}: x", status=status,
                             created_at=NOW - dt.timedelta(hours=age_h)))

    found = dashboard.open_exceptions(store, workspace, NOW)
    assert found == {"open": 3, "by_class": {"5xx": 1, "unknown_sku": 2},
                     "by_age": {"lt_1h": 1, "1h_24h": 1, "gt_24h": 1}}
    health = {f["flow_id"]: (f["status"], f["last_status"], f["failed_24h"])
              for f in dashboard.flow_health(store, workspace, NOW)["flows"]}
    assert health == {"quiet": ("idle", None, 0), "broken": ("failing", "failed", 1),
                      "recovered": ("ok", "succeeded", 1), "healthy": ("ok", "succeeded", 0)}


def test_percentile_is_nearest_rank():
    assert dashboard.percentile([], 50) is None
    assert dashboard.percentile([5.0], 95) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert (dashboard.percentile(values, 50), dashboard.percentile(values, 95)) == (50.0, 95.0)
