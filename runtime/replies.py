"""Waiting for a run's reply (a sync webhook): the `run.replied` or `run.finished` event of the run wakes
its waiter; nothing polls the database.

A waiter takes a ticket before its run is stored (`expect`), so an event that comes before the waiter
knows the run id is kept for it (`bind`) and never lost. Embedded mode delivers events in-process (the
LocalRelay publishing them calls `deliver`). In production the worker that publishes is another process:
RedisReplies sends these two events on a Redis channel of their own (not to browsers: a reply can hold
customer data), and the web process that waits subscribes to it once, on a thread, from its first ticket.
A message there is `<run id> <JSON>`: the web process decodes the JSON only when one of its tickets may want
that run (most runs have no sync webhook waiting: decoding each run's end was most of that thread's time).
"""
from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import redis

from runtime.states import TERMINAL
from runtime.store import reads

log = logging.getLogger(__name__)
EVENTS = frozenset({"run.replied", "run.finished"})
ENDED = frozenset(s.value for s in TERMINAL)
EARLY_MAX = 4096  # events kept for tickets not bound yet: a few seconds of events under heavy load


@dataclass(frozen=True)
class Answer:
    """What a sync webhook answers: `replied` (reply), `succeeded` (output), `failed` (error), or
    `waiting` (no reply in time: the run goes on)."""

    status: str
    reply: dict | None = None
    output: Any = None
    error: dict | None = None


def answer(rt, ticket: Ticket, run_id: int, timeout_s: float) -> Answer:
    """Bind `ticket` to the run just stored and wait for its reply or end. Without an event in time, or
    when a run's output was too large for its event, the stored run is read once (never polled)."""
    ticket.bind(run_id)
    got = ticket.wait(timeout_s)
    if got is not None:
        event, data = got
        if event == "run.replied":
            return Answer("replied", reply=data["reply"])
        if data["status"] != "succeeded" or "output" in data:
            return Answer(data["status"], output=data.get("output"), error=data.get("error"))
    return stored_answer(rt, run_id)


def stored_answer(rt, run_id: int) -> Answer:
    """The answer the stored run gives now: one read, after the wait."""
    run = reads.run_row(rt, run_id)
    if run is None:  # pruned meanwhile, or never committed
        return Answer("waiting")
    if run.reply is not None:
        return Answer("replied", reply=run.reply)
    if run.status in ENDED:
        return Answer(run.status, output=run.output, error=run.error)
    return Answer("waiting")


