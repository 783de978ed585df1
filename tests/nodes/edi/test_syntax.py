"""Element syntax: too many elements (segments run together) and product-ID pairs half filled."""
from __future__ import annotations

from nodes.edi import reader
from nodes.edi.syntax import check

ISA = "ISA*00*          *00*          *ZZ*BUYER          *ZZ*SELLER         *240101*1200*U*00401*000000007*0*P*>~"


def faults(segments: list[list]) -> list[tuple]:
    return [(e.code, e.segment, e.position, e.element, e.value) for e in check(segments, 4)]


def test_a_segment_with_more_elements_than_it_holds_is_named_at_the_first_extra_one():
    assert faults([["BEG", "00"], ["REF", "ZZ", "ASIAQTY", "17", "403.32", "FT"]]) == [
        ("too_many_elements", "REF", 5, "REF05", "FT")]


def test_a_qualifier_without_its_id_and_an_id_without_its_qualifier():
    assert faults([["PO1", "1", "120", "EA", "9.25", "TE", "CB", "", "PR", "RO", "VN", "AB3542"]]) == [
        ("paired_element_missing", "PO1", 4, "PO107", None)]
    assert faults([["LIN", "", "BP", "38490-B", "", "H304L0750040"]]) == [
        ("paired_element_missing", "LIN", 4, "LIN04", None)]


def test_complete_pairs_and_unlisted_segments_pass():
    assert faults([["PO1", "1", "2", "EA", "1.5", "", "UP", "123", "VN", "X"], ["LIN", "", "BP", "1"],
                   ["ZZZ", *["x"] * 40], ["IT1", "1", "2", "EA", "3", "", "UP", "1"]]) == []


def test_syntax_faults_reject_their_set_and_name_it_in_the_reading():
    text = "\n".join([ISA, "GS*PO*BUYER*SELLER*20240101*1200*5*X*004010~", "ST*850*0001~", "PO1*1*2*EA***UP~",
                      "SE*3*0001~", "GE*1*5~", "IEA*1*000000007~"])
    reading = reader.read(text)
    assert [(e.code, e.segment, e.position, e.element) for e in reading.all_errors()] == [
        ("paired_element_missing", "PO1", 4, "PO107")]
    assert reader.accepted(*reading.sets()[0]) is False
