"""Turns to compute among the worker threads of an embedded executor process: one thread computes at a time,
and a thread gives its turn up only while it waits for another system (an HTTP call, an SQL source, an SFTP
server), so runs that wait on remote systems still overlap.

Why not leave it to CPython's interpreter lock, which lets one thread run Python at a time anyway: a thread in
a database transaction gives that lock up at every SQLite call, and with a second thread computing a mapping it
gets it back only after that thread's switch interval and the OS's scheduling. SQLite's write lock, which the web
process's intake waits for, stayed held meanwhile: 7.3 ms an executor transaction with two threads computing, ~3 ms
taking turns, and the peer flow's intake went from ~900 to ~1,150 req/s (bench/peer_flow.py's load). A thread
keeps its turn while it waits for the write lock: taking the turn back while holding that lock would bring the
wait back.

Off (every call a no-op) until `enable()`, which an executor process calls once: the web process's threads and
production's workers are not serialised by it. Waits inside steps are not blocking waits here (control.wait and
control.throttle park their runs instead), so a thread that holds its turn never waits for another worker thread
of its process to compute something."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_turn: threading.Lock | None = None
_mine = threading.local()  # whether this thread holds the turn now


def enable() -> None:
    """From now on this process's worker threads take turns (call before they start)."""
    global _turn
    _turn = threading.Lock()


def enabled() -> bool:
    return _turn is not None


@contextmanager
def computing() -> Iterator[None]:
    """A worker thread's job: it waits for its turn and keeps it, but while `waiting`."""
    turn = _turn
    if turn is None or getattr(_mine, "held", False):
        yield
        return
    turn.acquire()
    _mine.held = True
    try:
        yield
    finally:
        _mine.held = False
        turn.release()


@contextmanager
def waiting() -> Iterator[None]:
    """Around a wait for another system: another worker thread computes meanwhile; this one takes its turn back
    after. Outside a worker's turn (another thread, or turns off) it does nothing."""
    turn = _turn
    if turn is None or not getattr(_mine, "held", False):
        yield
        return
    _mine.held = False
    turn.release()
    try:
        yield
    finally:
        turn.acquire()
        _mine.held = True
