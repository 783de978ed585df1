"""The run store's write path, on both backends: concurrent writes share one transaction and a failing
one fails only its caller; a run is written once at intake, claimed, and written once at its end (the
sync reply travels as an event and is stored with the end); step payloads are stored as the JSON text
the executor made; same-key runs hand over to each other instead of polling."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select

from runtime import deployments, history, intake, jobs, replay
from runtime.store import ends, runs
from runtime.store.writer import Writer
from runtime.db import JsonText
from runtime.events import Publisher
from runtime.models import Flow, Payload, Run, Step
from support import wait_for
from support.api import deploy
from support.flowdocs import done, edge, http_sink, order


class Recorder(Publisher):
    def __init__(self):
        super().__init__()
        self.events: list[tuple[str, dict]] = []

    def publish(self, event: str, data: dict) -> None:
        self.events.append((event, data))


@pytest.fixture
def recorded(settings, workspace):
    """A worker-less Runtime whose live events are recorded."""
    from runtime.wiring import Runtime

    runtime = Runtime(settings, events=Recorder())
    runtime.ensure_workspace(workspace)
    yield runtime
    runtime.close()


def _deploy(rt, workspace, doc) -> int:
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=doc["id"], name=doc["id"], document=doc))
    return deployments.deploy(rt, workspace, doc["id"], doc)


def _held_writes(writer, n, works, shared=False):
    """Start a write that holds the writer until released, then `n` writes queued behind it. `shared`: the
    writes are `shared` ones, queued on the writer that groups those."""
    release, results = threading.Event(), {}
    grouping = writer._sharing() if shared and not writer.grouped else writer

    def first(conn):
        release.wait(5)
        return "first"

    def call(i, work):
        try:
            results[i] = writer.write(work, shared=shared)
        except Exception as err:  # what the caller sees
            results[i] = err

    threads = [threading.Thread(target=call, args=("first", first))]
    threads[0].start()
    wait_for(lambda: grouping._busy, 5, 0.001)
    threads += [threading.Thread(target=call, args=(i, w)) for i, w in enumerate(works)]
    for t in threads[1:]:
        t.start()
    wait_for(lambda: len(grouping._queued) == n, 5, 0.001)
    release.set()
    for t in threads:
        t.join(5)
    return results


def _run(rt, workspace) -> int:
    return runs.start(rt, workspace, "f", 1, {}, trigger="manual").id  # a row for payloads to belong to


def _insert(run_id, i):
    return lambda conn: conn.execute(Payload.__table__.insert().values(run_id=run_id, step_seq=i, kind="x",
                                                                       data={"i": i})).inserted_primary_key[0]


def test_concurrent_writes_share_one_transaction(recorded, workspace):
    """(Grouping is the default on SQLite only; the mechanism is tried on both databases.)"""
    run_id = _run(recorded, workspace)
    writer = Writer(recorded.engine, grouped=True)
    results = _held_writes(writer, 5, [_insert(run_id, i) for i in range(5)])
    assert results["first"] == "first" and all(isinstance(results[i], int) for i in range(5))
    assert writer.batches == 1  # the five queued writes: one transaction, one commit
    with recorded.engine.connect() as conn:
        rows = conn.execute(select(Payload.step_seq).where(Payload.id.in_([results[i] for i in range(5)]))).all()
    assert sorted(r[0] for r in rows) == list(range(5))


def test_the_writer_groups_on_sqlite_only(recorded):
    assert recorded.writer.grouped == (recorded.engine.dialect.name == "sqlite")


def test_shared_writes_share_one_transaction_on_both_databases(recorded, workspace):
    """A webhook's run INSERT is a `shared` write: grouped on PostgreSQL too, apart from the other writes."""
    run_id = _run(recorded, workspace)
    writer = Writer(recorded.engine)
    results = _held_writes(writer, 5, [_insert(run_id, i) for i in range(5)], shared=True)
    assert results["first"] == "first" and all(isinstance(results[i], int) for i in range(5))
    grouping = writer if writer.grouped else writer._shared
    assert grouping.batches == 1 and writer._queued == []
    writer.close()
    assert grouping._conn is None  # the grouping writer's connection went back with the writer's


