"""Trading partners (issue 15) on both backends: the record and its checks, the per-partner control-number
sequence (unique and never repeated, also across two processes of two threads each), the sent-interchange
register, 997s matched to what was sent, and the sweep that turns an overdue interchange into a dead letter,
with a clock the test holds, and once by the runtime's own maintenance pass."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import threading

import pytest

from nodes.edi import structure
from runtime import db, edi_register, history, trading_partners as tp
from runtime.context import StepContext
from runtime.models import SentInterchange, utcnow
from support import wait_for
from support.services import ONLY_EMBEDDED

T0 = dt.datetime(2026, 11, 28, 12, 0, 0)
ACME = {"partner": {"qualifier": "ZZ", "id": "ACME"}, "us": {"qualifier": "zz", "id": "CROSSDOCK",
                                                             "application_id": "XDOCK"},
        "ack": {"expected": True, "window_minutes": 60}}


def ack_997(functional_id: str, group: int | str, code: str = "A", sets=(("850", "0001", "A"),), set_id="997",
            version="004010") -> dict:
    """A 997 (or 999) record as edi.read emits it: its body is nodes.edi.structure's for the segments."""
    segments = [["AK1", functional_id, str(group)]]
    for sid, control, set_code in sets:
        segments += [["AK2", sid, control], ["IK5" if set_id == "999" else "AK5", set_code]]
    segments.append(["AK9", code, str(len(sets)), str(len(sets)), str(len(sets) if code == "A" else 0)])
    return {"interchange": {"sender_qualifier": "ZZ", "sender_id": "ACME", "control_number": "000000777"},
            "group": {"functional_id": "FA", "control_number": "777", "version": version},
            "set": set_id, "control_number": "0001", "body": structure.to_body(set_id, version, segments)}


@pytest.fixture
def acme(store, workspace):
    tp.save(store, workspace, "acme", ACME)
    return "acme"


def test_a_record_gets_its_defaults_and_reads_back(store, workspace, acme):
    got = tp.get(store, workspace, acme)
    assert got["partner"] == {"qualifier": "ZZ", "id": "ACME", "application_id": "ACME"}  # GS id: the ISA id
    assert got["us"] == {"qualifier": "ZZ", "id": "CROSSDOCK", "application_id": "XDOCK"}  # qualifier upper-cased
    assert (got["version"], got["usage"]) == ("004010", "P")
    assert got["delimiters"] == {"element": "*", "segment": "~", "component": ">", "repetition": "^", "suffix": "\n"}
    assert got["ack"] == {"expected": True, "window_minutes": 60}
    assert tp.describe(store, workspace, acme)["last_control_number"] == 0
    assert tp.find(store, workspace, "zz", "ACME") == "acme"
    with pytest.raises(KeyError):
        tp.get(store, workspace, "nobody")
    with pytest.raises(KeyError):
        tp.get(store, "another-workspace", acme)


REFUSED = [
    ({"partner": {"qualifier": "Z", "id": "ACME"}}, "partner.qualifier"),
    ({"partner": {"qualifier": "ZZ", "id": "A" * 16}}, "partner.id"),
    ({"us": {"qualifier": "ZZ", "id": " padded"}}, "us.id"),
    ({"partner": {"qualifier": "ZZ", "id": "AC*ME"}}, "partner.id"),  # the element separator
    ({"delimiters": {"element": "~"}}, "delimiters.element"),  # the segment terminator's default
    ({"delimiters": {"segment": "A"}}, "delimiters.segment"),
    ({"delimiters": {"suffix": "\t"}}, "delimiters.suffix"),
    ({"version": "4010"}, "version"),
    ({"usage": "X"}, "usage"),
    ({"ack": {"window_minutes": 0}}, "ack.window_minutes"),
    ({"ack": {"expected": "maybe"}}, "ack.expected"),
    ({"colour": "red"}, "colour"),
    ({"us": None}, "us"),
    ({"partner": {"qualifier": "ZZ\n", "id": "ACME"}}, "partner.qualifier"),  # no trailing newline slips through
    ({"description": "a\x00b"}, "description"),  # PostgreSQL text holds no NUL: a 400, never a 500
    ({"delimiters": {"segment": "\x00"}}, "delimiters.segment"),
    ({"delimiters": {"element": "€"}}, "delimiters.element"),
]


