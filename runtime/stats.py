"""Monitor figures of one flow over a sliding window, computed from the step rows: per node the
attempts in, out and failed with average and p95 step time; per (node, port) the messages passed.
The figures are of one version (the deployed one unless asked for another, or all of them), so a count never
mixes two graphs; `versions` says how many runs each version had in the window.

The counts mirror the live events (in = step.started, out = step.succeeded, failed = step.failed),
so the canvas can start from these figures and add live events on top.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from runtime.deployments import iso
from runtime.models import Run, Step, utcnow

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MAX_WINDOW_S = 7 * 24 * 3600
P95_SAMPLE = 20_000  # p95 is taken over the newest steps of the window, counts over all of them


def flow_stats(rt: Runtime, workspace: str, flow_id: str, window_s: float = 300,
               now: dt.datetime | None = None, version: int | None = None) -> dict:
    """The window's figures of `version` (None: of every version together)."""
    now = now or utcnow()
    window_s = min(max(window_s, 1), MAX_WINDOW_S)
    since = now - dt.timedelta(seconds=window_s)
    of_version = () if version is None else (Run.version == version,)
    in_window = (Run.workspace == workspace, Run.flow_id == flow_id, Step.started_at >= since,
                 Step.started_at <= now, *of_version)
    runs_in_window = (Run.workspace == workspace, Run.flow_id == flow_id, Run.created_at >= since,
                      Run.created_at <= now)
    with rt.sessions() as s:
        grouped = s.execute(select(Step.node_id, Step.status, Step.port, func.count(), func.sum(Step.duration_ms))
                            .join(Run, Run.id == Step.run_id).where(*in_window)
                            .group_by(Step.node_id, Step.status, Step.port)).all()
        sample = s.execute(select(Step.node_id, Step.duration_ms).join(Run, Run.id == Step.run_id)
                           .where(*in_window, Step.duration_ms.is_not(None), Step.status != "running")
                           .order_by(Step.id.desc()).limit(P95_SAMPLE)).all()
        per_version = s.execute(select(Run.version, Run.status, func.count()).where(*runs_in_window)
                                .group_by(Run.version, Run.status)).all()
    versions: dict[int, dict[str, int]] = {}
    for v, status, count in per_version:
        versions.setdefault(v, {})[status] = count
    runs: dict[str, int] = {}
    for v, counts in versions.items():
        if version is None or v == version:
            for status, count in counts.items():
                runs[status] = runs.get(status, 0) + count
    nodes: dict[str, dict] = {}
    edges: dict[tuple[str, str], int] = {}
    total_ms: dict[str, float] = {}
    for node_id, status, port, count, ms in grouped:
        n = nodes.setdefault(node_id, {"in": 0, "out": 0, "failed": 0})
        n["in"] += count
        if status == "succeeded":
            n["out"] += count
        elif status == "failed":
            n["failed"] += count
        total_ms[node_id] = total_ms.get(node_id, 0.0) + (ms or 0.0)
        # a step records the ports it emitted on (comma-joined); failures routed to `error` record that port
        for p in (port or "").split(","):
            if p:
                edges[(node_id, p)] = edges.get((node_id, p), 0) + count
    durations: dict[str, list[float]] = {}
    for node_id, ms in sample:
        durations.setdefault(node_id, []).append(ms)
    for node_id, n in nodes.items():
        finished = n["out"] + n["failed"]
        n["avg_ms"] = round(total_ms[node_id] / finished, 3) if finished else None
        n["p95_ms"] = _p95(durations.get(node_id, []))
    return {"flow_id": flow_id, "version": version, "window_s": window_s, "since": iso(since), "until": iso(now),
            "runs": runs, "nodes": nodes,
            "versions": [{"version": v, "runs": counts} for v, counts in sorted(versions.items(), reverse=True)],
            "edges": [{"source": src, "source_port": port, "messages": count}
                      for (src, port), count in sorted(edges.items())]}


def _p95(values: list[float]) -> float | None:
    """Nearest-rank 95th percentile."""
    if not values:
        return None
    values = sorted(values)
    return values[max(0, math.ceil(0.95 * len(values)) - 1)]
