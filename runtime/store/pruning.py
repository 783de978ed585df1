"""Deleting from the run store, for retention (runtime/retention.py decides what goes): finished runs
with their steps and payloads, and resolved dead letters, in short batches (one transaction each) so
that a prune never holds long locks on a busy store."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from runtime.models import DeadLetter, Payload, Run, Step
from runtime.states import TERMINAL

if TYPE_CHECKING:
    from runtime.wiring import Runtime

FINISHED = sorted(s.value for s in TERMINAL)  # queued and running runs are never pruned


def prune_runs(rt: Runtime, workspace: str, cutoff: dt.datetime, max_runs: int, batch: int) -> int:
    """Finished runs of `workspace` created before `cutoff`, or beyond the newest `max_runs`."""
    finished = select(Run.id).where(Run.workspace == workspace, Run.status.in_(FINISHED))
    with rt.reader.connect() as conn:
        # the newest run past the count limit: it and every finished run before it go
        over = conn.execute(finished.order_by(Run.id.desc()).offset(max(0, max_runs)).limit(1)).scalar()
    q = finished.where(Run.created_at < cutoff) if over is None else finished.where(
        (Run.created_at < cutoff) | (Run.id <= over))
    q = q.order_by(Run.id).limit(batch)
    removed = 0
    while True:
        with rt.engine.begin() as conn:
            ids = list(conn.execute(q).scalars())
            if ids:
                conn.execute(delete(Payload).where(Payload.run_id.in_(ids)))
                conn.execute(delete(Step).where(Step.run_id.in_(ids)))
                conn.execute(delete(Run).where(Run.id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            return removed


def prune_resolved(rt: Runtime, workspace: str, cutoff: dt.datetime, batch: int) -> int:
    """Dead letters of `workspace` resolved before `cutoff` (open ones stay until resolved)."""
    q = select(DeadLetter.id).where(DeadLetter.workspace == workspace, DeadLetter.status == "resolved",
                                    DeadLetter.resolved_at < cutoff).order_by(DeadLetter.id).limit(batch)
    removed = 0
    while True:
        with rt.engine.begin() as conn:
            ids = list(conn.execute(q).scalars())
            if ids:
                conn.execute(delete(DeadLetter).where(DeadLetter.id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            return removed
