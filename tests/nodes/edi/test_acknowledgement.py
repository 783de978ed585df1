"""The 997: accepted, partially accepted and rejected groups, with AK3/AK4 naming the faulty segment and
element of a broken interchange (acceptance 2), written and read back like any record."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from nodes.edi import reader, records, writer
from nodes.edi.acknowledgement import functional_ack

NOW = datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "edi"
ISA = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240101*1200*U*00401*000000007*0*P*>~"
GS = "GS*PO*BUYER*SELLER*20240101*1200*5*X*004010"


def x12(*segments: str) -> str:
    return ISA + "\n" + "~\n".join(segments) + "~\n"


def order(control: str, trailer: str | None = None) -> list[str]:
    return [f"ST*850*{control}", "BEG*00*SA*PO1**20240101", "PO1*1*2*EA", trailer or f"SE*4*{control}"]


def ack_segments(text: str) -> list[list]:
    [group] = reader.read(text).groups()
    ack = functional_ack(group, now=NOW)
    written = writer.write([ack], now=NOW)
    again = reader.read(written)
    assert again.all_errors() == []
    assert records.records(again) == [ack]  # the 997 record round-trips like any other
    return again.interchanges[0].groups[0].sets[0].segments


def test_an_accepted_group():
    assert ack_segments(x12(GS, *order("0001"), *order("0002"), "GE*2*5", "IEA*1*000000007")) == [
        ["AK1", "PO", "5"], ["AK2", "850", "0001"], ["AK5", "A"], ["AK2", "850", "0002"], ["AK5", "A"],
        ["AK9", "A", "2", "2", "2"]]


def test_a_segment_count_mismatch_names_the_se_and_se01():
    segments = ack_segments(x12(GS, *order("0001"), *order("0002", "SE*9*0002"), "GE*2*5", "IEA*1*000000007"))
    assert segments == [
        ["AK1", "PO", "5"], ["AK2", "850", "0001"], ["AK5", "A"],
        ["AK2", "850", "0002"], ["AK3", "SE", "4", "", "8"], ["AK4", "1", "96", "7", "9"], ["AK5", "R", "4"],
        ["AK9", "P", "2", "2", "1"]]


def test_a_control_number_mismatch_names_the_se_and_se02():
    segments = ack_segments(x12(GS, *order("0001", "SE*4*0009"), "GE*1*5", "IEA*1*000000007"))
    assert segments[1:5] == [["AK2", "850", "0001"], ["AK3", "SE", "4", "", "8"], ["AK4", "2", "329", "7", "0009"],
                             ["AK5", "R", "3"]]
    assert segments[-1] == ["AK9", "R", "1", "1", "0"]


def test_a_group_control_number_mismatch_rejects_the_group_with_its_reason():
    segments = ack_segments(x12(GS, *order("0001"), "GE*1*6", "IEA*1*000000007"))
    assert segments[-2:] == [["AK5", "R"], ["AK9", "R", "1", "1", "0", "4"]]


def test_a_group_count_mismatch_rejects_the_group_with_its_reason():
    segments = ack_segments(x12(GS, *order("0001"), "GE*3*5", "IEA*1*000000007"))
    assert segments[-1] == ["AK9", "R", "3", "1", "0", "5"]


def test_a_bad_segment_inside_a_set_is_named_by_its_position_in_the_set():
    text = x12(GS, "ST*850*0001", "BEG*00*SA*PO1**20240101", "ref*ZZ*1", "SE*4*0001", "GE*1*5", "IEA*1*000000007")
    segments = ack_segments(text)
    assert segments[1:4] == [["AK2", "850", "0001"], ["AK3", "ref", "3", "", "1"], ["AK5", "R", "5"]]


def test_the_sample_with_the_failed_se01_gets_its_997():
    [group] = reader.read((FIXTURES / "940_ediengine_4.edi").read_bytes()).groups()
    ack = functional_ack(group, now=NOW)
    segments = reader.read(writer.write([ack], now=NOW)).interchanges[0].groups[0].sets[0].segments
    assert segments == [["AK1", "OW", "9221"], ["AK2", "940", "20066"], ["AK3", "SE", "9", "", "8"],
                        ["AK4", "1", "96", "7", "12"], ["AK5", "R", "4"], ["AK9", "R", "1", "1", "0"]]


def test_the_997_envelopes_answer_the_received_ones():
    [group] = reader.read((FIXTURES / "855_stedi_1.edi").read_bytes()).groups()
    ack = functional_ack(group, now=NOW)
    assert (ack["interchange"]["sender_qualifier"], ack["interchange"]["sender_id"]) == ("ZZ", "THISISME")
    assert (ack["interchange"]["receiver_qualifier"], ack["interchange"]["receiver_id"]) == ("14", "ANOTHERMERCH")
    assert ack["group"] == {"functional_id": "FA", "sender": "MYAPPID", "receiver": "ANOTAPPID", "date": "20260304",
                            "time": "0506", "control_number": "1", "agency": "X", "version": "005010"}
    assert (ack["set"], ack["interchange"]["date"], ack["interchange"]["ack_requested"]) == ("997", "260304", "0")
    segments = reader.read(writer.write([ack])).interchanges[0].groups[0].sets[0].segments
    assert segments[0] == ["AK1", "PR", "000001746", "005010"]  # AK103 from 005010 on
