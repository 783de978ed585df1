"""The operations dashboard (issue 14): per workspace over a window, runs per minute (or hour) and success rate,
p50/p95 latency per flow (run time) and per node (step time), queue depth and oldest age, open exceptions by class
and age, and the business KPIs; per partner, its customers ranked by health; per flow, its health for the flow list.

Everything is read from the run store, so every process (web, workers, embedded or RQ on Redis) says the same:
a queue's depth is the workspace's runs waiting `queued` on it, not the jobs of a queue shared by every tenant.
Percentiles are taken over the newest rows of the window (SAMPLE), counts over all of them."""
from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from sqlalchemy import case, func, select

from runtime import exceptions, kpis
from runtime.deployments import iso
from runtime.models import DeadLetter, Flow, Run, Step, Workspace, utcnow
from runtime.states import RunStatus

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MIN_WINDOW_S, MAX_WINDOW_S, DEFAULT_WINDOW_S = 60, 30 * 24 * 3600, 3600
MINUTE_BUCKETS_UP_TO_S = 6 * 3600  # windows up to 6 h in minutes, longer ones in hours
SAMPLE = 20_000
MAX_BUCKETED = 200_000  # runs drawn into the buckets (the newest); the totals count every run
MAX_FLOWS = 500
MAX_CUSTOMERS = 1000
FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.FAILED.value)
AGES = (("lt_1h", 3600), ("1h_24h", 24 * 3600), ("gt_24h", None))


def workspace_dashboard(rt: Runtime, workspace: str, window_s: int = DEFAULT_WINDOW_S, flow_id: str | None = None,
                        now: dt.datetime | None = None) -> dict:
    """The workspace's figures over the last `window_s` seconds (of one flow, when given)."""
    now = now or utcnow()
    since = now - dt.timedelta(seconds=window_s)
    bucket_s = 60 if window_s <= MINUTE_BUCKETS_UP_TO_S else 3600
    finished = [Run.workspace == workspace, Run.dry_run.is_(False), Run.status.in_(FINISHED),
                Run.finished_at >= since, Run.finished_at <= now]
    if flow_id is not None:
        finished.append(Run.flow_id == flow_id)
    with rt.read_sessions() as s:
        times = s.execute(select(Run.finished_at, Run.status).where(*finished)
                          .order_by(Run.finished_at.desc()).limit(MAX_BUCKETED)).all()
        per_flow = s.execute(select(Run.flow_id, func.count(), func.sum(case((Run.status == "failed", 1), else_=0)))
                             .where(*finished).group_by(Run.flow_id)).all()
        durations = s.execute(select(Run.flow_id, Run.started_at, Run.created_at, Run.finished_at).where(*finished)
                              .order_by(Run.id.desc()).limit(SAMPLE)).all()
        step_where = [Run.workspace == workspace, Step.started_at >= since, Step.started_at <= now,
                      Run.dry_run.is_(False)]
        if flow_id is not None:
            step_where.append(Run.flow_id == flow_id)
        step_counts = s.execute(select(Run.flow_id, Step.node_id, func.count()).join(Run, Run.id == Step.run_id)
                                .where(*step_where).group_by(Run.flow_id, Step.node_id)).all()
        step_times = s.execute(select(Run.flow_id, Step.node_id, Step.duration_ms).join(Run, Run.id == Step.run_id)
                               .where(*step_where, Step.duration_ms.is_not(None), Step.status != "running")
                               .order_by(Step.id.desc()).limit(SAMPLE)).all()
        flows_q = select(Flow.id, Flow.name, Flow.deployed_version, Flow.document).where(Flow.workspace == workspace)
        if flow_id is not None:
            flows_q = flows_q.where(Flow.id == flow_id)
        flows = s.execute(flows_q.order_by(Flow.id).limit(MAX_FLOWS)).all()
    total, failed = sum(n for _, n, _ in per_flow), sum(bad or 0 for _, _, bad in per_flow)  # counted in SQL
    totals = {"total": total, "succeeded": total - failed, "failed": failed,
              "success_rate": _rate(total - failed, total), "per_minute": _buckets(times, since, now, bucket_s)}
    return {"window_s": window_s, "generated_at": iso(now), "runs": totals, "bucket_s": bucket_s,
            "flows": _flows(flows, per_flow, durations, step_counts, step_times),
            "queues": queues(rt, workspace, now),
            "exceptions": open_exceptions(rt, workspace, now),
            "kpis": kpis.summary(rt, workspace, since.date(), now.date())}


