"""The writer: records -> X12 with envelopes, counts and padding computed, records grouped into interchanges
and groups, and values that cannot be written refused with the segment, position and element named."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from nodes.edi import reader, records, writer
from nodes.edi.errors import EdiError
from nodes.edi.structure import BodyError

NOW = datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc)


def record(body=None, control="0001", group_control="7", interchange=None, **extra):
    return {"interchange": {"sender_id": "ACME", "receiver_id": "CROSSDOCK", "control_number": 123,
                            **(interchange or {})},
            "group": {"functional_id": "PO", "sender": "ACME", "receiver": "CROSSDOCK", "date": "20260304",
                      "time": "0506", "control_number": group_control, "agency": "X", "version": "004010"},
            "set": "850", "control_number": control, "implementation": None,
            "body": body or {"segments": [["BEG", "00", "SA", "PO1", "", "20260304"], ["PO1", "1", "2", "EA"]]},
            **extra}


def test_a_minimal_record_gets_x12_defaults_and_computed_trailers():
    text = writer.write([record()], now=NOW)
    assert text == (
        "ISA*00*          *00*          *ZZ*ACME           *ZZ*CROSSDOCK      *260304*0506*U*00401*000000123*0*P*>~\n"
        "GS*PO*ACME*CROSSDOCK*20260304*0506*7*X*004010~\nST*850*0001~\nBEG*00*SA*PO1**20260304~\nPO1*1*2*EA~\n"
        "SE*4*0001~\nGE*1*7~\nIEA*1*000000123~\n")
    reading = reader.read(text)
    assert reading.all_errors() == []
    assert reading.interchanges[0].header["control_number"] == "000000123"


def test_records_share_envelopes_while_their_headers_are_equal():
    other_group = dict(record(control="0003")["group"], functional_id="IN", control_number="8")
    items = [record(control="0001"), record(control="0002"), dict(record(control="0003"), group=other_group),
             record(control="0004", interchange={"control_number": 124})]
    reading = reader.read(writer.write(items, now=NOW))
    assert reading.all_errors() == []
    assert [[len(group.sets) for group in ic.groups] for ic in reading.interchanges] == [[2, 1], [1]]


def test_a_repeated_control_number_starts_a_new_envelope():
    reading = reader.read(writer.write([record(), record()], now=NOW))
    assert (len(reading.interchanges), len(reading.groups())) == (2, 2)
    assert reading.all_errors() == [] and reading.warnings[0].code == "interchange_duplicate"


def test_int_control_numbers_are_zero_padded_text_is_kept():
    text = writer.write([record(control=42, group_control=9)], now=NOW)
    assert "ST*850*0042~" in text and "SE*4*0042~" in text and "GE*1*9~" in text


def test_odd_delimiters_and_line_ended_segments_are_written_as_asked():
    odd = writer.write([record(interchange={"element_separator": "~", "segment_terminator": "}",
                                            "component_separator": "`"})], line_break="\r\n", now=NOW)
    assert odd.splitlines()[2] == "ST~850~0001}"
    lines = writer.write([record(interchange={"segment_terminator": "\r\n"})], now=NOW)
    assert lines.split("\r\n")[2] == "ST*850*0001" and "~" not in lines
    for text in (odd, lines):
        assert records.records(reader.read(text))[0]["body"]["BEG"]["BEG03"] == "PO1"


@pytest.mark.parametrize("terminator", ["\n", "\r\n", "~"])
@pytest.mark.parametrize("value", ["A\rB", "A\nB"])
def test_a_line_break_in_a_value_is_refused(terminator, value):
    with pytest.raises(EdiError) as raised:
        writer.write([record({"segments": [["N1", "ST", value]]}, interchange={"segment_terminator": terminator})])
    assert (raised.value.code, raised.value.element) == ("delimiter_in_data", "N102")


def test_composites_and_repeats_are_written():
    body = {"segments": [["REF", "ZZ", ["A", "", "B"]], ["N1", "ST", {"repeat": ["X", ["Y", "Z"]]}]]}
    text = writer.write([record(body, interchange={"version": "00501", "repetition_separator": "^"})], now=NOW)
    assert "REF*ZZ*A>>B~" in text and "N1*ST*X^Y>Z~" in text
    segments = reader.read(text).interchanges[0].groups[0].sets[0].segments
    assert segments == body["segments"]


def test_trailing_empty_elements_are_not_written():
    text = writer.write([record({"segments": [["N1", "ST", "", "92", "", "", ""]]})], now=NOW)
    assert "N1*ST**92~" in text


@pytest.mark.parametrize("body, where", [
    ({"segments": [["BEG", "00", "SA", "PO*1"]]}, ("BEG", 4, "BEG03")),
    ({"segments": [["BEG", "00"], ["N1", "ST", "A~B"]]}, ("N1", 5, "N102")),
    ({"segments": [["REF", "ZZ", ["A>", "B"]]]}, ("REF", 4, "REF02")),
    ({"segments": [["REF", "ZZ", {"repeat": ["A", "B"]}]]}, ("REF", 4, "REF02")),  # no repetition in 00401
])
def test_a_value_that_cannot_be_written_is_named(body, where):
    with pytest.raises(EdiError) as raised:
        writer.write([record(body)], now=NOW)
    assert (raised.value.segment, raised.value.position, raised.value.element) == where


def test_a_body_the_structure_cannot_write_raises_its_body_error():
    with pytest.raises(BodyError) as raised:
        writer.write([record({"segments": [["REF", "ZZ", {"x": 1}]]})], now=NOW)
    assert raised.value.path == "segments[0][2]"


def test_a_record_without_envelopes_or_ids_is_refused():
    with pytest.raises(EdiError) as raised:
        writer.write([{"set": "850", "body": {"segments": []}}])
    assert raised.value.code == "record_invalid"
    with pytest.raises(EdiError) as raised:
        writer.write([record(interchange={"receiver_id": ""})], now=NOW)
    assert raised.value.element == "ISA08"
    with pytest.raises(EdiError) as raised:
        writer.write([dict(record(), group=dict(record()["group"], sender=""))], now=NOW)
    assert (raised.value.segment, raised.value.element) == ("GS", "GS02")
    with pytest.raises(EdiError) as raised:
        writer.write([record(interchange={"element_separator": "A"})], now=NOW)
    assert raised.value.code == "delimiters_invalid"


@pytest.mark.parametrize("interchange, group, set_fields, where", [
    ({"date": "2026-03-04"}, {}, {}, ("ISA", 1, "ISA09")),
    ({"usage": "X"}, {}, {}, ("ISA", 1, "ISA15")),
    ({"sender_id": "A" * 16}, {}, {}, ("ISA", 1, "ISA06")),
    ({"control_number": "12345678901"}, {}, {}, ("ISA", 1, "ISA13")),
    ({}, {"date": "March"}, {}, ("GS", 2, "GS04")),
    ({}, {"control_number": "G7"}, {}, ("GS", 2, "GS06")),
    ({}, {}, {"set": "85"}, ("ST", 3, "ST01")),
    ({}, {}, {"control_number": "01"}, ("ST", 3, "ST02")),
])
def test_the_writer_refuses_envelopes_the_reader_would_reject(interchange, group, set_fields, where):
    item = record(interchange=interchange)
    item = dict(item, group=dict(item["group"], **group), **set_fields)
    with pytest.raises(EdiError) as raised:
        writer.write([item], now=NOW)
    assert (raised.value.code, raised.value.segment, raised.value.position, raised.value.element) == (
        "record_invalid", *where)
