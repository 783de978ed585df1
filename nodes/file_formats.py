"""How the file nodes (event.file, connector.file) turn a file's bytes into records and records into bytes: CSV,
fixed-width, JSON lines, and X12 (the text passed through whole, so edi.read takes it). One `Format` config for both
nodes. A row that does not parse is reported with its line number and left out, the others still come out; a file
that cannot be read at all (wrong encoding, too many records) is a FormatError.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

KINDS = ("csv", "fixed", "jsonl", "x12")
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "ascii")
NAME = r"^[A-Za-z_][A-Za-z0-9_ .-]{0,62}$"
MAX_LINE = 100_000  # characters of one row; csv's own field limit is set to this too
RAW_SHOWN = 500  # characters of a malformed row kept in its error


class FormatError(ValueError):
    """The whole file (or the records to write) cannot be handled: names the reason."""


class FixedField(Schema):
    name = fields.String(required=True, validate=validate.Regexp(NAME))
    start = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_LINE), metadata={
        "description": "The field's first column, counting from 1"})
    width = fields.Integer(strict=True, required=True, validate=validate.Range(1, MAX_LINE))


class Format(Schema):
    """The layout of a file's records; unknown keys are refused."""

    kind = fields.String(load_default="csv", validate=validate.OneOf(KINDS), metadata={
        "title": "Format", "description": "csv; fixed (fixed-width columns); jsonl (a JSON object per line); x12 "
        "(the file's text whole, for edi.read)"})
    encoding = fields.String(load_default="utf-8", validate=validate.OneOf(ENCODINGS), metadata={
        "title": "Encoding"})
    delimiter = fields.String(load_default=",", validate=validate.Length(equal=1), metadata={
        "title": "Delimiter", "description": "csv: one character, e.g. , ; | or a tab"})
    quote = fields.String(load_default='"', validate=validate.Length(equal=1), metadata={
        "title": "Quote", "description": "csv: the quoting character"})
    header = fields.Boolean(load_default=True, metadata={
        "title": "Header row", "description": "csv: the first row names the columns (read), is written (write)"})
    columns = fields.List(fields.String(validate=validate.Regexp(NAME)), load_default=list,
                          validate=validate.Length(max=500), metadata={
                              "title": "Columns", "description": "csv: the column names when there is no header "
                              "row; writing: the columns and their order (empty: the first record's keys)"})
    fields_ = fields.List(fields.Nested(FixedField), data_key="fields", load_default=list,
                          validate=validate.Length(max=500), metadata={
                              "title": "Fields", "description": "fixed: name, start (from 1) and width of each"})
    skip_blank = fields.Boolean(load_default=True, metadata={
        "title": "Skip blank lines", "description": "A blank line is no record (else: a malformed row)"})

    @validates_schema
    def needs(self, data: dict, **kwargs: Any) -> None:
        kind = data.get("kind", "csv")
        if kind == "fixed" and not data.get("fields_"):
            raise ValidationError({"fields": ["required for fixed: name, start and width of each field"]})
        if kind == "csv" and not data.get("header", True) and not data.get("columns"):
            raise ValidationError({"columns": ["required for csv without a header row"]})
        if kind == "csv" and data.get("delimiter") == data.get("quote"):
            raise ValidationError({"quote": ["the quote must differ from the delimiter"]})
        names = [f["name"] for f in data.get("fields_") or []] + list(data.get("columns") or [])
        if len(set(names)) != len(names):
            raise ValidationError({"fields" if kind == "fixed" else "columns": ["names must be unique"]})

    @post_load
    def named_as_written(self, data: dict, **kwargs: Any) -> dict:
        """The loaded config under the keys it is written with (`fields`, not the attribute's `fields_`), so that
        it is what the inspector's JSON Schema describes."""
        data["fields"] = data.pop("fields_", [])
        return data


def load(config: dict | None) -> dict:
    """A format config with its defaults; marshmallow.ValidationError when invalid."""
    return Format().load(config or {})


@dataclass
class Parsed:
    records: list[tuple[int, Any]] = field(default_factory=list)  # (line number, record)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line number, reason, the row as read)


def parse(fmt: dict, data: bytes, max_records: int) -> Parsed:
    """The records of a file's bytes (each with its line, from 1) and the rows that do not parse. More than
    `max_records` records and errors together, or bytes that are not text in the format's encoding: FormatError."""
    try:
        text = data.decode(fmt["encoding"])
    except UnicodeDecodeError as err:
        raise FormatError(f"the file is not {fmt['encoding']} text (byte {err.start})") from None
    if "\x00" in text:
        raise FormatError("the file holds NUL characters: not a text file")
    if fmt["kind"] == "x12":
        return Parsed(records=[(1, {"body": text})])
    parsed = Parsed()
    rows = _csv_rows(fmt, text) if fmt["kind"] == "csv" else _lines(text)
    columns = list(fmt["columns"]) if fmt["kind"] == "csv" and not fmt["header"] else None
    for line, row, raw in rows:
        if len(parsed.records) + len(parsed.errors) >= max_records:
            raise FormatError(f"the file has more than {max_records} records (max_records)")
        if isinstance(row, str) and row.startswith("\x00error:"):
            parsed.errors.append((line, row[7:], raw[:RAW_SHOWN]))
            continue
        if _blank(row) and fmt["skip_blank"]:
            continue
        try:
            if fmt["kind"] == "csv":
                if columns is None:
                    columns = _header(row)
                    continue
                record = _csv_record(columns, row)
            elif fmt["kind"] == "fixed":
                record = _fixed_record(fmt["fields"], row)
            else:
                record = _json_record(row)
        except ValueError as err:
            parsed.errors.append((line, str(err), raw[:RAW_SHOWN]))
            continue
        parsed.records.append((line, record))
    return parsed