def _buckets(times, since: dt.datetime, now: dt.datetime, bucket_s: int) -> list[dict]:
    epoch = dt.datetime(1970, 1, 1)
    first = int((since - epoch).total_seconds()) // bucket_s
    last = int((now - epoch).total_seconds()) // bucket_s
    counts = {b: [0, 0] for b in range(first, last + 1)}
    for finished_at, status in times:
        b = int((finished_at - epoch).total_seconds()) // bucket_s
        if b in counts:
            counts[b][0 if status == RunStatus.SUCCEEDED.value else 1] += 1
    return [{"t": iso(epoch + dt.timedelta(seconds=b * bucket_s)), "succeeded": ok, "failed": bad}
            for b, (ok, bad) in sorted(counts.items())]


def _flows(flows, per_flow, durations, step_counts, step_times) -> list[dict]:
    counted = {f: (n, bad or 0) for f, n, bad in per_flow}
    run_ms: dict[str, list[float]] = {}
    for f, started, created, finished in durations:
        run_ms.setdefault(f, []).append(max(0.0, (finished - (started or created)).total_seconds() * 1000))
    node_count: dict[str, dict[str, int]] = {}
    for f, node, n in step_counts:
        node_count.setdefault(f, {})[node] = n
    node_ms: dict[tuple[str, str], list[float]] = {}
    for f, node, ms in step_times:
        node_ms.setdefault((f, node), []).append(ms)
    out = []
    for f in flows:
        n, bad = counted.get(f.id, (0, 0))
        names = {node.get("id"): node.get("name") or node.get("id")
                 for node in (f.document or {}).get("nodes", []) if isinstance(node, dict)}
        nodes = [{"node_id": node, "name": names.get(node, node), "count": count,
                  "p50_ms": percentile(node_ms.get((f.id, node), []), 50),
                  "p95_ms": percentile(node_ms.get((f.id, node), []), 95)}
                 for node, count in sorted(node_count.get(f.id, {}).items())]
        out.append({"flow_id": f.id, "name": f.name, "version": f.deployed_version, "runs": n, "failed": bad,
                    "success_rate": _rate(n - bad, n), "p50_ms": percentile(run_ms.get(f.id, []), 50),
                    "p95_ms": percentile(run_ms.get(f.id, []), 95), "nodes": nodes})
    return out


def queues(rt: Runtime, workspace: str, now: dt.datetime | None = None) -> list[dict]:
    """The workspace's runs waiting on the run queue: ready ones (`<queue>`) and those waiting for a retry's or a
    sequence's due time (`<queue>:delayed`), each with its oldest run's age."""
    now = now or utcnow()
    name = rt.settings.queue_name
    delayed = Run.not_before.is_not(None) & (Run.not_before > now)
    flag = case((delayed, 1), else_=0)
    with rt.read_sessions() as s:
        rows = s.execute(select(flag, func.count(), func.min(Run.created_at))
                         .where(Run.workspace == workspace, Run.status == RunStatus.QUEUED.value)
                         .group_by(flag)).all()
    found = {bool(d): (n, oldest) for d, n, oldest in rows}
    return [{"queue": name if not d else f"{name}:delayed", "depth": found.get(d, (0, None))[0],
             "oldest_age_s": _age(found.get(d, (0, None))[1], now)} for d in (False, True)]


def open_exceptions(rt: Runtime, workspace: str, now: dt.datetime | None = None) -> dict:
    """Open exceptions (the workbench's, runtime/exceptions.py) by class and by age."""
    now = now or utcnow()
    exceptions.index(rt, workspace, max_batches=2)  # a dead letter the workbench has not seen yet gets its class
    with rt.read_sessions() as s:
        by_class = s.execute(select(exceptions.ExceptionState.kind, func.count())
                             .join(DeadLetter, DeadLetter.id == exceptions.ExceptionState.dead_letter_id)
                             .where(DeadLetter.workspace == workspace, DeadLetter.status == "open")
                             .group_by(exceptions.ExceptionState.kind)).all()
        hour, day = now - dt.timedelta(hours=1), now - dt.timedelta(hours=24)
        ages = s.execute(select(func.sum(case((DeadLetter.created_at >= hour, 1), else_=0)),
                                func.sum(case(((DeadLetter.created_at < hour) & (DeadLetter.created_at >= day), 1),
                                              else_=0)),
                                func.sum(case((DeadLetter.created_at < day, 1), else_=0)), func.count())
                         .where(DeadLetter.workspace == workspace, DeadLetter.status == "open")).one()
    return {"open": ages[3] or 0, "by_class": {kind: n for kind, n in sorted(by_class)},
            "by_age": {name: int(ages[i] or 0) for i, (name, _) in enumerate(AGES)}}


