"""Waiting for a run's reply: the run's `run.replied` / `run.finished` event wakes its ticket, an event that
comes before the ticket knows its run id is kept for it, and in production the events cross processes on
a Redis channel of their own that browsers never hear."""
from __future__ import annotations

import json
import random
import threading
import uuid

import pytest
import redis

from runtime import events, redis_relay, replies
from runtime.replies import Waiters
from support import services, wait_for
from support.flowdocs import http_sink, order

REPLY = {"status": 201, "body": {"ok": True}, "headers": {}}


def replied(run_id: int) -> dict:
    return {"workspace": "w", "flow_id": "f", "run_id": run_id, "status": "running", "reply": REPLY}


def finished(run_id: int, status: str = "succeeded", **extra) -> dict:
    return {"workspace": "w", "flow_id": "f", "run_id": run_id, "status": status, "error": None, **extra}


def test_the_event_of_the_bound_run_wakes_its_ticket_and_others_do_not():
    w = Waiters()
    with w.expect() as ticket:
        ticket.bind(5)
        w.deliver("run.replied", replied(4))
        w.deliver("run.started", finished(5, "running"))
        w.deliver("run.finished", finished(5, "queued"))  # not an end
        assert ticket.wait(0) is None
        w.deliver("run.replied", replied(5))
        w.deliver("run.finished", finished(5))
        assert ticket.wait(5) == ("run.replied", replied(5))  # the first event of the run


def test_an_event_before_the_ticket_knows_its_run_is_kept_for_it():
    w = Waiters()
    with w.expect() as ticket:
        w.deliver("run.finished", finished(9, "failed", error={"message": "boom"}))  # the run was quick
        ticket.bind(9)
        assert ticket.wait(0) == ("run.finished", finished(9, "failed", error={"message": "boom"}))
    w.deliver("run.finished", finished(10))  # no ticket waits: nothing is kept
    assert not w._early and not w._bound and not w._unbound


def test_a_ticket_closed_before_its_run_was_stored_leaves_nothing_behind():
    w = Waiters()
    w.expect().close()
    w.deliver("run.replied", replied(1))
    assert not w._early and not w._unbound


def test_events_kept_for_unbound_tickets_are_bounded():
    w = Waiters()
    with w.expect():
        for run_id in range(replies.EARLY_MAX + 100):
            w.deliver("run.finished", finished(run_id))
        assert len(w._early) == replies.EARLY_MAX


def test_many_waiters_and_events_in_any_order_lose_no_reply():
    w = Waiters()
    got: dict[int, tuple] = {}
    stored = threading.Semaphore(0)
    ids = list(range(1, 401))

    def waiter(run_id):
        with w.expect() as ticket:
            stored.release()  # "the run is stored": its event may come before or after bind
            if run_id % 2:
                threading.Event().wait(random.random() / 1000)
            ticket.bind(run_id)
            got[run_id] = ticket.wait(10)

    threads = [threading.Thread(target=waiter, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    order = ids[:]
    random.shuffle(order)
    for run_id in order:
        stored.acquire()
        w.deliver("run.replied" if run_id % 3 else "run.finished",
                  replied(run_id) if run_id % 3 else finished(run_id))
    for t in threads:
        t.join()
    assert all(got[i] and got[i][1]["run_id"] == i for i in ids)
    assert not w._bound and not w._early and not w._unbound


def test_the_local_relay_hands_replies_to_waiters_and_keeps_them_from_browsers():
    relay, emitted = events.LocalRelay(), []
    relay.attach(lambda event, data, to: emitted.append(event))
    with relay.replies.expect() as ticket:
        ticket.bind(3)
        relay.publish("run.replied", replied(3))
        relay.publish("run.finished", finished(3))
        event, data = ticket.wait(5)
    assert event == "run.replied" and data["reply"] == REPLY
    assert emitted == ["run.finished"]  # a reply body can hold customer data: it is not broadcast


def test_the_answer_falls_back_to_one_read_of_the_stored_run(store, workspace):
    """No worker runs here: the run stays queued, and only the events published by the test arrive."""
    from runtime import deployments, intake
    from runtime.models import Flow

    doc = http_sink("f", "http://127.0.0.1:1", respond="sync")
    with store.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id="f", name="f", document=doc))
    version = deployments.deploy(store, workspace, "f", doc)
    run = intake.start(store, workspace, "f", version, order("A-1"), trigger="webhook", trigger_node="hook")
    with store.events.replies.expect() as ticket:
        assert replies.answer(store, ticket, run.id, 0.01) == replies.Answer("waiting")
    with store.events.replies.expect() as ticket:
        store.events.publish("run.finished", finished(run.id, "failed", error={"message": "x"}))
        assert replies.answer(store, ticket, run.id, 5) == replies.Answer("failed", error={"message": "x"})


# -- production: the worker's relay and the web process's relay on one Redis ---------------------------

@pytest.fixture
def relays(request):
    if "services" not in services.BACKENDS:
        pytest.skip("needs the machine's Redis")
    services.count(request)
    url, name = request.getfixturevalue("redis_db"), f"crossdock-events.{services.queue_name()}"
    made = []

    def make():
        relay = redis_relay.RedisRelay(url, name)
        made.append(relay)
        return relay

    make.url, make.channel = url, name
    yield make
    for relay in made:
        relay.close()


