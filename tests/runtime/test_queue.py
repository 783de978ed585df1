"""The job queue: jobs run on worker threads of this process, delayed jobs wait for their time, and two
queues in one process never see each other's jobs; on fakeredis and on a real Redis."""
from __future__ import annotations

import threading

import pytest

from runtime import jobs
from runtime.queue import JobQueue, current_queue_name
from support import services, wait_for


class Recorder:
    """Stands in for the Runtime a queue is bound to; jobs.run_claimed is patched to call it."""

    def __init__(self, queue: JobQueue, fail_on=()):
        self.queue, self.fail_on, self.done = queue, set(fail_on), []

    def execute(self, run_id):
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


def test_a_job_for_a_queue_no_runtime_consumes_is_an_error():
    with pytest.raises(RuntimeError, match="no runtime bound"):
        jobs.execute_run(1)
