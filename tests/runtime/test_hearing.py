"""Production: live events go to Redis only while a page of some web process is in one of their rooms
(runtime/hearing.py); run ends and replies for sync webhooks go to their own channel regardless."""
from __future__ import annotations

import json
import logging
import time

import pytest
import redis

from support import services, wait_for

from runtime import events, redis_relay, replies
from runtime.hearing import Announcement, Hearing

ONLY_SERVICES = pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)
STEP = {"workspace": "a", "flow_id": "f", "run_id": 1, "node_id": "map"}


def subscribed(url: str, channel: str):
    pubsub = redis.Redis.from_url(url).pubsub()
    pubsub.subscribe(channel)
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    return pubsub


def published(pubsub) -> list[str]:
    out = []
    while (message := pubsub.get_message(timeout=0.3)) is not None:
        out.append(json.loads(message["data"])["event"])
    return out


@ONLY_SERVICES
def test_events_go_to_redis_only_while_a_page_hears_their_rooms(settings):
    channel = events.channel(settings)
    worker = redis_relay.RedisRelay(settings.redis_url, channel, flush_s=0.0)
    web = redis_relay.RedisRelay(settings.redis_url, channel, flush_s=0.0)
    live = subscribed(settings.redis_url, channel)
    waiters = subscribed(settings.redis_url, worker.replies.channel)
    try:
        worker.publish("step.started", STEP)  # rooms not read yet: sent, as before this existed
        worker.flush()
        assert published(live) == ["step.started"]
        wait_for(lambda: worker.hearing.heard is not None)
        worker.publish("step.started", STEP)
        worker.publish("run.finished", {**STEP, "status": "succeeded"})
        assert published(live) == []  # nobody hears workspace a
        assert replies.decode(waiters.get_message(timeout=5)["data"])[0] == 1  # a sync webhook's waiter still does

        web.rooms_heard(frozenset({"flow:a:f"}))  # a page of the web process joins the flow's room
        assert web.listening(["ws:a", "flow:a:f"])  # its own pages: known at once
        wait_for(lambda: worker.hearing.hears(["flow:a:f"]))
        worker.publish("step.started", STEP)
        worker.publish("step.started", {**STEP, "flow_id": "g"})  # another flow of the workspace: not heard
        worker.flush()
        assert published(live) == ["step.started"]

        web.rooms_heard(frozenset())  # the page left
        wait_for(lambda: not worker.hearing.hears(["flow:a:f"]))
        worker.publish("step.started", STEP)
        worker.flush()
        assert published(live) == []
    finally:
        for closing in (worker, web):
            closing.close()


@ONLY_SERVICES
def test_the_rooms_of_a_web_process_that_stopped_refreshing_them_expire(settings):
    channel = events.channel(settings)
    gone = Announcement(settings.redis_url, channel, ttl_s=0.5, refresh_s=60)  # dies before its first refresh
    kept = Announcement(settings.redis_url, channel, ttl_s=0.5, refresh_s=0.1)
    hearing = Hearing(settings.redis_url, channel, refresh_s=0.1)
    try:
        gone.rooms_heard(frozenset({"ws:gone"}))
        kept.rooms_heard(frozenset({"ws:kept"}))
        assert hearing.hears(["ws:gone"])  # not read yet: everything is heard, and the listener starts
        wait_for(lambda: hearing.heard == {"ws:gone", "ws:kept"})
        wait_for(lambda: hearing.heard == {"ws:kept"}, timeout=10)
        assert hearing.hears(["ws:kept"]) and not hearing.hears(["ws:gone"])
    finally:
        for closing in (gone, kept, hearing):
            closing.close()


def test_a_redis_that_does_not_answer_is_said_once_and_everything_is_still_published(caplog):
    hearing = Hearing("redis://127.0.0.1:1/0", "nowhere")  # nothing listens on port 1
    hearing.retry_s = 0.02
    try:
        with caplog.at_level(logging.WARNING, logger="runtime.hearing"):
            assert hearing.hears(["ws:a"])  # rooms never read: every event goes, as before
            time.sleep(0.5)  # a couple of dozen attempts
        assert len([r for r in caplog.records if "does not answer" in r.getMessage()]) == 1
        assert hearing.heard is None and hearing.hears(["ws:b"])
    finally:
        hearing.close()
