"""edi.write: records -> one X12 interchange enveloped from the trading partner's record, numbered from its sequence,
registered as sent, and readable by the codec's reader."""
from __future__ import annotations

from datetime import datetime, timezone

import marshmallow
import pytest

from nodes import catalog, edi_write, expression
from nodes.base import NodeError
from nodes.edi import reader, records

ACK = {"set": "855", "body": {"BAK": {"BAK01": "00", "BAK02": "AC", "BAK03": "4711", "BAK04": "20261121"},
                              "PO1_loop": [{"PO1": {"PO101": "1", "PO102": "10", "PO103": "CS", "PO104": "62.40"},
                                            "ACK": [{"ACK01": "IA", "ACK02": "10", "ACK03": "CS"}]}],
                              "CTT": {"CTT01": "1"}}}
FA = {"set": "997", "body": {"AK1": {"AK101": "PO", "AK102": "1"},
                             "AK9": {"AK901": "A", "AK902": "1", "AK903": "1", "AK904": "1"}}}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(edi_write, "now", lambda: datetime(2026, 11, 21, 10, 15, tzinfo=timezone.utc))


def node(env, **config):
    return edi_write.prepare(catalog.load_config(edi_write.SPEC, config), env)


def write(env, ctx, message, **config):
    [(port, out)] = list(edi_write.run(node(env, **{"partner": "acme", **config}), message, ctx))
    assert port == "out"
    return out


def read_back(text):
    reading = reader.read(text)
    assert reading.all_errors() == []
    return records.records(reading)


def test_a_record_becomes_an_interchange_enveloped_for_the_partner_and_registered(env, ctx):
    out = write(env, ctx, ACK)
    lines = out["x12"].splitlines()
    assert lines[0] == ("ISA*00*          *00*          *ZZ*CROSSDOCK      *ZZ*ACMEHW         *261121*1015*U*00401*"
                        "000000001*0*P*>~")
    assert lines[1] == "GS*PR*CROSSDOCK*ACMEHW*20261121*1015*1*X*004010~"
    assert lines[2] == "ST*855*0001~" and lines[-3:] == ["SE*6*0001~", "GE*1*1~", "IEA*1*000000001~"]
    assert out["partner"] == "acme" and out["control_number"] == 1 and out["sets"] == 1
    assert out["content_type"] == "application/edi-x12"
    [back] = read_back(out["x12"])
    assert back["set"] == "855" and back["body"] == ACK["body"] and back["group"]["control_number"] == "1"
    assert ctx.trading_partners.sent_log == [("acme", 1, [
        {"functional_id": "PR", "control_number": 1, "sets": [{"set": "855", "control_number": "0001"}]}])]


def test_each_interchange_takes_the_next_number_and_groups_of_other_functional_ids_take_their_own(env, ctx):
    assert write(env, ctx, ACK)["control_number"] == 1
    out = write(env, ctx, [ACK, FA, ACK])
    assert out["control_number"] == 2 and out["sets"] == 3
    assert [(g["functional_id"], g["control_number"], len(g["sets"])) for g in out["groups"]] == [
        ("PR", 2, 2), ("FA", 3, 1)]
    back = read_back(out["x12"])
    assert [(r["set"], r["control_number"], r["group"]["control_number"]) for r in back] == [
        ("855", "0001", "2"), ("855", "0002", "2"), ("997", "0001", "3")]
    assert {r["interchange"]["control_number"] for r in back} == {"000000002"}
    assert write(env, ctx, FA)["control_number"] == 4  # never a number a group took


def test_a_mappings_output_with_jsonatas_own_list_and_object_types_is_written(env, ctx):
    mapped = expression.compile('{"set": "855", "body": {"BAK": {"BAK01": "00", "BAK02": "AC", "BAK03": "4711", '
                                '"BAK04": "20261121"}, "PO1_loop": [$map([1, 2], function($n) {{"PO1": '
                                '{"PO101": $string($n), "PO102": "1", "PO103": "EA"}}})]}}').evaluate({}, {})
    [back] = read_back(write(env, ctx, mapped)["x12"])
    assert [line["PO1"]["PO101"] for line in back["body"]["PO1_loop"]] == ["1", "2"]


def test_the_partner_record_gives_version_delimiters_and_usage(env, ctx):
    partner = ctx.trading_partners.records["acme"]
    partner.update(version="005010", usage="T", delimiters={"element": "|", "segment": "~", "component": ":",
                                                            "repetition": "^", "suffix": ""})
    partner["us"]["application_id"] = "CDAPP"
    out = write(env, ctx, ACK)
    assert "\n" not in out["x12"]
    isa = out["x12"].split("~")[0].split("|")
    assert (isa[11], isa[12], isa[15], isa[16]) == ("^", "00501", "T", ":")
    assert out["x12"].split("~")[1] == "GS|PR|CDAPP|ACMEHW|20261121|1015|1|X|005010"
    [back] = read_back(out["x12"])
    assert back["body"] == ACK["body"] and back["group"]["version"] == "005010"


