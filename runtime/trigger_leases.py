"""The lease a trigger of the maintenance pass holds while it reads its source (event.poll's cursor, event.file's
watch): one row per (workspace, flow, node) with `holder`, `lease_until` and `due_at`, taken with one guarded UPDATE,
so that one process at a time works a node whatever number of processes run the pass, and a process that died
holding it delays the node by the lease at most."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from nodes.base import NodeError
from runtime.models import utcnow
from runtime.plan import PlanError

log = logging.getLogger(__name__)


class Leases:
    def __init__(self, model, lease_s: float):
        self.model, self.table, self.lease_s = model, model.__table__, lease_s

    def key(self, workspace: str, flow_id: str, node_id: str):
        """SQL: the node's row."""
        c = self.table.c
        return (c.workspace == workspace) & (c.flow_id == flow_id) & (c.node_id == node_id)

    def ensure(self, rt, workspace: str, flow_id: str, node_id: str, now: dt.datetime) -> None:
        """The node's row, due now, made on its first pass (by whichever process comes first)."""
        try:
            with rt.sessions.begin() as s:
                s.add(self.model(workspace=workspace, flow_id=flow_id, node_id=node_id, due_at=now, updated_at=now))
        except IntegrityError:
            pass  # another process made it first

    def take(self, rt, key, holder: str, now: dt.datetime) -> bool:
        """The lease, if it is free or expired and the node is due: one guarded UPDATE, so one process wins."""
        c = self.table.c
        with rt.sessions.begin() as s:
            taken = s.execute(update(self.table).where(
                key, (c.holder.is_(None)) | (c.lease_until < now), (c.due_at.is_(None)) | (c.due_at <= now)).values(
                holder=holder, lease_until=now + dt.timedelta(seconds=self.lease_s), updated_at=now)).rowcount
        return taken == 1

    def release(self, rt, key, holder: str, due: dt.datetime, error: str | None, **values) -> None:
        """Give the lease back with the node's next due time and its last error (None: it went well)."""
        with rt.sessions.begin() as s:
            s.execute(update(self.table).where(key, self.table.c.holder == holder).values(
                holder=None, lease_until=None, due_at=due, error=error, updated_at=utcnow(), **values))

    def release_failed(self, rt, key, holder: str, due: dt.datetime, err: Exception, what: str) -> None:
        """Give the lease back after the node's pass failed, the reason kept on its row: a flow's or its source's
        fault (NodeError, PlanError, a missing connection) as a warning, anything else with its traceback."""
        if isinstance(err, (NodeError, PlanError, KeyError)):
            reason = err.message if isinstance(err, NodeError) else str(err)
            log.warning("%s failed: %s", what, reason)
        else:
            reason = f"{type(err).__name__}: {err}"
            log.exception("%s failed", what, exc_info=err)
        self.release(rt, key, holder, due, reason[:1000])
