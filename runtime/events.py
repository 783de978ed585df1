"""Live events (DESIGN.md section 6): where the runtime publishes them. Each event goes to the rooms of
its workspace and flow; the web layer relays rooms to browsers and never invents events of its own.

Embedded mode hands events to the in-process Socket.IO server (LocalRelay); production writes them to
Redis (RedisRelay), where the web processes' Socket.IO servers, started with the same `message_queue`
and channel, pick them up. Publishing never raises: a lost live event must not fail a run.
`run.replied` and `run.finished` also go to the waiters of sync webhooks (`replies`, runtime/replies.py);
`run.replied` goes only there, since its reply can hold customer data.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Callable

import socketio

from runtime.replies import RedisReplies, Waiters
from runtime.settings import Settings

log = logging.getLogger(__name__)
Emit = Callable[[str, dict, list], None]  # (event, data, rooms)


class Publisher:
    """Where live events go; this one drops them but for the replies waited for in this process (tests and
    one-off runs)."""

    def __init__(self):
        self.replies: Waiters = Waiters()

    def publish(self, event: str, data: dict) -> None:
        self.replies.deliver(event, data)

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


class _Relay(Publisher):
    """Stamps each event with its publish time (epoch ms, for end-to-end delay), hands replies and run
    ends to their waiters, and emits each event but `run.replied` to its rooms."""

    def publish(self, event: str, data: dict) -> None:
        data = {**data, "ts": round(time.time() * 1000, 3)}
        try:
            self._reply(event, data)
        except Exception:
            log.warning("%s of run %s not handed to its waiters", event, data.get("run_id"), exc_info=True)
        if event == "run.replied":
            return
        try:
            self._emit(event, data, rooms(data))
        except Exception:
            log.warning("live event %s not published", event, exc_info=True)

    def _reply(self, event: str, data: dict) -> None:
        self.replies.deliver(event, data)

    def _emit(self, event: str, data: dict, to: list[str]) -> None:
        raise NotImplementedError


class LocalRelay(_Relay):
    """Embedded mode: the Socket.IO server of this process attaches its emit function."""

    def __init__(self):
        super().__init__()
        self._sinks: list[Emit] = []
        self._lock = threading.Lock()

    def attach(self, emit: Emit) -> None:
        with self._lock:
            self._sinks = [*self._sinks, emit]

    def _emit(self, event: str, data: dict, to: list[str]) -> None:
        for sink in self._sinks:
            sink(event, data, to)


class LenientJson:
    """Messages may hold values JSON has no type for (dates from SQL sources): send them as text."""

    @staticmethod
    def dumps(value, **kwargs):
        return json.dumps(value, default=str, ensure_ascii=False, **kwargs)

    loads = staticmethod(json.loads)


class RedisRelay(_Relay):
    """Production: a write-only Socket.IO client manager publishing on the Redis channel; replies and run
    ends also go on a channel of their own, to the web process waiting for them (never in-process)."""

    def __init__(self, redis_url: str, channel_name: str):
        self.manager = socketio.RedisManager(redis_url, channel=channel_name, write_only=True, json=LenientJson,
                                             logger=log)
        self.replies: RedisReplies = RedisReplies(redis_url, f"{channel_name}.replies")  # Socket.IO is not there

    def _reply(self, event: str, data: dict) -> None:
        self.replies.send(event, data)

    def _emit(self, event: str, data: dict, to: list[str]) -> None:
        self.manager.emit(event, data, namespace="/", room=to)


def for_settings(settings: Settings) -> Publisher:
    """Through Redis when the deployment has one (workers in other processes), else in-process."""
    if settings.redis_url:
        return RedisRelay(settings.redis_url, channel(settings))
    return LocalRelay()