def test_concurrent_webhook_runs_are_stored_in_shared_transactions(recorded, workspace):
    """runs.start marks its INSERT `shared`: concurrent intake shares commits on both databases."""
    grouping = recorded.writer if recorded.writer.grouped else recorded.writer._sharing()
    before = grouping.batches
    release = threading.Event()
    held = threading.Thread(target=lambda: recorded.writer.write(lambda conn: release.wait(5), shared=True))
    held.start()
    wait_for(lambda: grouping._busy, 5, 0.001)
    started = []
    threads = [threading.Thread(target=lambda: started.append(_run(recorded, workspace))) for _ in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(grouping._queued) == 4, 5, 0.001)
    release.set()
    for t in [held, *threads]:
        t.join(5)
    assert len(set(started)) == 4 and grouping.batches == before + 1
    with recorded.engine.connect() as conn:
        assert conn.execute(select(Run.status).where(Run.id.in_(started))).scalars().all() == ["queued"] * 4


def test_a_failing_write_fails_only_its_caller(recorded, workspace):
    run_id = _run(recorded, workspace)

    def broken(conn):
        conn.execute(Payload.__table__.insert().values(run_id=run_id, step_seq=99, kind="x", data=None))
        raise ValueError("this write is wrong")

    writer = Writer(recorded.engine, grouped=True)
    results = _held_writes(writer, 4, [_insert(run_id, 0), broken, _insert(run_id, 2), _insert(run_id, 3)])
    assert isinstance(results[1], ValueError)
    assert all(isinstance(results[i], int) for i in (0, 2, 3))
    with recorded.engine.connect() as conn:
        seqs = conn.execute(select(Payload.step_seq).where(Payload.run_id == run_id)).scalars().all()
    assert sorted(seqs) == [0, 2, 3]  # the failing write's own insert was rolled back


def test_json_text_is_stored_as_it_is_and_non_finite_numbers_as_text(recorded, workspace):
    run_id = _run(recorded, workspace)
    raw = '{"b":  1, "a": [true, null, "\u00e9"]}'  # spacing and order no serialiser would produce

    def work(conn):
        return [conn.execute(Payload.__table__.insert().values(run_id=run_id, step_seq=1, kind="t", data=JsonText(t)))
                .inserted_primary_key[0] for t in (raw, '{"x": NaN, "y": -Infinity}')]

    kept, odd = recorded.writer.write(work)
    as_text = "CAST(data AS TEXT)" if recorded.engine.dialect.name == "sqlite" else "data::text"
    with recorded.engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT {as_text} FROM payloads WHERE id = {kept}").scalar() == raw
        assert conn.execute(select(Payload.data).where(Payload.id == odd)).scalar() == {"x": "nan", "y": "-inf"}


def _respond_flow(flow_id="f-reply") -> dict:
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": flow_id, "respond": "sync"}},
                      {"id": "reply", "type": "control.respond", "config": {"status": 201, "body": "{'got': ref}"}}],
            "edges": [edge(1, "hook", "reply")]}


def test_a_run_is_written_at_intake_claimed_and_written_once_at_its_end(recorded, workspace):
    version = _deploy(recorded, workspace, _respond_flow())
    writes = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT INTO RUNS", "UPDATE RUNS")):
            writes.append(statement.split()[0].upper())

    event.listen(recorded.engine, "before_cursor_execute", seen)
    try:
        run = intake.start(recorded, workspace, "f-reply", version, {"ref": "R-1"}, trigger="webhook",
                           trigger_node="hook")
        assert writes == ["INSERT"]
        assert jobs.run_claimed(recorded, run.id) == "succeeded"
    finally:
        event.remove(recorded.engine, "before_cursor_execute", seen)
    assert writes == ["INSERT", "UPDATE", "UPDATE"]  # the claim and the end: the reply made no write of its own
    names = [name for name, _ in recorded.events.events]
    assert names.index("run.replied") < names.index("run.finished")
    replied = dict(recorded.events.events)["run.replied"]
    assert replied["reply"] == {"status": 201, "body": {"got": "R-1"}, "headers": {}}
    assert (replied["run_id"], replied["status"], replied["flow_id"]) == (run.id, "running", "f-reply")
    finished = dict(recorded.events.events)["run.finished"]
    assert finished["status"] == "succeeded" and "output" in finished
    with recorded.sessions() as s:
        assert s.get(Run, run.id).reply == replied["reply"]  # stored with the end write


