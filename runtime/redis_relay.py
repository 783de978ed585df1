"""Production's live events: RedisRelay publishes them on the Redis channel the web processes' Socket.IO
servers listen on (runtime/events.py says what an event is and where it goes; web/live.py relays it).

The events of a run (a dozen) are not one PUBLISH round trip each: they wait in an Outbox and go out in
order, in one pipeline, when a reply or run end is published (at once: a sync webhook is waiting for it) or
when the outbox's thread flushes, within FLUSH_S. Nothing goes to the browsers' channel while no page of any
web process is in one of an event's rooms (runtime/hearing.py).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import redis
import socketio

from runtime import replies as reply_events
from runtime.events import FLUSH_S, OUTBOX_MAX, Batched, LenientJson, Relay
from runtime.hearing import Announcement, Hearing
from runtime.replies import RedisReplies

log = logging.getLogger(__name__)


class Outbox(Batched):
    """Messages for Redis channels, (channel, text) pairs, published by pipelines."""

    def __init__(self, redis_url: str, flush_s: float = FLUSH_S, max_kept: int = OUTBOX_MAX):
        super().__init__(flush_s, max_kept)
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)

    def _send(self, batch: list[tuple[str, str]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for channel_name, text in batch:
            pipe.publish(channel_name, text)
        pipe.execute()

    def close(self) -> None:
        super().close()
        self.redis.close()


class _OutboxManager(socketio.RedisManager):
    """python-socketio's write-only Redis manager, publishing through the Outbox: its documented extension
    point for a message queue of one's own is `_publish`."""

    def __init__(self, outbox: Outbox, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outbox = outbox

    def _publish(self, data) -> None:
        self.outbox.put((self.channel, self.json.dumps(data)))

    def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        """The message PubSubManager.emit publishes for the other hosts, without its scan of `data` for
        bytes to send as attachments: a live event holds JSON values only (LenientJson writes anything else
        as text), and the scan walked every value of a run's output, 15% of a production worker's CPU per
        run. Nothing is emitted in this process: a write-only manager has no clients of its own."""
        if callback is not None or kwargs:  # acknowledgements and ignore_queue: the library's own way
            return super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback,
                                to=to, **kwargs)
        self._publish({"method": "emit", "event": event, "data": list(data) if isinstance(data, tuple) else [data],
                       "binary": False, "namespace": namespace or "/", "room": to or room, "skip_sid": skip_sid,
                       "callback": None, "host_id": self.host_id})


class RedisRelay(Relay):
    """Production: a write-only Socket.IO client manager publishing on the Redis channel through the
    outbox; replies and run ends also go on a channel of their own, to the web process waiting for them
    (never in-process), at once and with every event before them. A run's end does not go there after its
    reply did: a waiter takes the first of the two, so for a sync run it was one more round trip (and
    message for every web process to read) that nobody used; nor when no sync webhook can wait for it
    (`may_wait`); the end still goes to the browsers. Nothing goes to the browsers' channel while no page
    of any web process is in one of the event's rooms (runtime/hearing.py)."""

    reply_last = True
    REPLIED_KEPT = 4096  # runs whose reply this relay sent, kept until their end (a few seconds of runs)

    def __init__(self, redis_url: str, channel_name: str, flush_s: float = FLUSH_S):
        self.outbox = Outbox(redis_url, flush_s)
        self.manager = _OutboxManager(self.outbox, redis_url, channel=channel_name, write_only=True,
                                      json=LenientJson, logger=log)
        self.replies: RedisReplies = RedisReplies(redis_url, f"{channel_name}.replies")  # Socket.IO is not there
        self._reply_sent: dict[int, None] = {}  # run ids, oldest first
        self._reply_lock = threading.Lock()
        # whether a sync webhook may wait for a run's end (the Runtime sets replies.may_wait with its plans)
        self.may_wait: Callable[[dict], bool] = lambda data: True
        # events go to Redis only while a page of some web process is in one of their rooms (runtime/hearing.py)
        self.hearing = Hearing(redis_url, channel_name)
        self._redis_url, self._channel = redis_url, channel_name
        self._announcement: Announcement | None = None  # this web process's pages' rooms, once one connects

    def listening(self, to: list[str]) -> bool:
        return self.hearing.hears(to)

    def rooms_heard(self, rooms: frozenset[str]) -> None:
        with self._reply_lock:
            if self._announcement is None:
                self._announcement = Announcement(self._redis_url, self._channel)
        self.hearing.local = frozenset(rooms)
        self._announcement.rooms_heard(rooms)

    def _reply(self, event: str, data: dict) -> None:
        if event not in reply_events.EVENTS:
            return
        run_id = data.get("run_id")
        with self._reply_lock:
            if event == "run.replied":
                self._reply_sent[run_id] = None
                if len(self._reply_sent) > self.REPLIED_KEPT:
                    del self._reply_sent[next(iter(self._reply_sent))]
            elif run_id in self._reply_sent:  # run.finished of a run whose reply went: for the browsers only
                del self._reply_sent[run_id]
                return
        if event == "run.finished" and not self.may_wait(data):  # nobody can wait for it: for the browsers only
            return
        self.outbox.put((self.replies.channel, reply_events.encode(event, data)), at_once=True)

    def _emit(self, event: str, data: dict, to: list[str]) -> None:
        if self.hearing.hears(to):
            self.manager.emit(event, data, namespace="/", room=to)

    def flush(self) -> None:
        self.outbox.flush()

    def close(self) -> None:
        if self._announcement is not None:
            self._announcement.close()
        self.hearing.close()
        self.outbox.close()
        self.replies.close()
