"""Production: which live-event rooms the pages of any web process are in, so that the processes publishing
live events (workers, and web processes for the runs they queue) send an event to Redis only when someone
hears one of its rooms. At load nobody watches, yet every run published a dozen events that Redis fanned out
to every web process, which decoded each one to find no page in its rooms (runtime/redis_relay.py).

Each web process keeps the rooms its pages are in under a Redis key of its own (`<prefix>.<id>`), written
as pages join and leave, refreshed every REFRESH_S and expiring after TTL_S, so that a web process that died
stops counting; every change is announced on the channel `<prefix>`. Each publishing process reads all those
keys once its listener is subscribed, on every announcement and every REFRESH_S, and hears their union.

Until the first read succeeds a process publishes every event, as before; when Redis does not answer it
keeps the last rooms it read. A page that joins hears a run's events from the moment the publishing process
has read the announcement (a millisecond or so); a page reads a run's state when it opens, as in the
embedded default."""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid

import redis

log = logging.getLogger(__name__)
TTL_S = 30.0  # a web process's rooms count this long after its last write
REFRESH_S = 10.0  # how often a web process rewrites its rooms, and a publishing process reads them all


def prefix(channel: str) -> str:
    return f"{channel}.heard"


class Announcement:
    """A web process's rooms: written under its own key and announced on each change."""

    def __init__(self, redis_url: str, channel: str, ttl_s: float = TTL_S, refresh_s: float = REFRESH_S):
        self.channel, self.ttl_s, self.refresh_s = prefix(channel), ttl_s, refresh_s
        self.key = f"{self.channel}.{uuid.uuid4().hex}"
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self._rooms: frozenset[str] = frozenset()
        self._lock = threading.Lock()  # one write at a time, each of the rooms then: the last one wins
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def rooms_heard(self, rooms: frozenset[str]) -> None:
        with self._lock:
            changed, self._rooms = rooms != self._rooms, frozenset(rooms)
            if self._thread is None:  # started by the first page, so after any fork
                self._thread = threading.Thread(target=self._refresh, name="crossdock-rooms-heard", daemon=True)
                self._thread.start()
            if changed:
                self._write(announce=True)

    def _write(self, announce: bool) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            if self._rooms:
                pipe.set(self.key, json.dumps(sorted(self._rooms)), px=int(self.ttl_s * 1000))
            else:
                pipe.delete(self.key)
            if announce:
                pipe.publish(self.channel, self.key)
            pipe.execute()
        except redis.RedisError as err:  # the next refresh writes them again
            log.warning("rooms heard not written to Redis (%s: %s)", type(err).__name__, err)

    def _refresh(self) -> None:
        while not self._closed.wait(self.refresh_s):
            with self._lock:
                if self._rooms:
                    self._write(announce=False)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._rooms:
                self._rooms = frozenset()
                self._write(announce=True)
        self.redis.close()


class Hearing:
    """A publishing process's view: the union of every web process's rooms (None until first read)."""

    def __init__(self, redis_url: str, channel: str, refresh_s: float = REFRESH_S):
        self.channel, self.refresh_s = prefix(channel), refresh_s
        self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self.heard: frozenset[str] | None = None
        self.retry_s = 1.0  # between attempts while Redis does not answer
        self.local: frozenset[str] = frozenset()  # this process's own pages' rooms: known before Redis says so
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def hears(self, rooms: list[str]) -> bool:
        """Whether a page hears one of these rooms (yes until the rooms are known); starts the listener."""
        heard = self.heard
        if heard is None:
            if self._thread is None:
                self._start()
            return True
        local = self.local
        return any(room in heard or room in local for room in rooms)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:  # started by the first event, so after any fork
                self._thread = threading.Thread(target=self._listen, name="crossdock-rooms-hearing", daemon=True)
                self._thread.start()

    def _listen(self) -> None:
        pubsub, read_at, failing = None, 0.0, False
        while not self._closed.is_set():
            try:
                if pubsub is None:
                    pubsub = self.redis.pubsub()
                    pubsub.subscribe(self.channel)
                    pubsub.get_message(timeout=5)  # the confirmation: announcements from here on are not missed
                    self.read()
                    read_at = time.monotonic()
                announced = False
                while (message := pubsub.get_message(timeout=0 if announced else 1.0)) is not None:
                    announced = announced or message["type"] == "message"  # several announcements: one read
                if announced or time.monotonic() - read_at >= self.refresh_s:
                    read_at = time.monotonic()
                    self.read()
                if failing:
                    log.info("rooms heard: Redis answers again")
                    failing = False
            except redis.RedisError as err:
                if not failing:  # once an outage, not every second of it
                    log.warning("rooms heard: Redis does not answer (%s: %s); keeping the last rooms read",
                                type(err).__name__, err)
                    failing = True
                if pubsub is not None:
                    pubsub.close()
                    pubsub = None
                self._closed.wait(self.retry_s)
        if pubsub is not None:
            pubsub.close()

    def read(self) -> None:
        keys = list(self.redis.scan_iter(match=f"{self.channel}.*", count=500))
        heard: set[str] = set()
        for text in (self.redis.mget(keys) if keys else []):
            if text:
                heard.update(json.loads(text))
        self.heard = frozenset(heard)

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)  # it looks at `_closed` every second
        self.redis.close()
