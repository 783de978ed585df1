"""The embedded default's executor processes (runtime/executors.py): runs stored by this process execute in
real executor processes, their live events and replies come back, and an executor killed with SIGKILL is
started again with no run lost or executed twice; on SQLite and on PostgreSQL (without Redis)."""
from __future__ import annotations

import io
import os
import signal
import socket
import threading
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from runtime import deployments, events, intake, replies
from runtime.executors import LinkPublisher
from runtime.executor_process import receive
from runtime.models import Flow, Run, Step
from runtime.wiring import Runtime
from support import wait_for
from support.flowdocs import done, edge


@pytest.fixture
def linked(settings):
    """A runtime whose runs execute in 2 executor processes, with its live events recorded."""
    rt = Runtime(replace(settings, redis_url="", executors=2, maintenance_s=0.5, lost_job_after_s=1.0))
    seen: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def sink(event, data, rooms):
        with lock:
            seen.append((event, data))

    rt.events.attach(sink)
    rt.seen = seen
    yield rt
    rt.close()


def deploy(rt, workspace: str, expression: str = "{'ref': ref}") -> None:
    nodes = [{"id": "start", "type": "event.manual"}, done(),
             {"id": "map", "type": "transform.map", "config": {"expression": expression}}]
    doc = {"schema": "crossdock.flow/1", "id": "f", "name": "f", "nodes": nodes,
           "edges": [edge("e1", "start", "map"), edge("e2", "map", "done")]}
    rt.ensure_workspace(workspace)
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id="f", name="f", document=doc))
    deployments.deploy(rt, workspace, "f", doc)


def statuses(rt, ids) -> dict[int, str]:
    with rt.read_sessions() as s:
        return dict(s.execute(select(Run.id, Run.status).where(Run.id.in_(ids))).all())


def finished(rt, ids) -> bool:
    return set(statuses(rt, ids).values()) <= {"succeeded", "failed"}


def test_runs_execute_in_executor_processes_and_their_events_come_back(linked, workspace):
    deploy(linked, workspace)
    linked.start_executors()
    pids = {e.process.pid for e in linked.queue.executors}
    assert len(pids) == 2 and os.getpid() not in pids
    assert not [t for t in threading.enumerate() if t.name.startswith("crossdock-worker")]  # none here

    ids = [intake.start_manual(linked, workspace, "f", {"ref": i}).id for i in range(30)]
    wait_for(lambda: finished(linked, ids))
    assert set(statuses(linked, ids).values()) == {"succeeded"}
    wait_for(lambda: {d["run_id"] for e, d in list(linked.seen) if e == "run.finished"} >= set(ids))
    # each run once, relayed to this process's Socket.IO (runs of other tests on a shared schema aside:
    # the web process enqueues every queued run it finds at its start)
    started = [d["run_id"] for e, d in list(linked.seen) if e == "run.started" and d["workspace"] == workspace]
    assert sorted(started) == sorted(ids)
    assert not linked.queue.held_run_ids() & set(ids)  # every handed-over run was seen to start


def test_executors_run_at_the_niceness_they_are_given_above_the_web_process(settings, workspace):
    """CROSSDOCK_EXECUTOR_NICE: the executors yield cores to the web process's intake when cores are short."""
    rt = Runtime(replace(settings, redis_url="", executors=1, executor_nice=3))
    try:
        deploy(rt, workspace)
        rt.start_executors()
        run_id = intake.start_manual(rt, workspace, "f", {"ref": 1}).id  # it executes: the process is serving
        wait_for(lambda: finished(rt, [run_id]))
        [executor] = rt.queue.executors
        nice = int(open(f"/proc/{executor.process.pid}/stat").read().rsplit(")", 1)[1].split()[16])
        assert nice == os.nice(0) + 3
    finally:
        rt.close()


def test_step_progress_nobody_hears_is_dropped_unread_and_heard_once_a_room_listens(settings, workspace):
    """An executor sends its step events, and the web process decodes and relays them, only while a page is in
    one of their rooms; a run's start and end always come through to settle the run, and are relayed only
    then too (run.queued is this process's own)."""
    rt = Runtime(replace(settings, redis_url="", executors=1))
    seen: list[tuple[str, dict]] = []
    hearing = {"on": False}
    rt.events.attach(lambda event, data, rooms: seen.append((event, data)), listening=lambda to: hearing["on"])
    try:
        deploy(rt, workspace)
        rt.start_executors()
        quiet = intake.start_manual(rt, workspace, "f", {"ref": 1}).id
        wait_for(lambda: finished(rt, [quiet]))
        wait_for(lambda: not rt.queue.pending())  # its start and end came back and settled it
        assert {e for e, d in list(seen) if d.get("run_id") == quiet} == {"run.queued"}
        hearing["on"] = True  # the web process would relay them now, but the executor was told nobody hears
        unsent = intake.start_manual(rt, workspace, "f", {"ref": 3}).id
        wait_for(lambda: any(e == "run.finished" and d["run_id"] == unsent for e, d in list(seen)))
        assert {e for e, d in list(seen) if d.get("run_id") == unsent} == {"run.queued", "run.finished"}
        rt.events.rooms_heard(frozenset({events.flow_room(workspace, "f")}))  # a page joins (web/live.py)
        heard = intake.start_manual(rt, workspace, "f", {"ref": 2}).id
        wait_for(lambda: any(e == "run.finished" and d["run_id"] == heard for e, d in list(seen)))
        assert [d["node_id"] for e, d in list(seen) if e == "step.succeeded" and d["run_id"] == heard] == \
            ["start", "map", "done"]
    finally:
        rt.close()


