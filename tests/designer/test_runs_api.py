"""The runs API (docs/api.md): manual runs, run list filters and cursor pages, run detail with steps,
whole step payloads behind truncated rows, dead letters. Each test runs on both backends."""
from __future__ import annotations

import pytest

from support import identity, wait_for
from support.flowdocs import done, edge
from runtime import jobs
from runtime.wiring import Runtime
from web.app import create_app

RUN_KEYS = {"id", "flow_id", "version", "status", "business_key", "input", "output", "error", "attempt",
            "created_at", "started_at", "finished_at", "duration_ms", "trigger"}
STEP_KEYS = {"id", "node_id", "node_type", "status", "attempt", "port", "started_at", "finished_at",
             "duration_ms", "input", "output", "error", "truncated"}


def manual_map(flow_id: str, expression: str, sample=None, business_key: str | None = None) -> dict:
    doc = {"schema": "crossdock.flow/1", "id": flow_id,
           "nodes": [{"id": "start", "type": "event.manual", "config": {"sample": sample}},
                     {"id": "map", "type": "transform.map", "config": {"expression": expression}}, done()],
           "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}
    if business_key:
        doc["settings"] = {"business_key": business_key}
    return doc


def deploy(client, doc) -> int:
    assert client.post("/api/v1/flows", json=doc).status_code == 201
    r = client.post(f"/api/v1/flows/{doc['id']}/deploy")
    assert r.status_code == 201, r.json
    return r.json["version"]


def start(client, flow_id, body=None) -> dict:
    r = client.post(f"/api/v1/flows/{flow_id}/runs", json=body) if body is not None else \
        client.post(f"/api/v1/flows/{flow_id}/runs")
    assert r.status_code == 202, r.json
    return r.json["run"]


def finished(client, run_id) -> dict:
    def done():
        run = client.get(f"/api/v1/runs/{run_id}").json["run"]
        return run if run["status"] in ("succeeded", "failed") else None
    return wait_for(done)


@pytest.fixture
def small_payload_client(make_settings, workspace, partner):
    """A client on a runtime that keeps at most 300 bytes of a step's payload in its row."""
    settings = make_settings(step_payload_limit=300)
    runtime = Runtime(settings)
    identity.make_partner(runtime, partner)
    runtime.ensure_workspace(workspace, partner_id=partner)
    if settings.embedded_queue:
        runtime.start_workers()
    else:
        jobs.bind(runtime)
        runtime.queue.start_threads(1)
    yield identity.client_for(create_app(runtime), identity.make_user(runtime, partner, "admin"), workspace)
    runtime.close()


def test_a_manual_run_without_input_starts_from_the_sample(client):
    deploy(client, manual_map("m", "{'doubled': n * 2}", sample={"n": 21}))
    run = start(client, "m")
    assert set(run) >= RUN_KEYS | {"steps"}
    assert run["trigger"] == "manual" and run["flow_id"] == "m" and run["version"] == 1
    assert run["input"] == {"n": 21} and run["status"] in ("queued", "running", "succeeded")
    assert finished(client, run["id"])["output"] == {"doubled": 42}
    assert start(client, "m", {})["input"] == {"n": 21}


def test_a_manual_run_with_input_and_version(client):
    doc = manual_map("m", "{'v': 1, 'n': n}", sample={"n": 0})
    deploy(client, doc)
    doc["nodes"][1]["config"]["expression"] = "{'v': 2, 'n': n}"
    client.put("/api/v1/flows/m", json=doc)
    assert client.post("/api/v1/flows/m/deploy").json["version"] == 2
    latest = finished(client, start(client, "m", {"input": {"n": 7}})["id"])
    assert (latest["version"], latest["input"], latest["output"]) == (2, {"n": 7}, {"v": 2, "n": 7})
    pinned = finished(client, start(client, "m", {"input": {"n": 8}, "version": 1})["id"])
    assert (pinned["version"], pinned["output"]) == (1, {"v": 1, "n": 8})


def test_a_manual_run_is_refused_when_it_cannot_start(client):
    client.post("/api/v1/flows", json=manual_map("draft", "$"))
    r = client.post("/api/v1/flows/draft/runs")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_deployed"
    r = client.post("/api/v1/flows/ghost/runs")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    deploy(client, manual_map("m", "$"))
    for body in ([1], "input", 5):
        r = client.post("/api/v1/flows/m/runs", json=body)
        assert r.status_code == 400 and r.json["error"]["code"] == "invalid_argument"
    for version in ("1", True, 1.0):
        r = client.post("/api/v1/flows/m/runs", json={"version": version})
        assert r.status_code == 400 and r.json["error"]["details"] == [{"field": "version"}], version
    r = client.post("/api/v1/flows/m/runs", json={"version": 9})
    assert r.status_code == 404 and r.json["error"]["details"] == [{"field": "version"}]
    assert client.get("/api/v1/runs").json["runs"] == []


def test_run_detail_shows_each_step_with_its_input_and_output(client):
    deploy(client, manual_map("d", "{'total': $sum(lines.qty)}", sample={"lines": [{"qty": 2}, {"qty": 3}]}))
    run = finished(client, start(client, "d")["id"])
    assert run["status"] == "succeeded" and run["error"] is None
    assert run["started_at"] and run["finished_at"] and run["duration_ms"] >= 0
    steps = run["steps"]
    assert all(set(s) >= STEP_KEYS for s in steps)
    assert [(s["node_id"], s["node_type"], s["status"], s["port"]) for s in steps] == [
        ("start", "event.manual", "succeeded", "out"), ("map", "transform.map", "succeeded", "out"),
        ("done", "control.discard", "succeeded", None)]
    assert steps[0]["input"] == steps[0]["output"] == steps[1]["input"] == {"lines": [{"qty": 2}, {"qty": 3}]}
    assert steps[1]["output"] == {"total": 5} and not any(s["truncated"] for s in steps)
    # a payload that was not cut is served from the row
    r = client.get(f"/api/v1/runs/{run['id']}/steps/{steps[1]['seq']}/output")
    assert r.status_code == 200 and r.json == {"data": {"total": 5}}
    for missing in (f"/api/v1/runs/{run['id']}/steps/99/output", f"/api/v1/runs/{run['id'] + 1000}/steps/1/input"):
        r = client.get(missing)
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", missing


def test_a_failed_run_shows_the_error_and_leaves_a_dead_letter(client):
    deploy(client, manual_map("bad", "$error('no such customer')", sample={"c": 1}))
    run = finished(client, start(client, "bad")["id"])
    assert run["status"] == "failed" and run["error"]["node"] == "map"
    assert run["steps"][1]["status"] == "failed" and "no such customer" in run["steps"][1]["error"]["message"]
    letters = client.get("/api/v1/dead-letters").json["dead_letters"]
    assert [(d["run_id"], d["flow_id"], d["node_id"], d["payload"]) for d in letters] == [
        (run["id"], "bad", "map", {"c": 1})]
    assert client.get("/api/v1/dead-letters?flow_id=other").json["dead_letters"] == []
    assert client.get("/api/v1/dead-letters?status=resolved").json["dead_letters"] == []


def test_an_unknown_run_or_a_run_of_another_workspace_is_404(client, rt, workspace, partner):
    deploy(client, manual_map("m", "$", sample={}))
    run_id = start(client, "m")["id"]
    elsewhere = f"{workspace}-b"
    rt.ensure_workspace(elsewhere, partner_id=partner)
    r = client.get(f"/api/v1/runs/{run_id}", headers={"X-Crossdock-Workspace": elsewhere})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
    assert client.get("/api/v1/runs", headers={"X-Crossdock-Workspace": elsewhere}).json["runs"] == []
    assert client.get(f"/api/v1/runs/{run_id + 10_000}").status_code == 404
    assert client.get(f"/api/v1/runs/{run_id}/steps/1/stdout").status_code == 404


def test_run_list_filters_by_flow_status_and_business_key(client):
    deploy(client, manual_map("orders", "{'ok': ref}", business_key="ref"))
    deploy(client, manual_map("broken", "$error('x')"))
    a1 = start(client, "orders", {"input": {"ref": "PO-1"}})["id"]
    b = start(client, "orders", {"input": {"ref": "PO-2"}})["id"]
    a2 = start(client, "orders", {"input": {"ref": "PO-1"}})["id"]
    bad = start(client, "broken", {"input": {"ref": "PO-1"}})["id"]
    for run_id in (a1, b, a2, bad):
        finished(client, run_id)

    def ids(query):
        r = client.get(f"/api/v1/runs?{query}")
        assert r.status_code == 200, r.json
        return [run["id"] for run in r.json["runs"]]

    assert ids("") == [bad, a2, b, a1]  # newest first
    assert ids("flow_id=orders") == [a2, b, a1]
    assert ids("status=failed") == [bad]
    assert ids("status=succeeded,failed") == [bad, a2, b, a1]
    assert ids("key=PO-1") == [a2, a1]  # the failing flow has no business key
    assert ids("flow_id=orders&key=PO-2&status=succeeded") == [b]
    assert ids("flow_id=nothing") == []
    listed = client.get("/api/v1/runs?flow_id=orders").json["runs"]
    assert all(set(run) >= RUN_KEYS and "steps" not in run for run in listed)
    assert listed[0]["business_key"] == "PO-1"


def test_run_list_keeps_dry_runs_or_real_runs_only(client):
    deploy(client, manual_map("orders", "{'ok': ref}"))
    real = start(client, "orders", {"input": {"ref": "PO-1"}})["id"]
    dry = start(client, "orders", {"input": {"ref": "PO-2"}, "dry_run": True})["id"]
    for run_id in (real, dry):
        finished(client, run_id)

    def listed(query):
        r = client.get(f"/api/v1/runs?{query}")
        assert r.status_code == 200, r.json
        return [(run["id"], run["dry_run"]) for run in r.json["runs"]]

    assert listed("") == [(dry, True), (real, False)]
    assert listed("dry_run=true") == [(dry, True)]
    assert listed("dry_run=false&flow_id=orders") == [(real, False)]
    for bad in ("yes", "1", "True"):
        r = client.get(f"/api/v1/runs?dry_run={bad}")
        assert r.status_code == 400 and r.json["error"]["details"] == [{"field": "dry_run"}], bad


def test_run_list_refuses_bad_arguments(client):
    for query, field in (("status=done", "status"), ("limit=many", "limit"), ("before=x", "before"),
                         ("limit=0", "limit"), ("before=-5", "before"), ("before=99999999999", "before"),
                         # found by fuzzing: in UTC these fall outside the calendar (a 500 before)
                         ("since=9999-12-31T23:59:59-23:59", "since"), ("until=0001-01-01T00:00:00%2B23:59", "until")):
        r = client.get(f"/api/v1/runs?{query}")
        assert r.status_code == 400, query
        assert r.json["error"]["code"] == "invalid_argument" and r.json["error"]["details"] == [{"field": field}]
    r = client.get("/api/v1/dead-letters?limit=-1")
    assert r.status_code == 400 and r.json["error"]["details"] == [{"field": "limit"}]


def test_ids_beyond_the_database_integer_range_are_404(client):
    """Run ids and versions are INTEGER columns: PostgreSQL fails on larger numbers; SQLite does not."""
    deploy(client, manual_map("m", "$", sample={}))
    huge = 2**31
    for url in (f"/api/v1/runs/{huge}", f"/api/v1/runs/{huge}/steps/1/input", f"/api/v1/runs/1/steps/{huge}/input",
                f"/api/v1/flows/m/versions/{huge}"):
        r = client.get(url)
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", url
    for url in ("/api/v1/flows/m/runs", "/api/v1/flows/m/deploy"):
        r = client.post(url, json={"version": huge})
        assert r.status_code == 404 and r.json["error"]["details"] == [{"field": "version"}], url
    assert client.get("/api/v1/runs").json["runs"] == []


def test_cursor_pages_have_no_duplicates_or_gaps_while_new_runs_arrive(client):
    deploy(client, manual_map("p", "$", sample={}))
    older = [start(client, "p")["id"] for _ in range(7)]
    first = client.get("/api/v1/runs?limit=3").json
    assert [r["id"] for r in first["runs"]] == older[::-1][:3] and first["next"] is not None
    newer = [start(client, "p")["id"] for _ in range(2)]  # arrive while the user pages
    seen = [r["id"] for r in first["runs"]]
    cursor = first["next"]
    while cursor is not None:
        page = client.get(f"/api/v1/runs?limit=3&before={cursor}").json
        assert 0 < len(page["runs"]) <= 3
        seen += [r["id"] for r in page["runs"]]
        cursor = page["next"]
    assert seen == older[::-1]
    assert [r["id"] for r in client.get("/api/v1/runs?limit=2").json["runs"]] == newer[::-1]
    whole = client.get("/api/v1/runs?limit=9").json
    assert len(whole["runs"]) == 9 and whole["next"] is None


def test_large_step_payloads_are_cut_in_the_row_and_whole_on_request(small_payload_client):
    client = small_payload_client
    blob = "".join(f"{i:05d}," for i in range(400))  # 2,400 bytes: over the 300-byte row limit
    deploy(client, manual_map("big", "{'echo': blob, 'size': $length(blob)}", sample={"blob": blob}))
    run = finished(client, start(client, "big")["id"])
    assert run["status"] == "succeeded"
    trigger, mapping, end = run["steps"]
    assert trigger["truncated"] and mapping["truncated"] and end["truncated"] and end["output"] is None
    cut = mapping["output"]
    assert cut["_truncated"] is True and cut["bytes"] > 2400 and len(cut["preview"]) <= 2000
    assert cut["preview"].startswith('{"echo":"00000,')
    r = client.get(f"/api/v1/runs/{run['id']}/steps/{mapping['seq']}/output")
    assert r.status_code == 200 and r.json == {"data": {"echo": blob, "size": len(blob)}}
    assert client.get(f"/api/v1/runs/{run['id']}/steps/{mapping['seq']}/input").json == {"data": {"blob": blob}}
    assert client.get(f"/api/v1/runs/{run['id']}/steps/{trigger['seq']}/input").json == {"data": {"blob": blob}}
    assert run["input"] == {"blob": blob}  # the run's own input is kept whole
