"""Run and step states: one enum each, one terminal set, one transition table.

The table is the single source of allowed run moves: runtime/store/transitions.py builds every status
UPDATE from it (WHERE status IN the states allowed to move to the target), so a move the table does
not list can never be written. Only states the runtime produces are listed; the API and the pages
offer these and no others.
"""
from __future__ import annotations

import enum


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class StepStatus(str, enum.Enum):
    """A step row's status, as the executor records each node attempt. No "skipped": a duplicate that
    control.dedupe finds is a succeeded step whose message goes on through its `duplicate` port."""
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # this attempt failed; a later step row records the retry
    WAITING = "waiting"  # the node raised Wait (no token, a document not arrived yet): no failure; it runs again


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED})
OPEN = frozenset(RunStatus) - TERMINAL  # a run of a sequence key blocks later ones while it is open

# queued -> running when a worker claims it; running -> queued when it waits for a retry, is handed back
# by a stopping worker, or its lease expired (the worker died); running -> failed also when it is poison
# (its lease expired too often); a finished run never moves again (replay makes a new run).
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING}),
    RunStatus.RUNNING: frozenset({RunStatus.QUEUED, RunStatus.SUCCEEDED, RunStatus.FAILED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
}


class IllegalTransition(ValueError):
    pass


def sources(target: str | RunStatus) -> frozenset[RunStatus]:
    """The states a run may move to `target` from: what the guarded UPDATE's WHERE clause allows."""
    new = RunStatus(target)
    allowed = frozenset(cur for cur, nexts in TRANSITIONS.items() if new in nexts)
    if not allowed:
        raise IllegalTransition(f"no run ever moves to {new.value}")
    return allowed


def advance(current: str | RunStatus, new: str | RunStatus) -> RunStatus:
    """Return `new` if the move is legal, else raise IllegalTransition."""
    cur, nxt = RunStatus(current), RunStatus(new)
    if nxt not in TRANSITIONS[cur]:
        raise IllegalTransition(f"run cannot move from {cur.value} to {nxt.value}")
    return nxt
