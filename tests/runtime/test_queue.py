"""The job queue: jobs run on worker threads of this process, delayed jobs wait for their time, and two
queues in one process never see each other's jobs; in memory (embedded) and with RQ on a real Redis. A `run.py worker`
process told to stop (SIGTERM) finishes the step in flight and hands the rest of its run back."""
from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runtime import jobs
from runtime.queue import JobQueue, current_queue_name
from support import processes, services, wait_for
from support.flowdocs import http_sink, order


class Recorder:
    """Stands in for the Runtime a queue is bound to; jobs.run_claimed is patched to call it."""

    def __init__(self, queue: JobQueue, fail_on=()):
        self.queue, self.fail_on, self.done, self.threads = queue, set(fail_on), [], set()

    def execute(self, run_id):
        self.threads.add(threading.current_thread())
        self.done.append((run_id, current_queue_name(), threading.current_thread().name))
        if run_id in self.fail_on:
            raise RuntimeError(f"job {run_id} is broken")
        return "succeeded"

    def ids(self):
        return [run_id for run_id, _, _ in self.done]


@pytest.fixture
def make_queue(backend, request, monkeypatch):
    """JobQueues bound to Recorders, worker threads started on demand, all stopped at the end."""
    made = []
    if backend == "services":
        services.count(request)
        redis_url = request.getfixturevalue("redis_db")
    monkeypatch.setattr(jobs, "run_claimed", lambda rt, run_id: rt.execute(run_id))
    monkeypatch.setattr(jobs, "run_batch", _recorded_batch)  # the embedded queue's job: several ids at once

    def make(fail_on=()):
        queue = JobQueue(redis_url, services.queue_name()) if backend == "services" else JobQueue()
        recorder = Recorder(queue, fail_on)
        jobs.bind(recorder)
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        jobs.unbind(recorder)
        recorder.queue.stop()


def _recorded_batch(rt, run_ids):
    """runtime.jobs.run_batch's contract for a Recorder: each run in order, one that raises fails alone."""
    results = []
    for run_id in run_ids:
        try:
            results.append(rt.execute(run_id))
        except Exception:
            results.append("error")
    return results


def test_enqueued_jobs_run_on_worker_threads(make_queue):
    rec = make_queue()
    rec.queue.enqueue_run(1)
    rec.queue.enqueue_runs([2, 3])
    assert rec.queue.pending() == 3
    rec.queue.start_threads(2)
    wait_for(lambda: len(rec.done) == 3)
    assert sorted(rec.ids()) == [1, 2, 3]
    assert {q for _, q, _ in rec.done} == {rec.queue.name}
    assert all(t.startswith("crossdock-worker-") for _, _, t in rec.done)
    assert rec.queue.pending() == 0


def test_a_delayed_job_runs_after_one_enqueued_later_without_delay(make_queue):
    rec = make_queue()
    rec.queue.enqueue_run(1, delay_s=1.5)  # RQ keeps due times in whole seconds: still >= 0.5 s away
    assert rec.queue.pending() == 0  # it waits in the scheduled registry, not in the queue
    rec.queue.start_threads(1)
    rec.queue.enqueue_run(2)
    wait_for(lambda: len(rec.done) == 2)
    assert rec.ids() == [2, 1]


def test_a_broken_job_does_not_stop_the_workers(make_queue):
    rec = make_queue(fail_on={1})
    rec.queue.start_threads(1)
    rec.queue.enqueue_run(1)
    wait_for(lambda: rec.ids() == [1])
    rec.queue.enqueue_run(2)
    wait_for(lambda: rec.ids() == [1, 2])


def test_two_queues_in_one_process_never_mix_jobs(make_queue):
    a, b = make_queue(), make_queue()
    assert a.queue.name != b.queue.name
    a.queue.enqueue_runs([1, 2])
    b.queue.enqueue_runs([3])
    a.queue.start_threads(1)
    b.queue.start_threads(1)
    wait_for(lambda: len(a.done) == 2 and len(b.done) == 1)
    assert sorted(a.ids()) == [1, 2] and b.ids() == [3]
    assert {q for _, q, _ in a.done} == {a.queue.name} and {q for _, q, _ in b.done} == {b.queue.name}


