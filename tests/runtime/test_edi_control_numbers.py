"""Issue 15, acceptance 4: interchange control numbers stay unique when two `run.py worker` processes (production
mode: PostgreSQL + Redis) write 500 interchanges for one trading partner through a deployed flow with edi.write.
Every ISA13 and GS06 differs, each interchange reads back valid with the codec's reader, and both processes wrote."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
import redis
from sqlalchemy import select

from nodes.edi import reader, records
from support import processes, wait_for
from support.flowdocs import done, edge
from support.services import BACKENDS

INTERCHANGES = 500



@pytest.fixture
def production(request, tmp_path):
    """The environment of `run.py worker` processes on this run's PostgreSQL schema and a queue of their own,
    a Runtime of the test's own on it (no workers), and a starter for the processes, stopped after the test."""
    from runtime.settings import from_env
    from runtime.wiring import Runtime

    env = processes.production_env(request, tmp_path, "test-edi-control-numbers-key")
    rt = Runtime(from_env(env))
    started = []

    def start():
        started.append(processes.start(["worker"], env, tmp_path / f"worker-{len(started)}.log"))

    start.env, start.rt = env, rt
    yield start
    processes.stop_all(started)  # all asked at once: each waits out its warm shutdown in parallel
    rt.close()


def _shipment(n: int) -> dict:
    """A small 856 whose BSN02 tells the runs apart."""
    return {"set": "856", "body": {"BSN": {"BSN01": "00", "BSN02": f"SH{n:05d}", "BSN03": "20261121",
                                           "BSN04": "1015"},
                                   "HL_loop": [{"HL": {"HL01": "1", "HL03": "S"},
                                                "TD5": [{"TD501": "B", "TD502": "2", "TD503": "UPSN"}]}],
                                   "CTT": {"CTT01": "1"}}}


@pytest.mark.skipif("services" not in BACKENDS, reason="needs the machine's PostgreSQL and Redis")
def test_two_worker_processes_write_500_interchanges_for_one_partner_with_unique_control_numbers(production):
    from runtime import deployments, intake, trading_partners
    from runtime.edi_models import SentInterchange
    from runtime.models import Flow, Run

    rt, workspace = production.rt, "default"
    production()
    production()  # booting while the flow is deployed
    partner, flow_id = f"acme-{uuid.uuid4().hex[:8]}", f"edi-numbers-{uuid.uuid4().hex[:8]}"
    trading_partners.save(rt, workspace, partner, {"partner": {"qualifier": "ZZ", "id": "ACMEHW"},
                                                   "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}})
    doc = {"schema": "crossdock.flow/1", "id": flow_id, "name": "ASN numbers",
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "write", "type": "edi.write", "config": {"partner": partner}},
                     done("the test reads each interchange from its run")],
           "edges": [edge(1, "start", "write"), edge(2, "write", "done")]}
    with rt.sessions.begin() as s:
        s.add(Flow(workspace=workspace, id=flow_id, name=flow_id, document=doc))
    version = deployments.deploy(rt, workspace, flow_id, doc)
    queue = redis.Redis.from_url(production.env["CROSSDOCK_REDIS_URL"])
    # both processes take jobs before there are any, so neither can have drained the queue alone
    wait_for(lambda: queue.scard(f"rq:workers:{production.env['CROSSDOCK_QUEUE']}") >= 2, 60, 0.1)

    ids = [intake.start(rt, workspace, flow_id, version, _shipment(n), trigger="manual").id
           for n in range(INTERCHANGES)]

    def ended():
        with rt.sessions() as s:
            return s.scalar(select(Run.id).where(Run.id.in_(ids), Run.status.in_(("queued", "running")))
                            .limit(1)) is None
    wait_for(ended, 120, 0.2)
    with rt.sessions() as s:
        runs = s.execute(select(Run.status, Run.worker, Run.input, Run.output).where(Run.id.in_(ids))).all()
        registered = s.scalars(select(SentInterchange.control_number).where(
            SentInterchange.workspace == workspace, SentInterchange.partner == partner)).all()
    assert Counter(r.status for r in runs) == {"succeeded": INTERCHANGES}
    assert len({r.worker for r in runs}) == 2  # both processes wrote interchanges

    isa13, gs06 = [], []
    for run in runs:
        reading = reader.read(run.output["x12"])
        assert reading.all_errors() == [], run.output["x12"]
        [record] = records.records(reading)
        assert record["body"] == run.input["body"] and record["interchange"]["receiver_id"] == "ACMEHW"
        isa13.append(int(record["interchange"]["control_number"]))
        gs06.append(int(record["group"]["control_number"]))
        assert run.output["control_number"] == isa13[-1]
    assert len(set(isa13)) == INTERCHANGES and len(set(gs06)) == INTERCHANGES
    assert sorted(registered) == sorted(isa13)  # each registered as sent, once
    assert trading_partners.describe(rt, workspace, partner)["last_control_number"] >= max(isa13)
