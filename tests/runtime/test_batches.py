"""The embedded worker's batches (runtime.jobs.run_batch): several waiting runs claimed in one guarded
UPDATE, executed one by one, their ends written in one transaction; same-key order inside a batch; a
batch cut by its time slice or a stopping worker gives its unstarted runs back as if never claimed; a
worker that dies mid-batch leaves its runs to lease recovery; a run whose lease was taken over meanwhile
stores nothing while the others of its batch do. On the embedded database and on PostgreSQL (where the
statements are the same; production's RQ workers do not batch this way)."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import event, select, update

from runtime import deployments, intake, jobs
from runtime.models import Flow, Run, Step, utcnow
from runtime.queue import LOCAL_BATCH_MAX
from runtime.store import claims
from support import services
from support.flowdocs import done, edge, order


@pytest.fixture
def batch_rt(settings, workspace):
    """A Runtime without worker threads: the tests take its jobs themselves."""
    from runtime.wiring import Runtime

    runtime = Runtime(settings)
    runtime.ensure_workspace(workspace)
    yield runtime
    runtime.close()


def _flow(rt, workspace, flow_id="f-batch", sequence_key=None) -> int:
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': order.number}"}},
                     done()],
           "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}
    if sequence_key:
        doc["settings"] = {"sequence_key": sequence_key}
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=flow_id, name=flow_id, document=doc))
    return deployments.deploy(rt, workspace, flow_id, doc)


def _start(rt, workspace, n, number="B-1", flow_id="f-batch") -> list[int]:
    ids = [intake.start(rt, workspace, flow_id, 1, order(number, i + 1), trigger="manual").id for i in range(n)]
    rt.queue.clear()  # the tests take the jobs themselves
    return ids


def _rows(rt, ids) -> dict[int, Run]:
    with rt.sessions() as s:
        return {r.id: r for r in s.scalars(select(Run).where(Run.id.in_(ids)))}


def test_a_batch_is_claimed_in_one_update_and_ended_in_one_transaction(batch_rt, workspace):
    _flow(batch_rt, workspace)
    ids = _start(batch_rt, workspace, 5)
    writes, commits, unpipelined = [], [], []
    postgres = batch_rt.engine.dialect.name != "sqlite"

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("UPDATE RUNS", "INSERT INTO STEPS")):
            writes.append(" ".join(statement.split()[:3]).upper())
        if statement.strip().upper() == "COMMIT":
            commits.append(1)  # PostgreSQL's pipelined end write sends its COMMIT as a statement
        if postgres and not cursor.connection.pgconn.pipeline_status:
            unpipelined.append(statement.split()[0])

    event.listen(batch_rt.engine, "before_cursor_execute", seen)
    event.listen(batch_rt.engine, "commit", lambda conn: commits.append(1))
    try:
        assert jobs.run_batch(batch_rt, ids) == ["succeeded"] * 5
    finally:
        event.remove(batch_rt.engine, "before_cursor_execute", seen)
    # one claim for all, one fenced end per run, the steps of all runs in one statement: 7, not 5 x 3
    assert writes == ["UPDATE RUNS SET"] * 6 + ["INSERT INTO STEPS"]
    # the claim's transaction and the ends'; on PostgreSQL the claim, one statement, commits by itself
    # (autocommit, store/writer.py), with no COMMIT of its own
    assert len(commits) == (2 if not postgres else 1)
    # PostgreSQL: but the claim, every statement (the end write's BEGIN, five UPDATEs, the steps, COMMIT) went
    # in a pipeline: two round trips, not one each
    assert unpipelined == (["UPDATE"] if postgres else [])
    rows = _rows(batch_rt, ids)
    assert all(r.status == "succeeded" and r.attempt == 1 and r.output == {"ref": "B-1"} for r in rows.values())
    with batch_rt.sessions() as s:
        steps = s.execute(select(Step.run_id, Step.node_id).where(Step.run_id.in_(ids))
                          .order_by(Step.run_id, Step.seq)).all()
    assert [tuple(r) for r in steps] == [(i, n) for i in ids for n in ("start", "map", "done")]


def test_same_key_runs_in_one_batch_wait_and_hand_over_in_arrival_order(batch_rt, workspace):
    _flow(batch_rt, workspace, "f-key", sequence_key="order.number")
    ids = _start(batch_rt, workspace, 3, number="K-1", flow_id="f-key")
    other = _start(batch_rt, workspace, 1, number="K-2", flow_id="f-key")
    # the first of K-1 and the only K-2 run; the later K-1 runs find the first open and wait
    assert jobs.run_batch(batch_rt, [*ids, *other]) == ["succeeded", "waiting", "waiting", "succeeded"]
    assert batch_rt.queue.waiting_run_ids() == [ids[1]]  # handed over when the first ended
    for expected in ids[1:]:
        (nxt,) = batch_rt.queue.waiting_run_ids()
        assert nxt == expected
        batch_rt.queue.clear()
        assert jobs.run_batch(batch_rt, [nxt]) == ["succeeded"]
    rows = _rows(batch_rt, ids)
    assert [rows[i].status for i in ids] == ["succeeded"] * 3
    assert [rows[i].finished_at for i in ids] == sorted(rows[i].finished_at for i in ids)


def test_a_batch_past_its_time_slice_gives_back_the_runs_it_did_not_start(batch_rt, workspace, monkeypatch):
    _flow(batch_rt, workspace)
    ids = _start(batch_rt, workspace, 4)
    monkeypatch.setattr(jobs, "BATCH_SLICE_S", 0.05)
    execute = jobs._execute

    def slow_first(rt, row, reply):
        if row.id == ids[0]:
            time.sleep(0.3)  # a slow step: the slicer cuts the batch meanwhile
            assert batch_rt.queue.waiting_run_ids() == ids[1:]  # given back before this run ends
        return execute(rt, row, reply)

    monkeypatch.setattr(jobs, "_execute", slow_first)
    assert jobs.run_batch(batch_rt, ids) == ["succeeded"] + ["given-back"] * 3
    rows = _rows(batch_rt, ids)
    assert rows[ids[0]].status == "succeeded"
    for i in ids[1:]:  # as if never claimed: no attempt counted, no start time, no takeover
        assert (rows[i].status, rows[i].attempt, rows[i].started_at, rows[i].takeovers, rows[i].worker) == (
            "queued", 0, None, 0, None)
    monkeypatch.setattr(jobs, "_execute", execute)
    batch_rt.queue.clear()
    assert jobs.run_batch(batch_rt, ids[1:]) == ["succeeded"] * 3


def test_a_stopping_worker_starts_no_more_runs_of_its_batch(batch_rt, workspace, monkeypatch):
    _flow(batch_rt, workspace)
    ids = _start(batch_rt, workspace, 3)
    execute = jobs._execute

    def stop_after_first(rt, row, reply):
        outcome = execute(rt, row, reply)
        rt.queue.stopping.set()  # SIGTERM while the first run executes
        return outcome

    monkeypatch.setattr(jobs, "_execute", stop_after_first)
    try:
        assert jobs.run_batch(batch_rt, ids) == ["succeeded", "given-back", "given-back"]
    finally:
        batch_rt.queue.stopping.clear()
    assert [_rows(batch_rt, ids)[i].status for i in ids] == ["succeeded", "queued", "queued"]
    monkeypatch.setattr(jobs, "_execute", execute)
    # the next worker takes them (and no queued run is left in the database tests share on PostgreSQL)
    assert jobs.run_batch(batch_rt, ids[1:]) == ["succeeded", "succeeded"]


def test_runs_of_a_worker_that_died_mid_batch_are_recovered_by_their_lease_and_claimed_alone(batch_rt, workspace,
                                                                                              monkeypatch):
    _flow(batch_rt, workspace)
    ids = _start(batch_rt, workspace, 4)
    rows, why = claims.claim_many(batch_rt, ids[:3])  # claimed, then the process died: nothing executed
    assert [r.id for r in rows] == ids[:3] and why == {}
    with batch_rt.sessions.begin() as s:
        s.execute(update(Run).where(Run.id.in_(ids)).values(lease_until=utcnow() - dt.timedelta(seconds=1)))
    assert jobs.release_expired_leases(batch_rt) == 3
    assert sorted(batch_rt.queue.waiting_run_ids()) == ids[:3]
    batch_rt.queue.clear()
    alone, claim = [], claims.claim
    monkeypatch.setattr(claims, "claim", lambda rt, run_id: alone.append(run_id) or claim(rt, run_id))
    assert jobs.run_batch(batch_rt, ids) == ["succeeded"] * 4
    # each run taken back is claimed on its own: had one of them killed the worker (poison), the others
    # would not die with it again and count takeovers towards their own poison limit
    assert alone == ids[:3]
    rows = _rows(batch_rt, ids)
    assert [(rows[i].attempt, rows[i].takeovers) for i in ids] == [(2, 1)] * 3 + [(1, 0)]


def test_a_run_taken_over_mid_batch_stores_nothing_and_the_others_end(batch_rt, workspace, monkeypatch):
    _flow(batch_rt, workspace)
    ids = _start(batch_rt, workspace, 3)
    execute = jobs._execute

    def taken_over(rt, row, reply):
        if row.id == ids[1]:  # its lease expired and another worker claimed it meanwhile
            with rt.sessions.begin() as s:
                s.execute(update(Run).where(Run.id == row.id).values(attempt=Run.attempt + 1))
        return execute(rt, row, reply)

    monkeypatch.setattr(jobs, "_execute", taken_over)
    assert jobs.run_batch(batch_rt, ids) == ["succeeded", "lost-lease", "succeeded"]
    rows = _rows(batch_rt, ids)
    assert rows[ids[1]].status == "running"  # the other worker's result counts
    with batch_rt.sessions() as s:
        assert not s.scalars(select(Step.id).where(Step.run_id == ids[1])).all()
        assert len(s.scalars(select(Step.id).where(Step.run_id == ids[0])).all()) == 3
    with batch_rt.sessions.begin() as s:  # the other worker ends it (no lease left to expire in a later test)
        s.execute(update(Run).where(Run.id == ids[1]).values(status="succeeded", lease_until=None))


@pytest.mark.parametrize("backend", services.ONLY_EMBEDDED, indirect=True)
def test_the_embedded_queue_takes_a_share_of_what_waits(batch_rt, workspace, monkeypatch, backend):
    taken: list[list[int]] = []
    monkeypatch.setattr(jobs, "run_batch", lambda rt, run_ids: taken.append(run_ids) or ["succeeded"] * len(run_ids))
    monkeypatch.setattr(jobs, "run_claimed", lambda rt, run_id: taken.append([run_id]) or "succeeded")
    jobs.bind(batch_rt)
    batch_rt.queue.clear()
    batch_rt.queue.enqueue_runs(list(range(1, LOCAL_BATCH_MAX + 11)))
    batch_rt.queue.work(burst=True)
    assert [len(t) for t in taken] == [LOCAL_BATCH_MAX, 10]  # at most a batch at once, in arrival order
    assert [i for t in taken for i in t] == list(range(1, LOCAL_BATCH_MAX + 11))


def test_executed_runs_leave_no_reference_cycles_behind(batch_rt, workspace):
    """A run's context, its helpers and its messages are freed as soon as the run ends (reference counting),
    not kept for the garbage collector's next pass: under load those passes walked every run's messages."""
    import gc

    _flow(batch_rt, workspace)
    jobs.run_batch(batch_rt, _start(batch_rt, workspace, 2))  # what a first batch builds once (statements, plans)
    ids = _start(batch_rt, workspace, 5)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    # every object alive now stays alive until the check: what becomes garbage meanwhile was made by this
    # batch, not let go by an earlier test's thread ending during it (an app's URL map, an engine)
    kept = gc.get_objects()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a pass finds unreachable is kept in gc.garbage for us to see
    try:
        assert jobs.run_batch(batch_rt, ids) == ["succeeded"] * 5
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        del kept
        if was:
            gc.enable()
    assert "StepContext" not in left and left.count("dict") < 5, sorted(set(left))
