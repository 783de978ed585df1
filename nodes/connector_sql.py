"""connector.sql: query, insert, upsert or call on a database named by a workspace connection (any SQLAlchemy URL
the guard of nodes/sql_targets.py lets through). The SQL text is config; values from the message only ever
travel as bound parameters, so a value can never become SQL. A query's rows come out in pages, one message each.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import column, table, text
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import URL, Connection

from flows.spec import NodeSpec, Port, Reference
from nodes import sql_sessions, sql_targets
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field, evaluate_field
from nodes.connector_http import Retry
from nodes.expression import Expression

OPERATIONS = ("query", "insert", "upsert", "call")
NAME = r"^[A-Za-z0-9_.-]{1,100}$"  # a connection name (runtime/connections.py)
COLUMN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
TABLE = r"^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$"  # table or schema.table
_COLUMN = re.compile(COLUMN)
UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert, "mysql": mysql.insert, "mariadb": mysql.insert}


class Config(Schema):
    """The database, the operation and its statement or table, and how much it may return."""

    connection = fields.String(required=True, validate=validate.Regexp(NAME), metadata={
        "title": "Connection", "description": "A workspace connection of system sql (its database URL)"})
    operation = fields.String(load_default="query", validate=validate.OneOf(OPERATIONS), metadata={
        "title": "Operation", "description": "query: rows in pages; insert/upsert: rows into a table; call: a "
        "procedure or function"})
    statement = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=20_000),
                              metadata={"title": "SQL", "description": "query and call: the statement, with "
                                        ":name for each value, e.g. SELECT * FROM orders WHERE status = :status"})
    table = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(TABLE), metadata={
        "title": "Table", "description": "insert and upsert: table or schema.table"})
    key = fields.List(fields.String(validate=validate.Regexp(COLUMN)), load_default=list,
                      validate=validate.Length(max=16), metadata={
                          "title": "Key columns", "description": "upsert: the unique columns a row is matched on"})
    params = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20_000), metadata={
        "title": "Values", "format": "jsonata", "description": "query and call: an object of the :name values; "
        "insert and upsert: a row object or a list of them; empty: the message"})
    page_size = fields.Integer(strict=True, load_default=500, validate=validate.Range(1, 10_000), metadata={
        "title": "Page size", "description": "Rows per output message of a query"})
    max_rows = fields.Integer(strict=True, load_default=10_000, validate=validate.Range(1, 1_000_000), metadata={
        "title": "Max rows", "description": "More rows read or written than this fail the step (too_many_rows)"})
    timeout_s = fields.Float(load_default=30.0, validate=validate.Range(0, 600, min_inclusive=False), metadata={
        "title": "Timeout (s)", "description": "Each statement's time limit"})
    retry = fields.Nested(Retry, load_default=lambda: Retry().load({}), metadata={"title": "Retry"})

    @validates_schema
    def needs(self, data: dict, **kwargs: Any) -> None:
        op = data.get("operation", "query")
        if op in ("query", "call") and not data.get("statement"):
            raise ValidationError({"statement": [f"required for {op}"]})
        if op in ("insert", "upsert") and not data.get("table"):
            raise ValidationError({"table": [f"required for {op}"]})
        if op == "upsert" and not data.get("key"):
            raise ValidationError({"key": ["required for upsert: the columns a row is matched on"]})


SPEC = NodeSpec(
    type="connector.sql", version=1, category="connector", title="SQL database",
    description="Queries a database (rows in pages) or inserts, upserts or calls; values are always bound.",
    inputs=(Port("in"),), outputs=(Port("out", "Rows or result", optional=True), Port("error", "Statement failed")),
    config=Config, expressions=("params",), icon="database", tags=("sql", "database"),
    summary="{{operation}}[ {{table}}][ on {{connection}}]",
    references={"connection": Reference("connection", systems=("sql",))},
)


@dataclass(frozen=True)
class Prepared:
    connection: str
    operation: str
    statement: str | None
    table: str | None
    key: tuple[str, ...]
    params: Expression | None
    page_size: int
    max_rows: int
    timeout_s: float
    guard: Callable[[], sql_targets.Guard]


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    return Prepared(connection=config["connection"], operation=config["operation"], statement=config["statement"],
                    table=config["table"], key=tuple(config["key"]),
                    params=compile_field(config["params"], "params") if config.get("params") else None,
                    page_size=config["page_size"], max_rows=config["max_rows"], timeout_s=config["timeout_s"],
                    guard=guard_of(env))


def guard_of(env: PrepareEnv) -> Callable[[], sql_targets.Guard]:
    """What the runtime says SQL nodes may reach (PrepareEnv.databases); without it, the HTTP egress policy alone
    and no SQLite file."""
    databases = getattr(env, "databases", None)
    if databases is not None:
        return databases
    egress = getattr(env, "egress", None)
    return lambda: sql_targets.Guard(egress=egress()) if egress else sql_targets.Guard()


def connection_url(ctx: Context, name: str) -> URL:
    """The database URL of the workspace connection `name` (of system sql)."""
    try:
        conn = ctx.connection(name)
    except KeyError as err:
        raise NodeError("unknown_connection", str(err.args[0] if err.args else err), field="connection") from None
    return url_for(conn, name)


def url_for(conn: Mapping[str, Any], name: str) -> URL:
    """The database URL of a resolved connection; a NodeError when it is not a SQL database's."""
    if conn.get("system") != "sql":
        raise NodeError("connection_system", f"connection {name!r} is for the {str(conn.get('system')).upper()}, "
                        "not a SQL database", field="connection")
    try:
        return sql_targets.url_of(conn)
    except ValueError as err:
        raise NodeError("invalid_connection", f"connection {name!r}: {err}", field="connection") from None


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    url = connection_url(ctx, prepared.connection)
    values = evaluate_field(prepared.params, message, ctx, "params") if prepared.params else None
    if prepared.operation in ("insert", "upsert"):
        rows = _rows(message if prepared.params is None else values, prepared.max_rows)
        with sql_sessions.transaction(url, prepared.guard(), prepared.timeout_s) as conn:
            count = _write(conn, prepared, rows)
        yield "out", {"operation": prepared.operation, "table": prepared.table, "rows": count}
        return
    binds = sql_sessions.bind(values)
    read_only = prepared.operation == "query"
    with sql_sessions.transaction(url, prepared.guard(), prepared.timeout_s, read_only=read_only) as conn:
        # a query's rows come through a server-side cursor, page by page; a call is no cursor's body
        result = conn.execution_options(stream_results=read_only).execute(text(prepared.statement), binds)
        if not result.returns_rows:
            out = [{"operation": prepared.operation, "rowcount": max(result.rowcount, 0)}]
        else:
            out = list(_pages(result, prepared))
    # yielded once the transaction is committed: a page never reports what a failed commit undid
    for page in out:
        yield "out", page


