"""Run and step states: one enum each, one terminal set, one transition table (STYLE.md rule 7)."""
from __future__ import annotations

import enum


class RunStatus(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"
    CANCELED = "canceled"


class StepStatus(str, enum.Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # this attempt failed; a later step row records the retry
    SKIPPED = "skipped"  # e.g. a duplicate seen by control.dedupe


TERMINAL = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.DEAD_LETTERED, RunStatus.CANCELED})

# queued -> running when a worker claims it; running -> queued when it waits for a retry or its lease
# expired (the worker died); a finished run never moves again (replay makes a new run).
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELED}),
    RunStatus.RUNNING: frozenset({RunStatus.QUEUED, RunStatus.SUCCEEDED, RunStatus.FAILED,
                                  RunStatus.DEAD_LETTERED, RunStatus.CANCELED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.DEAD_LETTERED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}


class IllegalTransition(ValueError):
    pass


def advance(current: str | RunStatus, new: str | RunStatus) -> RunStatus:
    """Return `new` if the move is legal, else raise IllegalTransition."""
    cur, nxt = RunStatus(current), RunStatus(new)
    if nxt not in TRANSITIONS[cur]:
        raise IllegalTransition(f"run cannot move from {cur.value} to {nxt.value}")
    return nxt
