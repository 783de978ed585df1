"""control.throttle: its config and what it does with a token or without one (a stand-in bucket), then in the runtime:
two flows of a workspace calling the sandbox ERP through one target's bucket, on the embedded backend and on
PostgreSQL + Redis, asserted from the ERP's own request log and the run and step rows."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests
import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from designer import drafts
from nodes import catalog, control_throttle
from nodes.base import NodeError, Wait
from runtime import deployments, egress, intake
from runtime.models import Run, Step
from support import wait_for
from support.flowdocs import edge
from support.services import ONLY_EMBEDDED

SPEC = control_throttle.SPEC
JITTER_S = 0.1  # how much more one call may lag its token than another on its way to the ERP (a loaded machine)


@dataclass
class FakeThrottles:
    """ctx.throttles: answers the waits it is given, in turn (0.0: a token), and records each take."""
    answers: list = field(default_factory=lambda: [0.0])
    takes: list = field(default_factory=list)

    def take(self, target, rate_per_s, burst, concurrent=None, hold_s=0.0):
        self.takes.append((target, rate_per_s, burst, concurrent, hold_s))
        return self.answers.pop(0) if self.answers else 0.0


def load(config: dict) -> dict:
    return catalog.load_config(SPEC, config)


def test_config_defaults_burst_to_the_rate_and_bounds_every_field():
    assert load({"target": "erp", "rate_per_s": 10}) == {"target": "erp", "rate_per_s": 10.0, "burst": 10,
                                                         "concurrent": None, "hold_s": 5.0}
    assert load({"target": "erp", "rate_per_s": 0.5})["burst"] == 1  # a token every 2 s, one at a time
    assert load({"target": "erp", "rate_per_s": 2.5, "burst": 7})["burst"] == 7
    for bad, field_name in [({"rate_per_s": 1}, "target"), ({"target": "my erp", "rate_per_s": 1}, "target"),
                            ({"target": "erp"}, "rate_per_s"), ({"target": "erp", "rate_per_s": 0}, "rate_per_s"),
                            ({"target": "erp", "rate_per_s": 1e9}, "rate_per_s"),
                            ({"target": "erp", "rate_per_s": float("inf")}, "rate_per_s"),
                            ({"target": "erp", "rate_per_s": 1, "burst": 0}, "burst"),
                            ({"target": "erp", "rate_per_s": 1, "burst": 10**6}, "burst"),
                            ({"target": "erp", "rate_per_s": 1, "concurrent": 0}, "concurrent"),
                            ({"target": "erp", "rate_per_s": 1, "hold_s": 86400}, "hold_s"),
                            ({"target": "erp", "rate_per_s": 1, "extra": 1}, "extra")]:
        with pytest.raises(ValidationError) as err:
            load(bad)
        assert field_name in err.value.messages, bad


def test_with_a_token_the_message_passes_unchanged(ctx):
    ctx.throttles = FakeThrottles()
    message = {"order": {"number": "4711"}}
    config = load({"target": "erp", "rate_per_s": 10, "burst": 5, "concurrent": 3, "hold_s": 2})
    assert list(control_throttle.run(config, message, ctx)) == [("out", message)]
    assert ctx.throttles.takes == [("erp", 10.0, 5, 3, 2.0)]


def test_without_a_token_the_message_waits_as_long_as_the_bucket_says_and_nothing_passes(ctx):
    ctx.throttles = FakeThrottles(answers=[0.35])
    with pytest.raises(Wait) as wait:
        list(control_throttle.run(load({"target": "erp", "rate_per_s": 10}), {"n": 1}, ctx))
    assert wait.value.after_s == pytest.approx(0.35) and "erp" in wait.value.reason
    assert wait.value.to_dict()["details"] == {"target": "erp", "rate_per_s": 10.0, "burst": 10}


def test_a_context_without_buckets_is_a_node_error(ctx):
    with pytest.raises(NodeError) as err:
        list(control_throttle.run(load({"target": "erp", "rate_per_s": 10}), {}, ctx))
    assert err.value.code == "throttle_unavailable"


# -- in the runtime ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    from sandbox.serve import start_in_thread

    server = start_in_thread("127.0.0.1", 0, f"sqlite:///{tmp_path_factory.mktemp('sbx')}/sandbox.sqlite")
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def flow(flow_id: str, sandbox: str, rate: float, burst: int) -> dict:
    """manual -> throttle (target erp) -> GET an ERP item; the ERP's answer leaves the flow."""
    return {"schema": "crossdock.flow/1", "id": flow_id, "name": flow_id,
            "nodes": [{"id": "start", "type": "event.manual"},
                      {"id": "throttle", "type": "control.throttle",
                       "config": {"target": "erp", "rate_per_s": rate, "burst": burst}},
                      {"id": "erp", "type": "connector.http",
                       "config": {"method": "GET", "url": f"{sandbox}/erp/api/items/HW-20620-C"}}],
            "edges": [edge(1, "start", "throttle"), edge(2, "throttle", "erp")]}


