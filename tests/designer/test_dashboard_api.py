"""GET /api/v1/dashboard, /partner/dashboard, /kpis and /flows/health (issue 14): the workspace's runs, latency per
flow and node, queues, exceptions and KPIs as the OpenAPI document says; a workspace never sees another's
figures; the partner view spans its own partner's workspaces only, worst health first; bad windows and days are
400 naming the field."""
from __future__ import annotations

import uuid

from support import identity
from support.api import deploy, finished
from support.flowdocs import done, edge

from .test_trading_partners_api import documented


def flow(flow_id: str, expression: str) -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": f"Flow {flow_id}",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": flow_id}},
                      {"id": "map", "type": "transform.map", "name": "To the ERP's words",
                       "config": {"expression": expression}}, done()],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "done")]}


GOOD = flow("good", "{'ref': number}")
BAD = flow("bad", "$number(number)")  # 'x' is no number: a mapping error, dead-lettered
IDLE = flow("idle", "$")


def post(client, workspace: str, path: str, body: dict) -> dict:
    r = client.post(f"/hooks/{workspace}/{path}", json=body)
    assert r.status_code == 202, r.json
    return finished(client, r.json["run_id"])


def test_the_dashboard_counts_runs_per_flow_and_node_with_queues_exceptions_and_kpis(client, workspace):
    for doc in (GOOD, BAD, IDLE):
        deploy(client, doc)
    assert [post(client, workspace, "good", {"number": str(i)})["status"] for i in range(3)] == ["succeeded"] * 3
    assert post(client, workspace, "bad", {"number": "x"})["status"] == "failed"

    r = client.get("/api/v1/dashboard?window_s=600")
    assert r.status_code == 200, r.json
    documented(client, r, "/api/v1/dashboard")
    d = r.json
    assert (d["window_s"], d["bucket_s"]) == (600, 60)
    runs = d["runs"]
    assert (runs["total"], runs["succeeded"], runs["failed"], runs["success_rate"]) == (4, 3, 1, 0.75)
    assert 10 <= len(runs["per_minute"]) <= 11
    assert sum(b["succeeded"] for b in runs["per_minute"]) == 3 and sum(b["failed"] for b in runs["per_minute"]) == 1
    flows = {f["flow_id"]: f for f in d["flows"]}
    assert sorted(flows) == ["bad", "good", "idle"]
    good = flows["good"]
    assert (good["runs"], good["failed"], good["success_rate"], good["version"]) == (3, 0, 1.0, 1)
    assert good["p50_ms"] is not None and good["p95_ms"] >= good["p50_ms"]
    mapper = next(n for n in good["nodes"] if n["node_id"] == "map")
    assert (mapper["name"], mapper["count"]) == ("To the ERP's words", 3) and mapper["p95_ms"] is not None
    assert (flows["bad"]["runs"], flows["bad"]["failed"], flows["bad"]["success_rate"]) == (1, 1, 0.0)
    assert (flows["idle"]["runs"], flows["idle"]["p50_ms"], flows["idle"]["nodes"]) == (0, None, [])
    assert [(q["depth"], q["oldest_age_s"]) for q in d["queues"]] == [(0, None), (0, None)]
    assert d["exceptions"]["open"] == 1 and d["exceptions"]["by_class"] == {"mapping_error": 1}
    assert d["exceptions"]["by_age"] == {"lt_1h": 1, "1h_24h": 0, "gt_24h": 0}
    assert d["kpis"]["orders"] == 0 and d["kpis"]["backorder_rate"] is None

    one = client.get("/api/v1/dashboard?flow_id=bad").json
    assert [f["flow_id"] for f in one["flows"]] == ["bad"] and one["runs"]["total"] == 1
    assert client.get("/api/v1/dashboard?flow_id=nope").status_code == 404
    assert client.get("/api/v1/dashboard?window_s=86400").json["bucket_s"] == 3600

    r = client.get("/api/v1/flows/health")
    documented(client, r, "/api/v1/flows/health")
    health = {f["flow_id"]: f for f in r.json["flows"]}
    assert (health["good"]["status"], health["good"]["last_status"], health["good"]["failed_24h"]) == (
        "ok", "succeeded", 0)
    assert (health["bad"]["status"], health["bad"]["failed_24h"]) == ("failing", 1)
    assert (health["idle"]["status"], health["idle"]["last_run_at"]) == ("idle", None)


def test_a_workspace_sees_only_its_own_figures_and_the_partner_view_only_its_partners(client, workspace, partner, rt):
    deploy(client, BAD)
    post(client, workspace, "bad", {"number": "x"})
    other = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(other, partner_id=partner)
    stranger_partner = identity.make_partner(rt)
    foreign = f"ws{uuid.uuid4().hex[:10]}"
    rt.ensure_workspace(foreign, partner_id=stranger_partner)

    neighbour = identity.login_as(client, "viewer", other)
    mine = neighbour.get("/api/v1/dashboard")
    assert mine.status_code == 200 and mine.json["runs"]["total"] == 0 and mine.json["exceptions"]["open"] == 0
    assert neighbour.get("/api/v1/flows/health").json["flows"] == []
    assert neighbour.get("/api/v1/kpis").json["summary"]["orders"] == 0
    assert neighbour.get("/api/v1/dashboard", headers={"X-Crossdock-Workspace": workspace}).status_code == 404
    assert neighbour.get("/api/v1/partner/dashboard").status_code == 403  # partner admins only

    r = client.get("/api/v1/partner/dashboard?window_s=3600")
    assert r.status_code == 200, r.json
    documented(client, r, "/api/v1/partner/dashboard")
    customers = r.json["customers"]
    names = [c["workspace"] for c in customers]
    assert workspace in names and other in names and foreign not in names
    assert names[0] == workspace  # a failed run and an open exception: the worst health
    worst = customers[0]
    assert (worst["runs"], worst["failed"], worst["success_rate"], worst["open_exceptions"]) == (1, 1, 0.0, 1)
    assert worst["health"] < next(c for c in customers if c["workspace"] == other)["health"] == 100


def test_kpis_report_the_period_asked_for(client):
    r = client.get("/api/v1/kpis?from=2026-11-01&to=2026-11-30")
    assert r.status_code == 200, r.json
    documented(client, r, "/api/v1/kpis")
    assert (r.json["from"], r.json["to"], r.json["by_day"], r.json["by_warehouse"]) == (
        "2026-11-01", "2026-11-30", [], [])
    default = client.get("/api/v1/kpis").json
    assert default["from"] < default["to"]


def test_bad_windows_and_days_are_400_naming_the_field(api, client):
    for path in ("/api/v1/dashboard", "/api/v1/partner/dashboard"):
        for value in ("59", "2592001", "-1", "abc", "1.5", "3600x"):
            r = client.get(f"{path}?window_s={value}")
            assert r.status_code == 400, (path, value, r.json)
            assert r.json["error"]["code"] == "invalid_param" and r.json["error"]["details"] == [{"field": "window_s"}]
        assert client.get(f"{path}?window_s=60").status_code == 200
        assert client.get(f"{path}?window_s=2592000").status_code == 200
    for query, field in (("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-1-1", "from"),
                         ("from=2026-11-30&to=2026-11-01", "from"), ("from=2024-01-01&to=2026-01-01", "to")):
        r = api.get(f"/api/v1/kpis?{query}")
        assert r.status_code == 400 and r.json["error"]["details"] == [{"field": field}], (query, r.json)
