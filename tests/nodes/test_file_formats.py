"""The file formats of event.file and connector.file: CSV, fixed-width, JSON lines and X12 read and written, a row
that does not parse reported with its line while the others still come out, and the bounds."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from nodes import file_formats as ff


def parse(config: dict, text: str | bytes, max_records: int = 1000) -> ff.Parsed:
    return ff.parse(ff.load(config), text.encode() if isinstance(text, str) else text, max_records)


def test_csv_rows_become_records_and_a_malformed_row_names_its_line():
    parsed = parse({}, 'sku,qty\nA,1\nB,2,3\n"C\nwide",4\nD,"5"x\n\nE,6\n')
    assert parsed.records == [(2, {"sku": "A", "qty": "1"}), (4, {"sku": "C\nwide", "qty": "4"}),
                              (8, {"sku": "E", "qty": "6"})]
    assert [(line, raw) for line, _, raw in parsed.errors] == [(3, "B,2,3"), (6, 'D,"5"x')]
    assert "3 fields where the header has 2" in parsed.errors[0][1]


def test_csv_without_header_semicolons_and_a_quote_left_open():
    parsed = parse({"header": False, "columns": ["sku", "qty"], "delimiter": ";", "quote": "'"},
                   "A;1\n'B;x';2\nC;'open\nD;4\n")
    assert parsed.records == [(1, {"sku": "A", "qty": "1"}), (2, {"sku": "B;x", "qty": "2"})]
    assert parsed.errors[0][0] == 3 and parsed.errors[0][2].startswith("C;'open")


def test_fixed_width_fields_by_start_and_width():
    config = {"kind": "fixed", "fields": [{"name": "sku", "start": 1, "width": 6}, {"name": "qty", "start": 7,
                                                                                     "width": 4}]}
    parsed = parse(config, "AB-1    12\nshort\nAB-2     3    extra\n")
    assert parsed.records == [(1, {"sku": "AB-1", "qty": "12"})]
    assert [e[0] for e in parsed.errors] == [2, 3]
    written = ff.write(ff.load(config), [{"sku": "AB-1", "qty": 12}, {"sku": "X", "qty": None}])
    assert written == b"AB-1  12\nX\n"
    with pytest.raises(ff.FormatError, match="record 0: sku is 7 characters"):
        ff.write(ff.load(config), [{"sku": "TOOLONG"}])


def test_json_lines_and_their_malformed_lines():
    parsed = parse({"kind": "jsonl"}, '{"a": 1}\n[1]\nnope\n\n{"b": "x"}\n')
    assert parsed.records == [(1, {"a": 1}), (5, {"b": "x"})]
    assert [(e[0], e[1].split(" (")[0]) for e in parsed.errors] == [(2, "not a JSON object"), (3, "not JSON")]
    assert ff.write(ff.load({"kind": "jsonl"}), [{"a": 1}, {"b": "é"}]) == '{"a": 1}\n{"b": "é"}\n'.encode()


def test_x12_passes_the_text_through_whole():
    text = "ISA*00*~GS*PO~ST*850*0001~"
    assert parse({"kind": "x12"}, text).records == [(1, {"body": text})]
    assert ff.write(ff.load({"kind": "x12"}), {"x12": text, "partner": "acme"}) == text.encode()
    with pytest.raises(ff.FormatError, match="no x12 or body"):
        ff.write(ff.load({"kind": "x12"}), {"nothing": 1})


def test_csv_written_with_header_quoting_and_round_trip():
    fmt = ff.load({"columns": ["sku", "qty", "note"]})
    data = ff.write(fmt, [{"sku": "A", "qty": 1, "note": 'say "hi", then'}, {"sku": "B", "qty": None}])
    assert data == b'sku,qty,note\r\nA,1,"say ""hi"", then"\r\nB,,\r\n'
    assert [r for _, r in ff.parse(fmt, data, 10).records] == [
        {"sku": "A", "qty": "1", "note": 'say "hi", then'}, {"sku": "B", "qty": "", "note": ""}]
    with pytest.raises(ff.FormatError, match="record 1 is not an object"):
        ff.write(fmt, [{"sku": "A"}, 5])


def test_bounds_and_unreadable_files():
    with pytest.raises(ff.FormatError, match="more than 3 records"):
        parse({"kind": "jsonl"}, "{}\n" * 4, max_records=3)
    with pytest.raises(ff.FormatError, match="not utf-8 text"):
        parse({}, b"sku\n\xff\xfe\n")
    with pytest.raises(ff.FormatError, match="NUL"):
        parse({}, b"sku\nA\x00\n")
    assert parse({"encoding": "latin-1"}, "sku\nÄ\n".encode("latin-1")).records == [(2, {"sku": "Ä"})]
    assert parse({"kind": "jsonl"}, "x" * (ff.MAX_LINE + 1)).errors[0][0] == 1


def test_format_config_is_checked_naming_the_field():
    with pytest.raises(ValidationError) as err:
        ff.load({"kind": "fixed"})
    assert "fields" in err.value.messages
    with pytest.raises(ValidationError) as err:
        ff.load({"header": False})
    assert "columns" in err.value.messages
    with pytest.raises(ValidationError) as err:
        ff.load({"delimiter": ",,"})
    assert "delimiter" in err.value.messages
    with pytest.raises(ValidationError):
        ff.load({"kind": "xml"})