def test_a_reply_waiter_in_this_process_hears_the_executors_run_end(linked, workspace):
    deploy(linked, workspace, expression="{'doubled': ref * 2}")
    linked.start_executors()
    with linked.events.replies.expect() as ticket:
        run = intake.start_manual(linked, workspace, "f", {"ref": 21})
        answer = replies.answer(linked, ticket, run.id, 20.0)
    assert answer.status == "succeeded"


def test_a_killed_executor_is_started_again_and_no_run_is_lost_or_done_twice(linked, workspace):
    deploy(linked, workspace)
    linked.start_executors()
    first = linked.queue.executors[0]
    killed = first.process.pid
    os.kill(killed, signal.SIGKILL)
    ids = [intake.start_manual(linked, workspace, "f", {"ref": i}).id for i in range(20)]  # half go to the dead one
    wait_for(lambda: finished(linked, ids), timeout=60)
    assert set(statuses(linked, ids).values()) == {"succeeded"}
    assert first.process.pid != killed and first.process.poll() is None
    with linked.read_sessions() as s:  # one step row per node per run: nothing executed twice
        per_run = dict(s.execute(select(Step.run_id, func.count()).where(Step.run_id.in_(ids))
                                 .group_by(Step.run_id)).all())
    assert set(per_run.values()) == {3}


def test_closing_the_runtime_ends_the_executors(settings, workspace):
    rt = Runtime(replace(settings, redis_url="", executors=1))
    rt.start_executors()
    process = rt.queue.executors[0].process
    rt.close()
    assert process.poll() is not None


def test_an_executor_sends_the_progress_of_heard_rooms_and_every_run_event():
    ours, theirs = socket.socketpair()
    publisher = LinkPublisher(theirs)
    sent = lambda: ours.recv(65536).decode().splitlines()  # noqa: E731
    step = {"workspace": "a", "flow_id": "f", "run_id": 1, "node_id": "map"}
    try:
        publisher.hear([])  # nobody hears a room
        publisher.publish("step.started", step)
        publisher.publish("run.started", {"workspace": "a", "flow_id": "f", "run_id": 1})  # its head alone
        publisher.publish("run.finished", {"workspace": "a", "flow_id": "f", "run_id": 1})  # whole, at once
        assert sent() == ['["run.started","a","f",1]', '["run.finished","a","f",1]\t{"workspace":"a","flow_id":"f","run_id":1}']
        for told, expected in ((["flow:a:f"], True), (["ws:a"], True), (["ws:b", "flow:a:g"], False), (None, True)):
            publisher.hear(told)
            publisher.publish("step.started", step)
            publisher.publish("run.finished", {"workspace": "a", "flow_id": "f", "run_id": 1})
            publisher.flush()
            heads = [line.split("\t")[0] for line in sent()]
            assert ('["step.started","a","f",1]' in heads) is expected, told
    finally:
        publisher.close()
        ours.close()
        theirs.close()


def test_the_rooms_pages_hear_reach_the_executors_as_they_change(settings):
    """LocalRelay tells the queue (then each executor, on its socket) which rooms its Socket.IO pages are in;
    a sink that takes every event (None: no listening function) means every room."""
    relay = events.LocalRelay()
    told: list = []
    relay.when_heard(told.append)
    relay.attach(lambda *a: None, listening=lambda to: False)
    relay.rooms_heard(frozenset({"flow:a:f"}))
    relay.attach(lambda *a: None)
    assert told == [frozenset(), frozenset(), frozenset({"flow:a:f"}), None]


@pytest.mark.parametrize("chunks, ready, delayed", [
    ([b"1\n2\n3\n"], [[1, 2, 3]], []),
    ([b"1\n2", b"2\n3 1.500\n", b"4\n"], [[1], [22], [4]], [(3, 1.5)]),
    ([b"", b"7\n"], [], []),  # an empty read is the end
])
def test_run_ids_are_read_whole_across_chunks(chunks, ready, delayed):
    class Queue:
        def __init__(self):
            self.ready, self.delayed = [], []

        def enqueue_runs(self, ids):
            if ids:
                self.ready.append(ids)

        def enqueue_run(self, run_id, delay_s):
            self.delayed.append((run_id, delay_s))

    class Stream(io.RawIOBase):
        def __init__(self):
            self.parts = list(chunks)

        def read1(self, _n):
            return self.parts.pop(0) if self.parts else b""

    q = Queue()
    heard: list = []
    receive(Stream(), q, heard.append)
    assert q.ready == ready and q.delayed == delayed and heard == []


def test_the_rooms_heard_are_read_between_run_ids():
    class Queue:
        ready: list = []

        def enqueue_runs(self, ids):
            self.ready += ids

    heard: list = []
    receive(io.BufferedReader(io.BytesIO(b'1\n!["ws:a"]\n2\n!null\n')), Queue(), heard.append)
    assert Queue.ready == [1, 2] and heard == [["ws:a"], None]
