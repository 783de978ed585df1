"""Live events: the runtime publishes the six events of a run in order, to its workspace and flow rooms,
in-process (embedded) or on the Redis channel the web processes relay (services); publishing never fails a run."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import redis

from support import services, wait_for
from support.api import deploy
from support.flowdocs import http_sink, order

from runtime import events, redis_relay, replies


def subscribed(url: str, channel: str):
    """A pubsub whose subscription Redis has confirmed, so no later publish can miss it."""
    pubsub = redis.Redis.from_url(url).pubsub()
    pubsub.subscribe(channel)
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    return pubsub


class Capture:
    """What the runtime published: attached to the in-process relay, or subscribed to the Redis channel."""

    def __init__(self, rt, workspace: str):
        self.seen: list[tuple[str, dict, list]] = []
        if isinstance(rt.events, events.LocalRelay):
            rt.events.attach(lambda event, data, to: self.seen.append((event, data, to)))
            return
        self.pubsub = subscribed(rt.settings.redis_url, events.channel(rt.settings))
        # as a page of a web process in the workspace's room: else nothing is published (runtime/hearing.py)
        rt.events.rooms_heard(frozenset({events.workspace_room(workspace)}))
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self):
        for message in self.pubsub.listen():
            m = json.loads(message["data"])
            self.seen.append((m["event"], m["data"][0], m["room"]))

    def names(self, run_id):
        return [(e, d.get("node_id")) for e, d, _ in self.seen if d.get("run_id") == run_id]


def test_rooms_are_the_workspace_and_the_flow():
    assert events.rooms({"workspace": "a", "flow_id": "f"}) == ["ws:a", "flow:a:f"]
    assert events.rooms({"workspace": "a"}) == ["ws:a"]


def test_a_run_publishes_its_events_in_order(rt, client, workspace, http_target):
    seen = Capture(rt, workspace)
    deploy(client, http_sink("f-ev", http_target.url))
    run_id = client.post(f"/hooks/{workspace}/orders", json=order("E-1")).json["run_id"]
    wait_for(lambda: ("run.finished", None) in seen.names(run_id))
    steps = [x for n in ("hook", "map", "sink") for x in (("step.started", n), ("step.succeeded", n))]
    assert seen.names(run_id) == [("run.queued", None), ("run.started", None), *steps, ("run.finished", None)]
    mine = [(e, d, to) for e, d, to in seen.seen if d.get("run_id") == run_id]
    assert all(to == [f"ws:{workspace}", f"flow:{workspace}:f-ev"] for _, _, to in mine)
    assert all(d["workspace"] == workspace and d["flow_id"] == "f-ev" and d["ts"] > 0 for _, d, _ in mine)
    done = [d for e, d, _ in mine if e == "step.succeeded"]
    assert all(d["duration_ms"] >= 0 and d["port"] == "out" for d in done)
    assert mine[-1][1]["status"] == "succeeded"


def test_a_failed_step_is_published_with_its_error(rt, client, workspace, http_target):
    seen = Capture(rt, workspace)
    http_target.script = [(422, {"error": "unknown item"}, {})]
    deploy(client, http_sink("f-evf", http_target.url))
    run_id = client.post(f"/hooks/{workspace}/orders", json=order("E-2")).json["run_id"]
    wait_for(lambda: ("run.finished", None) in seen.names(run_id))
    failed = [d for e, d, _ in seen.seen if e == "step.failed" and d.get("run_id") == run_id]
    assert [(d["node_id"], d["error"]["class"]) for d in failed] == [("sink", "business")]
    finished = [d for e, d, _ in seen.seen if e == "run.finished" and d.get("run_id") == run_id]
    assert finished[0]["status"] == "failed" and finished[0]["error"]["node"] == "sink"


def test_publishing_never_raises():
    relay = events.LocalRelay()
    relay.attach(lambda *a: 1 / 0)
    relay.publish("run.started", {"workspace": "a", "flow_id": "f", "run_id": 1})
    down = redis_relay.RedisRelay("redis://127.0.0.1:1/0", "nowhere")  # nothing listens on port 1
    down.publish("run.started", {"workspace": "a", "flow_id": "f", "run_id": 1})
    down.close()


def test_values_json_lacks_travel_as_text(settings):
    relay = events.for_settings(settings)
    got = []
    if isinstance(relay, events.LocalRelay):
        relay.attach(lambda event, data, to: got.append(json.loads(events.LenientJson.dumps(data))))
    else:
        pubsub = subscribed(settings.redis_url, events.channel(settings))
        threading.Thread(target=lambda: [got.append(json.loads(m["data"])["data"][0]) for m in pubsub.listen()],
                         daemon=True).start()
    relay.publish("step.succeeded", {"workspace": "a", "flow_id": "f", "run_id": 1,
                                     "at": dt.datetime(2026, 1, 2, 3, 4, 5)})
    assert wait_for(lambda: got)[0]["at"] == "2026-01-02 03:04:05"


def test_a_relay_to_a_redis_that_does_not_answer_never_raises_and_closes():
    down = redis_relay.RedisRelay("redis://127.0.0.1:1/0", "nowhere", flush_s=0.0)
    for name in ("run.started", "step.started", "run.replied", "run.finished"):
        down.publish(name, {"workspace": "a", "flow_id": "f", "run_id": 1, "status": "failed",
                            "reply": {"status": 200, "body": None, "headers": {}}})
    down.outbox.put(("nowhere", "x"))
    down.outbox.flush()
    down.close()


@pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)  # embedded has no outbox
def test_the_outbox_publishes_in_order_and_a_reply_at_once_with_the_events_before_it(settings):
    relay = redis_relay.RedisRelay(settings.redis_url, events.channel(settings), flush_s=60)  # a timer that never fires
    relay.rooms_heard(frozenset({"ws:a"}))  # a page hears workspace a
    live = subscribed(settings.redis_url, events.channel(settings))
    waiters = subscribed(settings.redis_url, relay.replies.channel)
    try:
        event = {"workspace": "a", "flow_id": "f", "run_id": 1}
        for i in range(50):
            relay.publish("step.started", {**event, "node_id": f"n{i}"})
        relay.publish("run.finished", {**event, "status": "succeeded"})  # goes at once, with all before it
        got = [json.loads(live.get_message(timeout=5)["data"]) for _ in range(51)]
        assert [m["event"] for m in got] == ["step.started"] * 50 + ["run.finished"]
        assert [m["data"][0].get("node_id") for m in got[:50]] == [f"n{i}" for i in range(50)]
        reply = waiters.get_message(timeout=5)
        assert json.loads(replies.decode(reply["data"])[1])[0] == "run.finished"
        relay.publish("step.started", {**event, "node_id": "last"})
        relay.close()  # what the outbox keeps goes out on close
        assert json.loads(live.get_message(timeout=5)["data"])["data"][0]["node_id"] == "last"
    finally:
        relay.close()
        live.close()
        waiters.close()
