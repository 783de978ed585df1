"""Reading: envelopes (several interchanges, groups and sets), counts and control numbers checked with errors
naming segment, position and element, and the permissive samples of tests/fixtures/edi read, round-tripped
or rejected as their SOURCES.md rows describe."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nodes.edi import reader, records, writer
from nodes.edi.errors import EdiError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "edi"
SAMPLES = sorted(FIXTURES.glob("*.edi"))
# the malformed fixtures and the first fault each must name: (code, segment, position, element)
MALFORMED = {
    "850_ediengine_1.edi": ("paired_element_missing", "PO1", 15, "PO107"),  # PO106 CB without its PO107
    "940_ediengine_4.edi": ("se_count_mismatch", "SE", 11, "SE01"),
    "940_ediengine_5.edi": ("se_control_number_mismatch", "SE", 7, "SE02"),
    "997_staedi_1.edi": ("gs_invalid", "GS", 2, "GS04"),
}
SHAPES = {  # interchanges, groups, sets as SOURCES.md describes them
    "850_nodex12_3.edi": (2, 2, 2), "940_ediengine_3.edi": (2, 4, 6), "997_staedi_2.edi": (3, 3, 3),
    "mixed_staedi_1.edi": (1, 2, 3), "810_staedi_1.edi": (1, 1, 2), "855_staedi_1.edi": (1, 1, 2),
}

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*U*00401*000000007*0*P*>~"


def x12(*segments: str, isa: str = ISA) -> str:
    return isa + "\n" + "~\n".join(segments) + "~\n"


GOOD = ["GS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010", "ST*850*0001", "BEG*00*SA*PO1**20240101",
        "PO1*1*2*EA", "SE*4*0001", "GE*1*1", "IEA*1*000000007"]


def faults(text) -> list[tuple]:
    return [(e.code, e.segment, e.position, e.element) for e in reader.read(text).all_errors()]


def test_the_fixtures_are_the_twenty_permissive_samples():
    assert len(SAMPLES) == 20
    rows = (FIXTURES / "SOURCES.md").read_text()
    for sample in SAMPLES:
        row = next(line for line in rows.splitlines() if line.startswith(f"| `{sample.name}` |"))
        assert "MIT" in row or "Apache-2.0" in row
        assert "GPL" not in row and "CDDL" not in row


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_every_permissive_sample_reads_and_round_trips_or_names_its_fault(sample):
    reading = reader.read(sample.read_bytes())
    errors = reading.all_errors()
    assert reading.sets(), "every sample holds at least one transaction set"
    if sample.name in MALFORMED:
        first = errors[0]
        assert (first.code, first.segment, first.position, first.element) == MALFORMED[sample.name]
        assert all(e.segment and e.position for e in errors)
        assert records.records(reading) == []  # a rejected set is no record
        return
    assert errors == []
    items = records.records(reading)
    assert len(items) == len(reading.sets())
    again = reader.read(writer.write(items))
    assert again.all_errors() == []
    assert records.records(again) == items
    if sample.name in SHAPES:
        shape = SHAPES[sample.name]
        assert (len(reading.interchanges), len(reading.groups()), len(reading.sets())) == shape
        assert (len(again.interchanges), len(again.groups()), len(again.sets())) == shape


def test_a_record_carries_every_isa_and_gs_field():
    [item] = records.records(reader.read((FIXTURES / "850_stedi_1.edi").read_bytes()))
    assert item["interchange"] == {
        "authorization": ["00", ""], "security": ["00", ""], "sender_qualifier": "ZZ", "sender_id": "ANOTHERMERCH",
        "receiver_qualifier": "14", "receiver_id": "AMERCHANT", "date": "221011", "time": "0256",
        "repetition_separator": "U", "version": "00501", "control_number": "000000057", "ack_requested": "0",
        "usage": "T", "component_separator": ">", "element_separator": "*", "segment_terminator": "~"}
    assert item["group"] == {"functional_id": "OW", "sender": "READDEMO", "receiver": "072271711TMS",
                             "date": "20221011", "time": "025630", "control_number": "000000057", "agency": "X",
                             "version": "005010"}
    assert (item["set"], item["control_number"], item["implementation"]) == ("850", "000000057", None)
    assert item["body"]["BEG"]["BEG03"] == "365465413"


def test_a_line_ended_sample_keeps_its_line_break_as_terminator():
    reading = reader.read((FIXTURES / "940_ediengine_2.edi").read_bytes())
    assert reading.interchanges[0].header["segment_terminator"] == "\n"
    assert writer.write(records.records(reading)).count("\n") == reading.interchanges[0].segment_count


def test_duplicates_are_warnings_not_errors():
    reading = reader.read((FIXTURES / "850_nodex12_3.edi").read_bytes())
    assert reading.all_errors() == []
    assert [(w.code, w.segment, w.element) for w in reading.warnings] == [("interchange_duplicate", "ISA", "ISA13")]
    twice = x12(*GOOD[:5], "ST*850*0001", "PO1*1*2*EA", "SE*3*0001", "GE*2*1", GOOD[-1])
    assert [(w.code, w.position) for w in reader.read(twice).warnings] == [("st_control_number_duplicate", 7)]


def test_the_iea_count_and_control_number_are_checked():
    assert faults(x12(*GOOD[:-1], "IEA*2*000000007")) == [("iea_count_mismatch", "IEA", 8, "IEA01")]
    assert faults(x12(*GOOD[:-1], "IEA*1*000000008")) == [("iea_control_number_mismatch", "IEA", 8, "IEA02")]
    assert faults(x12(*GOOD[:-1], "IEA*1*7")) == []  # the same number, not zero-padded (940_ediengine_3)


def test_the_ge_count_and_control_number_are_checked():
    assert faults(x12(*GOOD[:5], "GE*2*1", GOOD[-1])) == [("ge_count_mismatch", "GE", 7, "GE01")]
    assert faults(x12(*GOOD[:5], "GE*1*2", GOOD[-1])) == [("ge_control_number_mismatch", "GE", 7, "GE02")]


def test_missing_trailers_name_the_envelope_they_leave_open():
    assert faults(x12(*GOOD[:4], "GE*1*1", GOOD[-1])) == [("se_missing", "ST", 3, "SE")]
    assert faults(x12(*GOOD[:5], GOOD[-1])) == [("ge_missing", "GS", 2, "GE")]
    assert faults(x12(*GOOD[:-1])) == [("iea_missing", "ISA", 1, "IEA")]
    assert faults(x12(*GOOD[:3])) == [("iea_missing", "ISA", 1, "IEA"), ("ge_missing", "GS", 2, "GE"),
                                      ("se_missing", "ST", 3, "SE")]


def test_misplaced_segments_are_named():
    assert faults(x12(GOOD[0], "REF*ZZ*X", *GOOD[1:5], "GE*1*1", GOOD[-1])) == [
        ("segment_unexpected", "REF", 3, None)]
    assert faults(x12("ST*850*0001", "SE*2*0001", "IEA*0*000000007")) == [
        ("segment_unexpected", "ST", 2, None), ("segment_unexpected", "SE", 3, None)]


def test_faults_are_bounded_however_many_segments_are_wrong():
    misplaced = ["REF*ZZ*X"] * 5000
    assert faults(x12(*GOOD[:5], *misplaced, "GE*1*1", GOOD[-1])) == [("segment_unexpected", "REF", 7, None)]
    bad_ids = ["r*1"] * 5000
    reading = reader.read(x12(GOOD[0], "ST*850*0001", *bad_ids, "SE*5002*0001", *GOOD[5:]))
    assert [e.code for e in reading.all_errors()] == ["segment_id_invalid"] * 100
    too_long = ["REF*A*B*C*D*E"] * 5000
    reading = reader.read(x12(GOOD[0], "ST*850*0001", *too_long, "SE*5002*0001", *GOOD[5:]))
    assert [e.code for e in reading.all_errors()] == ["too_many_elements"] * 100


def test_gs_and_st_fields_are_checked():
    bad_gs = "GS*PO*SENDER*RECEIVER*2024-01-01*1200*1*X*004010"
    assert faults(x12(bad_gs, *GOOD[1:])) == [("gs_invalid", "GS", 2, "GS04")]
    assert faults(x12(GOOD[0], "ST*85*0001", *GOOD[2:])) == [("st_invalid", "ST", 3, "ST01")]
    assert faults(x12(GOOD[0], "ST*850*01", "BEG*00*SA*PO1**20240101", "PO1*1*2*EA", "SE*4*01", *GOOD[5:])) == [
        ("st_control_number_invalid", "ST", 3, "ST02")]


def test_several_interchanges_with_their_own_delimiters_in_one_file():
    second = ISA.replace("*", "|").replace("|>~", "|:}").replace("000000007", "000000008")
    other = [s.replace("*", "|") for s in GOOD[:-1]] + ["IEA|1|000000008"]
    text = x12(*GOOD) + "\r\n" + second + "".join(f"\r\n  {s}}}" for s in other)
    reading = reader.read(text)
    assert reading.all_errors() == []
    assert [i.delimiters.element + i.delimiters.segment for i in reading.interchanges] == ["*~", "|}"]
    assert [i.header["control_number"] for i in reading.interchanges] == ["000000007", "000000008"]


def test_an_interchange_without_its_iea_ends_at_the_next_isa():
    text = x12(*GOOD[:-1]) + x12(*GOOD).replace("000000007", "000000009")
    reading = reader.read(text)
    assert [(e.code, e.interchange) for e in reading.all_errors()] == [("iea_missing", "000000007")]
    assert len(reading.interchanges) == 2 and reading.interchanges[1].errors == []


@pytest.mark.parametrize("data, code", [
    (b"", "isa_missing"), (b"   \r\n", "isa_missing"), (b"UNB+UNOA:1+X+Y'", "isa_missing"),
    (b"\x00\xff\xfe garbage", "isa_missing"), (b"ISA*00", "isa_invalid"),
])
def test_unreadable_input_is_an_error_never_an_exception(data, code):
    reading = reader.read(data)
    assert [(e.code, e.segment, e.position) for e in reading.errors] == [(code, "ISA", 1)]
    assert reading.interchanges == []


def test_text_after_the_last_iea_is_named():
    reading = reader.read(x12(*GOOD) + "\nGARBAGE*1~")
    assert [(e.code, e.segment, e.position) for e in reading.errors] == [("trailing_data", "GAR", 9)]


def test_the_size_is_bounded():
    assert [e.code for e in reader.read(x12(*GOOD), max_bytes=100).errors] == ["too_large"]


def test_an_error_is_a_dict_for_a_node_error():
    error = reader.read(x12(*GOOD[:4], "SE*9*0001", *GOOD[5:])).all_errors()[0]
    assert error.to_dict() == {"code": "se_count_mismatch", "message": "SE01 says 9 but transaction set 0001 has "
                               "4 segments (ST to SE)", "segment": "SE", "position": 6, "element": "SE01",
                               "interchange": "000000007"}
    assert isinstance(error, EdiError)


SAMPLE_TEXTS = [sample.read_bytes() for sample in SAMPLES]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLE_TEXTS), st.lists(st.tuples(st.integers(0, 4000), st.binary(max_size=4)), max_size=6),
       st.integers(0, 4000))
def test_no_input_makes_the_reader_crash(sample, edits, cut):
    """Samples with bytes replaced, inserted and cut off: every outcome is a reading, faults are EdiErrors
    naming a segment and a position, and what is accepted round-trips."""
    data = bytearray(sample[:max(cut, 1)] if cut % 3 == 0 else sample)
    for at, chunk in edits:
        at = at % (len(data) + 1)
        data[at:at + len(chunk) % 2] = chunk
    reading = reader.read(bytes(data))
    for error in reading.all_errors():
        assert isinstance(error, EdiError) and error.segment is not None and error.position
    items = records.records(reading)
    if items and not reading.all_errors():
        try:
            text = writer.write(items)
        except EdiError:
            return  # a mutated value may hold another interchange's delimiter; refusing it is right
        assert records.records(reader.read(text)) == items
