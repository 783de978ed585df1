"""The document thread (issue 14): one timeline per business document across flows and systems, found by any of
its keys. A flow declares correlation keys (settings.correlation: kind -> JSONata); the run's end write
(runtime/store/ends.py) indexes the values they take on the run's input and on its steps' outputs, so a key that
comes back in a connector's answer (the ERP's order number) is indexed too. A thread is every run reached from a
key through the keys those runs carry (PO 4711 -> run A, which has order SO-9 -> run B, which has shipment SH-3),
bounded in hops, keys and runs, in time order. Flows that declare no keys cost the end write nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from runtime.models import Flow, Run, Step
from runtime.plan import Correlation, PlanError
from runtime.states import StepStatus
from runtime.thread_models import ThreadEntry

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_MESSAGES = 32  # messages of one execution whose keys are evaluated (the input, then step outputs in order)
MAX_VALUES = 16  # index entries one execution writes for its run
MAX_VALUE_LEN = 200
MAX_HOPS, MAX_KEYS, MAX_RUNS = 4, 50, 200  # how far a thread is followed from the key searched
_INSERTS = {name: dialect.insert(ThreadEntry.__table__).on_conflict_do_nothing(
    index_elements=["run_id", "kind", "value"]) for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def correlation_of(rt: Runtime, row) -> Correlation | None:
    """The correlation keys of the version `row` runs on, when its plan left this process's cache meanwhile."""
    try:
        return rt.plan_for(row.workspace, row.flow_id, row.version).correlation
    except PlanError:
        return None


def entries_of(correlation: Correlation | None, row, outcome, now: dt.datetime) -> list[dict]:
    """The index rows of one execution of run `row`: each distinct (kind, value) its key expressions give on the
    run's input (on the execution that starts it) and on the outputs of its succeeded steps. [] without keys."""
    if correlation is None:
        return []
    messages: list[Any] = [] if row.checkpoint else [row.input]
    seen = {id(m) for m in messages}
    for step in outcome.steps:
        output = step.get("output")
        if step.get("status") == StepStatus.SUCCEEDED.value and output is not None and id(output) not in seen:
            seen.add(id(output))  # a message passed on unchanged is evaluated once
            messages.append(output)
    found: dict[tuple[str, str], None] = {}
    for message in messages[:MAX_MESSAGES]:
        for kind, expr in correlation.keys:
            for value in _values(expr, message):
                found[(kind, value)] = None
                if len(found) >= MAX_VALUES:
                    return _rows(found, correlation, row, now)
    return _rows(found, correlation, row, now)


def _rows(found: dict, correlation: Correlation, row, now: dt.datetime) -> list[dict]:
    return [{"workspace": row.workspace, "kind": kind, "value": value, "run_id": row.id, "flow_id": row.flow_id,
             "label": correlation.label, "at": now} for kind, value in found]


def _values(expr, message: Any) -> list[str]:
    """The key values an expression gives on a message: a text or number, or a list of them; never raises."""
    try:
        value = expr.evaluate(message, {})
    except Exception:  # ExpressionError, or a budget exceeded: this message carries no key
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items[:MAX_VALUES]:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            continue
        text = (str(int(item)) if isinstance(item, float) and item.is_integer() else str(item)).replace("\x00", "")
        text = text.strip()[:MAX_VALUE_LEN]
        if text:
            out.append(text)
    return out


def store(conn: Connection, rows: list[dict]) -> None:
    """Insert index rows inside the end write's transaction; a key a run had indexed already (an execution after
    a retry or a wait) is skipped."""
    if rows:
        conn.execute(_INSERTS[conn.dialect.name], rows)


