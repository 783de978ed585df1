"""The tokenizer: delimiters taken from each ISA (odd ones too), line-ended segments, BOM, EBCDIC, and the
segment shape of the contract (composites as lists, repeats as {"repeat": [...]}, trailing empties dropped)."""
from __future__ import annotations

import pytest

from nodes.edi import reader, tokens
from nodes.edi.errors import EdiError
from nodes.edi.tokens import Delimiters, decode, read_isa, split_segments


def isa(element="*", repetition="U", version="00401", component=">", control="000000007"):
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
              "240101", "1200", repetition, version, control, "0", "P", component]
    return element.join(fields)


def interchange(element="*", terminator="~", component=">", repetition="U", version="00401", after="\n",
                body=("BEG*00*SA*PO1**20240101", "PO1*1*2*EA")):
    """An 850 interchange written with the given delimiters; after follows each terminator."""
    segments = ["GS*PO*SENDER*RECEIVER*20240101*1200*1*X*004010", "ST*850*0001", *body,
                f"SE*{len(body) + 2}*0001", "GE*1*1", "IEA*1*000000007"]
    segments = [isa(element, repetition, version, component)] + [s.replace("*", element) for s in segments]
    return (terminator + after).join(segments) + terminator + after


def body_of(text):
    reading = reader.read(text)
    assert reading.all_errors() == []
    return reading.interchanges[0].groups[0].sets[0].segments


@pytest.mark.parametrize("element, terminator, component", [
    ("*", "~", ">"),
    ("|", "~", ">"),       # 850_bots_2
    ("~", "}", ">"),       # 846_oopfactory_1
    ("*", "|", "~"),       # 850_oopfactory_1: ISA16 is the usual terminator
    ("~", "*", "`"),       # 856_oopfactory_1: inverted
    ("*", "\x15", ">"),    # 997_bots_1: the EBCDIC NL byte in an ASCII file
])
def test_delimiters_come_from_the_isa(element, terminator, component):
    text = interchange(element, terminator, component)
    reading = reader.read(text)
    delimiters = reading.interchanges[0].delimiters
    assert (delimiters.element, delimiters.segment, delimiters.component) == (element, terminator, component)
    assert body_of(text) == [["BEG", "00", "SA", "PO1", "", "20240101"], ["PO1", "1", "2", "EA"]]


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_no_terminator_character_segments_end_at_line_breaks(line_end):
    text = interchange(terminator="", after=line_end)
    reading = reader.read(text)
    assert reading.interchanges[0].delimiters.segment == line_end
    assert reading.interchanges[0].header["segment_terminator"] == line_end
    assert body_of(text)[1] == ["PO1", "1", "2", "EA"]


@pytest.mark.parametrize("layout", ["", "\n", "\r\n", " ", "\r\n    "])
def test_one_line_or_many_indented_or_not(layout):
    text = interchange(after=layout)
    assert body_of(text) == [["BEG", "00", "SA", "PO1", "", "20240101"], ["PO1", "1", "2", "EA"]]


def test_a_bom_is_dropped_from_bytes_and_text():
    text = interchange()
    assert body_of(b"\xef\xbb\xbf" + text.encode()) == body_of(text)
    assert body_of("\ufeff" + text) == body_of(text)


def test_an_ebcdic_interchange_is_detected_and_decoded():
    text = interchange(after="")
    ebcdic = text.replace("~", "\x85").encode("cp037")  # cp037 NL (0x15) ends each segment, as in 850_bots_3
    assert ebcdic[:3] == b"\xc9\xe2\xc1"
    reading = reader.read(b"\x40\x40" + ebcdic.replace(b"\x15", b"\x15\x40\x40\x40"))
    assert reading.encoding == "cp037"
    assert reading.all_errors() == []
    assert reading.interchanges[0].groups[0].sets[0].segments[1] == ["PO1", "1", "2", "EA"]


