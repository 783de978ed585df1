"""The SLA report of one customer workspace for one calendar month (UTC; issue 14): the availability of the
customer's endpoints as the runtime saw it, runs and failures, how fast exceptions were resolved, and the business
KPIs (runtime/kpis.py). Figures only; runtime/sla_documents.py writes them as CSV and PDF.

What "availability" means here (DEFINITIONS says it in the report too): the runtime records every connector call as
a step row, so an endpoint's availability is the share of the month's connector attempts to it (retries count one
each) that did not fail because the endpoint could not be reached or did not answer properly: a timeout, a
connection error or a 5xx. Every other answer, a 4xx or a business rejection included, shows the endpoint up. An
endpoint is the workspace connection a system connector names (`connection`), else the host an HTTP request goes
to. The intake's own availability is the share of the month's webhook runs (stored before the 202) that the
platform carried to an end without a fault of its own (`poison`: its workers kept dying on it; `node_crashed`: a
bug). Requests the intake refused on purpose (401, 429) and calls that never reached the server are not stored, so
they are not counted. Runs, steps and resolved dead letters are pruned by retention (CROSSDOCK_RETENTION_DAYS):
a month further back than that reports what is left."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import and_, func, or_, select

from runtime import exceptions, kpis, partners
from runtime.models import DeadLetter, Flow, FlowVersion, Run, Step, Workspace, utcnow

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MONTH = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})\Z")
FIRST_YEAR, LAST_YEAR = 2000, 2100
DOWN_KINDS = ("timeout", "connection", "5xx")  # exceptions.KIND_OF_CODE classes that mean "not reachable"
PLATFORM_FAULTS = ("poison", "node_crashed")
MAX_FLOWS = 500  # flows listed per report; the totals count every run
DEFINITIONS = {
    "availability": "share of the month's connector attempts to the endpoint (each retry counts) that did not fail "
                    "with a timeout, a connection error or a 5xx answer; any other answer shows the endpoint up",
    "intake": "share of the month's webhook runs (stored before the webhook was answered 202) that the platform "
              "carried to an end without a fault of its own (poison, node_crashed); refused requests (401, 429) "
              "are not stored and not counted",
    "time_to_resolve": "from a dead letter's arrival to its resolution (by an operator, or by its retry), over the "
                       "dead letters resolved in the month; p95 is the nearest rank",
    "kpis": "over the orders placed in the month (runtime/kpis.py)",
}


class InvalidMonth(ValueError):
    pass


def month_range(text: Any) -> tuple[dt.datetime, dt.datetime]:
    """`YYYY-MM` as [first instant, first instant of the next month) in naive UTC."""
    m = MONTH.match(text) if isinstance(text, str) else None
    if m is None or not 1 <= int(m["month"]) <= 12 or not FIRST_YEAR <= int(m["year"]) <= LAST_YEAR:
        raise InvalidMonth(f"month is YYYY-MM, a month of the years {FIRST_YEAR}-{LAST_YEAR}")
    start = dt.datetime(int(m["year"]), int(m["month"]), 1)
    end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end


def report(rt: Runtime, workspace: str, month: str) -> dict:
    start, end = month_range(month)
    with rt.reader.connect() as conn:
        ws = conn.execute(select(Workspace.name, Workspace.partner_id).where(Workspace.id == workspace)).first()
        runs = _runs(conn, workspace, start, end)
        endpoints = _endpoints(conn, workspace, start, end)
        letters = _exceptions(conn, workspace, start, end)
    partner = partners.get(rt, ws.partner_id) if ws else None
    brand = partners.branding_for(rt, ws.partner_id if ws else None)
    calls = sum(e["calls"] for e in endpoints)
    return {"workspace": workspace, "workspace_name": ws.name if ws else workspace, "month": month,
            "from": start.isoformat() + "Z", "to": end.isoformat() + "Z", "generated_at": utcnow().isoformat() + "Z",
            "brand": brand["product_name"], "partner": partner.name if partner else None,
            "definitions": DEFINITIONS,
            "availability": {"endpoints": endpoints, "calls": calls,
                             "overall": _ratio(calls - sum(e["unavailable"] for e in endpoints), calls),
                             "intake": runs.pop("intake")},
            "runs": runs, "exceptions": letters,
            "kpis": kpis.summary(rt, workspace, start.date(), (end - dt.timedelta(days=1)).date())}


def _runs(conn, workspace: str, start: dt.datetime, end: dt.datetime) -> dict:
    in_month = and_(Run.workspace == workspace, Run.created_at >= start, Run.created_at < end)
    per_flow: dict[str, dict] = defaultdict(lambda: {"total": 0, "succeeded": 0, "failed": 0})
    for flow_id, status, count in conn.execute(select(Run.flow_id, Run.status, func.count())
                                               .where(in_month).group_by(Run.flow_id, Run.status)):
        row = per_flow[flow_id]
        row["total"] += count
        if status in ("succeeded", "failed"):
            row[status] += count
    names = dict(conn.execute(select(Flow.id, Flow.name).where(Flow.workspace == workspace,
                                                               Flow.id.in_(list(per_flow)[:MAX_FLOWS]))).all())
    webhook = and_(in_month, Run.trigger == "webhook")
    accepted = conn.execute(select(func.count()).select_from(Run).where(webhook)).scalar_one()
    faults = sum(1 for (error,) in conn.execute(select(Run.error).where(webhook, Run.status == "failed"))
                 .yield_per(1000) if (error or {}).get("code") in PLATFORM_FAULTS)
    total = sum(r["total"] for r in per_flow.values())
    succeeded = sum(r["succeeded"] for r in per_flow.values())
    failed = sum(r["failed"] for r in per_flow.values())
    flows = sorted(({"flow_id": f, "name": names.get(f, f), **r, "success_rate": _ratio(r["succeeded"],
                                                                                        r["succeeded"] + r["failed"])}
                    for f, r in per_flow.items()), key=lambda r: (-r["total"], r["flow_id"]))[:MAX_FLOWS]
    return {"total": total, "succeeded": succeeded, "failed": failed, "unfinished": total - succeeded - failed,
            "success_rate": _ratio(succeeded, succeeded + failed), "by_flow": flows,
            "intake": {"webhook_runs": accepted, "platform_faults": faults,
                       "availability": _ratio(accepted - faults, accepted)}}


def _endpoints(conn, workspace: str, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Connector attempts of the month per endpoint, and those the endpoint was down for."""
    where = and_(Run.workspace == workspace, Step.started_at >= start, Step.started_at < end,
                 Step.node_type.like("connector.%"))
    joined = Step.__table__.join(Run.__table__, Step.run_id == Run.id)
    counts = conn.execute(select(Run.flow_id, Run.version, Step.node_id, Step.node_type, func.count())
                          .select_from(joined).where(where)
                          .group_by(Run.flow_id, Run.version, Step.node_id, Step.node_type)).all()
    names = _endpoint_names(conn, workspace, {(f, v) for f, v, *_ in counts})
    found: dict[tuple[str, str], dict] = {}

    def endpoint(flow_id, version, node_id, node_type) -> dict:
        system = node_type.split(".", 1)[1]
        name = names.get((flow_id, version, node_id)) or f"{flow_id}/{node_id}"
        return found.setdefault((system, name), {"endpoint": name, "system": system, "calls": 0, "unavailable": 0,
                                                 "by_cause": {k: 0 for k in DOWN_KINDS}})

    for flow_id, version, node_id, node_type, count in counts:
        endpoint(flow_id, version, node_id, node_type)["calls"] += count
    failed = select(Run.flow_id, Run.version, Step.node_id, Step.node_type, Step.error).select_from(joined).where(
        where, Step.status == "failed")
    for flow_id, version, node_id, node_type, error in conn.execute(failed).yield_per(1000):
        kind = exceptions.KIND_OF_CODE.get((error or {}).get("code"))
        if kind in DOWN_KINDS:
            e = endpoint(flow_id, version, node_id, node_type)
            e["unavailable"] += 1
            e["by_cause"][kind] += 1
    for e in found.values():
        e["availability"] = _ratio(e["calls"] - e["unavailable"], e["calls"])
    return sorted(found.values(), key=lambda e: (e["system"], e["endpoint"]))


