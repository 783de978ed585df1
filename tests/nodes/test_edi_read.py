"""edi.read: an interchange -> one record per accepted set on `out`, a 997 per received group on `ack`, faults on
`error` naming the segment and its position; received 997s matched through ctx.trading_partners."""
from __future__ import annotations

import marshmallow
import pytest

from nodes import catalog, edi_read, edi_write
from nodes.base import NodeError
from runtime import trading_partners
from support import wait_for
from support.services import ONLY_EMBEDDED
from support.flowdocs import edge

PO = ("ISA*00*          *00*          *ZZ*ACMEHW         *ZZ*CROSSDOCK      *261120*0930*U*00401*000000101*0*P*>~\n"
      "GS*PO*ACMEHW*CROSSDOCK*20261120*0930*101*X*004010~\n"
      "ST*850*0001~\nBEG*00*SA*4711**20261120~\nPO1*1*10*CS*62.40**VP*HW-20620-C~\nCTT*1~\nSE*5*0001~\n"
      "ST*850*0002~\nBEG*00*SA*4712**20261120~\nPO1*1*4*DZ*35.88**VP*HW-87462-D~\nCTT*1~\nSE*5*0002~\n"
      "GE*2*101~\nIEA*1*000000101~\n")


ACK_855 = {"set": "855", "body": {"BAK": {"BAK01": "00", "BAK02": "AC", "BAK03": "4711", "BAK04": "20261121"}}}


def answer(x12: str) -> str:
    """The partner's 997 accepting the 855 interchange we sent it (x12, as edi.write wrote it)."""
    return (x12.replace("*ZZ*CROSSDOCK      *ZZ*ACMEHW         *", "*ZZ*ACMEHW         *ZZ*CROSSDOCK      *")
            .replace("GS*PR*CROSSDOCK*ACMEHW", "GS*FA*ACMEHW*CROSSDOCK")
            .replace("ST*855*0001~\nBAK*00*AC*4711*20261121~\nSE*3*0001",
                     "ST*997*0001~\nAK1*PR*1~\nAK9*A*1*1*1~\nSE*4*0001"))


def node(env, **config):
    return edi_read.prepare(catalog.load_config(edi_read.SPEC, config), env)


def read(env, ctx, message, **config):
    emitted = list(edi_read.run(node(env, **config), message, ctx))
    by_port: dict[str, list] = {}
    for port, out in emitted:
        by_port.setdefault(port, []).append(out)
    return by_port


def test_each_set_goes_out_as_a_record_and_the_group_gets_an_accepting_997(env, ctx):
    got = read(env, ctx, PO)
    assert set(got) == {"out", "ack"}
    assert [r["body"]["BEG"]["BEG03"] for r in got["out"]] == ["4711", "4712"]
    first = got["out"][0]
    assert first["partner"] == "acme"  # found by the ISA sender ZZ/ACMEHW
    assert first["set"] == "850" and first["control_number"] == "0001"
    assert first["interchange"]["control_number"] == "000000101" and first["group"]["control_number"] == "101"
    [ack] = got["ack"]
    assert ack["set"] == "997" and ack["partner"] == "acme"
    assert ack["body"]["AK1"] == {"AK101": "PO", "AK102": "101"}
    assert ack["body"]["AK9"] == {"AK901": "A", "AK902": "2", "AK903": "2", "AK904": "2"}


@pytest.mark.parametrize("message", [
    {"body": PO, "content_type": "application/edi-x12"},  # a webhook's non-JSON post
    {"x12": PO, "partner": "acme"},  # edi.write's output
    PO.encode("cp037"),  # EBCDIC bytes, recognised by the reader
])
def test_the_text_is_found_in_a_webhook_body_or_an_edi_write_output(env, ctx, message):
    assert len(read(env, ctx, message)["out"]) == 2


