"""Replay through the API: a whole run on its own or the current version, and from a failed step with
the recorded or an edited input; every replay is a new run linked to the original."""
from __future__ import annotations

from support.api import deploy, finished
from support.flowdocs import done, edge, http_sink, order

from runtime import intake


def failed_run(client, workspace, http_target, flow_id="f-rp", **kw) -> dict:
    http_target.script = [(422, {"error": "unknown item"}, {}), (200, {"ok": True}, {})]
    deploy(client, http_sink(flow_id, http_target.url, **kw))
    run = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("P-1", 2)).json["run_id"])
    assert run["status"] == "failed"
    return run


def replay(client, run_id, **body):
    r = client.post(f"/api/v1/runs/{run_id}/replay", json=body)
    assert r.status_code == 202, r.json
    return finished(client, r.json["run"]["id"])


def test_whole_run_replays_its_original_input_on_its_version(client, workspace, http_target):
    original = failed_run(client, workspace, http_target)
    again = replay(client, original["id"], version="original")
    assert again["status"] == "succeeded"
    assert (again["replay_of"], again["trigger"], again["version"]) == (original["id"], "replay", original["version"])
    assert again["input"] == original["input"]
    assert [s["node_id"] for s in again["steps"]] == ["hook", "map", "sink"]
    assert http_target.requests[-1]["body"] == {"ref": "P-1", "qty": 2}


def test_replay_on_the_current_version_uses_the_new_mapping(client, workspace, http_target):
    original = failed_run(client, workspace, http_target, flow_id="f-cur")
    doc = http_sink("f-cur", http_target.url)
    doc["nodes"][1]["config"]["expression"] = "{'ref': order.number, 'v': 2}"
    assert client.put("/api/v1/flows/f-cur", json=doc).status_code == 200
    assert client.post("/api/v1/flows/f-cur/deploy").json["version"] == original["version"] + 1
    again = replay(client, original["id"], version="current")
    assert again["version"] == original["version"] + 1 and again["status"] == "succeeded"
    assert http_target.requests[-1]["body"] == {"ref": "P-1", "v": 2}


def test_rerun_from_the_failed_step_with_edited_input(client, workspace, http_target):
    original = failed_run(client, workspace, http_target, flow_id="f-step", sequence_key="order.number")
    assert original["business_key"] == "P-1"
    again = replay(client, original["id"], from_node="sink", input={"ref": "P-1", "qty": 3})
    assert again["status"] == "succeeded" and again["start_node"] == "sink"
    assert [(s["node_id"], s["input"]) for s in again["steps"]] == [("sink", {"ref": "P-1", "qty": 3})]
    assert again["business_key"] == "P-1"  # kept from the original: the step input is a mid-flow message
    assert http_target.requests[-1]["body"] == {"ref": "P-1", "qty": 3}


def test_rerun_from_a_step_without_input_uses_what_the_step_received(client, workspace, http_target):
    original = failed_run(client, workspace, http_target, flow_id="f-same")
    again = replay(client, original["id"], from_node="sink")
    assert again["steps"][0]["input"] == {"ref": "P-1", "qty": 2}
    assert again["replay_of"] == original["id"]


def test_replay_refusals(rt, client, workspace, http_target):
    original = failed_run(client, workspace, http_target, flow_id="f-no")
    post = lambda run_id, **b: client.post(f"/api/v1/runs/{run_id}/replay", json=b)  # noqa: E731
    r = post(original["id"], from_node="nowhere")
    assert (r.status_code, r.json["error"]["code"]) == (422, "unknown_node")
    assert r.json["error"]["details"] == [{"field": "from_node"}]
    assert post(original["id"], version="latest").status_code == 400
    assert post(original["id"] + 10_000).status_code == 404
    assert client.post("/api/v1/flows/f-no/undeploy").status_code == 200
    assert post(original["id"], version="current").json["error"]["code"] == "not_deployed"
    rt.queue.stop()
    waiting = intake.start(rt, workspace, "f-no", original["version"], order("Q-1"), trigger="manual")
    assert post(waiting.id).status_code == 409  # still queued: nothing to replay yet
    other = client.post(f"/api/v1/runs/{original['id']}/replay", json={},
                        headers={"X-Crossdock-Workspace": "default"})
    assert other.status_code == 404  # another workspace's run is not there


def test_replays_pass_the_originals_dedupe_and_keep_its_idempotency_key(client, workspace, http_target):
    """An operator replaying a failed order must not be stopped as a duplicate of that same order,
    and the target must see the same idempotency key from the original and every replay of it."""
    http_target.script = [(422, {"error": "unknown item"}, {}), (200, {"ok": True}, {})]
    doc = http_sink("f-rd", http_target.url)
    doc["nodes"].insert(1, {"id": "dedupe", "type": "control.dedupe", "config": {"key": "order.number"}})
    doc["nodes"].append(done("a duplicate order was already posted"))
    doc["edges"] = [edge(1, "hook", "dedupe"), edge(2, "dedupe", "map"), edge(3, "map", "sink"),
                    edge(4, "dedupe", "done", "duplicate")]
    deploy(client, doc)
    original = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("RD-1")).json["run_id"])
    assert original["status"] == "failed"
    again = finished(client, client.post(f"/hooks/{workspace}/orders", json=order("RD-1")).json["run_id"])
    assert [s["port"] for s in again["steps"] if s["node_id"] == "dedupe"] == ["duplicate"]  # a real duplicate
    replay = finished(client, client.post(f"/api/v1/runs/{original['id']}/replay", json={}).json["run"]["id"])
    assert [s["port"] for s in replay["steps"] if s["node_id"] == "dedupe"] == ["out"]
    assert replay["status"] == "succeeded"
    second = finished(client, client.post(f"/api/v1/runs/{replay['id']}/replay", json={}).json["run"]["id"])
    assert second["status"] == "succeeded"
    keys = {r["headers"]["Idempotency-Key"] for r in http_target.requests}
    assert len(keys) == 1 and len(http_target.requests) == 3


def test_a_replay_the_queue_refuses_is_logged_and_picked_up_by_recovery(rt, client, workspace, http_target,
                                                                        monkeypatch, caplog):
    import dataclasses

    from runtime import jobs

    original = failed_run(client, workspace, http_target, flow_id="f-rq")
    refusals = []

    def down_once(run_id, delay_s=0.0):
        refusals.append(run_id)
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as m:
        m.setattr(rt.queue, "enqueue_run", down_once)
        r = client.post(f"/api/v1/runs/{original['id']}/replay", json={})
    assert r.status_code == 202  # stored: the queue's refusal is not the caller's problem
    replay_id = r.json["run"]["id"]
    assert refusals == [replay_id]
    assert any(rec.levelname == "WARNING" and f"run {replay_id} accepted but not enqueued" in rec.getMessage()
               for rec in caplog.records)
    monkeypatch.setattr(rt, "settings", dataclasses.replace(rt.settings, lost_job_after_s=0.0))
    assert jobs.requeue_lost(rt) >= 1  # what maintenance does
    again = finished(client, replay_id)
    assert again["status"] == "succeeded" and again["replay_of"] == original["id"]
