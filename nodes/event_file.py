"""event.file: a flow started by the files dropped in a local folder or on an SFTP server. The runtime's watcher
(runtime/file_pickups.py) lists the folder on the maintenance pass under a lease, takes a file once its size and
mtime stayed the same for `settle_s`, stores its runs in the same transaction that records the file as taken, then
moves it to the archive folder (the error folder when the whole file is unreadable). `read` here turns a file into
the runs' inputs; `run` is the trigger's step.

Each run's input names the file and line: {"file": {...}, "line": 3, "record": {...}}; the step sends the record
out of `out` (with `per: file`, one run whose `out` message is {"file": name, "records": [...]}). A row that does not
parse, and a file that cannot be read at all, is a run of its own that fails at this node with `malformed_record`
(or `unreadable_file`) naming the file and line: it goes out of `error` when that is wired, else to the dead-letter
queue, so every row of a file is accounted for.
"""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from flows.spec import NodeSpec, Port, Reference
from nodes import file_formats, file_paths
from nodes.base import Context, Emit, NodeError

NAME = r"^[A-Za-z0-9_.-]{1,100}$"  # a connection name (runtime/connections.py)
GLOB = r"^[^/\\\x00]{1,200}$"
FOLDER = r"^[^\\\x00]{0,500}$"
MB = 1024 * 1024


class Config(Schema):
    """Where to look, which files, when a file is complete, how to read it, and where it goes after."""

    connection = fields.String(required=True, validate=validate.Regexp(NAME), metadata={
        "title": "Connection", "description": "A workspace connection of system folder or sftp"})
    folder = fields.String(load_default="", validate=validate.Regexp(FOLDER), metadata={
        "title": "Folder", "description": "Below the connection's folder, e.g. inbound/orders; empty: itself"})
    patterns = fields.List(fields.String(validate=validate.Regexp(GLOB)), load_default=lambda: ["*"],
                           validate=validate.Length(1, 20), metadata={
                               "title": "File patterns", "description": "Globs a file name must match one of, e.g. "
                               "*.csv"})
    settle_s = fields.Float(load_default=10.0, validate=validate.Range(0, 3600), metadata={
        "title": "Settle (s)", "description": "A file is taken once its size and time stayed the same this long "
        "(still being uploaded until then)"})
    interval_s = fields.Integer(strict=True, load_default=60, validate=validate.Range(1, 86_400), metadata={
        "title": "Interval (s)", "description": "Between listings (at least the maintenance pass, 15 s by default)"})
    per = fields.String(load_default="record", validate=validate.OneOf(("record", "file")), metadata={
        "title": "Runs", "description": "record: a run per record; file: one run with all records of a file"})
    format = fields.Nested(file_formats.Format, load_default=lambda: file_formats.load({}), metadata={
        "title": "Format"})
    archive_folder = fields.String(load_default="archive", validate=validate.Regexp(FOLDER), metadata={
        "title": "Archive folder", "description": "Where a file moves once its runs are stored, below the "
        "connection's folder"})
    error_folder = fields.String(load_default="error", validate=validate.Regexp(FOLDER), metadata={
        "title": "Error folder", "description": "Where a file that cannot be read at all moves"})
    max_bytes = fields.Integer(strict=True, load_default=MB * 10, validate=validate.Range(1, MB * 100),
                               metadata={"title": "Max file size (bytes)", "description": "A larger file is "
                                         "unreadable (moved to the error folder)"})
    max_records = fields.Integer(strict=True, load_default=10_000, validate=validate.Range(1, 100_000), metadata={
        "title": "Max records", "description": "Per file; a file with more is unreadable"})
    max_files = fields.Integer(strict=True, load_default=20, validate=validate.Range(1, 1000), metadata={
        "title": "Max files per listing", "description": "More are taken at the next pass"})
    timeout_s = fields.Float(load_default=30.0, validate=validate.Range(0, 300, min_inclusive=False), metadata={
        "title": "Timeout (s)", "description": "Each SFTP operation's time limit"})

    @validates_schema
    def distinct(self, data: dict, **kwargs: Any) -> None:
        paths = {}
        for name in ("folder", "archive_folder", "error_folder"):
            try:
                paths[name] = file_paths.relative(data.get(name, ""), name)
            except NodeError as err:
                raise ValidationError({name: [err.message]}) from None
        for name in ("archive_folder", "error_folder"):
            if paths[name] == paths["folder"]:
                raise ValidationError({name: ["must differ from the folder watched"]})


SPEC = NodeSpec(
    type="event.file", version=1, category="event", title="File drop",
    description="Starts a run per record (or per file) of the files dropped in a folder or on an SFTP server; "
                "moves each file to an archive folder after.",
    inputs=(), outputs=(Port("out", "Record"), Port("error", "Malformed row or unreadable file")),
    config=Config, icon="folder", tags=("trigger", "file", "sftp", "csv"),
    summary="{{format.kind}} files from {{connection}}[ {{folder}}]",
    references={"connection": Reference("connection", systems=file_paths.SYSTEMS)},
)


def run(config: dict, message: Any, ctx: Context) -> Emit:
    if not isinstance(message, dict) or "file" not in message:
        yield "out", message  # started by hand (a replay of its output, a test run): passed on
        return
    name = (message.get("file") or {}).get("name")
    if message.get("error") is not None:
        line = message.get("line")
        where = f"{name} line {line}" if line is not None else str(name)
        code = "malformed_record" if line is not None else "unreadable_file"
        raise NodeError(code, f"{where}: {message['error']}", field="format",
                        details={"file": name, "line": line, "error": message["error"], "raw": message.get("raw")})
    if "records" in message:
        yield "out", {"file": name, "records": message["records"]}
    else:
        yield "out", message.get("record")


def inputs(config: dict, file: dict, data: bytes | None,
           unreadable: str | None) -> tuple[list[tuple[dict, Any]], str | None]:
    """The runs' inputs for a file (each with the record its keys are taken from: None for an error), and why the
    whole file is unreadable (None when it is not): a run per record or one for the file and a run per malformed
    row, or a single run when the file is unreadable (`unreadable` given, or found here)."""
    if unreadable is None:
        try:
            parsed = file_formats.parse(config["format"], data or b"", config["max_records"])
        except file_formats.FormatError as err:
            unreadable = str(err)
    if unreadable is not None:
        return [({"file": file, "line": None, "error": unreadable}, None)], unreadable
    made: list[tuple[dict, Any]] = []
    if config["per"] == "file":
        if parsed.records or not parsed.errors:
            records = [r for _, r in parsed.records]
            made.append(({"file": file, "lines": [n for n, _ in parsed.records], "records": records},
                         {"file": file["name"], "records": records}))
    else:
        made += [({"file": file, "line": line, "record": record}, record) for line, record in parsed.records]
    made += [({"file": file, "line": line, "error": error, "raw": raw}, None) for line, error, raw in parsed.errors]
    made.sort(key=lambda m: m[0].get("line") or 0)
    return made, None