def test_the_finished_event_carries_a_small_output_only(make_settings, workspace):
    from runtime.wiring import Runtime

    rt = Runtime(make_settings(step_payload_limit=100), events=Recorder())
    try:
        rt.ensure_workspace(workspace)
        doc = {"schema": "crossdock.flow/1", "id": "f-out", "name": "f-out",
               "nodes": [{"id": "start", "type": "event.manual"},
                         {"id": "map", "type": "transform.map", "config": {"expression": "{'v': v}"}}, done()],
               "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}
        version = _deploy(rt, workspace, doc)
        small = intake.start(rt, workspace, "f-out", version, {"v": 1}, trigger="manual", trigger_node="start")
        big = intake.start(rt, workspace, "f-out", version, {"v": "x" * 2000}, trigger="manual",
                           trigger_node="start")
        assert jobs.run_claimed(rt, small.id) == jobs.run_claimed(rt, big.id) == "succeeded"
        ends = {d["run_id"]: d for name, d in rt.events.events if name == "run.finished"}
        assert ends[small.id]["output"] == {"v": 1} and "output" not in ends[big.id]
    finally:
        rt.close()


def test_same_key_runs_execute_in_arrival_order_across_two_workers_without_enqueue_loops(rt, client, workspace,
                                                                                         http_target, monkeypatch):
    """Real worker threads (2, embedded and Redis): a run that finds an earlier run of its key open does
    nothing more; the earlier run hands over to it when it ends. So each run is enqueued at intake and at
    most once more (its hand-over). The first run's end waits until the other worker found the second
    run waiting, so the hand-over is exercised on every test run."""
    version = deploy(client, http_sink("f-keys", http_target.url, sequence_key="order.number"))
    enqueued: list[int] = []
    enqueue_run, enqueue_runs = rt.queue.enqueue_run, rt.queue.enqueue_runs

    def counted(run_id, delay_s=0.0):
        enqueued.append(run_id)
        enqueue_run(run_id, delay_s)

    def counted_many(run_ids):
        enqueued.extend(run_ids)
        enqueue_runs(run_ids)

    results: list[tuple[int, str]] = []
    waited, first_end = threading.Event(), threading.Lock()
    run_claimed, run_batch, finish, finish_many = jobs.run_claimed, jobs.run_batch, ends.finish, ends.finish_many

    def seen(run_id, result):
        results.append((run_id, result))
        if result == "waiting":
            waited.set()

    def observed(rt_, run_id):  # a job of one run (production; embedded when one run waits)
        result = run_claimed(rt_, run_id)
        seen(run_id, result)
        return result

    def observed_batch(rt_, run_ids):  # the embedded queue's job when several runs wait
        out = run_batch(rt_, run_ids)
        for run_id, result in zip(run_ids, out):
            seen(run_id, result)
        return out

    def first_end_waits():
        if first_end.acquire(blocking=False):  # the first run to end: only once another run waited on it
            assert waited.wait(10)

    def held_finish(rt_, row, outcome, reply=None):
        first_end_waits()
        return finish(rt_, row, outcome, reply)

    def held_finish_many(rt_, ended):
        first_end_waits()
        return finish_many(rt_, ended)

    monkeypatch.setattr(rt.queue, "enqueue_run", counted)
    monkeypatch.setattr(rt.queue, "enqueue_runs", counted_many)
    monkeypatch.setattr(jobs, "run_claimed", observed)
    monkeypatch.setattr(jobs, "run_batch", observed_batch)
    monkeypatch.setattr(ends, "finish_many", held_finish_many)
    monkeypatch.setattr(ends, "finish", held_finish)
    started = [intake.start(rt, workspace, "f-keys", version, order("K-1", qty), trigger="webhook",
                            trigger_node="hook").id for qty in range(1, 9)]
    wait_for(lambda: len(http_target.requests) == 8, 15)
    assert [r["body"]["qty"] for r in http_target.requests] == list(range(1, 9))
    wait_for(lambda: all(r.status == "succeeded" for r in _rows(rt, started)), 10)
    ended = sorted(_rows(rt, started), key=lambda r: (r.finished_at, r.id))
    assert [r.id for r in ended] == started and all(r.attempt == 1 for r in ended)  # in order, each once
    assert sorted(i for i, result in results if result == "succeeded") == started
    assert any(result == "waiting" for _, result in results)
    assert all(enqueued.count(i) <= 2 for i in started), enqueued  # intake, and at most one hand-over
    assert enqueued.count(started[0]) == 1 and len(enqueued) <= 2 * len(started) - 1


def _rows(rt, ids):
    with rt.sessions() as s:
        return s.scalars(select(Run).where(Run.id.in_(ids))).all()


def test_a_waiting_run_is_not_lost_nor_enqueued_by_recovery_while_its_predecessor_is_open(inline_rt, workspace,
                                                                                           http_target):
    version = _deploy(inline_rt, workspace, http_sink("f-wait", http_target.url, sequence_key="order.number"))
    first = intake.start(inline_rt, workspace, "f-wait", version, order("W-1", 1), trigger="manual")
    second = intake.start(inline_rt, workspace, "f-wait", version, order("W-1", 2), trigger="manual")
    inline_rt.queue.clear()
    assert jobs.run_claimed(inline_rt, second.id) == "waiting"  # its job ends; nothing is enqueued again
    assert second.id not in inline_rt.queue.held_run_ids(0.0)
    jobs.requeue_lost(inline_rt)  # recovery leaves it: its predecessor is open and will hand over
    held = inline_rt.queue.held_run_ids(0.0)
    assert first.id in held and second.id not in held
    inline_rt.queue.clear()
    assert jobs.run_claimed(inline_rt, first.id) == "succeeded"
    assert second.id in inline_rt.queue.held_run_ids(0.0)  # handed over
    assert jobs.run_claimed(inline_rt, second.id) == "succeeded"


@pytest.fixture
def inline_rt(make_settings, workspace, request):
    from runtime.wiring import Runtime

    runtime = Runtime(make_settings(lost_job_after_s=0.0))
    runtime.ensure_workspace(workspace)
    if "http_target" in request.fixturenames:  # a loopback Recorder, which the egress policy refuses unless allowed
        from runtime import egress

        egress.allow_origin(runtime, workspace, request.getfixturevalue("http_target").url)
    yield runtime
    runtime.close()


def test_each_message_is_stored_once_per_run_and_read_back_whole_in_every_step(recorded, workspace):
    """webhook -> map -> choice -> map `$` -> discard: the order and the mapped document are each stored
    once; the other five copies are references that the run detail and a replay from a step resolve."""
    doc = {"schema": "crossdock.flow/1", "id": "f-refs", "name": "f-refs",
           "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "f-refs"}},
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': order.number}"}},
                     {"id": "route", "type": "branch.choice", "config": {"rules": [{"port": "x", "when": "ref = 'X'"}]}},
                     {"id": "same", "type": "transform.map", "config": {"expression": "$"}}, done()],
           "edges": [edge(1, "hook", "map"), edge(2, "map", "route"), edge(3, "route", "same", "otherwise"),
                     edge(4, "route", "done", "x"), edge(5, "same", "done")]}
    version = _deploy(recorded, workspace, doc)
    message = order("R-7", 2, 3)
    run = intake.start(recorded, workspace, "f-refs", version, message, trigger="webhook", trigger_node="hook")
    assert jobs.run_claimed(recorded, run.id) == "succeeded"
    with recorded.engine.connect() as conn:
        rows = conn.execute(select(Step.seq, Step.input, Step.input_ref, Step.output, Step.output_ref)
                            .where(Step.run_id == run.id).order_by(Step.seq)).all()
    stored = [(r.seq, kind) for r in rows for kind, value in (("input", r.input), ("output", r.output))
              if value is not None]
    assert stored == [(2, "output")]  # the mapped document; the order itself is the run's input
    assert [r.input_ref for r in rows] == ["run.input", "run.input", "2.output", "2.output", "2.output"]
    assert [r.output_ref for r in rows] == ["run.input", None, "2.output", "2.output", None]
    detail = history.get_run(recorded, workspace, run.id)
    mapped = {"ref": "R-7"}
    assert [(s["input"], s["output"]) for s in detail["steps"]] == [
        (message, message), (message, mapped), (mapped, mapped), (mapped, mapped), (mapped, None)]
    replayed = replay.start(recorded, workspace, run.id, from_node="same")
    with recorded.sessions() as s:
        assert s.get(Run, replayed.id).input == mapped  # the referred message, whole