class Ticket:
    """One waiter's interest in one run: taken before the run is stored, bound to its id once known."""

    def __init__(self, waiters: Waiters):
        self._waiters, self._ready = waiters, threading.Event()
        self.run_id: int | None = None
        self.event: tuple[str, dict] | None = None  # (name, data) of the first event for the run

    def bind(self, run_id: int) -> None:
        self._waiters._bind(self, run_id)

    def wait(self, timeout_s: float) -> tuple[str, dict] | None:
        """The run's `run.replied` or ending `run.finished` event, or None after `timeout_s`."""
        self._ready.wait(timeout_s)
        return self.event

    def close(self) -> None:
        self._waiters._close(self)

    def _set(self, event: str, data: dict) -> None:
        if self.event is None:
            self.event = (event, data)
            self._ready.set()

    def __enter__(self) -> Ticket:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Waiters:
    """The tickets of this process, by run id; `deliver` hands an event to the ticket of its run."""

    def __init__(self):
        self._lock = threading.Lock()
        self._bound: dict[int, Ticket] = {}
        self._unbound = 0  # tickets whose run id is not known yet
        self._early: dict[int, tuple[str, dict]] = {}  # events that came while some ticket was unbound

    def expect(self) -> Ticket:
        with self._lock:
            self._unbound += 1
        return Ticket(self)

    def wanted(self, run_id: int) -> bool:
        """Whether an event of this run could reach a ticket now: one is bound to it, or one is not bound yet."""
        return bool(self._unbound) or run_id in self._bound  # reads under the GIL; deliver decides under the lock

    def deliver(self, event: str, data: dict) -> None:
        if event not in EVENTS or (event == "run.finished" and data.get("status") not in ENDED):
            return
        run_id = data.get("run_id")
        with self._lock:
            ticket = self._bound.get(run_id)
            if ticket is None:
                if self._unbound:  # perhaps the run of a ticket about to be bound: keep its first event
                    self._early.setdefault(run_id, (event, data))
                    if len(self._early) > EARLY_MAX:
                        del self._early[next(iter(self._early))]  # the oldest
                return
        ticket._set(event, data)

    def _bind(self, ticket: Ticket, run_id: int) -> None:
        with self._lock:
            ticket.run_id = run_id
            self._unbound -= 1
            early = self._early.pop(run_id, None)
            if not self._unbound:
                self._early.clear()  # every ticket knows its run: the rest were for runs nobody waits for
            if early is None:
                self._bound[run_id] = ticket
        if early is not None:
            ticket._set(*early)

    def _close(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.run_id is None:
                ticket.run_id = -1  # closed unbound (its run was not stored): never bound later
                self._unbound -= 1
                if not self._unbound:
                    self._early.clear()
            elif self._bound.get(ticket.run_id) is ticket:
                del self._bound[ticket.run_id]

    def close(self) -> None:
        pass


class RedisReplies(Waiters):
    """Production: `send` publishes the two events on `channel` (the worker); the first `expect` of a
    process subscribes to it and starts the thread that delivers what arrives (the web process)."""

    def __init__(self, redis_url: str, channel: str):
        super().__init__()
        self.channel = channel
        self._redis = redis.Redis.from_url(redis_url)
        self._listening = False
        self.thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = threading.Event()

    def send(self, event: str, data: dict) -> None:
        """Publish one of the two events now (the worker's RedisRelay sends them through its outbox instead,
        with the live events before them)."""
        if event in EVENTS:
            self._redis.publish(self.channel, encode(event, data))

    def expect(self) -> Ticket:
        if not self._listening:
            self._listen()
        return super().expect()

    def close(self) -> None:
        self._closed.set()

    def _listen(self) -> None:
        """Subscribe (confirmed before the first ticket is handed out), then listen on a thread. A Redis
        that does not answer leaves the waiters to their timeout, and the thread subscribes again later."""
        with self._start_lock:
            if self._listening:
                return
            try:
                pubsub = _subscribe(self._redis, self.channel)
            except redis.RedisError as err:
                log.warning("replies: cannot subscribe to %s (%s); sync webhooks wait for their timeout",
                            self.channel, err)
                pubsub = None
            self.thread = threading.Thread(target=_relay, args=(weakref.ref(self), self._redis, self.channel,
                                                                self._closed, pubsub),
                                           name="crossdock-replies", daemon=True)
            self.thread.start()
            self._listening = True


def may_wait(plans, data: dict) -> bool:
    """Whether a sync webhook may wait for this run's end: its flow version has a webhook trigger that says
    `respond: sync` (only those take tickets, web/hooks.py), or its plan is not at hand to tell. The production
    relay sends the ends of the other runs to browsers only: no round trip at once for each async run's end."""
    key = (data.get("workspace"), data.get("flow_id"), data.get("version"))
    known = _sync_versions.get(key)
    if known is None:
        plan = plans.cached(key)
        if plan is None:
            return True
        known = any(n.type == "event.webhook" and isinstance(n.prepared, dict) and n.prepared.get("respond") == "sync"
                    for n in plan.nodes.values())
        if len(_sync_versions) >= 4096:  # versions never change; past this many, start over
            _sync_versions.clear()
        _sync_versions[key] = known
    return known


_sync_versions: dict[tuple, bool] = {}  # (workspace, flow id, version) -> has a sync webhook trigger


def encode(event: str, data: dict) -> str:
    """The message on the replies channel: the run id, a space, the event and its data as JSON."""
    return f"{int(data.get('run_id') or 0)} " + json.dumps([event, data], default=str, ensure_ascii=False)


def decode(message: bytes | str) -> tuple[int, str]:
    """(run id, the JSON text) of a message on the replies channel."""
    text = message.decode() if isinstance(message, bytes) else message
    head, _, body = text.partition(" ")
    return int(head), body


def _subscribe(conn: redis.Redis, channel: str):
    pubsub = conn.pubsub()
    pubsub.subscribe(channel)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the confirmation: from here on no message to the channel is missed
        message = pubsub.get_message(timeout=deadline - time.monotonic())
        if message and message["type"] == "subscribe":
            return pubsub
    pubsub.close()
    raise redis.TimeoutError(f"no confirmation of the subscription to {channel}")


def _relay(owner: weakref.ref, conn: redis.Redis, channel: str, closed: threading.Event, pubsub) -> None:
    """Deliver the channel's events to the waiters while they exist (a weak reference: a Runtime dropped
    without close ends this thread too). Reads block for at most a second, to notice that."""
    while not closed.is_set() and owner() is not None:
        try:
            if pubsub is None:
                pubsub = _subscribe(conn, channel)
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message["type"] != "message":
                continue
            waiters = owner()
            if waiters is None:
                continue
            run_id, body = decode(message["data"])
            if waiters.wanted(run_id):
                waiters.deliver(*json.loads(body))
        except redis.RedisError as err:
            log.warning("replies: lost the subscription to %s (%s); subscribing again", channel, err)
            if pubsub is not None:
                pubsub.close()
            pubsub = None
            closed.wait(1.0)
        except Exception:
            log.exception("replies: a message on %s could not be delivered", channel)
    if pubsub is not None:
        pubsub.close()