def thread(rt: Runtime, workspace: str, key: str, kind: str | None = None) -> dict:
    """The thread of the document with key `key` (of any kind, or of `kind`): the runs that carry it or a key
    linked to it through runs, oldest first, each with its flow, label, status, times and keys."""
    key = key.strip()[:MAX_VALUE_LEN]
    truncated = False
    runs: dict[int, list[tuple[str, str]]] = {}  # run id -> its keys
    keys: set[tuple[str, str]] = set()
    with rt.reader.connect() as conn:
        where = [ThreadEntry.workspace == workspace, ThreadEntry.value == key]
        if kind is not None:
            where.append(ThreadEntry.kind == kind)
        found = conn.execute(select(ThreadEntry.run_id, ThreadEntry.kind, ThreadEntry.value).where(*where)
                             .order_by(ThreadEntry.run_id).limit(MAX_RUNS + 1)).all()
        keys |= {(r.kind, r.value) for r in found}
        for _hop in range(MAX_HOPS):
            new = sorted({r.run_id for r in found} - set(runs))
            if len(runs) + len(new) > MAX_RUNS:
                new, truncated = new[:MAX_RUNS - len(runs)], True
            if not new:
                break
            for run_id in new:
                runs[run_id] = []
            for r in conn.execute(select(ThreadEntry.run_id, ThreadEntry.kind, ThreadEntry.value)
                                  .where(ThreadEntry.run_id.in_(new)).order_by(ThreadEntry.id)):
                runs[r.run_id].append((r.kind, r.value))
            linked = sorted({k for run_id in new for k in runs[run_id]} - keys)
            if len(keys) + len(linked) > MAX_KEYS:
                linked, truncated = linked[:MAX_KEYS - len(keys)], True
            if not linked:
                break
            keys |= set(linked)
            found = conn.execute(select(ThreadEntry.run_id, ThreadEntry.kind, ThreadEntry.value)
                                 .where(ThreadEntry.workspace == workspace,
                                        tuple_(ThreadEntry.kind, ThreadEntry.value).in_(linked))
                                 .order_by(ThreadEntry.run_id).limit(MAX_RUNS + 1)).all()
        else:
            truncated = truncated or bool({r.run_id for r in found} - set(runs))
        entries = _entries(conn, workspace, runs) if runs else []
    return {"key": key, "kind": kind, "keys": [{"kind": k, "value": v} for k, v in sorted(keys)],
            "entries": entries, "truncated": truncated}


def _entries(conn: Connection, workspace: str, runs: dict[int, list[tuple[str, str]]]) -> list[dict]:
    labels = dict(conn.execute(select(ThreadEntry.run_id, ThreadEntry.label)
                               .where(ThreadEntry.run_id.in_(list(runs)))).all())
    rows = conn.execute(
        select(Run.id, Run.flow_id, Run.version, Run.status, Run.trigger, Run.business_key, Run.created_at,
               Run.finished_at, Flow.name)
        .outerjoin(Flow, (Flow.workspace == Run.workspace) & (Flow.id == Run.flow_id))
        .where(Run.workspace == workspace, Run.id.in_(list(runs)))
        .order_by(Run.created_at, Run.id)).all()
    systems = _systems(conn, list(runs))
    return [{"run_id": r.id, "flow_id": r.flow_id, "flow_name": r.name or r.flow_id, "version": r.version,
             "label": labels.get(r.id), "status": r.status, "trigger": r.trigger, "business_key": r.business_key,
             "created_at": _iso(r.created_at), "finished_at": _iso(r.finished_at),
             "keys": [{"kind": k, "value": v} for k, v in runs[r.id]],
             "systems": [{"system": t.split(".", 1)[1], "node_type": t, "status": st}
                         for t, st in systems.get(r.id, {}).items()]} for r in rows]


def _systems(conn: Connection, run_ids: list[int]) -> dict[int, dict[str, str]]:
    """The systems each run reached through connector steps, in the order it first called them, each with how
    it went: `succeeded` once any attempt did, else the last attempt's status (failed, waiting)."""
    out: dict[int, dict[str, str]] = {}
    for r in conn.execute(select(Step.run_id, Step.node_type, Step.status)
                          .where(Step.run_id.in_(run_ids), Step.node_type.like("connector.%"))
                          .order_by(Step.run_id, Step.seq)):
        seen = out.setdefault(r.run_id, {})
        if seen.get(r.node_type) != "succeeded":
            seen[r.node_type] = r.status
    return out


def recent(rt: Runtime, workspace: str, *, kind: str | None = None, value: str | None = None,
           label: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None,
           limit: int = 500) -> list[dict]:
    """Index entries of `workspace` by key kind, key value, business event (label) and time, oldest first: what
    absence alerts ask ("each release to the WMS of the last day, and whether its order has a shipment")."""
    where = [ThreadEntry.workspace == workspace]
    for column, wanted in ((ThreadEntry.kind, kind), (ThreadEntry.value, value), (ThreadEntry.label, label)):
        if wanted is not None:
            where.append(column == wanted)
    if since is not None:
        where.append(ThreadEntry.at >= since)
    if until is not None:
        where.append(ThreadEntry.at < until)
    with rt.reader.connect() as conn:
        rows = conn.execute(select(ThreadEntry).where(*where).order_by(ThreadEntry.at, ThreadEntry.id)
                            .limit(max(1, min(limit, 5000)))).all()
    return [{"kind": r.kind, "value": r.value, "run_id": r.run_id, "flow_id": r.flow_id, "label": r.label,
             "at": _iso(r.at)} for r in rows]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