def _pages(result: Any, prepared: Prepared):
    """The rows in pages of page_size: {"rows", "page", "last"}, the last one with the "total"; one empty page
    when there are none, so the flow always continues. More than max_rows fails (too_many_rows)."""
    total, number = 0, 0
    page = result.mappings().fetchmany(prepared.page_size)
    while True:
        number += 1
        total += len(page)
        if total > prepared.max_rows:
            raise NodeError("too_many_rows", f"the query returned more than max_rows ({prepared.max_rows}) rows",
                            field="max_rows")
        following = result.mappings().fetchmany(prepared.page_size) if len(page) == prepared.page_size else []
        out = {"rows": [sql_sessions.row(r) for r in page], "page": number, "last": not following}
        if not following:
            yield {**out, "total": total}
            return
        yield out
        page = following


def _rows(value: Any, max_rows: int) -> list[dict]:
    rows = value if isinstance(value, list) else [value]
    if not rows or not all(isinstance(r, dict) and r for r in rows):
        raise NodeError("invalid_rows", "insert and upsert take a row object or a list of them, each with at "
                        "least one column", field="params")
    if len(rows) > max_rows:
        raise NodeError("too_many_rows", f"{len(rows)} rows, more than max_rows ({max_rows})", field="max_rows")
    for r in rows:
        bad = next((k for k in r if not isinstance(k, str) or not _COLUMN.match(k)), None)
        if bad is not None:
            raise NodeError("invalid_column", f"{str(bad)[:80]!r} is not a column name (letters, digits and _)",
                            field="params")
    return [sql_sessions.bind(r) for r in rows]


def _write(conn: Connection, prepared: Prepared, rows: list[dict]) -> int:
    """Insert or upsert `rows`, grouped by the columns they set (a column a row leaves out keeps its default)."""
    schema, _, name = prepared.table.rpartition(".")
    groups: dict[tuple[str, ...], list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r), []).append(r)
    for columns, group in groups.items():
        target = table(name, *(column(c) for c in columns), schema=schema or None)
        if prepared.operation == "insert":
            conn.execute(target.insert(), group)
            continue
        missing = [k for k in prepared.key if k not in columns]
        if missing:
            raise NodeError("invalid_rows", f"a row has no value for key column {missing[0]!r}", field="params")
        conn.execute(_upsert(conn, target, columns, prepared.key), group)
    return len(rows)


def _upsert(conn: Connection, target: Any, columns: tuple[str, ...], key: tuple[str, ...]) -> Any:
    make = UPSERTS.get(conn.dialect.name)
    if make is None:
        raise NodeError("upsert_unsupported", f"upsert is not available on {conn.dialect.name}: use insert, or a "
                        "call of the database's own merge", field="operation")
    statement = make(target)
    others = [c for c in columns if c not in key]
    if conn.dialect.name in ("mysql", "mariadb"):
        return statement.on_duplicate_key_update({c: statement.inserted[c] for c in others or key})
    if not others:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    return statement.on_conflict_do_update(index_elements=list(key),
                                           set_={c: statement.excluded[c] for c in others})
