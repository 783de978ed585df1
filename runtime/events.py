"""Live events (docs/api.md lists them): where the runtime publishes them. Each event goes to the rooms of
its workspace and flow; the web layer relays rooms to browsers and never invents events of its own.

Embedded mode hands events to the in-process Socket.IO server (LocalRelay); production writes them to
Redis (RedisRelay), where the web processes' Socket.IO servers, started with the same `message_queue`
and channel, pick them up. Publishing never raises: a lost live event must not fail a run.
`run.replied` and `run.finished` also go to the waiters of sync webhooks (`replies`, runtime/replies.py);
`run.replied` goes only there, since its reply can hold customer data.

Production's side (RedisRelay and its outbox) is runtime/redis_relay.py.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Callable

from runtime.replies import Waiters
from runtime.settings import Settings

log = logging.getLogger(__name__)
FLUSH_S = 0.02  # the longest a live event waits in the outbox
OUTBOX_MAX = 10_000  # messages kept while Redis does not answer; past it the oldest are dropped
Emit = Callable[[str, dict, list], None]  # (event, data, rooms)


class Publisher:
    """Where live events go; this one drops them but for the replies waited for in this process (tests and
    one-off runs)."""

    def __init__(self):
        self.replies: Waiters = Waiters()

    def publish(self, event: str, data: dict) -> None:
        self.replies.deliver(event, data)

    def listening(self, to: list[str]) -> bool:
        """Whether an event of these rooms would reach anyone but the reply waiters: not here."""
        return False

    def when_heard(self, tell: Callable[[frozenset[str] | None], None]) -> None:
        """Call `tell` with the rooms someone hears (None: every room), now and whenever they change: the
        embedded executor processes send only the progress someone hears. Here nobody hears any."""
        tell(frozenset())

    def rooms_heard(self, rooms: frozenset[str]) -> None:
        """The rooms the pages of this process are in, said by the Socket.IO server as pages join and leave."""

    def flush(self) -> None:
        """Send what is kept for sending (the Redis outbox); here nothing is kept."""

    def close(self) -> None:
        self.replies.close()


def workspace_room(workspace: str) -> str:
    return f"ws:{workspace}"


def flow_room(workspace: str, flow_id: str) -> str:
    return f"flow:{workspace}:{flow_id}"


def rooms(data: dict) -> list[str]:
    """The rooms an event belongs to: never one of another workspace."""
    ws = data["workspace"]
    out = [workspace_room(ws)]
    if data.get("flow_id"):
        out.append(flow_room(ws, data["flow_id"]))
    return out


def channel(settings: Settings) -> str:
    """The Redis channel: one per deployment (queue name), so test runs sharing a Redis never mix."""
    return f"crossdock-events.{settings.queue_name}"


class Relay(Publisher):
    """Stamps each event with its publish time (epoch ms, for end-to-end delay), hands replies and run
    ends to their waiters, and emits each event but `run.replied` to its rooms."""

    reply_last = False  # hand an event to its waiters after emitting it (the outbox sends both at once)

    def listening(self, to: list[str]) -> bool:
        return True  # another process decides (the Redis relay's subscribers)

    def when_heard(self, tell: Callable[[frozenset[str] | None], None]) -> None:
        tell(None)

    def publish(self, event: str, data: dict) -> None:
        data = {**data, "ts": round(time.time() * 1000, 3)}
        if not self.reply_last:
            self._replied(event, data)
        if event != "run.replied":
            try:
                self._emit(event, data, rooms(data))
            except Exception:
                log.warning("live event %s not published", event, exc_info=True)
        if self.reply_last:
            self._replied(event, data)

    def _replied(self, event: str, data: dict) -> None:
        try:
            self._reply(event, data)
        except Exception:
            log.warning("%s of run %s not handed to its waiters", event, data.get("run_id"), exc_info=True)

    def _reply(self, event: str, data: dict) -> None:
        self.replies.deliver(event, data)

    def _emit(self, event: str, data: dict, to: list[str]) -> None:
        raise NotImplementedError


class LocalRelay(Relay):
    """Embedded mode: the Socket.IO server of this process attaches its emit function."""

    def __init__(self):
        super().__init__()
        self._sinks: list[Emit] = []
        self._hearing: list[Callable[[list[str]], bool]] = []
        self._lock = threading.Lock()
        self._every_room = False  # a sink takes every event (a test's, a tool's)
        self._rooms: frozenset[str] = frozenset()  # the rooms the Socket.IO server's pages are in
        self._told: list[Callable[[frozenset[str] | None], None]] = []
        self._telling = threading.Lock()  # one telling at a time, each of the state then: the last one wins

    def attach(self, emit: Emit, listening: Callable[[list[str]], bool] | None = None) -> None:
        """`listening(rooms)`: whether anyone hears one of these rooms now (None: always say yes). A sink with
        it also says which rooms it hears as they change (`rooms_heard`), for the executor processes."""
        with self._lock:
            self._sinks = [*self._sinks, emit]
            self._hearing = [*self._hearing, listening or (lambda to: True)]
            self._every_room = self._every_room or listening is None
        self._tell()

    def listening(self, to: list[str]) -> bool:
        """Whether an event of these rooms would reach anyone: the executors' step progress is dropped unread
        when it would not (runtime/executors.py). With nothing attached, nobody hears."""
        return any(hears(to) for hears in self._hearing)

    def rooms_heard(self, rooms: frozenset[str]) -> None:
        with self._lock:
            self._rooms = frozenset(rooms)
        self._tell()

    def when_heard(self, tell: Callable[[frozenset[str] | None], None]) -> None:
        with self._telling:
            with self._lock:
                self._told.append(tell)
                heard = self._heard()
            tell(heard)

    def _heard(self) -> frozenset[str] | None:
        return None if self._every_room else self._rooms

    def _tell(self) -> None:
        with self._telling:
            with self._lock:
                told, heard = list(self._told), self._heard()
            for tell in told:
                tell(heard)

    def _emit(self, event: str, data: dict, to: list[str]) -> None:
        for sink in self._sinks:
            sink(event, data, to)


class LenientJson:
    """Messages may hold values JSON has no type for (dates from SQL sources): send them as text."""

    @staticmethod
    def dumps(value, **kwargs):
        return json.dumps(value, default=str, ensure_ascii=False, **kwargs)

    loads = staticmethod(json.loads)


class Batched:
    """Messages sent in the order they were put, several to a send: `put` keeps one for the thread, which
    sends within `flush_s` (started by the first kept message, so after any fork); `put(..., at_once=True)`
    sends it and every message before it now, on the caller's thread. A failed send is logged and those
    messages are lost, never raised; past `max_kept` waiting messages the oldest are dropped."""

    def __init__(self, flush_s: float = FLUSH_S, max_kept: int = OUTBOX_MAX):
        self.flush_s, self.max_kept = flush_s, max_kept
        self._kept: list = []
        self._lock = threading.Lock()  # guards _kept
        self._sending = threading.Lock()  # one flush at a time, so messages leave in order
        self._wake, self._closed = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def put(self, message, at_once: bool = False) -> None:
        with self._lock:
            self._kept.append(message)
            if len(self._kept) > self.max_kept:
                del self._kept[: len(self._kept) - self.max_kept]
                log.warning("live events: %s does not take them; dropped the oldest", type(self).__name__)
            if self._thread is None and not at_once:
                self._thread = threading.Thread(target=self._run, name="crossdock-events-outbox", daemon=True)
                self._thread.start()
        if at_once:
            self.flush()
        else:
            self._wake.set()

    def flush(self) -> None:
        with self._sending:
            with self._lock:
                batch, self._kept = self._kept, []
            if not batch:
                return
            try:
                self._send(batch)
            except Exception as err:
                log.warning("%d live event(s) not published (%s: %s)", len(batch), type(err).__name__, err)

    def _send(self, batch: list) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Send what is kept and end the thread."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self.flush()

    def _run(self) -> None:
        while not self._closed.is_set():
            self._wake.wait()
            self._closed.wait(self.flush_s)  # gather what the run publishes meanwhile
            self._wake.clear()
            self.flush()


def for_settings(settings: Settings) -> Publisher:
    """Through Redis when the deployment has one (workers in other processes), else in-process."""
    if settings.redis_url:
        from runtime.redis_relay import RedisRelay  # it builds on this module's relay and outbox
        return RedisRelay(settings.redis_url, channel(settings))
    return LocalRelay()
