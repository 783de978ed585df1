"""Flow stats over a window, from the step rows: per node in/out/failed with avg and p95 time, per
(node, port) messages passed, including failures routed to an `error` port."""
from __future__ import annotations

import datetime as dt

from support import wait_for
from support.flowdocs import done, edge, order

from runtime import stats
from runtime.models import utcnow


def flow(url: str) -> dict:
    """webhook -> map -> connector.http; the connector's failures go on its error port to a note."""
    return {"schema": "crossdock.flow/1", "id": "f-st", "name": "stats",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "orders"}},
                      {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': order.number}"}},
                      {"id": "sink", "type": "connector.http",
                       "config": {"url": url, "method": "POST", "retry": {"max_attempts": 1, "backoff_s": 0.1}}},
                      {"id": "note", "type": "transform.map", "config": {"expression": "{'failed': node}"}},
                      done("noted")],
            "edges": [edge(1, "hook", "map"), edge(2, "map", "sink"), edge(3, "sink", "note", "error"),
                      edge(4, "note", "done")]}


def run_three(client, workspace, http_target):
    http_target.script = [(200, {}, {}), (422, {"error": "unknown item"}, {}), (200, {}, {})]
    assert client.post("/api/v1/flows", json=flow(http_target.url)).status_code == 201
    assert client.post("/api/v1/flows/f-st/deploy").status_code == 201
    for n in range(3):  # one after the other, so the second is the one that fails
        run_id = client.post(f"/hooks/{workspace}/orders", json=order(f"S-{n}")).json["run_id"]
        wait_for(lambda: client.get(f"/api/v1/runs/{run_id}").json["run"]["status"] == "succeeded")


def test_counts_times_and_edges_over_the_window(client, workspace, http_target):
    run_three(client, workspace, http_target)
    r = client.get("/api/v1/flows/f-st/stats?window_s=300")
    assert r.status_code == 200
    s = r.json
    assert s["window_s"] == 300 and s["runs"] == {"succeeded": 3}
    counts = {n: (v["in"], v["out"], v["failed"]) for n, v in s["nodes"].items()}
    assert counts == {"hook": (3, 3, 0), "map": (3, 3, 0), "sink": (3, 2, 1), "note": (1, 1, 0), "done": (1, 1, 0)}
    assert all(v["avg_ms"] >= 0 and v["p95_ms"] >= 0 for v in s["nodes"].values())
    assert s["edges"] == [{"source": "hook", "source_port": "out", "messages": 3},
                          {"source": "map", "source_port": "out", "messages": 3},
                          {"source": "note", "source_port": "out", "messages": 1},
                          {"source": "sink", "source_port": "error", "messages": 1},
                          {"source": "sink", "source_port": "out", "messages": 2}]


def test_steps_outside_the_window_do_not_count(rt, client, workspace, http_target):
    run_three(client, workspace, http_target)
    later = stats.flow_stats(rt, workspace, "f-st", 60, now=utcnow() + dt.timedelta(minutes=5))
    assert later["nodes"] == {} and later["edges"] == [] and later["runs"] == {}
    assert stats.flow_stats(rt, "default", "f-st")["nodes"] == {}  # another workspace's flow of that name


def test_p95_is_the_nearest_rank():
    assert stats._p95([]) is None
    assert stats._p95([5.0]) == 5.0
    assert stats._p95([float(v) for v in range(1, 101)]) == 95.0
    assert stats._p95([float(v) for v in range(20, 0, -1)]) == 19.0


def test_unknown_flow_and_bad_window_are_refused(client):
    assert client.get("/api/v1/flows/nope/stats").status_code == 404
    assert client.post("/api/v1/flows", json=flow("http://127.0.0.1:9/x")).status_code == 201
    r = client.get("/api/v1/flows/f-st/stats?window_s=0")
    assert (r.status_code, r.json["error"]["details"]) == (400, [{"field": "window_s"}])


def test_figures_are_of_the_deployed_version_unless_another_or_all_is_asked_for(client, workspace, http_target):
    run_three(client, workspace, http_target)  # version 1: three runs
    v2 = flow(http_target.url)
    v2["nodes"].insert(2, {"id": "extra", "type": "transform.map", "config": {"expression": "$"}})
    v2["edges"] = [edge(1, "hook", "map"), edge(2, "map", "extra"), edge(5, "extra", "sink"),
                   edge(3, "sink", "note", "error"), edge(4, "note", "done")]
    assert client.put("/api/v1/flows/f-st", json=v2).status_code == 200
    assert client.post("/api/v1/flows/f-st/deploy").json["version"] == 2
    http_target.script = [(200, {}, {})]
    run_id = client.post(f"/hooks/{workspace}/orders", json=order("S-v2")).json["run_id"]
    wait_for(lambda: client.get(f"/api/v1/runs/{run_id}").json["run"]["status"] == "succeeded")

    now = client.get("/api/v1/flows/f-st/stats").json  # the deployed version's
    assert now["version"] == 2 and now["runs"] == {"succeeded": 1}
    assert {n: v["in"] for n, v in now["nodes"].items()} == {"hook": 1, "map": 1, "extra": 1, "sink": 1}
    assert now["versions"] == [{"version": 2, "runs": {"succeeded": 1}}, {"version": 1, "runs": {"succeeded": 3}}]
    before = client.get("/api/v1/flows/f-st/stats?version=1").json
    assert before["version"] == 1 and before["runs"] == {"succeeded": 3} and "extra" not in before["nodes"]
    assert before["nodes"]["sink"] == {**before["nodes"]["sink"], "in": 3, "out": 2, "failed": 1}
    both = client.get("/api/v1/flows/f-st/stats?version=all").json
    assert both["version"] is None and both["runs"] == {"succeeded": 4} and both["nodes"]["hook"]["in"] == 4
    r = client.get("/api/v1/flows/f-st/stats?version=x")
    assert (r.status_code, r.json["error"]["details"]) == (400, [{"field": "version"}])
