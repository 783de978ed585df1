"""The audit log: who changed what and when, per workspace and partner. Rows are only ever inserted (the
database refuses UPDATE and DELETE of audit_entries by trigger, migration 0009); read newest first, a
page at a time, or exported whole as CSV or JSON lines, streamed."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from runtime.deployments import iso
from runtime.identity_models import AuditEntry

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_LIMIT = 500
EXPORT_PAGE = 500
CSV_COLUMNS = ("id", "at", "workspace", "actor", "action", "target", "summary")
_LIMITS = {"actor": 254, "action": 64, "target": 300}  # the columns' lengths: PostgreSQL refuses longer text


@dataclass(frozen=True)
class Filter:
    """Which entries: those of one workspace, or of every workspace (and none) of one partner."""
    workspace: str | None = None
    partner_id: str | None = None
    action: str | None = None  # a prefix: "flow." matches flow.update and flow.deploy
    actor: str | None = None

    def __post_init__(self):
        if self.workspace is None and self.partner_id is None:
            raise ValueError("an audit filter names a workspace or a partner")


def record(rt: Runtime, *, partner_id: str | None, workspace: str | None, actor: str, action: str,
           target: str = "", summary: dict | None = None) -> int:
    """Insert one entry in its own transaction; its id."""
    values = {"actor": actor or "anonymous", "action": action, "target": target or ""}
    values = {k: _clip(v, _LIMITS[k]) for k, v in values.items()}
    with rt.sessions.begin() as s:
        row = AuditEntry(partner_id=partner_id, workspace=workspace, summary=summary or None, **values)
        s.add(row)
        s.flush()
        return row.id


def entries(rt: Runtime, where: Filter, *, before: int | None = None, limit: int = 100) -> tuple[list[dict], int | None]:
    """A page of entries, newest first, and the `before` of the next page (None on the last)."""
    limit = max(1, min(limit, MAX_LIMIT))
    rows = _page(rt, where, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [as_dict(r) for r in rows], (rows[-1].id if more else None)


def export(rt: Runtime, where: Filter, fmt: str) -> Iterator[str]:
    """Every matching entry, newest first, as CSV (a header row first) or JSON lines, read a page at a time
    so that a long history never sits in memory."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == "csv":
        yield _csv_line(CSV_COLUMNS)
    before = None
    while True:
        rows = _page(rt, where, before, EXPORT_PAGE)
        for row in rows:
            item = as_dict(row)
            if fmt == "jsonl":
                yield json.dumps(item, ensure_ascii=False, default=str) + "\n"
            else:
                item["summary"] = json.dumps(item["summary"], ensure_ascii=False, default=str) if item["summary"] else ""
                yield _csv_line([item[c] for c in CSV_COLUMNS])
        if len(rows) < EXPORT_PAGE:
            return
        before = rows[-1].id


def as_dict(row: AuditEntry) -> dict[str, Any]:
    return {"id": row.id, "at": iso(row.at), "workspace": row.workspace, "actor": row.actor,
            "action": row.action, "target": row.target, "summary": row.summary}


def _page(rt: Runtime, where: Filter, before: int | None, limit: int) -> list[AuditEntry]:
    q = select(AuditEntry)
    if where.workspace is not None:
        q = q.where(AuditEntry.workspace == where.workspace)
    if where.partner_id is not None:
        q = q.where(AuditEntry.partner_id == where.partner_id)
    if where.action:
        q = q.where(AuditEntry.action.startswith(where.action, autoescape=True))
    if where.actor:
        q = q.where(AuditEntry.actor == where.actor)
    if before is not None:
        q = q.where(AuditEntry.id < before)
    with rt.read_sessions() as s:
        return list(s.scalars(q.order_by(AuditEntry.id.desc()).limit(limit)))


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_inert(v) for v in values])
    return out.getvalue()


def _inert(value) -> str:
    # a cell starting with = + - @ is a formula to a spreadsheet; an actor may be any text a failed login tried
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _clip(text: str, n: int) -> str:
    text = str(text).replace("\x00", "")  # PostgreSQL text cannot hold NUL
    return text if len(text) <= n else text[: n - 1] + "…"
