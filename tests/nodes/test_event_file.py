"""event.file: its trigger step (a record out, a malformed row or unreadable file failing at the node with its line),
the runs' inputs it makes of a file, and issue 16's acceptance 5 end to end: a CSV dropped on a real SFTP server (on
127.0.0.1, started by the test) becomes runs that execute, the file moves to the archive folder, and a malformed row
goes out of the error port naming its line while the other rows still flow. The watcher itself:
tests/runtime/test_file_pickups.py."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from marshmallow import ValidationError
from sqlalchemy import select

from nodes import catalog, event_file
from nodes.base import NodeError
from runtime import connections, egress, file_pickups
from runtime.file_models import FilePickup
from runtime.models import DeadLetter, Run, Step, utcnow
from support import wait_for
from support.sftp import SftpServer

from .conftest import FakeContext
from .test_edi_read import PO, read


def config(**extra) -> dict:
    return catalog.load_config(event_file.SPEC, {"connection": "inbox", **extra})


def test_the_trigger_step_sends_the_record_out_and_fails_a_malformed_row_naming_its_line():
    ctx = FakeContext()
    file = {"name": "orders.csv", "folder": "in", "size": 30, "mtime": "2026-11-28T06:00:00+00:00"}
    assert list(event_file.run(config(), {"file": file, "line": 2, "record": {"sku": "A"}}, ctx)) == [
        ("out", {"sku": "A"})]
    with pytest.raises(NodeError) as err:
        list(event_file.run(config(), {"file": file, "line": 3, "error": "1 fields where the header has 2",
                                       "raw": "B"}, ctx))
    assert err.value.code == "malformed_record" and not err.value.retryable
    assert err.value.message == "orders.csv line 3: 1 fields where the header has 2"
    assert err.value.details == {"file": "orders.csv", "line": 3, "error": "1 fields where the header has 2",
                                 "raw": "B"}
    with pytest.raises(NodeError) as err:
        list(event_file.run(config(), {"file": file, "line": None, "error": "not utf-8 text"}, ctx))
    assert err.value.code == "unreadable_file"
    per_file = {"file": file, "lines": [2], "records": [{"sku": "A"}]}
    assert list(event_file.run(config(per="file"), per_file, ctx)) == [
        ("out", {"file": "orders.csv", "records": [{"sku": "A"}]})]


def test_inputs_of_a_file_in_line_order():
    file = {"name": "a.csv"}
    made, unreadable = event_file.inputs(config(), file, b"sku,qty\nA,1\nB\nC,3\n", None)
    assert unreadable is None
    assert [(m.get("line"), m.get("record"), m.get("error"), key) for m, key in made] == [
        (2, {"sku": "A", "qty": "1"}, None, {"sku": "A", "qty": "1"}),
        (3, None, "1 fields where the header has 2", None),
        (4, {"sku": "C", "qty": "3"}, None, {"sku": "C", "qty": "3"})]
    made, unreadable = event_file.inputs(config(max_records=2), file, b"sku\nA\nB\nC\n", None)
    assert unreadable == "the file has more than 2 records (max_records)" and made[0][0]["error"] == unreadable
    made, _ = event_file.inputs(config(format={"kind": "x12"}), file, b"ISA*00~", None)
    assert [m["record"] for m, _ in made] == [{"body": "ISA*00~"}]  # edi.read takes it as it takes a webhook's body


def test_an_x12_file_reaches_edi_read_as_a_webhook_body_does(env, ctx):
    made, _ = event_file.inputs(config(format={"kind": "x12"}), {"name": "po.x12"}, PO.encode(), None)
    [(port, record)] = list(event_file.run(config(format={"kind": "x12"}), made[0][0], ctx))
    got = read(env, ctx, record)
    assert port == "out" and [r["body"]["BEG"]["BEG03"] for r in got["out"]] == ["4711", "4712"]


def test_config_is_checked_naming_the_field():
    for bad, field in (({"folder": "../up"}, "folder"), ({"archive_folder": ""}, "archive_folder"),
                       ({"patterns": []}, "patterns"), ({"patterns": ["a/b"]}, "patterns"),
                       ({"per": "line"}, "per"), ({"format": {"kind": "fixed"}}, "format"),
                       ({"max_records": 10 ** 6}, "max_records")):
        with pytest.raises(ValidationError) as err:
            config(**bad)
        assert field in err.value.messages, bad


@pytest.fixture
def sftp(tmp_path):
    root = tmp_path / "sftp"
    (root / "inbound").mkdir(parents=True)
    server = SftpServer(str(root)).start()
    yield server
    server.stop()


def acceptance_flow() -> dict:
    def edge(i, source, port, target):
        return {"id": f"e{i}", "source": source, "source_port": port, "target": target, "target_port": "in"}
    return {"schema": "crossdock.flow/1", "id": "orders-drop", "name": "Orders dropped on SFTP",
            "nodes": [
                {"id": "pick", "type": "event.file", "config": {
                    "connection": "partner", "folder": "inbound", "patterns": ["*.csv"], "settle_s": 0}},
                {"id": "rows", "type": "connector.file", "config": {
                    "connection": "partner", "folder": "processed", "name": "{{$.order}}-{{$.sku}}.json",
                    "format": {"kind": "jsonl"}}},
                {"id": "errors", "type": "connector.file", "config": {
                    "connection": "partner", "folder": "rejected",
                    "name": "{{$.input.file.name}}-line-{{$.error.details.line}}.json", "format": {"kind": "jsonl"}}}],
            "edges": [edge(1, "pick", "out", "rows"), edge(2, "pick", "error", "errors")]}


def deploy_and_drop(rt, workspace, sftp, doc: dict, text: str) -> list[int]:
    """Deploy `doc`, drop inbound/orders.csv, list the folder once; the runs it started, once they ended."""
    from designer import drafts
    from runtime import deployments

    connections.save(rt, workspace, "partner", sftp.connection())
    egress.allow(rt, workspace, f"127.0.0.1:{sftp.port}")
    drafts.create(rt, workspace, doc)
    version = deployments.deploy(rt, workspace, doc["id"], drafts.load_or_400(doc))
    with open(os.path.join(sftp.root, "inbound", "orders.csv"), "w") as f:
        f.write(text)
    file_pickups.LEASES.ensure(rt, workspace, doc["id"], "pick", utcnow())
    started = file_pickups.pick(rt, workspace, doc["id"], version, "pick", utcnow() + dt.timedelta(seconds=1))

    def ended():
        with rt.sessions() as s:
            runs = s.scalars(select(Run).where(Run.id.in_(started)).order_by(Run.id)).all()
        return runs if all(r.status in ("succeeded", "failed", "dead_lettered") for r in runs) else None

    wait_for(ended)
    return started


def test_a_malformed_row_with_no_error_edge_is_a_dead_letter_naming_its_line(rt, workspace, sftp):
    doc = acceptance_flow()
    doc["nodes"] = doc["nodes"][:2]
    doc["edges"] = doc["edges"][:1]
    started = deploy_and_drop(rt, workspace, sftp, doc, "order,sku,qty\nPO-1,A,2\nPO-1,\"B\n")
    with rt.sessions() as s:
        statuses = s.scalars(select(Run.status).where(Run.id.in_(started)).order_by(Run.id)).all()
        letter = s.scalars(select(DeadLetter).where(DeadLetter.workspace == workspace)).one()
    assert statuses == ["succeeded", "failed"]  # failed with a dead letter: an operator fixes the row and replays
    assert (letter.node_id, letter.code, letter.run_id) == ("pick", "malformed_record", started[1])
    assert letter.message == "orders.csv line 3: unexpected end of data"
    assert letter.payload["line"] == 3 and letter.payload["raw"] == 'PO-1,"B'
    assert os.listdir(os.path.join(sftp.root, "archive")) == ["orders.csv"]


def test_acceptance_5_a_csv_dropped_on_sftp_becomes_runs_and_a_malformed_row_goes_out_of_error(rt, workspace, sftp):
    started = deploy_and_drop(rt, workspace, sftp, acceptance_flow(), "order,sku,qty\nPO-1,A,2\nPO-1,B\nPO-2,C,7\n")
    assert len(started) == 3
    with rt.sessions() as s:
        runs = s.scalars(select(Run).where(Run.id.in_(started)).order_by(Run.id)).all()
    assert [r.status for r in runs] == ["succeeded"] * 3  # the malformed row's run ended where the flow sends it
    # the file moved to the archive folder; the good rows flowed on to where the flow writes them
    assert os.listdir(os.path.join(sftp.root, "inbound")) == []
    assert os.listdir(os.path.join(sftp.root, "archive")) == ["orders.csv"]  # below the connection's folder
    processed = os.path.join(sftp.root, "processed")
    assert sorted(os.listdir(processed)) == ["PO-1-A.json", "PO-2-C.json"]
    with open(os.path.join(processed, "PO-2-C.json")) as f:
        assert json.loads(f.read()) == {"order": "PO-2", "sku": "C", "qty": "7"}
    # the malformed row went out of the error port, naming its line
    assert os.listdir(os.path.join(sftp.root, "rejected")) == ["orders.csv-line-3.json"]
    with open(os.path.join(sftp.root, "rejected", "orders.csv-line-3.json")) as f:
        rejected = json.loads(f.read())
    assert rejected["node"] == "pick" and rejected["error"]["code"] == "malformed_record"
    assert rejected["error"]["message"] == "orders.csv line 3: 2 fields where the header has 3"
    assert rejected["error"]["details"]["raw"] == "PO-1,B"
    with rt.sessions() as s:
        step = s.scalars(select(Step).where(Step.run_id == started[1], Step.node_id == "pick")).one()
        pickup = s.scalars(select(FilePickup).where(FilePickup.workspace == workspace)).one()
    assert step.status == "failed" and step.port == "error"
    assert (pickup.status, pickup.runs, pickup.malformed, pickup.moved_to) == ("archived", 3, 1,
                                                                               "archive/orders.csv")