def partner_dashboard(rt: Runtime, partner_id: str, window_s: int = DEFAULT_WINDOW_S,
                      now: dt.datetime | None = None) -> dict:
    """The partner's customer workspaces ranked by health, worst first. Health (0-100): the success rate of the
    window's runs (100 without runs), less 2 points per open exception (at most 40) and 10 when the oldest
    open exception is over a day old."""
    now = now or utcnow()
    since = now - dt.timedelta(seconds=window_s)
    with rt.read_sessions() as s:
        spaces = s.execute(select(Workspace.id, Workspace.name).where(Workspace.partner_id == partner_id)
                           .order_by(Workspace.id).limit(MAX_CUSTOMERS)).all()
        ids = [w.id for w in spaces]
        runs = {w: (n, bad or 0) for w, n, bad in s.execute(
            select(Run.workspace, func.count(), func.sum(case((Run.status == "failed", 1), else_=0)))
            .where(Run.workspace.in_(ids), Run.dry_run.is_(False), Run.status.in_(FINISHED),
                   Run.finished_at >= since, Run.finished_at <= now).group_by(Run.workspace))} if ids else {}
        letters = {w: (n, oldest) for w, n, oldest in s.execute(
            select(DeadLetter.workspace, func.count(), func.min(DeadLetter.created_at))
            .where(DeadLetter.workspace.in_(ids), DeadLetter.status == "open").group_by(DeadLetter.workspace))} \
            if ids else {}
    customers = []
    for w in spaces:
        n, bad = runs.get(w.id, (0, 0))
        open_n, oldest = letters.get(w.id, (0, None))
        age = _age(oldest, now)
        rate = _rate(n - bad, n)
        health = 100 * (1.0 if rate is None else rate) - min(40, 2 * open_n) - (10 if age and age > 86400 else 0)
        customers.append({"workspace": w.id, "name": w.name, "health": max(0, min(100, round(health))), "runs": n,
                          "failed": bad, "success_rate": rate, "open_exceptions": open_n,
                          "oldest_exception_age_s": age})
    customers.sort(key=lambda c: (c["health"], -c["open_exceptions"], c["workspace"]))
    return {"window_s": window_s, "customers": customers}


def flow_health(rt: Runtime, workspace: str, now: dt.datetime | None = None) -> dict:
    """Each flow's last run, failures in the last 24 h and status: `failing` when its last run failed, or it
    failed in the last 24 h and has open exceptions; `idle` without runs; else `ok`."""
    now = now or utcnow()
    day = now - dt.timedelta(hours=24)
    with rt.read_sessions() as s:
        flows = s.scalars(select(Flow.id).where(Flow.workspace == workspace).order_by(Flow.id).limit(MAX_FLOWS)).all()
        last_ids = select(func.max(Run.id)).where(Run.workspace == workspace, Run.dry_run.is_(False)) \
            .group_by(Run.flow_id)
        last = {r.flow_id: r for r in s.execute(select(Run.flow_id, Run.status, Run.created_at, Run.finished_at)
                                                .where(Run.id.in_(last_ids)))}
        failed = dict(s.execute(select(Run.flow_id, func.count()).where(
            Run.workspace == workspace, Run.dry_run.is_(False), Run.status == RunStatus.FAILED.value,
            Run.finished_at >= day).group_by(Run.flow_id)).all())
        open_letters = dict(s.execute(select(DeadLetter.flow_id, func.count()).where(
            DeadLetter.workspace == workspace, DeadLetter.status == "open").group_by(DeadLetter.flow_id)).all())
    out = []
    for f in flows:
        run = last.get(f)
        n = failed.get(f, 0)
        if run is None:
            status = "idle"
        elif run.status == RunStatus.FAILED.value or (n > 0 and open_letters.get(f, 0) > 0):
            status = "failing"
        else:
            status = "ok"
        out.append({"flow_id": f, "last_run_at": iso(run.created_at) if run else None,
                    "last_status": run.status if run else None, "failed_24h": n, "status": status})
    return {"flows": out}


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    values = sorted(values)
    return round(values[max(0, math.ceil(p / 100 * len(values)) - 1)], 3)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _age(oldest: dt.datetime | None, now: dt.datetime) -> float | None:
    return round(max(0.0, (now - oldest).total_seconds()), 3) if oldest else None