def test_a_claim_of_a_run_without_a_sequence_key_never_looks_at_earlier_runs(recorded, workspace):
    """The same-key check is skipped for a key-less run: as a bare NOT EXISTS, PostgreSQL scanned every
    earlier run of the flow on each claim (growing with the table)."""
    from sqlalchemy import insert
    from runtime.store import claims
    from runtime.models import utcnow
    rows = [{"workspace": workspace, "flow_id": "f-scan", "version": 1, "status": "succeeded", "trigger": "manual",
             "attempt": 1, "takeovers": 0, "created_at": utcnow()} for _ in range(300)]
    with recorded.engine.begin() as conn:
        conn.execute(insert(Run), rows)
        last = conn.execute(insert(Run).values({**rows[0], "status": "queued", "attempt": 0}).returning(Run.id)).scalar()
    clause = claims.free()
    assert str(clause).count(" OR ") == 1 and "sequence_key IS NULL" in str(clause).split(" OR ")[0]
    with recorded.reader.connect() as conn:  # the claim's condition holds for it: nothing open before it
        assert conn.execute(select(Run.id).where(Run.id == last, clause)).scalar() == last
    if recorded.engine.dialect.name == "postgresql":
        with recorded.reader.connect() as conn:
            plan = "\n".join(conn.exec_driver_sql(
                "EXPLAIN ANALYZE " + str(select(Run.id).where(Run.id == last, clause).compile(
                    recorded.engine, compile_kwargs={"literal_binds": True}))).scalars())
        assert "Anti Join" not in plan and "Rows Removed" not in plan, plan