def test_embedded_queues_get_names_of_their_own():
    a, b = JobQueue(name="crossdock"), JobQueue(name="crossdock")
    assert a.embedded and a.name.startswith("crossdock-") and a.name != b.name
    assert current_queue_name() is None  # not inside a job


def test_held_run_ids_are_the_waiting_and_the_delayed_not_overdue(make_queue):
    rec = make_queue()
    rec.queue.enqueue_runs([1, 2])
    rec.queue.enqueue_run(3, delay_s=60)
    assert rec.queue.held_run_ids() == {1, 2, 3}
    assert rec.queue.waiting_run_ids() == [1, 2] and rec.queue.pending() == 2
    rec.queue.clear()  # as a worker that took the waiting jobs and died
    assert rec.queue.held_run_ids() == {3} and rec.queue.pending() == 0


def test_a_delayed_job_no_worker_takes_stops_being_held_once_overdue():
    queue = JobQueue()  # no worker threads: nothing moves it
    queue.enqueue_run(7, delay_s=0.05)
    assert queue.held_run_ids(0.0) == {7}
    wait_for(lambda: queue.held_run_ids(0.0) == set())
    assert queue.held_run_ids(60.0) == {7}  # overdue by less than a minute: still held


@pytest.mark.parametrize("backend", services.ONLY_EMBEDDED, indirect=True)
def test_embedded_delayed_jobs_run_in_due_order(make_queue, backend):  # RQ keeps due times in whole seconds
    rec = make_queue()
    rec.queue.start_threads(2)
    rec.queue.enqueue_run(1, delay_s=0.6)
    rec.queue.enqueue_run(2, delay_s=0.05)  # due earlier than the one already waiting: wakes the threads
    rec.queue.enqueue_run(3, delay_s=0.3)
    wait_for(lambda: len(rec.done) == 3)
    assert rec.ids() == [2, 3, 1]


