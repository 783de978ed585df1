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