def _endpoint_names(conn, workspace: str, versions: set[tuple[str, int]]) -> dict[tuple[str, int, str], str]:
    """(flow, version, node) -> the endpoint its connector reaches, from the deployed documents."""
    names = {}
    for flow_id, version in versions:
        doc = conn.execute(select(FlowVersion.document).where(
            FlowVersion.workspace == workspace, FlowVersion.flow_id == flow_id,
            FlowVersion.version == version)).scalar()
        for node in (doc or {}).get("nodes") or ():
            config = node.get("config") or {}
            if config.get("connection"):
                names[(flow_id, version, node.get("id"))] = str(config["connection"])
            elif isinstance(config.get("url"), str):
                names[(flow_id, version, node.get("id"))] = _host(config["url"])
    return names


def _host(url: str) -> str:
    try:
        host = urlsplit(url).netloc
    except ValueError:
        host = ""
    return host if host and "{{" not in host else "a templated URL"


def _exceptions(conn, workspace: str, start: dt.datetime, end: dt.datetime) -> dict:
    state = exceptions.ExceptionState
    outer = DeadLetter.__table__.outerjoin(state.__table__, state.dead_letter_id == DeadLetter.id)
    by_class: dict[str, int] = defaultdict(int)
    for code, error_class, kind, count in conn.execute(
            select(DeadLetter.code, DeadLetter.error_class, state.kind, func.count()).select_from(outer)
            .where(DeadLetter.workspace == workspace, DeadLetter.created_at >= start, DeadLetter.created_at < end)
            .group_by(DeadLetter.code, DeadLetter.error_class, state.kind)):
        by_class[kind or exceptions.kind_of(code, error_class, "")] += count
    waits, by_resolution = [], defaultdict(int)
    for created, resolved, resolution in conn.execute(
            select(DeadLetter.created_at, DeadLetter.resolved_at, state.resolution).select_from(outer)
            .where(DeadLetter.workspace == workspace, DeadLetter.resolved_at >= start,
                   DeadLetter.resolved_at < end)).yield_per(1000):
        waits.append(max(0.0, (resolved - created).total_seconds()))
        by_resolution[resolution or "manual"] += 1
    open_at_end = conn.execute(select(func.count()).select_from(DeadLetter).where(
        DeadLetter.workspace == workspace, DeadLetter.created_at < end,
        or_(DeadLetter.resolved_at.is_(None), DeadLetter.resolved_at >= end))).scalar_one()
    waits.sort()
    return {"opened": sum(by_class.values()), "by_class": dict(sorted(by_class.items())), "resolved": len(waits),
            "by_resolution": dict(sorted(by_resolution.items())), "open_at_end": open_at_end,
            "resolve_median_s": _median(waits), "resolve_p95_s": _rank(waits, 0.95)}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    return round(values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2, 3)


def _rank(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted `values`."""
    return round(values[max(0, math.ceil(q * len(values)) - 1)], 3) if values else None


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 6) if whole else None