def write(fmt: dict, records: Any) -> bytes:
    """A file's bytes from a list of records (x12: text, or a record with `x12` or `body` text); FormatError naming
    the record that cannot be written."""
    if fmt["kind"] == "x12":
        text = records if isinstance(records, str) else _x12_text(records)
        return _encode(fmt, text)
    if isinstance(records, dict):
        records = [records]
    if not isinstance(records, list):
        raise FormatError("the records to write are no list of objects")
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise FormatError(f"record {i} is not an object")
    if fmt["kind"] == "jsonl":
        return _encode(fmt, "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records))
    if fmt["kind"] == "fixed":
        return _encode(fmt, "".join(_fixed_line(fmt["fields"], r, i) + "\n" for i, r in enumerate(records)))
    columns = list(fmt["columns"]) or (list(records[0]) if records else [])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=fmt["delimiter"], quotechar=fmt["quote"], lineterminator="\r\n")
    if fmt["header"]:
        writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(c)) for c in columns])
    return _encode(fmt, out.getvalue())


def _encode(fmt: dict, text: str) -> bytes:
    try:
        return text.encode(fmt["encoding"])
    except UnicodeEncodeError as err:
        raise FormatError(f"character {text[err.start]!r} cannot be written in {fmt['encoding']}") from None


def _x12_text(record: Any) -> str:
    if isinstance(record, dict):
        for key in ("x12", "body"):
            if isinstance(record.get(key), str):
                return record[key]
    raise FormatError("x12: the message is no text and has no x12 or body text")


def _lines(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE:
            yield number, f"\x00error:the line is longer than {MAX_LINE} characters", line
        else:
            yield number, line, line


def _csv_rows(fmt: dict, text: str):
    """(line where the row starts, its cells or an error marker, its raw text) per row. A quoted cell may span
    lines; a row that breaks the quoting is reported at the line where it starts, and reading goes on after it."""
    lines = text.splitlines(keepends=True)
    done = 0  # lines consumed before the current reader's first
    while done < len(lines):
        reader = csv.reader(io.StringIO("".join(lines[done:]), newline=""), delimiter=fmt["delimiter"],
                            quotechar=fmt["quote"], strict=True)
        while True:
            start = done + reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                end = max(done + reader.line_num, start)
                yield start, f"\x00error:{err}", "".join(lines[start - 1:end]).rstrip("\r\n")
                done = end
                break
            yield start, row, "".join(lines[start - 1:done + reader.line_num]).rstrip("\r\n")


def _blank(row: Any) -> bool:
    return (isinstance(row, str) and not row.strip()) or (isinstance(row, list) and all(not c.strip() for c in row))


def _header(row: list[str]) -> list[str]:
    names = [c.strip() for c in row]
    if not names or any(not n for n in names):
        raise ValueError("the header row has an empty column name")
    if len(set(names)) != len(names):
        raise ValueError("the header row names a column twice")
    return names


def _csv_record(columns: list[str], row: list[str]) -> dict:
    if len(row) != len(columns):
        raise ValueError(f"{len(row)} fields where the header has {len(columns)}")
    return dict(zip(columns, row))


def _fixed_record(spec: list[dict], line: str) -> dict:
    end = max(f["start"] - 1 + f["width"] for f in spec)
    if len(line.rstrip()) > end:
        raise ValueError(f"{len(line.rstrip())} characters where the fields end at column {end}")
    last = max(f["start"] for f in spec)
    if len(line) < last:
        raise ValueError(f"{len(line)} characters: the field at column {last} is missing")
    return {f["name"]: line[f["start"] - 1:f["start"] - 1 + f["width"]].strip() for f in spec}


def _fixed_line(spec: list[dict], record: dict, index: int) -> str:
    end = max(f["start"] - 1 + f["width"] for f in spec)
    line = [" "] * end
    for f in spec:
        value = _cell(record.get(f["name"]))
        if len(value) > f["width"]:
            raise FormatError(f"record {index}: {f['name']} is {len(value)} characters, its field {f['width']}")
        if "\n" in value or "\r" in value:
            raise FormatError(f"record {index}: {f['name']} holds a line break")
        line[f["start"] - 1:f["start"] - 1 + f["width"]] = value.ljust(f["width"])
    return "".join(line).rstrip()


def _json_record(line: str) -> dict:
    try:
        value = json.loads(line)
    except ValueError as err:
        raise ValueError(f"not JSON ({err})") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
