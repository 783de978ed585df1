"""Prometheus metrics: runs accepted and finished, steps by status, execution time, dead letters (counted by the
process that does the work), and the queue's depth and oldest age (read from the run store when scraped).

Several processes (gunicorn's web workers, `run.py worker`s, executor processes) count into one registry through
prometheus-client's multiprocess mode: each process writes its values to files in PROMETHEUS_MULTIPROC_DIR, which
run.py sets before anything imports prometheus_client, and a scrape adds them up. Without that directory (tests
that build a Runtime in their own process) the counters live in the process. Only counters and histograms are
kept per process, so a process that exits leaves its counts standing, as a counter must.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from runtime.models import Run, utcnow
from runtime.states import RunStatus

if TYPE_CHECKING:
    from runtime.wiring import Runtime

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

ACCEPTED = Counter("crossdock_runs_accepted", "Runs stored and queued, by trigger (webhook, schedule, poll, ...)",
                   ["workspace", "flow", "trigger"])
FINISHED = Counter("crossdock_runs_finished", "Runs that ended, by status", ["workspace", "flow", "status"])
STEPS = Counter("crossdock_steps", "Node attempts, by status (succeeded, failed, waiting)",
                ["workspace", "flow", "node", "status"])
DEAD_LETTERS = Counter("crossdock_dead_letters", "Messages that became dead letters, by error class",
                       ["workspace", "flow", "error_class"])
EXECUTION = Histogram("crossdock_run_execution_seconds", "Time the steps of one execution of a run took",
                      ["workspace", "flow"], buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5,
                                                      10, 30, 60, 300))


_children: dict[tuple, Any] = {}  # (metric, *labels) -> its child: labels() validates and locks on every call


def _child(metric, *labels: str):
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def accepted(workspace: str, flow_id: str, trigger: str, count: int = 1) -> None:
    _child(ACCEPTED, workspace, flow_id, trigger).inc(count)


def executed(workspace: str, flow_id: str, status: str | None, steps: Iterable[dict],
             dead_letters: Iterable[dict]) -> None:
    """One execution of a run: its steps, its dead letters, their time, and its end (`status` None: it waits for a
    retry or a wake and ends in a later execution)."""
    seconds = 0.0
    for step in steps:
        _child(STEPS, workspace, flow_id, step["node_id"], step["status"]).inc()
        seconds += step.get("duration_ms", 0.0) / 1000
    for letter in dead_letters:
        _child(DEAD_LETTERS, workspace, flow_id, letter.get("error_class") or "technical").inc()
    _child(EXECUTION, workspace, flow_id).observe(seconds)
    if status is not None:
        _child(FINISHED, workspace, flow_id, status).inc()


def exposition(rt: Runtime) -> bytes:
    """The text a scrape gets: every process's counters, and the queue as the run store has it now."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessCounters())
    registry.register(_Queue(rt))
    return generate_latest(registry)


class _ProcessCounters:
    """This process's own counters (no multiprocess directory), without the default process/platform ones."""

    def collect(self):
        for metric in (ACCEPTED, FINISHED, STEPS, DEAD_LETTERS, EXECUTION):
            yield from metric.collect()


class _Queue:
    """Runs waiting `queued` per workspace (retries and parked runs included) and the age of the oldest, read from
    the run store at scrape time, so every process's scrape says the same."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    def collect(self):
        depth = GaugeMetricFamily("crossdock_queue_depth", "Runs waiting queued", labels=["workspace"])
        age = GaugeMetricFamily("crossdock_queue_oldest_age_seconds", "Age of the oldest queued run",
                                labels=["workspace"])
        now = utcnow()
        with self.rt.read_sessions() as s:
            rows = s.execute(select(Run.workspace, func.count(), func.min(Run.created_at)).where(
                Run.status == RunStatus.QUEUED.value).group_by(Run.workspace)).all()
        for workspace, count, oldest in rows:
            depth.add_metric([workspace], count)
            age.add_metric([workspace], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        yield depth
        yield age

