"""The Runtime: one per process, wiring settings, database, queue, plan cache and live events.

run.py builds it; the web layer and the workers use it. Maintenance (expired leases, lost jobs, retention)
runs on a thread in every process that executes runs.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select

from nodes.expression import budget
from runtime import accounts, db, events as live, jobs, polls, retention, schedules
from runtime import edi_register
from runtime import business_events
from runtime import file_pickups
from runtime import waits
from runtime import aggregates
from runtime import alerts
from runtime import exceptions  # the exception workbench: retried exceptions settle
from runtime.redis_relay import RedisRelay
from runtime import replies  # which runs a sync webhook may wait for (production's relay)
from runtime.events import Publisher
from runtime.executors import LinkQueue
from runtime.models import Flow, FlowVersion, Workspace
from runtime.plan import Plan, PlanCache, PlanError, RunKeys, compile_for
from runtime.queue import JobQueue
from runtime.settings import Settings
from runtime.store.writer import Writer

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 600.0


class Runtime:
    def __init__(self, settings: Settings, events: Publisher | None = None):
        self.settings = settings
        budget.configure(budget.Budget(time_ms=settings.expression_time_ms, depth=settings.expression_depth,
                                       output_bytes=settings.expression_output_bytes, items=settings.expression_items))
        url = settings.database_url or db.default_sqlite_url(settings.data_dir)
        self.engine = db.make_engine(url, settings.database_schema)
        db.migrate(self.engine)
        self.sessions = db.sessions(self.engine)
        self.reader = db.reader(self.engine)  # reads only: no write lock on SQLite
        self.read_sessions = db.sessions(self.reader)
        self.writer = Writer(self.engine)  # group commit of the run store's writes (runtime/store)
        self.queue = JobQueue(settings.redis_url, settings.queue_name)
        self.plans = PlanCache()
        self.events = events or live.for_settings(settings)
        if hasattr(self.queue, "before_enqueue"):  # RQ: a run's queued event leaves before its job does
            self.queue.before_enqueue = getattr(self.events, "flush", lambda: None)
        if isinstance(self.events, RedisRelay):  # production: the ends of runs nobody can wait for, to browsers
            plans = self.plans  # not self: the relay holds no Runtime
            self.events.may_wait = lambda data: replies.may_wait(plans, data)
        self._stop = threading.Event()
        self._maintenance: threading.Thread | None = None
        self._warming: threading.Thread | None = None
        self._unplannable: set[tuple] = set()
        self._next_prune = 0.0
        self.ensure_workspace("default", "Default workspace")

    def ensure_workspace(self, workspace_id: str, name: str | None = None, partner_id: str = "default") -> None:
        """The workspace, made for `partner_id` if it does not exist (an existing one keeps its partner)."""
        try:
            with self.sessions.begin() as s:
                if s.get(Workspace, workspace_id) is None:
                    s.add(Workspace(id=workspace_id, name=name or workspace_id, partner_id=partner_id))
            accounts.forget()  # its partner's admins see it now
        except Exception:  # PostgreSQL: another process starting at the same time inserted it first
            with self.sessions() as s:
                if s.get(Workspace, workspace_id) is None:
                    raise

    def plan_for(self, workspace: str, flow_id: str, version: int) -> Plan:
        def build() -> Plan:
            with self.read_sessions() as s:
                row = s.get(FlowVersion, (workspace, flow_id, version))
            if row is None:
                raise PlanError(f"flow {flow_id} has no version {version}")
            # with this runtime's keys (inline secrets) and the workspace's egress policy
            return compile_for(self, row.document, workspace, flow_id, version)

        return self.plans.get((workspace, flow_id, version), build)

    def keys_for(self, workspace: str, flow_id: str, version: int, trigger_node: str | None = None) -> RunKeys:
        """A version's run keys without its plan: webhook intake stores a run with these and never
        compiles a plan (30 s for a 30,000-node flow) inside the request. A run that `trigger_node` starts gets
        no sequence key when that trigger brings arrivals to a control.wait (runtime/waits.py `unsequenced`)."""
        def settings() -> dict | None:
            with self.read_sessions() as s:
                row = s.execute(select(FlowVersion.document["settings"]).where(
                    FlowVersion.workspace == workspace, FlowVersion.flow_id == flow_id,
                    FlowVersion.version == version)).first()
            if row is None:
                raise PlanError(f"flow {flow_id} has no version {version}")
            return row[0]

        keys = self.plans.keys((workspace, flow_id, version), settings)
        if keys.sequence_key is not None and waits.unsequenced(self, workspace, flow_id, version, trigger_node):
            return RunKeys(keys.business_key, None)  # the parked run of its key must not hold back its arrival
        return keys

    def warm_plans(self) -> None:
        """Plan every deployed version this process has not planned, one after the other on a background
        thread, so that the first run of each does not wait for it (worker start, then each maintenance pass)."""
        if self._warming is not None and self._warming.is_alive():
            return

        def run() -> None:
            try:
                with self.read_sessions() as s:  # the latest deployed first: past the cache's size, those run
                    deployed = s.execute(select(Flow.workspace, Flow.id, Flow.deployed_version).join(
                        FlowVersion, (FlowVersion.workspace == Flow.workspace) & (FlowVersion.flow_id == Flow.id)
                        & (FlowVersion.version == Flow.deployed_version)).order_by(
                        FlowVersion.created_at.desc())).all()
                for key in deployed:
                    if self._stop.is_set() or self.plans.full():  # more versions than it holds: the runs decide
                        return
                    if self.plans.cached(tuple(key)) is None and tuple(key) not in self._unplannable:
                        try:
                            self.plan_for(*key)
                        except PlanError:  # its runs fail `not_runnable` with the reason; say it once
                            self._unplannable.add(tuple(key))
                            log.warning("version %s of flow %s cannot be planned", key[2], key[1], exc_info=True)
            except Exception:  # closing, or the database away: the next pass, or the first run, plans it
                log.info("planning deployed versions in advance stopped", exc_info=True)

        self._warming = threading.Thread(target=run, name="crossdock-plan-warming", daemon=True)
        self._warming.start()

    def start_workers(self) -> None:
        """Embedded mode: execute runs on threads of this process; pick up what a previous process left."""
        jobs.bind(self)
        self.queue.start_threads(self.settings.embedded_workers)
        jobs.release_expired_leases(self)
        jobs.requeue_waiting(self)
        self.warm_plans()
        self.start_maintenance()

    def start_executors(self) -> None:
        """Embedded mode with executor processes (settings.executors, runtime/executors.py): this process
        stores runs and hands their ids over, and runs the maintenance; the executors execute."""
        self.queue.stop()
        self.queue = LinkQueue(self.settings, publish=self.events.publish, listening=self.events.listening,
                               wanted=self.events.replies.wanted)
        self.events.when_heard(self.queue.hear)  # the executors send only the progress someone hears
        self.queue.start_threads()
        jobs.release_expired_leases(self)
        jobs.requeue_waiting(self)
        self.start_maintenance()

    def start_maintenance(self) -> None:
        if self._maintenance is None:
            self._maintenance = threading.Thread(target=self._maintain, name="crossdock-maintenance", daemon=True)
            self._maintenance.start()

    def _maintain(self) -> None:
        while not self._stop.wait(self.settings.maintenance_s):
            try:
                jobs.release_expired_leases(self)
                schedules.fire_due(self)
                polls.poll_due(self)  # event.poll triggers: each by one process, under a lease
                file_pickups.pick_due(self)  # event.file triggers: each folder by one process, under a lease
                jobs.requeue_lost(self)  # accepted while Redis was down, or lost with a restart of it
                edi_register.sweep_overdue(self)  # sent interchanges whose 997 is overdue become dead letters
                waits.sweep(self)  # control.wait arrivals no run took within their hold become dead letters
                exceptions.settle(self)  # the workbench's retried exceptions resolve once their retry succeeded
                alerts.maintain(self)  # alert rules due, each by one process under a lease; then their deliveries
                self.warm_plans()  # versions deployed since: planned here before their first run arrives
                if time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + PRUNE_EVERY_S
                    retention.prune(self)
                    business_events.prune(self)  # control.emit's events, as old as the runs pruned
                    aggregates.prune(self)  # transform.aggregate's groups closed as long ago as the runs pruned
            except Exception:
                log.exception("maintenance pass failed; will try again")

    def work(self, burst: bool = False) -> None:
        """Production worker process (run.py worker)."""
        jobs.bind(self)
        jobs.release_expired_leases(self)
        self.warm_plans()
        self.start_maintenance()
        try:
            self.queue.work(burst=burst, grace_s=self.settings.shutdown_grace_s, overdue=jobs.hand_back_in_flight)
        finally:  # the process ends next: enqueues the batcher holds and events the outbox keeps go out now
            self.queue.stop()
            self.events.close()

    def close(self) -> None:
        jobs.unbind(self)
        self._stop.set()
        self.queue.stop()
        self.events.close()  # ends the replies listener and the events outbox threads
        self.writer.close()
        self.engine.dispose()
