"""Retention: finished runs, their steps and payloads are pruned by age and by count per workspace, so
run history cannot fill the database (n8n's most-reported outage). Open dead letters stay until
resolved: they carry their own payload and outlive the run they came from.

Deletes go in short batches (one transaction each) so a prune never holds long locks on a busy store;
the run store does them (runtime/store/pruning.py), this module holds the policy.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from typing import TYPE_CHECKING

from sqlalchemy import select

from runtime.models import Workspace, utcnow
from runtime.store import pruning

if TYPE_CHECKING:
    from runtime.wiring import Runtime

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Pruned:
    runs: int = 0
    dead_letters: int = 0

    def __bool__(self) -> bool:
        return bool(self.runs or self.dead_letters)


def prune(rt: Runtime, *, now: dt.datetime | None = None, days: float | None = None, max_runs: int | None = None,
          batch: int = BATCH) -> Pruned:
    """One pass over every workspace with the deployment's policy (arguments override the settings)."""
    days = rt.settings.retention_days if days is None else days
    max_runs = rt.settings.retention_max_runs if max_runs is None else max_runs
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with rt.read_sessions() as s:
        workspaces = list(s.scalars(select(Workspace.id).order_by(Workspace.id)))
    done = Pruned()
    for ws in workspaces:
        done.runs += prune_workspace(rt, ws, cutoff, max_runs, batch)
        done.dead_letters += pruning.prune_resolved(rt, ws, cutoff, batch)
    if done:
        log.info("retention pruned %d runs and %d resolved dead letters", done.runs, done.dead_letters)
    return done


def prune_workspace(rt: Runtime, workspace: str, cutoff: dt.datetime, max_runs: int, batch: int = BATCH) -> int:
    """Finished runs of `workspace` created before `cutoff`, or beyond the newest `max_runs`."""
    return pruning.prune_runs(rt, workspace, cutoff, max_runs, batch)
