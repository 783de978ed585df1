"""The scheduler of `event.schedule` triggers: every maintenance pass starts the runs that fell due.
A unique (workspace, flow, node, due time) row decides which process fires a tick, so any number of
workers can run the pass; only the latest due time fires (no catch-up storm after downtime)."""
from __future__ import annotations

import datetime as dt
import logging

from croniter import croniter
from sqlalchemy.exc import IntegrityError

from runtime import intake, triggers
from runtime.models import ScheduleFire, utcnow

log = logging.getLogger(__name__)


def due(cron: str, now: dt.datetime, since: dt.datetime) -> dt.datetime | None:
    """The latest due time of `cron` at or before `now`, if it is after `since` (the deploy)."""
    last = croniter(cron, now + dt.timedelta(microseconds=1)).get_prev(dt.datetime)
    return last if last > since else None


def fire_due(rt, now: dt.datetime | None = None) -> list[int]:
    """Start the runs of every deployed schedule trigger that fell due; return their run ids."""
    now = now or utcnow()
    started = []
    for t in triggers.deployed(rt, {"event.schedule"}):
        config = t.node.get("config") or {}
        try:
            when = due(str(config.get("cron")), now, t.deployed_at)
        except (ValueError, KeyError):  # an invalid cron cannot be deployed; an old document may hold one
            continue
        if when is None or not _claim(rt, t.workspace, t.flow_id, t.node["id"], when):
            continue
        run = intake.start(rt, t.workspace, t.flow_id, t.version, config.get("input"), trigger="schedule",
                           trigger_node=t.node["id"])
        started.append(run.id)
    return started


def _claim(rt, workspace: str, flow_id: str, node_id: str, when: dt.datetime) -> bool:
    try:
        with rt.sessions.begin() as s:
            s.add(ScheduleFire(workspace=workspace, flow_id=flow_id, node_id=node_id, due_at=when, fired_at=utcnow()))
        return True
    except IntegrityError:
        return False  # another process fired this tick