def test_many_concurrent_enqueues_lose_no_job_and_run_none_twice(make_queue, backend):
    rec = make_queue()
    rec.queue.start_threads(2)
    per_thread = 250 if backend == "embedded" else 40
    go = threading.Barrier(8)

    def produce(t):
        go.wait()
        ids = [t * 1000 + i for i in range(per_thread)]
        for i, rid in enumerate(ids[: per_thread // 2]):
            rec.queue.enqueue_run(rid, delay_s=0.01 if backend == "embedded" and i % 10 == 0 else 0.0)
        rec.queue.enqueue_runs(ids[per_thread // 2:])

    producers = [threading.Thread(target=produce, args=(t,)) for t in range(8)]
    for p in producers:
        p.start()
    for p in producers:
        p.join()
    expected = sorted(t * 1000 + i for t in range(8) for i in range(per_thread))
    wait_for(lambda: len(rec.done) >= len(expected), 10)
    assert sorted(rec.ids()) == expected
    assert rec.queue.pending() == 0 and rec.queue.held_run_ids(0.0) == set()


def test_stop_ends_the_worker_threads(make_queue):
    rec = make_queue()
    rec.queue.start_threads(2)
    rec.queue.enqueue_runs([1, 2, 3, 4])
    wait_for(lambda: len(rec.done) == 4)
    rec.queue.stop()
    assert rec.threads and not any(t.is_alive() for t in rec.threads)


@pytest.mark.parametrize("backend", services.ONLY_EMBEDDED, indirect=True)
def test_embedded_work_in_burst_executes_what_waits_on_this_thread_and_returns(make_queue, backend):  # RQ's: run.py worker
    rec = make_queue(fail_on={2})
    rec.queue.enqueue_runs([1, 2, 3])
    rec.queue.work(burst=True)
    assert rec.ids() == [1, 2, 3] and {q for _, q, _ in rec.done} == {rec.queue.name}
    assert rec.threads == {threading.current_thread()} and current_queue_name() is None


def test_a_job_for_a_queue_no_runtime_consumes_is_an_error():
    with pytest.raises(RuntimeError, match="no runtime bound"):
        jobs.execute_run(1)


# -- batches: one RQ job for several runs (production); runtime.jobs.execute_runs on both queues -----------
# (what a batch does with real runs, its time slice and a stopping worker: tests/runtime/test_batches.py)

@pytest.fixture
def bound(make_queue, monkeypatch):
    """A Recorder bound like make_queue's; execute_runs called directly finds it as its runtime."""
    def make(**kwargs):
        rec = make_queue(**kwargs)
        monkeypatch.setattr(jobs, "current_queue_name", lambda: rec.queue.name)
        return rec
    return make


def test_a_batch_job_executes_all_its_runs_in_order(bound):
    rec = bound()
    assert jobs.execute_runs([5, 6, 7]) == "succeeded,succeeded,succeeded"
    assert rec.ids() == [5, 6, 7] and rec.queue.held_run_ids(0.0) == set()


def test_a_batch_job_of_one_run_executes_it_alone(bound, monkeypatch):
    rec = bound()
    monkeypatch.setattr(jobs, "run_batch", lambda rt, run_ids: pytest.fail("a batch of one"))
    assert jobs.execute_runs([8]) == "succeeded" and rec.ids() == [8]


def test_a_run_that_raises_does_not_end_its_batch(bound):
    rec = bound(fail_on={2})
    assert jobs.execute_runs([1, 2, 3]) == "succeeded,error,succeeded"
    assert rec.ids() == [1, 2, 3]


def test_job_ids_name_the_runs_of_a_batch():
    from rq.job import validate_job_id

    from runtime.queue import BATCH_MAX, _batch_id, _job_id, _run_ids
    many = list(range(10**9, 10**9 + BATCH_MAX))
    for job_id, ids in ((_job_id(7), [7]), (_batch_id([7, 8, 9]), [7, 8, 9]), (_batch_id(many), many)):
        validate_job_id(job_id)
        assert _run_ids(job_id) == ids and _run_ids(job_id.encode()) == ids
    assert _run_ids("other-job") == [] and _run_ids("runs-1_x-abc") == [] and _run_ids("run-1") == []


@pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)
def test_production_enqueues_gather_into_lane_batches_that_recovery_sees(backend, request):  # embedded: no lane
    from runtime.queue import RedisQueue, _lane_ids
    queue = RedisQueue(request.getfixturevalue("redis_db"), services.queue_name(), window_s=0.3)
    lane = lambda: [_lane_ids(e) for e in queue.lane.connection.lrange(queue.lane.key, 0, -1)]  # noqa: E731
    try:
        queue.enqueue_run(1)
        wait_for(lambda: len(lane()) == 1, 5)  # the queue was idle: at once
        for run_id in range(2, 8):
            queue.enqueue_run(run_id)
        assert queue.held_run_ids(0.0) == set(range(1, 8))  # in Redis or still in the batcher: never lost
        assert queue.waiting_run_ids() == list(range(1, 8)) and queue.pending() == 7
        wait_for(lambda: len(lane()) == 2)  # the rest within the window, together
        assert lane() == [[1], [2, 3, 4, 5, 6, 7]]
        assert queue.held_run_ids(0.0) == set(range(1, 8))
        queue.enqueue_runs(list(range(100, 140)))  # recovery's path: on the lane at once, at most BATCH_MAX each
        assert [len(ids) for ids in lane()[2:]] == [32, 8]
        assert queue.queue.count == 0  # no RQ job for a run due now
        queue.enqueue_run(200, delay_s=60)  # a retry: a job of its own in RQ's schedule
        assert 200 in queue.held_run_ids(0.0) and 200 not in queue.waiting_run_ids()
        queue.clear()  # as a worker that popped them and died: recovery's to enqueue again
        assert queue.held_run_ids(0.0) == {200} and queue.pending() == 0
    finally:
        queue.clear()
        queue.stop()


def test_lane_entries_name_their_runs():
    from runtime.queue import BATCH_MAX, _lane_entry, _lane_ids
    many = list(range(10**9, 10**9 + BATCH_MAX))
    for ids in ([7], [7, 8, 9], many):
        assert _lane_ids(_lane_entry(ids)) == ids and _lane_ids(_lane_entry(ids).encode()) == ids
    assert _lane_ids("7,x") == [] and _lane_ids("") == []


def _ids(job_id):
    from runtime.queue import _run_ids
    return _run_ids(job_id)


def test_a_batch_redis_refuses_is_logged_and_its_runs_are_left_to_recovery(caplog):
    from runtime.queue import RedisQueue
    queue = RedisQueue("redis://127.0.0.1:1/0", "nowhere", window_s=0.0)  # nothing listens on port 1
    queue.enqueue_run(11)  # does not raise: the run is stored, and the lost-job sweep will find it
    wait_for(lambda: "11 accepted but not enqueued" in caplog.text)
    assert queue.lane._batcher.held() == []
    queue.stop()


def test_the_batcher_keeps_order_and_caps_batches():
    from runtime.batcher import Batcher
    flushed, errors, go, entered = [], [], threading.Event(), threading.Event()

    def flush(ids):
        entered.set()
        go.wait(5)
        flushed.append(ids)
        if 13 in ids:
            raise ConnectionError("down")

    batcher = Batcher(flush, lambda ids, err: errors.append(ids), window_s=0.05, max_ids=4)
    batcher.add(1)
    assert entered.wait(5)  # the queue was idle: the first goes at once
    for run_id in range(2, 14):
        batcher.add(run_id)
    assert batcher.held() == list(range(1, 14))  # the first is in flight (held by `go`), the rest wait
    go.set()
    wait_for(lambda: batcher.held() == [])
    assert flushed == [[1], [2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 12, 13]] and errors == [[10, 11, 12, 13]]
    batcher.add(14)
    batcher.close()  # flushes what waits
    assert flushed[-1] == [14]
    with pytest.raises(RuntimeError):
        batcher.add(15)


# -- SIGTERM on a real `run.py worker` process (PostgreSQL + Redis) ---------------------------------------

class SlowEcho:
    """An HTTP target that answers each request with its own body after `delays[n]` seconds (the last repeats)."""

    def __init__(self, delays):
        self.delays, self.hits = list(delays), []
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                n = len(echo.hits)
                echo.hits.append(time.monotonic())
                time.sleep(echo.delays[min(n, len(echo.delays) - 1)])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def production(request, tmp_path):
    """`run.py worker` processes on PostgreSQL + Redis, and a Runtime of this test on the same queue."""
    from runtime.wiring import Runtime
    from runtime.settings import from_env

    if "services" not in services.BACKENDS:
        pytest.skip("needs the machine's PostgreSQL and Redis")
    services.count(request)
    env = {**os.environ, "CROSSDOCK_DATABASE_URL": services.PG_URL,
           "CROSSDOCK_DATABASE_SCHEMA": request.getfixturevalue("pg_schema"),
           "CROSSDOCK_REDIS_URL": request.getfixturevalue("redis_db"), "CROSSDOCK_QUEUE": services.queue_name(),
           "CROSSDOCK_DATA_DIR": str(tmp_path),
           "CROSSDOCK_SECRET_KEY": "test-queue-production-key"}  # production refuses the built-in key
    procs, runtimes = [], []

    def worker(**extra):
        p = processes.start(["worker"], {**env, **extra}, tmp_path / f"worker-{len(procs)}.log")
        procs.append(p)
        return p

    def runtime():
        rt = Runtime(from_env(env))
        runtimes.append(rt)
        return rt

    worker.runtime, worker.log = runtime, lambda i: (tmp_path / f"worker-{i}.log").read_text(errors="replace")
    yield worker
    processes.stop_all(procs)  # their shutdowns overlap
    for rt in runtimes:
        rt.close()


def _slow_flow(slow_url, sink_url) -> dict:
    """webhook -> slow (an HTTP call that takes its time) -> map -> sink, with an id and path of its own."""
    name = f"f-sigterm-{uuid.uuid4().hex[:8]}"
    doc = http_sink(name, sink_url, path=name)
    doc["nodes"].append({"id": "slow", "type": "connector.http", "config": {"url": slow_url, "method": "POST"}})
    for e in doc["edges"]:
        if e["source"] == "hook":
            e["target"] = "slow"
    doc["edges"].append({"id": "e-slow", "source": "slow", "source_port": "out", "target": "map",
                         "target_port": "in"})
    return doc


def _start_run(rt, doc):
    from runtime import deployments, egress, intake
    from runtime.models import Flow

    for node in doc["nodes"]:  # loopback test servers, which the egress policy refuses unless allowed
        if (node.get("config") or {}).get("url"):
            egress.allow_origin(rt, "default", node["config"]["url"])
    with rt.sessions.begin() as s:
        s.add(Flow(workspace="default", id=doc["id"], name=doc["id"], document=doc))
    version = deployments.deploy(rt, "default", doc["id"], doc)
    return intake.start(rt, "default", doc["id"], version, order("T-1", 3), trigger="webhook", trigger_node="hook")


def _row(rt, run_id):
    from runtime.models import Run

    with rt.sessions() as s:
        return s.get(Run, run_id)


def _steps(rt, run_id):
    from runtime.models import Step

    with rt.sessions() as s:
        return [(st.node_id, st.status) for st in s.query(Step).filter(Step.run_id == run_id).order_by(Step.seq)]


def test_sigterm_lets_the_step_in_flight_finish_and_hands_the_rest_of_the_run_back(production, http_target):
    slow = SlowEcho([1.5, 0.0])
    try:
        rt = production.runtime()
        worker = production(CROSSDOCK_SHUTDOWN_GRACE_S="20")
        run = _start_run(rt, _slow_flow(slow.url, http_target.url))
        wait_for(lambda: slow.hits, 30)  # the slow step is in flight
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(15) == 0  # a warm shutdown, well before the lease (60 s) could expire
        row = _row(rt, run.id)
        assert (row.status, row.lease_until, row.takeovers) == ("queued", None, 0), production.log(0)
        assert _steps(rt, run.id) == [("hook", "succeeded"), ("slow", "succeeded")]
        assert [p["node"] for p in row.checkpoint["pending"]] == ["map"] and not http_target.requests
        production()  # another worker goes on from the next step: the slow call is not made again
        wait_for(lambda: _row(rt, run.id).status == "succeeded", 30)
        assert len(slow.hits) == 1 and http_target.requests[0]["body"] == {"ref": "T-1", "qty": 3}
        assert [n for n, _ in _steps(rt, run.id)] == ["hook", "slow", "map", "sink"]
    finally:
        slow.close()


def test_a_step_that_outlives_the_shutdown_grace_hands_its_run_back_and_the_worker_exits(production,
                                                                                        http_target):
    slow = SlowEcho([8.0, 0.0])
    try:
        rt = production.runtime()
        worker = production(CROSSDOCK_SHUTDOWN_GRACE_S="1")
        run = _start_run(rt, _slow_flow(slow.url, http_target.url))
        wait_for(lambda: slow.hits, 30)
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(6) == 1  # gone after the grace, not after the 8 s step
        row = _row(rt, run.id)
        assert (row.status, row.lease_until, row.takeovers) == ("queued", None, 1), production.log(0)
        assert "outlived the 1 s shutdown grace" in production.log(0)
        production()
        wait_for(lambda: _row(rt, run.id).status == "succeeded", 30)
        assert len(slow.hits) == 2 and len(http_target.requests) == 1  # the cut step ran again, from the start
    finally:
        slow.close()


def test_a_run_that_freezes_every_worker_that_takes_it_ends_poison_after_three_takeovers(production, http_target):
    """Three real workers; the run's step hangs each one (its lease is not renewed mid-step, so it expires)."""
    slow = SlowEcho([20.0])
    try:
        rt = production.runtime()
        fast = {"CROSSDOCK_LEASE_S": "1", "CROSSDOCK_MAINTENANCE_S": "0.5", "CROSSDOCK_SHUTDOWN_GRACE_S": "1"}
        for _ in range(3):
            production(**fast)
        run = _start_run(rt, _slow_flow(slow.url, http_target.url))
        wait_for(lambda: _row(rt, run.id).status == "failed", 60, 0.2)
        row = _row(rt, run.id)
        # three lease expiries end it; on a loaded machine a worker whose call timed out may claim it
        # again before a slower-starting worker does, so the claims (attempt) can exceed the takeovers
        assert (row.error["code"], row.takeovers) == ("poison", 3) and row.attempt >= 3
        hits = len(slow.hits)
        rt.queue.enqueue_run(run.id)  # a stale job for it, and a fresh worker to take that job
        production()
        wait_for(lambda: rt.queue.pending() == 0, 30, 0.2)
        time.sleep(0.5)
        assert _row(rt, run.id).attempt == row.attempt and len(slow.hits) == hits >= 3
        assert not http_target.requests
    finally:
        slow.close()