def test_a_set_whose_count_is_wrong_is_rejected_by_name_and_position_while_its_neighbour_goes_on(env, ctx):
    got = read(env, ctx, PO.replace("SE*5*0002", "SE*7*0002"))
    assert [r["body"]["BEG"]["BEG03"] for r in got["out"]] == ["4711"]
    [failure] = got["error"]
    assert failure["error"]["code"] == "se_count_mismatch" and failure["node"] == ctx.node_id
    assert failure["error"]["details"]["segment"] == "SE" and failure["error"]["details"]["position"] == 12
    assert failure["error"]["details"]["element"] == "SE01"
    assert failure["input"]["set"] == "850" and failure["input"]["control_number"] == "0002"
    [ack] = got["ack"]
    assert ack["body"]["AK9"]["AK901"] == "P" and ack["body"]["AK9"]["AK904"] == "1"
    rejected = ack["body"]["AK2_loop"][1]
    assert rejected["AK5"]["AK501"] == "R" and rejected["AK3_loop"][0]["AK3"]["AK301"] == "SE"


def test_a_control_number_mismatch_in_the_iea_rejects_the_interchange_and_names_the_iea(env, ctx):
    got = read(env, ctx, PO.replace("IEA*1*000000101", "IEA*1*000000102"))
    assert "out" not in got
    [failure] = got["error"]
    assert failure["error"]["code"] == "iea_control_number_mismatch"
    assert (failure["error"]["details"]["segment"], failure["error"]["details"]["position"]) == ("IEA", 14)
    assert got["ack"][0]["body"]["AK9"]["AK901"] == "R"


def test_a_group_count_mismatch_rejects_its_sets_and_names_the_ge(env, ctx):
    got = read(env, ctx, PO.replace("GE*2*101", "GE*3*101"))
    assert "out" not in got and got["error"][0]["error"]["code"] == "ge_count_mismatch"
    assert got["error"][0]["error"]["details"]["segment"] == "GE"
    assert got["ack"][0]["body"]["AK9"]["AK901"] == "R"


@pytest.mark.parametrize("text, code", [("", "isa_missing"), ("hello", "isa_missing"), ("ISA", "isa_invalid"),
                                        ("ISA*00*\x00", "isa_invalid")])
def test_what_is_no_interchange_at_all_fails_the_step_naming_the_isa(env, ctx, text, code):
    with pytest.raises(NodeError) as err:
        read(env, ctx, text)
    assert (err.value.code, err.value.field, err.value.retryable) == (code, "text", False)
    assert err.value.details["segment"] == "ISA" and err.value.details["position"] == 1


def test_text_after_the_last_interchange_is_an_error_after_its_sets(env, ctx):
    got = read(env, ctx, PO + "garbage")
    assert len(got["out"]) == 2 and got["error"][0]["error"]["code"] == "trailing_data"


def test_a_message_without_text_is_refused(env, ctx):
    for message in ({"order": 1}, 5, None, {"body": {"a": 1}}):
        with pytest.raises(NodeError) as err:
            read(env, ctx, message)
        assert (err.value.code, err.value.field) == ("not_text", "text")


def test_a_received_997_is_matched_to_what_was_sent_and_is_not_acknowledged(env, ctx):
    writer = edi_write.prepare(catalog.load_config(edi_write.SPEC, {"partner": "acme"}), env)
    [(_, sent)] = list(edi_write.run(writer, ACK_855, ctx))
    got = read(env, ctx, answer(sent["x12"]))
    assert set(got) == {"out"}
    [record] = got["out"]
    assert record["set"] == "997" and record["partner"] == "acme"
    assert record["acknowledges"] == [{"interchange_control_number": 1, "functional_id": "PR",
                                       "group_control_number": 1, "status": "accepted"}]
    assert ctx.trading_partners.acks == [("acme", {k: v for k, v in record.items() if k != "acknowledges"})]