def test_an_invalid_record_names_its_field(store, workspace):
    for change, field in REFUSED:
        with pytest.raises(tp.InvalidPartner) as err:
            tp.save(store, workspace, "bad", {**ACME, **change})
        assert err.value.field == field, err.value.message
    assert tp.describe(store, workspace, "bad") is None


def test_a_name_is_checked_too(store, workspace):
    for name in ("a b", "acme\n", "x" * 101, ""):
        with pytest.raises(tp.InvalidPartner) as err:
            tp.save(store, workspace, name, ACME)
        assert err.value.field == "name"


def test_control_numbers_count_up_and_never_repeat_after_a_delete(store, workspace, acme):
    numbers = [tp.take_control_number(store.engine, workspace, acme) for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert tp.remove(store, workspace, acme)
    with pytest.raises(KeyError):
        tp.take_control_number(store.engine, workspace, acme)  # no partner, no number
    tp.save(store, workspace, acme, ACME)  # made again under the same name: the sequence carries on
    assert tp.take_control_number(store.engine, workspace, acme) == 4
    tp.save(store, workspace, "other", ACME)
    assert tp.take_control_number(store.engine, workspace, "other") == 1  # each partner its own sequence


def test_the_sequence_can_be_raised_but_never_lowered(store, workspace, acme):
    tp.save(store, workspace, acme, {**ACME, "last_control_number": 41})
    assert tp.take_control_number(store.engine, workspace, acme) == 42
    with pytest.raises(tp.InvalidPartner) as err:
        tp.save(store, workspace, acme, {**ACME, "last_control_number": 10})
    assert err.value.field == "last_control_number"
    assert tp.take_control_number(store.engine, workspace, acme) == 43


def test_the_last_number_is_never_passed(store, workspace, acme):
    tp.save(store, workspace, acme, {**ACME, "last_control_number": tp.MAX_CONTROL_NUMBER - 1})
    assert tp.take_control_number(store.engine, workspace, acme) == tp.MAX_CONTROL_NUMBER
    with pytest.raises(tp.ControlNumbersExhausted):
        tp.take_control_number(store.engine, workspace, acme)


def _take(url: str, schema: str | None, workspace: str, partner: str, per_thread: int, go, out) -> None:
    """A process of its own (forked: the modules are loaded already), with its own engine, taking numbers on
    two threads once the test says go."""
    engine = db.make_engine(url, schema)
    taken: list[int] = []

    def take():
        taken.extend(tp.take_control_number(engine, workspace, partner) for _ in range(per_thread))

    threads = [threading.Thread(target=take) for _ in range(2)]
    go.wait()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    out.send(taken)


def test_two_processes_never_get_the_same_number(store, settings, workspace, acme):
    url = settings.database_url or db.default_sqlite_url(settings.data_dir)
    per_thread = 50
    fork = multiprocessing.get_context("fork")
    go = fork.Event()
    pipes = [fork.Pipe(duplex=False) for _ in range(2)]
    procs = [fork.Process(target=_take, args=(url, settings.database_schema, workspace, acme, per_thread, go, w))
             for _, w in pipes]
    for p in procs:
        p.start()
    go.set()  # both start together
    try:
        taken = [r.recv() if r.poll(120) else None for r, _ in pipes]
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs) and None not in taken
    both = taken[0] + taken[1]
    assert len(both) == 4 * per_thread
    assert sorted(both) == list(range(1, 4 * per_thread + 1))  # each number once, none skipped
    assert tp.take_control_number(store.engine, workspace, acme) == 4 * per_thread + 1