def erp_requests(sandbox: str, since: float) -> list[float]:
    answer = requests.get(f"{sandbox}/_requests", params={"system": "erp", "since": since}, timeout=10)
    log = answer.json()["requests"]
    return sorted(r["at"] for r in log if r["path"] == "/erp/api/items/HW-20620-C")


def assert_bucket_bound(arrivals: list[float], rate: float, burst: int, jitter_s: float) -> None:
    """Any span of T seconds holds at most burst + rate x T takes; an arrival lags its take by up to jitter_s."""
    for i, first in enumerate(arrivals):
        for j in range(i, len(arrivals)):
            assert j - i + 1 <= burst + rate * (arrivals[j] - first + jitter_s), (i, j, arrivals)


def test_two_flows_of_a_workspace_share_the_targets_bucket_and_waiting_runs_do_not_fail(rt, workspace, sandbox):
    rate, burst, per_flow = 5.0, 2, 4
    egress.allow_origin(rt, workspace, sandbox)
    versions = {}
    for flow_id in ("orders-a", "orders-b"):
        doc = flow(flow_id, sandbox, rate, burst)
        drafts.create(rt, workspace, doc)
        versions[flow_id] = deployments.deploy(rt, workspace, flow_id, drafts.load_or_400(doc))
    since = time.time()
    ids = [intake.start(rt, workspace, flow_id, version, {"n": n}, trigger="manual").id
           for n in range(per_flow) for flow_id, version in versions.items()]

    def ended():
        with rt.sessions() as s:
            return s.scalar(select(Run.id).where(Run.id.in_(ids), Run.status.in_(("queued", "running")))
                            .limit(1)) is None
    wait_for(ended, 60, 0.1)
    with rt.sessions() as s:
        statuses = s.scalars(select(Run.status).where(Run.id.in_(ids))).all()
        steps = s.execute(select(Step.run_id, Step.node_id, Step.status, Step.output).where(Step.run_id.in_(ids))).all()
    assert statuses == ["succeeded"] * len(ids)
    arrivals = erp_requests(sandbox, since)
    assert len(arrivals) == len(ids)  # one call a message: a token neither lost nor taken twice over its parks
    assert sorted(r for r, node, status, _ in steps if node == "erp" and status == "succeeded") == sorted(ids)
    waiting = [output for _, node, status, output in steps if node == "throttle" and status == "waiting"]
    assert waiting, "8 messages through a bucket of 2 at 5/s: some must have waited"
    assert all(w["waiting"]["details"]["target"] == "erp" and w["waiting"]["after_s"] > 0 for w in waiting)
    # 8 calls with burst 2 at 5/s take 1.2 s at least (the whole bucket: both flows' calls together)
    assert arrivals[-1] - arrivals[0] >= (len(ids) - burst) / rate - JITTER_S
    assert_bucket_bound(arrivals, rate, burst, JITTER_S)


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_the_embedded_defaults_executor_processes_share_the_bucket_row(settings, workspace, sandbox):
    """run.py's embedded default: the runs execute in 2 executor processes, each taking from the SQLite row."""
    from dataclasses import replace

    from runtime.wiring import Runtime

    rate, burst, count = 5.0, 2, 8
    rt = Runtime(replace(settings, executors=2))
    try:
        rt.ensure_workspace(workspace)
        egress.allow_origin(rt, workspace, sandbox)
        doc = flow("orders-x", sandbox, rate, burst)
        drafts.create(rt, workspace, doc)
        version = deployments.deploy(rt, workspace, doc["id"], drafts.load_or_400(doc))
        rt.start_executors()
        since = time.time()
        ids = [intake.start(rt, workspace, doc["id"], version, {"n": n}, trigger="manual").id for n in range(count)]

        def statuses():
            with rt.read_sessions() as s:
                return s.scalars(select(Run.status).where(Run.id.in_(ids))).all()
        wait_for(lambda: set(statuses()) <= {"succeeded", "failed"}, 60, 0.1)
        assert statuses() == ["succeeded"] * count
        with rt.read_sessions() as s:
            workers = set(s.scalars(select(Run.worker).where(Run.id.in_(ids))).all())
        assert len(workers) == 2, workers  # both executors took runs
    finally:
        rt.close()
    arrivals = erp_requests(sandbox, since)
    assert len(arrivals) == count
    assert arrivals[-1] - arrivals[0] >= (count - burst) / rate - JITTER_S
    assert_bucket_bound(arrivals, rate, burst, JITTER_S)