def test_a_997_the_register_cannot_read_goes_to_error_and_the_others_go_on(env, ctx, monkeypatch):
    def refuse(partner, ack):
        raise ValueError("groups[0].control_number must be a number")
    monkeypatch.setattr(ctx.trading_partners, "acknowledged", refuse)
    text = PO.replace("GS*PO", "GS*FA").replace("ST*850", "ST*997")
    got = read(env, ctx, text)
    assert "out" not in got and "ack" not in got
    assert [f["error"]["code"] for f in got["error"]] == ["ack_unreadable", "ack_unreadable"]
    second = got["error"][1]["error"]
    assert second["details"]["position"] == 8 and "must be a number" in second["message"]


def test_a_997_from_a_sender_that_is_no_partner_passes_unmatched(env, ctx):
    text = PO.replace("ACMEHW         ", "STRANGER       ").replace("GS*PO", "GS*FA").replace("ST*850", "ST*997")
    got = read(env, ctx, text)
    assert all(r["partner"] is None and r["acknowledges"] == [] for r in got["out"]) and "ack" not in got
    assert any("not matched" in line for line in ctx.logs)


def test_the_partner_can_be_named_and_acknowledging_turned_off(env, ctx):
    ctx.params = {"partner": "acme-east"}
    got = read(env, ctx, PO, partner="{{partner}}", acknowledge=False)
    assert set(got) == {"out"} and {r["partner"] for r in got["out"]} == {"acme-east"}
    port = next(p for p in edi_read.SPEC.outputs if p.name == "ack")
    assert port.unused({"acknowledge": False}) and not port.unused({"acknowledge": True})


def test_text_from_an_expression(env, ctx):
    got = read(env, ctx, {"payload": {"edi": PO}}, text="payload.edi")
    assert len(got["out"]) == 2


def test_what_edi_write_wrote_reads_back_to_the_same_body(env, ctx):
    body = {"BAK": {"BAK01": "00", "BAK02": "AC", "BAK03": "4711", "BAK04": "20261121"},
            "PO1_loop": [{"PO1": {"PO101": "1", "PO102": "10", "PO103": "CS"},
                          "ACK": [{"ACK01": "IA", "ACK02": "10", "ACK03": "CS"}]}], "CTT": {"CTT01": "1"}}
    writer = edi_write.prepare(catalog.load_config(edi_write.SPEC, {"partner": "acme"}), env)
    [(_, sent)] = list(edi_write.run(writer, {"set": "855", "body": body}, ctx))
    got = read(env, ctx, sent, partner="acme")
    assert [r["body"] for r in got["out"]] == [body] and "error" not in got


def test_the_config_it_refuses(env):
    for config in ({"acknowledge": "yes"}, {"partner": "{{x"}, {"text": 1}, {"from": "acme"}):
        with pytest.raises(marshmallow.ValidationError):
            catalog.load_config(edi_read.SPEC, config)
    with pytest.raises(NodeError) as err:
        node(env, text="payload.(")
    assert err.value.field == "text"
    assert edi_read.SPEC.category == "edi" and [p.name for p in edi_read.SPEC.outputs] == ["out", "ack", "error"]


def _flow() -> dict:
    """webhook -> edi.read; its sets end the flow, its 997s go through edi.write back to the sending partner."""
    end = {"type": "control.discard", "config": {"reason": "the test reads the run"}}
    return {"schema": "crossdock.flow/1", "id": "edi-in",
            "nodes": [{"id": "hook", "type": "event.webhook", "config": {"path": "edi-in"}},
                      {"id": "read", "type": "edi.read"},
                      {"id": "write", "type": "edi.write", "config": {"partner": "{{$.partner}}"}},
                      {"id": "orders", **end}, {"id": "acks", **end}],
            "edges": [edge(1, "hook", "read"), edge(2, "read", "orders"), edge(3, "read", "write", "ack"),
                      edge(4, "write", "acks")]}


POSTS = [(PO.encode(), "application/edi-x12", "4712"), (PO.encode(), "text/plain", "4712"),
         (PO.replace("4712", "47é2").encode("latin-1"), "application/edi-x12", "47é2"),  # X12 names no charset
         (PO.encode("cp037"), "application/edi-x12", "4712")]  # EBCDIC, recognised by its ISA


