"""Retention: finished runs, their steps and payloads are pruned by age and by count per workspace, so
run history cannot fill the database (n8n's most-reported outage). Open dead letters stay until
resolved: they carry their own payload and outlive the run they came from.

Deletes go in short batches (one transaction each) so a prune never holds long locks on a busy store.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import delete, select

from runtime.models import DeadLetter, Payload, Run, Step, Workspace, utcnow
from runtime.states import TERMINAL

log = logging.getLogger(__name__)
BATCH = 500
FINISHED = [s.value for s in TERMINAL]  # queued and running runs are never pruned


@dataclass
class Pruned:
    runs: int = 0
    dead_letters: int = 0

    def __bool__(self) -> bool:
        return bool(self.runs or self.dead_letters)


def prune(rt, *, now: dt.datetime | None = None, days: float | None = None, max_runs: int | None = None,
          batch: int = BATCH) -> Pruned:
    """One pass over every workspace with the deployment's policy (arguments override the settings)."""
    days = rt.settings.retention_days if days is None else days
    max_runs = rt.settings.retention_max_runs if max_runs is None else max_runs
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with rt.sessions() as s:
        workspaces = list(s.scalars(select(Workspace.id).order_by(Workspace.id)))
    done = Pruned()
    for ws in workspaces:
        done.runs += prune_workspace(rt, ws, cutoff, max_runs, batch)
        done.dead_letters += _prune_resolved(rt, ws, cutoff, batch)
    if done:
        log.info("retention pruned %d runs and %d resolved dead letters", done.runs, done.dead_letters)
    return done


def prune_workspace(rt, workspace: str, cutoff: dt.datetime, max_runs: int, batch: int = BATCH) -> int:
    """Finished runs of `workspace` created before `cutoff`, or beyond the newest `max_runs`."""
    finished = select(Run.id).where(Run.workspace == workspace, Run.status.in_(FINISHED))
    with rt.sessions() as s:
        # the newest run past the count limit: it and every finished run before it go
        over = s.scalar(finished.order_by(Run.id.desc()).offset(max(0, max_runs)).limit(1))
    removed = 0
    while True:
        q = finished.where(Run.created_at < cutoff) if over is None else finished.where(
            (Run.created_at < cutoff) | (Run.id <= over))
        with rt.sessions.begin() as s:
            ids = list(s.scalars(q.order_by(Run.id).limit(batch)))
            if ids:
                s.execute(delete(Payload).where(Payload.run_id.in_(ids)))
                s.execute(delete(Step).where(Step.run_id.in_(ids)))
                s.execute(delete(Run).where(Run.id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            return removed


def _prune_resolved(rt, workspace: str, cutoff: dt.datetime, batch: int) -> int:
    removed = 0
    while True:
        with rt.sessions.begin() as s:
            ids = list(s.scalars(select(DeadLetter.id).where(
                DeadLetter.workspace == workspace, DeadLetter.status == "resolved",
                DeadLetter.resolved_at < cutoff).order_by(DeadLetter.id).limit(batch)))
            if ids:
                s.execute(delete(DeadLetter).where(DeadLetter.id.in_(ids)))
        removed += len(ids)
        if len(ids) < batch:
            return removed