def test_a_worker_s_events_wake_the_waiter_of_another_process_through_redis(relays):
    worker, web = relays(), relays()
    with web.replies.expect() as ticket:  # subscribed (and confirmed) before the run exists
        worker.publish("run.replied", replied(7))
        ticket.bind(7)
        event, data = ticket.wait(5)
    assert (event, data["reply"]) == ("run.replied", REPLY)
    with web.replies.expect() as ticket:
        ticket.bind(8)
        worker.publish("run.finished", finished(8, output={"n": 1}))
        assert ticket.wait(5)[1]["output"] == {"n": 1}


def test_replies_do_not_reach_the_socketio_channel_and_run_ends_still_do(relays):
    conn = redis.Redis.from_url(relays.url)
    sio = replies._subscribe(conn, relays.channel)  # where the web processes' Socket.IO servers listen
    worker = relays()
    worker.publish("run.replied", replied(1))
    worker.publish("run.finished", finished(1))
    message = wait_for(lambda: sio.get_message(ignore_subscribe_messages=True, timeout=0.5), 5)
    assert b"run.finished" in message["data"] and b"run.replied" not in message["data"]
    sio.close()
    conn.close()


def test_a_run_s_end_after_its_reply_goes_to_browsers_only(relays):
    """A waiter takes the first of a run's reply and end: after the reply, the end is no message for the
    waiters' channel (one round trip less per sync run); the end of a run that did not reply still is."""
    conn = redis.Redis.from_url(relays.url)
    sio = replies._subscribe(conn, relays.channel)
    worker = relays()
    waiting = replies._subscribe(conn, worker.replies.channel)
    worker.publish("run.replied", replied(1))
    worker.publish("run.finished", finished(1))
    worker.publish("run.finished", finished(2))
    got = [replies.decode(wait_for(lambda: waiting.get_message(ignore_subscribe_messages=True, timeout=0.5), 5)[
        "data"]) for _ in range(2)]
    assert [(run_id, json.loads(body)[0]) for run_id, body in got] == [(1, "run.replied"), (2, "run.finished")]
    assert waiting.get_message(ignore_subscribe_messages=True, timeout=0.3) is None
    ends = [wait_for(lambda: sio.get_message(ignore_subscribe_messages=True, timeout=0.5), 5) for _ in range(2)]
    assert [json.loads(m["data"])["data"][0]["run_id"] for m in ends] == [1, 2]  # browsers hear both ends
    for pubsub in (sio, waiting):
        pubsub.close()
    conn.close()


def test_a_sync_webhook_may_wait_only_for_runs_of_versions_with_one():
    from types import SimpleNamespace as NS

    def plan(*respond):
        nodes = {f"n{i}": NS(type="event.webhook", prepared={"respond": r}) for i, r in enumerate(respond)}
        return NS(nodes={**nodes, "m": NS(type="transform.map", prepared={"respond": "sync"})})

    plans = {("w", "sync", 1): plan("async", "sync"), ("w", "async", 1): plan("async")}
    cache = NS(cached=plans.get)
    run = lambda flow_id, version=1: {"workspace": "w", "flow_id": flow_id, "version": version}  # noqa: E731
    assert replies.may_wait(cache, run("sync")) and not replies.may_wait(cache, run("async"))
    assert replies.may_wait(cache, run("async", 2))  # its plan is not at hand: it may


def test_the_end_of_a_run_nobody_can_wait_for_goes_to_browsers_only(relays):
    conn = redis.Redis.from_url(relays.url)
    sio = replies._subscribe(conn, relays.channel)
    worker = relays()
    worker.may_wait = lambda data: data["run_id"] != 3
    waiting = replies._subscribe(conn, worker.replies.channel)
    worker.publish("run.finished", finished(3))
    worker.publish("run.finished", finished(4))
    message = wait_for(lambda: waiting.get_message(ignore_subscribe_messages=True, timeout=0.5), 5)
    assert replies.decode(message["data"])[0] == 4
    assert waiting.get_message(ignore_subscribe_messages=True, timeout=0.3) is None
    ends = [wait_for(lambda: sio.get_message(ignore_subscribe_messages=True, timeout=0.5), 5) for _ in range(2)]
    assert [json.loads(m["data"])["data"][0]["run_id"] for m in ends] == [3, 4]
    for pubsub in (sio, waiting):
        pubsub.close()
    conn.close()


def test_the_web_process_reads_only_the_messages_of_runs_its_tickets_may_want(relays, caplog):
    web = relays()
    conn = redis.Redis.from_url(relays.url)
    with web.replies.expect() as ticket:
        ticket.bind(6)
        conn.publish(web.replies.channel, "5 this is no JSON: nobody waits for run 5, so it is never decoded")
        conn.publish(web.replies.channel, replies.encode("run.finished", finished(6)))
        assert ticket.wait(5) == ("run.finished", finished(6))
    assert "could not be delivered" not in caplog.text
    conn.close()


def test_the_listener_thread_ends_with_its_relay(relays):
    web = relays()
    web.replies.expect().close()
    thread = web.replies.thread
    assert thread.is_alive()
    web.close()
    wait_for(lambda: not thread.is_alive(), 5)


def test_a_waiter_whose_redis_is_away_times_out_instead_of_failing():
    relay = redis_relay.RedisRelay("redis://127.0.0.1:1/0", f"nowhere-{uuid.uuid4().hex[:6]}")  # nothing on port 1
    try:
        with relay.replies.expect() as ticket:
            ticket.bind(1)
            assert ticket.wait(0.01) is None
    finally:
        relay.close()