def test_utf16_with_a_bom_is_decoded():
    text = interchange()
    assert decode(text.encode("utf-16")) == (text, "utf-16")


def test_trailing_empty_elements_are_dropped_interior_ones_kept():
    text = interchange(body=("N1*ST**92*DC7***", "PER*IC*****"))
    assert body_of(text) == [["N1", "ST", "", "92", "DC7"], ["PER", "IC"]]


def test_composites_are_lists_with_trailing_empty_components_dropped():
    text = interchange(body=("SV1*HC>99213>25*100", "REF*ZZ*A>", "REF*ZZ*>B", "TD1*A>>"))
    assert body_of(text) == [["SV1", ["HC", "99213", "25"], "100"], ["REF", "ZZ", "A"], ["REF", "ZZ", ["", "B"]],
                             ["TD1", "A"]]


def test_repeats_only_from_00402_and_only_with_a_separator_character():
    text = interchange(repetition="^", version="00501", body=("REF*ZZ*A^B>C^", "N1*ST*X^"))
    assert body_of(text) == [["REF", "ZZ", {"repeat": ["A", ["B", "C"]]}], ["N1", "ST", "X"]]
    plain = interchange(repetition="^", version="00401", body=("REF*ZZ*A^B",))
    assert body_of(plain) == [["REF", "ZZ", "A^B"]]
    letter = interchange(repetition="U", version="00501", body=("REF*ZZ*AUB",))
    assert body_of(letter) == [["REF", "ZZ", "AUB"]]


def test_the_isa_keeps_its_separators_raw():
    isa_elements, delimiters, end = read_isa(interchange(repetition="^", version="00501"), 0)
    assert isa_elements[11] == "^" and isa_elements[16] == ">" and len(isa_elements) == 17
    assert delimiters == Delimiters("*", ">", "~", "^")
    assert end == 106  # an ISA is 106 characters with its terminator
    assert interchange()[end - 1:end + 1] == "~\n"


def test_widths_are_not_trusted_the_sixteenth_separator_is():
    text = interchange().replace("SENDER         ", "SENDER")
    reading = reader.read(text)
    assert reading.all_errors() == []
    assert reading.interchanges[0].header["sender_id"] == "SENDER"


@pytest.mark.parametrize("text, element", [
    ("ISA", "ISA01"),
    ("ISA00*", "ISA01"),
    ("ISA*00*  *00*", "ISA05"),  # ISA04 is the last one there
    (isa()[:-2], "ISA16"),
])
def test_a_broken_isa_is_an_error_naming_its_element(text, element):
    with pytest.raises(EdiError) as raised:
        read_isa(text, 0)
    assert (raised.value.segment, raised.value.position, raised.value.element) == ("ISA", 1, element)


def test_a_missing_terminator_shows_as_a_line_break_inside_an_element():
    text = interchange(body=("REF*ZZ*ASIA\r\n    QTY*17*403*FT",))
    reading = reader.read(text)
    [error] = [e for e in reading.all_errors() if e.code == "element_line_break"]
    assert (error.segment, error.position, error.element) == ("REF", 4, "REF02")


def test_an_invalid_segment_id_is_found_however_late_it_comes(monkeypatch):
    monkeypatch.setattr(tokens, "_KNOWN_IDS", set())  # as in a fresh process: no id is known yet
    segments, problems = split_segments("ST*850*0001~" + "REF*ZZ*1~" * 300 + "b@d*1~", Delimiters())
    assert [(p.code, p.position) for p in problems] == [("segment_id_invalid", 303)]


def test_an_invalid_segment_id_is_named_with_its_position():
    segments, problems = split_segments("ST*850*0001~b@d*1~", Delimiters())  # the text after the ISA
    assert [(p.code, p.position) for p in problems] == [("segment_id_invalid", 3)]
    assert segments == [["ST", "850", "0001"], ["b@d", "1"]]
