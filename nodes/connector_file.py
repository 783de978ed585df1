"""connector.file: writes the message, or its records through a format (CSV, fixed-width, JSON lines, X12), as a
file in a local folder or on an SFTP server (nodes/file_stores.py). The file is written under a temporary name and
renamed into place, so a reader of the folder never sees half a file; its name comes from a template. A retry writes
the same name again (the file is replaced), so a retried step leaves one file, not two.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from marshmallow import Schema, fields, validate

from flows.spec import NodeSpec, Port, Reference
from nodes import file_formats, file_paths, file_stores, url_template
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.connector_http import Retry
from nodes.event_file import FOLDER, MB, NAME
from nodes.expression import Expression
from nodes.http_client import Egress


class Config(Schema):
    """Where the file goes, its name, and what it holds."""

    connection = fields.String(required=True, validate=validate.Regexp(NAME), metadata={
        "title": "Connection", "description": "A workspace connection of system folder or sftp"})
    folder = fields.String(load_default="", validate=validate.Regexp(FOLDER), metadata={
        "title": "Folder", "description": "Below the connection's folder, e.g. outbound; empty: itself"})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=500), url_template.validate_field],
                         metadata={"title": "File name", "description": "A template: {{param}} from the flow, "
                                   "{{$.field}} from the message, e.g. PO-{{$.number}}.csv"})
    unique = fields.Boolean(load_default=False, metadata={
        "title": "Unique name", "description": "Add the message's idempotency key before the extension, so each "
        "message writes a file of its own (and a retry replaces its own)"})
    records = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000), metadata={
        "title": "Records", "format": "jsonata", "description": "Where the records are, e.g. order.lines; empty: "
        "the message (a list of records, or one record)"})
    format = fields.Nested(file_formats.Format, load_default=lambda: file_formats.load({}), metadata={
        "title": "Format"})
    max_bytes = fields.Integer(strict=True, load_default=MB * 10, validate=validate.Range(1, MB * 100),
                               metadata={"title": "Max file size (bytes)"})
    timeout_s = fields.Float(load_default=30.0, validate=validate.Range(0, 300, min_inclusive=False), metadata={
        "title": "Timeout (s)", "description": "Each SFTP operation's time limit"})
    retry = fields.Nested(Retry, load_default=lambda: Retry().load({}), metadata={"title": "Retry"})


SPEC = NodeSpec(
    type="connector.file", version=1, category="connector", title="File write",
    description="Writes the message's records as a CSV, fixed-width, JSON lines or X12 file to a folder or an SFTP "
                "server, atomically (a temporary name, then renamed).",
    inputs=(Port("in"),), outputs=(Port("out", "File written", optional=True), Port("error", "Write failed")),
    config=Config, expressions=("records",), icon="upload", tags=("file", "sftp", "csv", "write"),
    summary="{{format.kind}} {{name}} to {{connection}}[ {{folder}}]",
    references={"connection": Reference("connection", systems=file_paths.SYSTEMS), "name": Reference("template")},
)


@dataclass(frozen=True)
class Prepared:
    config: dict
    name: url_template.Template
    records: Expression | None
    egress: Callable[[], Egress] | None


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    try:
        name = url_template.parse(config["name"])
    except url_template.TemplateError as err:
        raise NodeError("invalid_template", f"name: {err.message}", field="name") from None
    records = compile_field(config["records"], "records") if config.get("records") else None
    return Prepared(config, name, records, getattr(env, "egress", None))


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    config = prepared.config
    records = evaluate_field(prepared.records, message, ctx, "records") if prepared.records else message
    try:
        data = file_formats.write(config["format"], records)
    except file_formats.FormatError as err:
        raise NodeError("format_error", str(err), field="format") from None
    if len(data) > config["max_bytes"]:
        raise NodeError("file_too_large", f"the file would be {len(data)} bytes, over max_bytes "
                        f"({config['max_bytes']})", field="max_bytes")
    name = file_name(prepared, message, ctx)
    try:
        connection = ctx.connection(config["connection"])
    except KeyError as err:
        raise NodeError("unknown_connection", str(err.args[0] if err.args else err), field="connection") from None
    with file_stores.opened(connection, roots=tuple(getattr(ctx, "file_dirs", ()) or ()),
                            egress=prepared.egress() if prepared.egress else None,
                            timeout_s=config["timeout_s"]) as store:
        path = store.write(config["folder"], name, data)
    ctx.log(f"wrote {path} ({len(data)} bytes)")
    yield "out", {"path": path, "bytes": len(data), "records": _count(records, config), "connection":
                  config["connection"]}


def file_name(prepared: Prepared, message: Any, ctx: Context) -> str:
    """The file's name from the template (and the idempotency key with `unique`), checked to stay in the folder."""
    try:
        name = prepared.name.render(ctx.params or {}, message)
    except url_template.TemplateError as err:
        raise NodeError("template_error", f"name: {err.message}", field="name") from None
    if prepared.config["unique"]:
        stem, dot, ext = name.rpartition(".") if "." in name.rpartition("/")[2] else (name, "", "")
        name = f"{stem}-{ctx.idempotency_key()[:16]}{dot}{ext}"
    name = file_paths.relative(name, "name")
    if not name or name.rpartition("/")[2].startswith(file_paths.TEMP_PREFIX):
        raise NodeError("template_error", f"name: {name!r} is no file name", field="name")
    return name


def _count(records: Any, config: dict) -> int:
    if config["format"]["kind"] == "x12":
        return 1
    return len(records) if isinstance(records, list) else 1
