"""The end write of a batch on PostgreSQL goes in a pipeline (runtime/store/writer.py: BEGIN, the fenced
UPDATEs, the steps and COMMIT in two round trips): it is still one transaction, so a statement that fails
anywhere in it stores nothing of the batch, and the writer's next write works on a clean connection."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from runtime import deployments, intake, jobs
from runtime.models import Flow, Run, Step
from runtime.store import claims, ends
from support import services
from support.flowdocs import done, edge, order

pytestmark = pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)


@pytest.fixture
def end_rt(settings, workspace):
    """A Runtime without worker threads, with a deployed manual flow."""
    from runtime.wiring import Runtime

    rt = Runtime(settings)
    rt.ensure_workspace(workspace)
    doc = {"schema": "crossdock.flow/1", "id": "f-end", "name": "f-end",
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "map", "type": "transform.map", "config": {"expression": "{'ref': order.number}"}},
                     done()],
           "edges": [edge(1, "start", "map"), edge(2, "map", "done")]}
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id="f-end", name="f-end", document=doc))
    deployments.deploy(rt, workspace, "f-end", doc)
    yield rt
    rt.close()


def _executed(rt, workspace, n):
    ids = [intake.start(rt, workspace, "f-end", 1, order("E-1", i + 1), trigger="manual").id for i in range(n)]
    rt.queue.clear()
    rows, _ = claims.claim_many(rt, ids)
    return ids, [(row, jobs._execute(rt, row, []), None) for row in rows]


def _state(rt, ids):
    with rt.sessions() as s:
        statuses = [s.get(Run, i).status for i in ids]
        steps = s.execute(select(Step.run_id).where(Step.run_id.in_(ids))).all()
    return statuses, len(steps)


def test_a_failing_statement_in_the_pipelined_end_write_stores_nothing_of_the_batch(end_rt, workspace):
    ids, ended = _executed(end_rt, workspace, 3)
    good = ended[1][1].steps[0]["node_id"]
    ended[1][1].steps[0]["node_id"] = "x" * 100  # longer than the column: PostgreSQL refuses the steps' INSERT
    with pytest.raises(DBAPIError):
        ends.finish_many(end_rt, ended)
    assert _state(end_rt, ids) == (["running"] * 3, 0)  # the UPDATEs before it were rolled back with it
    ended[1][1].steps[0]["node_id"] = good
    stored = ends.finish_many(end_rt, ended)
    assert [e.status for e in stored] == ["succeeded"] * 3
    assert _state(end_rt, ids) == (["succeeded"] * 3, 9)


def test_a_run_whose_lease_was_taken_over_stores_nothing_while_the_others_of_the_pipeline_do(end_rt, workspace):
    ids, ended = _executed(end_rt, workspace, 3)
    with end_rt.engine.begin() as conn:  # another worker took the second run over meanwhile
        conn.execute(Run.__table__.update().where(Run.id == ids[1]).values(attempt=Run.attempt + 1))
    stored = ends.finish_many(end_rt, ended)
    assert [e and e.status for e in stored] == ["succeeded", None, "succeeded"]
    assert _state(end_rt, ids) == (["succeeded", "running", "succeeded"], 6)


def test_the_steps_of_a_batch_go_in_one_statement_and_read_back_as_written(end_rt, workspace):
    """PostgreSQL: INSERT .. SELECT FROM unnest(one array per column), not an executemany (a statement per row)."""
    from sqlalchemy import event

    from runtime import history

    ids, ended = _executed(end_rt, workspace, 3)
    ended[0][1].steps[0]["duration_ms"] = 3  # an int in a float column, beside floats and None
    inserts = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.upper().startswith("INSERT INTO STEPS"):
            inserts.append(executemany)

    event.listen(end_rt.engine, "before_cursor_execute", seen)
    try:
        assert [e.status for e in ends.finish_many(end_rt, ended)] == ["succeeded"] * 3
    finally:
        event.remove(end_rt.engine, "before_cursor_execute", seen)
    assert inserts == [False]
    run = history.get_run(end_rt, workspace, ids[0])
    steps = run["steps"]
    assert [s["node_id"] for s in steps] == ["start", "map", "done"]
    assert steps[1]["output"] == {"ref": "E-1"} and steps[0]["duration_ms"] == 3.0
    assert all(s["status"] == "succeeded" and s["truncated"] is False for s in steps)
    assert steps[1]["input"] == steps[0]["output"]  # stored once, by reference (input_ref)


def test_unnested_step_rows_store_what_an_executemany_of_the_same_rows_stores(end_rt, workspace):
    import datetime as dt

    from sqlalchemy import text

    from runtime.db import JsonText
    from runtime.store.statements import Prepared, Unnested

    ids, _ = _executed(end_rt, workspace, 2)
    now = dt.datetime(2026, 1, 2, 3, 4, 5, 678901)
    rows = [{**ends.STEP_DEFAULTS, "seq": 1, "node_id": "a", "node_type": "t", "status": "succeeded", "attempt": 1,
             "started_at": now, "input": JsonText('{"é":"x\\"y","n":[1,2.5,null]}'), "output": {"k": None, "d": "2"},
             "error": None, "duration_ms": 3, "finished_at": now, "port": "out"},
            {**ends.STEP_DEFAULTS, "seq": 2, "node_id": "b", "node_type": "t", "status": "failed", "attempt": 2,
             "started_at": now, "input": "text", "output": 7, "error": {"code": "x"}, "truncated": True,
             "duration_ms": 1.25, "input_ref": "run.input"}]
    with end_rt.engine.begin() as conn:
        Prepared(Step.__table__.insert()).many(conn, [{**r, "run_id": ids[0]} for r in rows])
        Unnested(Step.__table__).many(conn, [{**r, "run_id": ids[1]} for r in rows])
    columns = ", ".join(c.name if c.name not in ("input", "output", "error") else f"{c.name}::text"
                        for c in Step.__table__.columns if c.name not in ("id", "run_id"))
    with end_rt.engine.connect() as conn:
        stored = [conn.execute(text(f"SELECT {columns} FROM steps WHERE run_id = :r ORDER BY seq"), {"r": i}).all()
                  for i in ids]
    assert stored[0] == stored[1] and len(stored[0]) == 2