def test_a_997_is_matched_to_the_group_sent(store, workspace, acme):
    edi_register.sent(store, workspace, acme, 5, [{"functional_id": "PO", "control_number": 5, "sets": 1}],
                      origin={"run_id": 9, "flow_id": "orders", "flow_version": 2, "node_id": "write"}, now=T0)
    edi_register.sent(store, workspace, acme, 6, [{"functional_id": "IN", "control_number": 6, "sets": 2}], now=T0)
    matched = edi_register.acknowledged(store, workspace, acme, ack_997("PO", 5), now=T0 + dt.timedelta(minutes=5))
    assert matched == [{"interchange_control_number": 5, "functional_id": "PO", "group_control_number": 5,
                        "status": "accepted", "ack_code": "A", "late": False,
                        "sets": [{"set": "850", "control_number": "0001", "code": "A"}]}]
    listed = {i["control_number"]: i for i in edi_register.interchanges(store, workspace, acme)}
    assert listed[5]["status"] == "acknowledged" and listed[5]["groups"][0]["status"] == "accepted"
    assert (listed[5]["run_id"], listed[5]["flow_id"], listed[5]["node_id"]) == (9, "orders", "write")
    assert listed[6]["status"] == "awaiting" and listed[6]["groups"][0]["status"] == "sent"
    # a rejection, a 997 for a group never sent, one for another functional id: only the first matches
    rejected = ack_997("IN", 6, "R", sets=(("810", "0001", "R"), ("810", "0002", "A")))
    assert [m["status"] for m in edi_register.acknowledged(store, workspace, acme, rejected)] == ["rejected"]
    assert edi_register.acknowledged(store, workspace, acme, ack_997("PO", 99)) == []
    generic = {**ack_997("PO", 5), "body": {"segments": [["AK1", "PO", "5"], ["AK9", "P", "2", "2", "1"]]}}
    assert [m["status"] for m in edi_register.acknowledged(store, workspace, acme, generic)] == ["partially_accepted"]
    five = ack_997("PO", 5, "R", sets=(("850", "0001", "R"),), set_id="999", version="005010")  # 999: IK5
    assert [(m["status"], m["sets"][0]["code"]) for m in edi_register.acknowledged(store, workspace, acme, five)] == [
        ("rejected", "R")]
    assert edi_register.acknowledged(store, workspace, acme, ack_997("SH", 5)) == []
    assert edi_register.acknowledged(store, workspace, "other", ack_997("PO", 5)) == []
    with pytest.raises(edi_register.InvalidRegister):
        edi_register.acknowledged(store, workspace, acme, {"set": "997"})


def test_registering_the_same_interchange_again_changes_nothing(store, workspace, acme):
    groups = [{"functional_id": "PO", "control_number": "7", "sets": [{"set": "850", "control_number": "0001"}]}]
    edi_register.sent(store, workspace, acme, "000000007", groups, now=T0)
    edi_register.sent(store, workspace, acme, 7, groups, now=T0 + dt.timedelta(minutes=1))  # a retried step
    [only] = edi_register.interchanges(store, workspace, acme)
    assert only["sent_at"].startswith("2026-11-28T12:00:00") and len(only["groups"]) == 1
    with pytest.raises(edi_register.InvalidRegister) as err:
        edi_register.sent(store, workspace, acme, 8, [{"functional_id": "PO", "control_number": "x"}])
    assert err.value.field == "groups[0].control_number"
    with pytest.raises(KeyError):
        edi_register.sent(store, workspace, "nobody", 8, groups)


def test_an_unacknowledged_interchange_becomes_a_dead_letter_once_its_window_passes(store, workspace, acme):
    tp.save(store, workspace, "quiet", {**ACME, "ack": {"expected": False}})
    edi_register.sent(store, workspace, acme, 11, [{"functional_id": "SH", "control_number": 11, "sets": 1}],
                      origin={"run_id": 31, "flow_id": "asn-out", "flow_version": 1, "node_id": "to_partner"}, now=T0)
    edi_register.sent(store, workspace, acme, 12, [{"functional_id": "SH", "control_number": 12, "sets": 1}], now=T0)
    edi_register.sent(store, workspace, "quiet", 1, [{"functional_id": "SH", "control_number": 1, "sets": 1}], now=T0)
    edi_register.acknowledged(store, workspace, acme, ack_997("SH", 12), now=T0 + dt.timedelta(minutes=30))

    def letters():  # the sweep covers every workspace: other tests' interchanges may share the database
        return [d for d in history.list_dead_letters(store, workspace) if d["code"] == "ack_overdue"]

    edi_register.sweep_overdue(store, now=T0 + dt.timedelta(minutes=59))
    assert letters() == []
    assert edi_register.sweep_overdue(store, now=T0 + dt.timedelta(minutes=61))
    edi_register.sweep_overdue(store, now=T0 + dt.timedelta(days=9))  # once only; `quiet` expects no 997
    [letter] = letters()
    assert (letter["run_id"], letter["flow_id"], letter["version"], letter["node_id"]) == (31, "asn-out", 1,
                                                                                         "to_partner")
    assert letter["error_class"] == "business" and "000000011" in letter["message"] and "SH 11" in letter["message"]
    assert letter["payload"]["interchange_control_number"] == 11 and letter["payload"]["trading_partner"] == acme
    statuses = {i["control_number"]: i["status"] for i in edi_register.interchanges(store, workspace, acme)}
    assert statuses == {11: "overdue", 12: "acknowledged"}
    # the 997 that comes after all: matched, and said to be late
    [late] = edi_register.acknowledged(store, workspace, acme, ack_997("SH", 11), now=T0 + dt.timedelta(hours=2))
    assert late["late"] is True and late["status"] == "accepted"
    assert letters() == []  # its dead letter is resolved: the 997 answered it
    [resolved] = [d for d in history.list_dead_letters(store, workspace, status="resolved") if d["id"] == letter["id"]]
    assert resolved["resolved_at"] is not None