def test_the_partner_comes_from_a_param_or_the_message(env, ctx):
    ctx.trading_partners.records["globex"] = {**ctx.trading_partners.records["acme"],
                                              "partner": {"qualifier": "01", "id": "123456789"}}
    ctx.params = {"partner": "globex"}
    assert write(env, ctx, ACK, partner="{{partner}}")["x12"].startswith(
        "ISA*00*          *00*          *ZZ*CROSSDOCK      *01*123456789      *")
    out = write(env, ctx, {"partner": "acme", "po": ACK}, partner="{{$.partner}}", records="po")
    assert out["partner"] == "acme" and ctx.trading_partners.last == {"globex": 1, "acme": 1}


def test_an_acknowledgement_from_edi_read_is_written_for_the_partner_that_sent_the_group(env, ctx):
    received = {**FA, "interchange": {"sender_id": "SOMEONE", "control_number": "000000999"},
                "group": {"functional_id": "FA", "control_number": "77", "version": "004010"}, "partner": "acme"}
    out = write(env, ctx, received, partner="{{$.partner}}")
    [back] = read_back(out["x12"])
    assert back["interchange"]["receiver_id"] == "ACMEHW" and back["interchange"]["control_number"] == "000000001"
    assert back["group"]["control_number"] == "1" and back["body"] == FA["body"]


@pytest.mark.parametrize("message, code, text", [
    ([], "records_invalid", "1 to"),
    ("ISA*", "records_invalid", "record is not an object"),
    ({"body": {}}, "records_invalid", "record.set must be"),
    ([ACK, {"set": "85", "body": {}}], "records_invalid", "records[1].set"),
    ({"set": "855", "body": []}, "records_invalid", "record.body must be an object"),
    ({"set": "123", "body": {}}, "unknown_set", "set 123"),
])
def test_records_it_cannot_write_are_business_errors_before_a_number_is_taken(env, ctx, message, code, text):
    with pytest.raises(NodeError) as err:
        list(edi_write.run(node(env, partner="acme"), message, ctx))
    assert (err.value.code, err.value.field, err.value.retryable) == (code, "records", False)
    assert text in err.value.message and ctx.trading_partners.last == {} and ctx.trading_partners.sent_log == []


def test_a_value_holding_a_delimiter_names_the_segment_position_and_element(env, ctx):
    bad = {"set": "855", "body": {"BAK": {"BAK01": "00", "BAK02": "AC", "BAK03": "47*11", "BAK04": "20261121"}}}
    with pytest.raises(NodeError) as err:
        list(edi_write.run(node(env, partner="acme"), bad, ctx))
    assert err.value.code == "delimiter_in_data" and err.value.field == "records"
    assert err.value.details == {"segment": "BAK", "position": 4, "element": "BAK03"}
    assert ctx.trading_partners.sent_log == []


def test_a_body_the_set_table_cannot_write_names_the_record_and_path(env, ctx):
    bad = {"set": "855", "body": {"BAK": {"BAK01": "00"}, "PO1_loop": [{"PO1": {"PO101": "1"}}, {"PO1": "x"}]}}
    with pytest.raises(NodeError) as err:
        list(edi_write.run(node(env, partner="acme"), [ACK, bad], ctx))
    assert err.value.code == "body_invalid" and err.value.field == "records"
    assert err.value.details["path"].startswith("records[1].body.PO1_loop[1]")


def test_an_unknown_partner_or_template_value_names_the_partner_field(env, ctx):
    for config, code in (({"partner": "nobody"}, "unknown_partner"), ({"partner": "{{$.who}}"}, "template_error"),
                         ({"partner": "{{missing}}"}, "template_error")):
        with pytest.raises(NodeError) as err:
            list(edi_write.run(node(env, **config), ACK, ctx))
        assert (err.value.code, err.value.field) == (code, "partner")


def test_the_config_it_refuses():
    for config in ({}, {"partner": ""}, {"partner": "{{a"}, {"partner": "acme", "records": 5},
                   {"partner": "acme", "isa": {}}):
        with pytest.raises(marshmallow.ValidationError):
            catalog.load_config(edi_write.SPEC, config)
    with pytest.raises(NodeError) as err:
        node(None, partner="acme", records="po.(")
    assert err.value.field == "records"
    assert edi_write.SPEC.category == "edi" and edi_write.SPEC.summary == "X12 to {{partner}}"
