"""The run list's time window: `since` inclusive, `until` exclusive, ISO times with or without a zone."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from runtime.models import Run


def add_runs(rt, workspace, *hours):
    ids = []
    for h in hours:
        with rt.sessions.begin() as s:
            run = Run(workspace=workspace, flow_id="f", version=1, status="succeeded", trigger="manual",
                      business_key=f"K-{h}")
            s.add(run)
            s.flush()
            ids.append(run.id)
        with rt.sessions.begin() as s:
            s.execute(update(Run).where(Run.id == run.id).values(created_at=dt.datetime(2026, 11, 26, h)))
    return ids


def listed(client, query):
    r = client.get("/api/v1/runs?" + query)
    assert r.status_code == 200, r.json
    return [run["business_key"] for run in r.json["runs"]]


def test_since_and_until_bound_the_creation_time(rt, client, workspace):
    add_runs(rt, workspace, 8, 10, 12)
    assert listed(client, "since=2026-11-26T10:00:00Z") == ["K-12", "K-10"]
    assert listed(client, "until=2026-11-26T12:00:00Z") == ["K-10", "K-8"]
    assert listed(client, "since=2026-11-26T09:00:00&until=2026-11-26T11:00:00") == ["K-10"]
    # 11:00 at UTC+02:00 is 09:00 UTC
    assert listed(client, "since=2026-11-26T11:00:00%2B02:00&until=2026-11-26T11:00Z") == ["K-10"]
    assert listed(client, "since=2026-11-26T10:00:00Z&key=K-10&flow_id=f&status=succeeded") == ["K-10"]


def test_a_bad_time_is_refused(client):
    r = client.get("/api/v1/runs?since=yesterday")
    assert r.status_code == 400
    assert r.json["error"]["code"] == "invalid_argument" and r.json["error"]["details"] == [{"field": "since"}]
