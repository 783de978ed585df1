"""The embedded default's executor processes: the web process stores each run, as always, and hands its id
over a local socket to an executor process, which executes it on its own interpreter (its own core) and sends
the run's live events back; the web process relays them to browsers and to the sync webhooks waiting for a
reply. With runs executed on threads of the web process, intake and execution took turns on one interpreter
lock, so the embedded default used one core of any machine.

The web process stays the one coordinator: it runs the maintenance (expired leases, lost runs, schedules,
retention) and knows which runs it handed over and has not yet seen start (`held_run_ids`), so recovery
never enqueues one of those again. Executors execute and nothing else; several may share a SQLite file (WAL).
An executor that dies is started again and the runs it held go to the others (a run it was executing comes
back when its lease expires, as after any crash). Each executor ends when its socket closes: the web
process stopped, or died.

The executor's side is runtime/executor_process.py. The wire: first the web process's settings (a line of
JSON), then web -> executor, a line per run id (`17` or, delayed, `17 1.5`) and, whenever they change, the
rooms pages hear (`!["flow:ws:f"]`, `!null` for every room); executor -> web, a line per live event
(`["step.started", "ws", "f"]<TAB>{...}`). An executor sends a step's progress only while someone hears its
rooms: encoding, sending and reading it cost a tenth of both processes' time at load, for nobody."""
from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Callable

from runtime import jsontext
from runtime.events import Batched, Publisher, rooms
from runtime.queue import JobQueue
from runtime.replies import EVENTS as REPLY_EVENTS
from runtime.settings import Settings

log = logging.getLogger(__name__)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTLED = frozenset({"run.started", "run.finished"})  # a held run that started is no longer the queue's
NEEDED = SETTLED | frozenset(REPLY_EVENTS)  # events the web process acts on whether or not a page listens
RESTART_AFTER_S = 1.0  # between an executor's death and its next start
HELD_AT_MOST_S = 300.0  # a run handed over this long ago that never started counts as lost (a duplicate is harmless)


class LinkQueue(JobQueue):
    """The web process's queue in the embedded default with executor processes: enqueued run ids go to the
    executors in turn. `publish` receives each live event the executors send."""

    embedded = True

    def __init__(self, settings: Settings, publish: Callable[[str, dict], None] = lambda e, d: None,
                 listening: Callable[[list[str]], bool] = lambda to: True,
                 wanted: Callable[[int], bool] = lambda run_id: True, **_options):
        self.settings = settings
        self.name = f"{settings.queue_name}-link-{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self.publish = publish
        self.listening = listening  # whether anyone hears these rooms: else a step's event is not even decoded
        self.wanted = wanted  # whether a reply waiter of this process could want an event of this run
        self._lock = threading.Lock()  # guards _held
        self._held: dict[int, tuple[Executor, float]] = {}  # handed over (by whom, when), not yet seen to start
        self._turn = itertools.count()
        self.heard_line = b"!null\n"  # until told otherwise, every room is heard
        self.executors = [Executor(i, self) for i in range(max(1, settings.executors))]

    def start_threads(self, workers: int = 0) -> None:
        for executor in self.executors:
            executor.start()

    def enqueue_run(self, run_id: int, delay_s: float = 0.0) -> None:
        self._send([run_id], f"{run_id} {delay_s:.3f}\n" if delay_s > 0 else f"{run_id}\n")

    def enqueue_runs(self, run_ids: list[int]) -> None:
        if run_ids:
            self._send(run_ids, "".join(f"{i}\n" for i in run_ids))

    def _send(self, run_ids: list[int], text: str) -> None:
        executor = self.executors[next(self._turn) % len(self.executors)]
        now = time.monotonic()
        with self._lock:
            for run_id in run_ids:
                self._held[run_id] = (executor, now)
        if not executor.send(text.encode()):  # it died: its runs, these too, go to the others when it is back
            log.warning("executor %s did not take runs %s; they are handed over again", executor.index, run_ids[:20])

    def hear(self, heard: frozenset[str] | None) -> None:
        """The rooms someone hears now (None: all of them), for the executors (runtime/events.py when_heard)."""
        self.heard_line = b"!" + jsontext.dumps(None if heard is None else sorted(heard)).encode() + b"\n"
        for executor in self.executors:
            if executor.sock is not None:
                executor.send(self.heard_line)

    def settled(self, event: str, run_id: int | None) -> None:
        if event in SETTLED:
            with self._lock:
                self._held.pop(run_id, None)

    def taken_back(self, executor: Executor) -> list[int]:
        """The runs a dead executor held: handed to the others (a duplicate does nothing: the claim)."""
        with self._lock:
            ids = [i for i, (e, _) in self._held.items() if e is executor]
            for i in ids:
                del self._held[i]
        return ids

    def pending(self) -> int:
        with self._lock:
            return len(self._held)

    def held_run_ids(self, overdue_s: float = 10.0) -> set[int]:
        since = time.monotonic() - HELD_AT_MOST_S
        with self._lock:
            return {i for i, (_, at) in self._held.items() if at > since}

    def waiting_run_ids(self) -> list[int]:
        with self._lock:
            return list(self._held)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def work(self, name: str | None = None, burst: bool = False, grace_s: float = 30.0, overdue=lambda: None) -> None:
        raise RuntimeError("the web process executes no runs: its executor processes do")

    def stop(self) -> None:
        self.stopping.set()
        for executor in self.executors:
            executor.stop()


