"""What the run store gives back for a run it just stored (runtime/store/runs.py `Started`): the new row's
values, and None for the columns a new run has no value in yet, without building an ORM Run per intake."""
from __future__ import annotations

import pytest

from runtime import intake
from runtime.models import Run
from support.flowdocs import http_sink, order


def test_a_started_run_carries_its_row_and_is_no_orm_instance(rt, client, workspace):
    assert client.post("/api/v1/flows", json=http_sink("f-started", "http://127.0.0.1:9/x")).status_code == 201
    assert client.post("/api/v1/flows/f-started/deploy").status_code == 201
    message = order("S-1")
    run = intake.start(rt, workspace, "f-started", 1, message, trigger="webhook", trigger_node="hook")
    assert not isinstance(run, Run)
    assert (run.workspace, run.flow_id, run.version, run.status, run.trigger, run.trigger_node, run.attempt) == (
        workspace, "f-started", 1, "queued", "webhook", "hook", 0)
    assert run.input is message and run.dry_run is False and run.replay_of is None
    assert run.finished_at is None and run.output is None  # columns a new run has no value in
    with rt.sessions() as s:
        stored = s.get(Run, run.id)
        assert (stored.flow_id, stored.status, stored.created_at) == (run.flow_id, "queued", run.created_at)
    with pytest.raises(AttributeError):
        run.no_such_column