def test_a_datetime_is_bound_as_the_text_sqlalchemy_makes_of_it():
    """The run store's statements bind SQLite DATETIME values with a faster processor of their own: same text."""
    import datetime as dt

    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from runtime.store.statements import _datetime_text

    dialect = sqlite.dialect()
    impl = DateTime().dialect_impl(dialect)
    theirs = impl.bind_processor(dialect)
    ours = _datetime_text(impl, theirs)
    assert ours is not theirs
    for value in (dt.datetime(2026, 11, 28, 16, 45), dt.datetime(2026, 1, 2, 3, 4, 5, 123456), dt.datetime(999, 1, 1),
                  dt.datetime.now(dt.timezone.utc), dt.date(2026, 1, 1), None):
        assert ours(value) == theirs(value)


def test_wake_makes_a_parked_run_due_now_and_nothing_else(recorded, workspace):
    """A node's Wait parks a run `queued` with a checkpoint and a later not_before; wake makes it due at once.
    A run that is not parked (fresh in the queue, running, finished) is left as it is."""
    import datetime as dt

    from sqlalchemy import update

    from runtime.models import utcnow

    parked, fresh, done = (_run(recorded, workspace) for _ in range(3))
    later = utcnow() + dt.timedelta(hours=1)
    with recorded.sessions.begin() as s:
        s.execute(update(Run).where(Run.id == parked).values(checkpoint={"pending": []}, not_before=later))
        s.execute(update(Run).where(Run.id == done).values(status="succeeded", not_before=later))
    assert runs.wake(recorded, parked) is True
    assert runs.wake(recorded, fresh) is False and runs.wake(recorded, done) is False
    with recorded.sessions() as s:
        rows = {r.id: r for r in s.scalars(select(Run).where(Run.id.in_([parked, fresh, done])))}
    assert rows[parked].not_before <= utcnow() and rows[parked].status == "queued"
    assert rows[done].not_before == later and rows[fresh].not_before is None