def test_the_maintenance_pass_finds_an_overdue_interchange(make_settings, workspace):
    from runtime.wiring import Runtime

    rt = Runtime(make_settings(maintenance_s=0.05))
    try:
        rt.ensure_workspace(workspace)
        tp.save(rt, workspace, "acme", ACME)
        edi_register.sent(rt, workspace, "acme", 21, [{"functional_id": "PO", "control_number": 21, "sets": 1}],
                          now=utcnow() - dt.timedelta(minutes=61))
        rt.start_maintenance()
        wait_for(lambda: [d for d in history.list_dead_letters(rt, workspace) if d["code"] == "ack_overdue"])
        with rt.sessions() as s:
            assert s.query(SentInterchange).filter_by(workspace=workspace, control_number=21).one().status == "overdue"
    finally:
        rt.close()


def test_the_step_context_registers_with_its_run_and_node(store, workspace, acme):
    ctx = StepContext(workspace=workspace, flow_id="asn-out", flow_version=3, run_id=77, params={}, ledger=None,
                      business_key=None, root_run_id=77, on_respond=lambda *a: None,
                      trading_partners=lambda step: tp.StepPartners(store, step))
    partners = ctx.at("to_partner", 1).trading_partners
    assert partners.get(acme)["partner"]["id"] == "ACME"
    number = partners.next_control_number(acme)
    partners.sent(acme, number, [{"functional_id": "SH", "control_number": number, "sets": 1}])
    [sent] = edi_register.interchanges(store, workspace, acme)
    assert (sent["control_number"], sent["run_id"], sent["flow_id"], sent["node_id"]) == (number, 77, "asn-out",
                                                                                         "to_partner")
    assert [m["status"] for m in partners.acknowledged(acme, ack_997("SH", number, "E"))] == ["accepted_with_errors"]
    assert partners.find("ZZ", "ACME") == acme


def test_deleting_the_workspace_deletes_its_partners_sequences_and_register(store, workspace, partner, acme):
    from runtime import tenancy

    edi_register.sent(store, workspace, acme, 1, [{"functional_id": "PO", "control_number": 1, "sets": 1}], now=T0)
    tenancy.remove(store, partner, workspace)
    with store.sessions() as s:
        for model in (tp.TradingPartner, tp.ControlNumber, SentInterchange, edi_register.SentGroup):
            assert s.query(model).filter_by(workspace=workspace).count() == 0, model.__tablename__


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)
def test_a_run_writing_an_interchange_numbers_and_registers_it_through_its_step_context(client, rt, workspace):
    """jobs.py gives every step ctx.trading_partners: edi.write in a real run takes the partner's next number
    and registers the interchange with its run, flow and node (embedded: the number is taken under the SQLite
    write lock from a worker thread while the run store writes from others)."""
    from support.api import deploy, finished
    from support.flowdocs import done, edge

    tp.save(rt, workspace, "acme", ACME)
    record = {"set": "204", "body": {"segments": [["B2", "", "SCAC", "", "SH1"]]}}
    deploy(client, {"schema": "crossdock.flow/1", "id": "to-acme",
                    "nodes": [{"id": "start", "type": "event.manual", "config": {"sample": record}},
                              {"id": "write", "type": "edi.write", "config": {"partner": "acme"}}, done()],
                    "edges": [edge(1, "start", "write"), edge(2, "write", "done")]})
    run_id = client.post("/api/v1/flows/to-acme/runs", json={}).json["run"]["id"]
    run = finished(client, run_id)
    assert run["status"] == "succeeded", run["error"]
    assert run["output"]["control_number"] == 1 and "ISA*" in run["output"]["x12"]
    [sent] = edi_register.interchanges(rt, workspace, "acme")
    assert (sent["control_number"], sent["run_id"], sent["flow_id"], sent["node_id"], sent["status"]) == (
        1, run_id, "to-acme", "write", "awaiting")
    assert [(g["functional_id"], g["control_number"]) for g in sent["groups"]] == [("SM", 1)]