class Executor:
    """One executor process, seen from the web process: started with a socket pair, read on a thread of
    its own, started again when it dies (unless the queue is stopping)."""

    def __init__(self, index: int, queue: LinkQueue):
        self.index, self.queue = index, queue
        self.process: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runtime.executor_process", "--link-fd", str(theirs.fileno()),
             "--index", str(self.index)],
            pass_fds=(theirs.fileno(),), env=env, start_new_session=True)  # Ctrl-C reaches the web process only
        theirs.close()
        self.sock = ours
        self.send((json.dumps(dataclasses.asdict(self.queue.settings)) + "\n").encode())  # its settings, first
        self.send(self.queue.heard_line)
        self._thread = threading.Thread(target=self._read, name=f"crossdock-executor-{self.index}", daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> bool:
        try:
            with self._send_lock:
                self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _read(self) -> None:
        stream = self.sock.makefile("rb")
        try:
            for line in stream:
                head, tab, body = line.partition(b"\t")
                try:
                    event, workspace, flow_id, run_id = jsontext.loads(head)
                    self.queue.settled(event, run_id)
                    if not tab or (not self.queue.listening(rooms({"workspace": workspace, "flow_id": flow_id}))
                                   and not (event in REPLY_EVENTS and self.queue.wanted(run_id))):
                        continue  # nobody watches, no reply waits: most of a loaded web process's events
                    data = jsontext.loads(body)
                except ValueError:
                    log.warning("executor %s sent a line that is no event: %r", self.index, line[:200])
                    continue
                self.queue.publish(event, data)
        except OSError:
            pass
        if self.queue.stopping.is_set():
            return
        code = self.process.wait() if self.process else None
        log.error("executor process %s ended (exit code %s); starting it again", self.index, code)
        time.sleep(RESTART_AFTER_S)
        if not self.queue.stopping.is_set():
            self.start()
            held = self.queue.taken_back(self)
            if held:
                self.queue.enqueue_runs(held)

    def stop(self, grace_s: float = 10.0) -> None:
        """Close the socket (the executor finishes the jobs it is on and ends) and wait for it."""
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
        if self.process is not None:
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                log.warning("executor process %s did not end in %.0f s; killed", self.index, grace_s)
                self.process.kill()
                self.process.wait()  # reaped: no zombie left, and the caller sees it ended


class LinkPublisher(Publisher):
    """An executor's live events, sent to the web process in order: replies and run ends at once (a sync
    webhook waits for them), the others within FLUSH_S, several to a write."""

    def __init__(self, sock: socket.socket):
        super().__init__()
        self.out = _Lines(sock)
        self.heard: frozenset[str] | None = None  # the rooms pages hear, None for all (the web process says)

    def hear(self, rooms: list[str] | None) -> None:
        self.heard = None if rooms is None else frozenset(rooms)

    def publish(self, event: str, data: dict) -> None:
        """A line `[event, workspace, flow_id, run_id]<TAB>data`: the web process reads the head alone to tell
        whether it needs the event (JSON escapes a tab inside strings, so the first tab ends the head). Progress
        of rooms nobody hears is not sent, and a run's start only as its head (the web process settles the run
        by its id): it would drop the rest unread. Run ends and replies go whole, at once: a reply waiter of
        the web process, which this process does not know of, may want them."""
        heard = self.heard
        unheard = heard is not None and not any(room in heard for room in rooms(data))
        if unheard and event not in NEEDED:
            return
        head = jsontext.dumps([event, data.get("workspace"), data.get("flow_id"), data.get("run_id")])
        if unheard and event not in REPLY_EVENTS:
            self.out.put(head)
        else:
            self.out.put(head + "\t" + jsontext.dumps(data), at_once=event in REPLY_EVENTS)

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        self.out.close()


class _Lines(Batched):
    def __init__(self, sock: socket.socket):
        super().__init__()
        self.sock = sock

    def _send(self, batch: list[str]) -> None:  # an error: the web process is gone, and this one ends with it
        self.sock.sendall(("\n".join(batch) + "\n").encode())
