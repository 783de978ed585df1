"""What each kind of alert rule finds wrong (runtime/alerts.py evaluates them): a function per kind taking the
workspace, the rule's checked params and the runtime's clock time, giving the keys found, each with its evidence,
and a function that says which of the open alerts' keys not found again have cleared."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from runtime.models import DeadLetter, Run
from runtime.states import RunStatus
from runtime.thread_models import ThreadEntry

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_SCAN = 5000  # rows one evaluation reads at most


def _absence(rt: Runtime, workspace: str, p: dict, now: dt.datetime):
    window = dt.timedelta(seconds=p["window_s"])

    def expected(kind: str | None = None, values=None, since=None):
        where = [ThreadEntry.workspace == workspace,
                 (ThreadEntry.label == p["expect_label"]) if "expect_label" in p
                 else (ThreadEntry.flow_id == p["expect_flow"])]
        if kind is not None:
            where += [ThreadEntry.kind == kind, ThreadEntry.value.in_(values)]
        if since is not None:
            where.append(ThreadEntry.at >= since)
        return where

    if "key_kind" not in p:  # "an inventory snapshot every night": the event at least once per window
        with rt.reader.connect() as conn:
            seen = conn.execute(select(ThreadEntry.id).where(*expected(since=now - window)).limit(1)).first()
            if seen is None and "expect_flow" in p:  # a flow without thread keys: its succeeded runs
                seen = conn.execute(select(Run.id).where(
                    Run.workspace == workspace, Run.flow_id == p["expect_flow"],
                    Run.status == RunStatus.SUCCEEDED.value, Run.finished_at >= now - window).limit(1)).first()
        found = {} if seen else {"every": {"expected": p.get("expect_label") or p.get("expect_flow"),
                                           "window_s": p["window_s"]}}
        return found, lambda keys: keys

    kind = p["key_kind"]
    after = (ThreadEntry.label == p["after_label"]) if "after_label" in p else (ThreadEntry.flow_id == p["after_flow"])
    with rt.reader.connect() as conn:
        started = conn.execute(select(ThreadEntry.value, ThreadEntry.at, ThreadEntry.run_id).where(
            ThreadEntry.workspace == workspace, after, ThreadEntry.kind == kind,
            ThreadEntry.at >= now - dt.timedelta(seconds=p["lookback_s"]), ThreadEntry.at < now - window)
            .order_by(ThreadEntry.at, ThreadEntry.id).limit(MAX_SCAN)).all()
        first: dict[str, Any] = {}
        for r in started:
            first.setdefault(r.value, r)
        done = _having(conn, expected, kind, list(first))
    found = {value: {"kind": kind, "value": value, "since": _iso(r.at), "run_id": r.run_id,
                     "window_s": p["window_s"], "expected": p.get("expect_label") or p.get("expect_flow")}
             for value, r in first.items() if value not in done}

    def cleared(keys: list[str]) -> list[str]:  # an open alert resolves when its event arrives, however late
        with rt.reader.connect() as conn:
            return sorted(_having(conn, expected, kind, keys))
    return found, cleared


def _having(conn, expected, kind: str, values: list[str]) -> set[str]:
    """Which of `values` (of key kind `kind`) have the expected event."""
    out: set[str] = set()
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        out |= set(conn.execute(select(ThreadEntry.value).where(*expected(kind, chunk))).scalars())
    return out


def _failures(rt: Runtime, workspace: str, p: dict, now: dt.datetime):
    where = [DeadLetter.workspace == workspace, DeadLetter.created_at >= now - dt.timedelta(seconds=p["window_s"])]
    for column, name in ((DeadLetter.error_class, "error_class"), (DeadLetter.code, "code"),
                         (DeadLetter.flow_id, "flow_id")):
        if name in p:
            where.append(column == p[name])
    with rt.reader.connect() as conn:
        rows = conn.execute(select(DeadLetter.error_class, func.count(), func.max(DeadLetter.id))
                            .where(*where).group_by(DeadLetter.error_class)).all()
    found = {cls: {"error_class": cls, "count": n, "window_s": p["window_s"], "last_dead_letter": last}
             for cls, n, last in rows if n >= p["count"]}
    return found, lambda keys: keys


def _latency(rt: Runtime, workspace: str, p: dict, now: dt.datetime):
    where = [Run.workspace == workspace, Run.finished_at.is_not(None),
             Run.finished_at >= now - dt.timedelta(seconds=p["window_s"])]
    if "flow_id" in p:
        where.append(Run.flow_id == p["flow_id"])
    with rt.reader.connect() as conn:
        rows = conn.execute(select(Run.id, Run.flow_id, Run.created_at, Run.finished_at).where(*where)
                            .order_by(Run.finished_at.desc()).limit(MAX_SCAN)).all()
    slow: dict[str, list] = {}
    for r in rows:
        took = (r.finished_at - r.created_at).total_seconds()
        if took > p["threshold_s"]:
            slow.setdefault(r.flow_id, []).append((took, r.id))
    found = {flow: {"flow_id": flow, "slow_runs": len(runs), "slowest_s": round(max(runs)[0], 3),
                    "slowest_run": max(runs)[1], "threshold_s": p["threshold_s"]}
             for flow, runs in slow.items() if len(runs) >= p["count"]}
    return found, lambda keys: keys


def _queue_age(rt: Runtime, workspace: str, p: dict, now: dt.datetime):
    """The oldest run waiting queued that may run now (a parked or backing-off run waits on purpose)."""
    with rt.reader.connect() as conn:
        rows = conn.execute(select(Run.id, Run.created_at, Run.not_before).where(
            Run.workspace == workspace, Run.status == RunStatus.QUEUED.value,
            (Run.not_before.is_(None)) | (Run.not_before <= now)).order_by(Run.created_at).limit(MAX_SCAN)).all()
    ages = [((now - max(r.created_at, r.not_before or r.created_at)).total_seconds(), r.id) for r in rows]
    oldest = max(ages, default=None)
    found = {"queue": {"oldest_run": oldest[1], "age_s": round(oldest[0], 3), "waiting": len(rows),
                       "threshold_s": p["threshold_s"]}} if oldest and oldest[0] > p["threshold_s"] else {}
    return found, lambda keys: keys


FINDERS = {"absence": _absence, "failures": _failures, "latency": _latency, "queue_age": _queue_age}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds") + "Z" if value else None