def test_an_x12_post_to_a_webhook_reaches_the_flow_and_its_997_is_written_for_the_sender(rt, client, workspace):
    trading_partners.save(rt, workspace, "acme", {"partner": {"qualifier": "ZZ", "id": "ACMEHW"},
                                                  "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}})
    assert client.post("/api/v1/flows", json=_flow()).status_code == 201
    assert client.post("/api/v1/flows/edi-in/deploy").status_code == 201, client.get("/api/v1/flows/edi-in").json
    posted = []
    for raw, content_type, second in POSTS:
        r = client.post(f"/hooks/{workspace}/edi-in", data=raw, content_type=content_type)
        assert r.status_code == 202, r.json
        posted.append((r.json["run_id"], second))
    for number, (run_id, second) in enumerate(posted, 1):
        def finished():
            run = client.get(f"/api/v1/runs/{run_id}").json["run"]
            return run if run["status"] in ("succeeded", "failed") else None
        run = wait_for(finished)
        assert run["status"] == "succeeded", run
        orders = [o for o in run["output"] if "set" in o]
        [ack] = [o for o in run["output"] if "x12" in o]
        assert [o["body"]["BEG"]["BEG03"] for o in orders] == ["4711", second]
        assert ack["partner"] == "acme" and ack["control_number"] in range(1, len(POSTS) + 1)
        assert "GS*FA*CROSSDOCK*ACMEHW*" in ack["x12"] and "AK1*PO*101~" in ack["x12"] and "AK9*A*2*2*2~" in ack["x12"]


@pytest.mark.parametrize("backend", ONLY_EMBEDDED, indirect=True)  # the register on PostgreSQL: E3's tests
def test_the_partners_997_for_an_interchange_a_flow_sent_acknowledges_it_in_the_register(rt, client, workspace):
    trading_partners.save(rt, workspace, "acme", {"partner": {"qualifier": "ZZ", "id": "ACMEHW"},
                                                  "us": {"qualifier": "ZZ", "id": "CROSSDOCK"}})
    out = {"schema": "crossdock.flow/1", "id": "edi-out",
           "nodes": [{"id": "start", "type": "event.manual"},
                     {"id": "write", "type": "edi.write", "config": {"partner": "acme"}},
                     {"id": "sent", "type": "control.discard", "config": {"reason": "the test answers it"}}],
           "edges": [edge(1, "start", "write"), edge(2, "write", "sent")]}
    for doc in (out, _flow()):
        assert client.post("/api/v1/flows", json=doc).status_code == 201
        assert client.post(f"/api/v1/flows/{doc['id']}/deploy").status_code == 201

    def finished(run_id):
        run = client.get(f"/api/v1/runs/{run_id}").json["run"]
        return run if run["status"] in ("succeeded", "failed") else None
    started = client.post("/api/v1/flows/edi-out/runs", json={"input": ACK_855}).json["run"]["id"]
    sent = wait_for(lambda: finished(started))
    assert sent["status"] == "succeeded", sent
    awaiting = client.get("/api/v1/trading-partners/acme/interchanges").json["interchanges"]
    assert [(i["control_number"], i["status"]) for i in awaiting] == [(1, "awaiting")]

    r = client.post(f"/hooks/{workspace}/edi-in", data=answer(sent["output"]["x12"]),
                    content_type="application/edi-x12")
    got = wait_for(lambda: finished(r.json["run_id"]))
    assert got["status"] == "succeeded", got
    [matched] = got["output"]["acknowledges"]
    assert (matched["functional_id"], matched["group_control_number"], matched["status"]) == ("PR", 1, "accepted")
    [done] = client.get("/api/v1/trading-partners/acme/interchanges").json["interchanges"]
    assert done["status"] == "acknowledged" and done["groups"][0]["status"] == "accepted"
