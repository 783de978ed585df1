"""event.poll: a flow started by each new record of a SQL table or an HTTP list, read after a watermark (the last
record's timestamp, its id breaking ties). The runtime's poller (runtime/polls.py) keeps the watermark per flow and
node in the database, advances it in the same transaction that stores the runs, and holds a lease while it polls,
so records are neither missed nor repeated across restarts and processes; `fetch` here reads the source.
"""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import and_, column, literal_column, or_, select, table

from flows.spec import NodeSpec, Port, Reference
from nodes import connector_http, http_client, sql_sessions, sql_targets
from nodes.base import Context, Emit, NodeError, PrepareEnv, compile_field
from nodes.connector_sql import COLUMN, NAME, TABLE, guard_of, url_for
from nodes.expression import Expression, ExpressionError

SOURCES = ("sql", "http")
FIELD = r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62}){0,9}$"  # a column, or a dotted path (http)
QUERY_NAME = r"^[A-Za-z0-9_.-]{1,50}$"
Mark = tuple[Any, Any]  # (timestamp, id) of the last record taken
Record = tuple[Any, Any, dict]  # (timestamp, id, the record as the run's input)


class Config(Schema):
    """The source, its watermark fields, and how often and how much to read."""

    source = fields.String(load_default="sql", validate=validate.OneOf(SOURCES), metadata={
        "title": "Source", "description": "sql: rows of a table; http: a JSON list an API answers"})
    connection = fields.String(required=True, validate=validate.Regexp(NAME), metadata={
        "title": "Connection", "description": "sql: a connection of system sql; http: one whose base URL serves "
        "the list"})
    table = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(TABLE), metadata={
        "title": "Table", "description": "sql: table or schema.table"})
    columns = fields.List(fields.String(validate=validate.Regexp(COLUMN)), load_default=list,
                          validate=validate.Length(max=100), metadata={
                              "title": "Columns", "description": "sql: the columns each run gets; empty: all"})
    path = fields.String(load_default="", validate=validate.Regexp(r"^(/[^\s?#]{0,2000})?$"), metadata={
        "title": "Path", "description": "http: after the connection's base URL, e.g. /orders"})
    records = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "title": "Records", "format": "jsonata", "description": "http: where the list is in the answer, e.g. "
        "items; empty: the answer is the list"})
    timestamp_field = fields.String(load_default="updated_at", validate=validate.Regexp(FIELD), metadata={
        "title": "Timestamp field", "description": "The column or field that grows with each new or changed "
        "record"})
    id_field = fields.String(load_default="id", validate=validate.Regexp(FIELD), metadata={
        "title": "Id field", "description": "Unique per record: orders records of the same timestamp"})
    since_param = fields.String(load_default="since", validate=validate.Regexp(QUERY_NAME), metadata={
        "title": "Since parameter", "description": "http: query parameter carrying the watermark's timestamp"})
    after_param = fields.String(load_default="after_id", validate=validate.Regexp(QUERY_NAME), metadata={
        "title": "After-id parameter", "description": "http: query parameter carrying the watermark's id"})
    limit_param = fields.String(load_default="limit", validate=validate.Regexp(QUERY_NAME), metadata={
        "title": "Limit parameter", "description": "http: query parameter carrying the batch size"})
    interval_s = fields.Integer(strict=True, load_default=60, validate=validate.Range(1, 86_400), metadata={
        "title": "Interval (s)", "description": "Between polls (at least the maintenance pass, 15 s by default)"})
    batch_size = fields.Integer(strict=True, load_default=100, validate=validate.Range(1, 1000), metadata={
        "title": "Batch size", "description": "Records read per request or query"})
    max_per_poll = fields.Integer(strict=True, load_default=1000, validate=validate.Range(1, 10_000), metadata={
        "title": "Max per poll", "description": "Records a poll takes at most; more are taken at the next pass"})
    settle_s = fields.Float(load_default=0.0, validate=validate.Range(0, 3600), metadata={
        "title": "Settle (s)", "description": "Leave records younger than this for a later poll: longer than the "
        "source's longest write transaction, so a late commit is not passed over"})
    timeout_s = fields.Float(load_default=30.0, validate=validate.Range(0, 300, min_inclusive=False), metadata={
        "title": "Timeout (s)"})

    @validates_schema
    def needs(self, data: dict, **kwargs: Any) -> None:
        if data.get("source", "sql") == "sql":
            if not data.get("table"):
                raise ValidationError({"table": ["required for a sql source"]})
            for name in ("timestamp_field", "id_field"):
                if "." in data.get(name, ""):
                    raise ValidationError({name: ["a column name for a sql source"]})


SPEC = NodeSpec(
    type="event.poll", version=1, category="event", title="Poll",
    description="Starts a run per new record of a SQL table or an HTTP list, after a watermark kept between polls.",
    inputs=(), outputs=(Port("out", "Record"),), config=Config, expressions=("records",), icon="refresh",
    tags=("trigger", "poll", "sql", "watermark"),
    summary="{{source}} {{connection}}[ {{table}}][ {{path}}] every {{interval_s}} s",
    references={"connection": Reference("connection", systems=("sql", "http"))},
)


@dataclass(frozen=True)
class Prepared:
    config: dict
    records: Expression | None
    guard: Callable[[], sql_targets.Guard]
    egress: Callable[[], http_client.Egress] | None


def prepare(config: dict, env: PrepareEnv) -> Prepared:
    records = compile_field(config["records"], "records") if config.get("records") else None
    return Prepared(config, records, guard_of(env), getattr(env, "egress", None))


def run(prepared: Prepared, message: Any, ctx: Context) -> Emit:
    yield "out", message


def fetch(prepared: Prepared, connection: Mapping[str, Any], after: Mark | None, until: dt.datetime | None,
          limit: int) -> list[Record]:
    """Up to `limit` records after the watermark `after` (None: from the first), at or before `until` (None: no
    bound), in watermark order; a NodeError when the source fails."""
    config = prepared.config
    if config["source"] == "sql":
        return _from_table(prepared, url_for(connection, config["connection"]), after, until, limit)
    return _from_api(prepared, connection, after, until, limit)


def _from_table(prepared: Prepared, url: Any, after: Mark | None, until: dt.datetime | None,
                limit: int) -> list[Record]:
    config = prepared.config
    schema, _, name = config["table"].rpartition(".")
    ts, key = column(config["timestamp_field"]), column(config["id_field"])
    source = table(name, ts, key, schema=schema or None)
    picked = [column(c) for c in config["columns"]] or [literal_column("*")]
    query = select(ts.label("_wm_ts"), key.label("_wm_id"), *picked).select_from(source)
    if after is not None:
        query = query.where(or_(ts > after[0], and_(ts == after[0], key > after[1])))
    if until is not None:
        query = query.where(ts <= until)
    query = query.order_by(ts, key).limit(limit)
    with sql_sessions.transaction(url, prepared.guard(), config["timeout_s"], read_only=True, utc=True) as conn:
        rows = conn.execute(query).mappings().all()
    return [(r["_wm_ts"], _id(r["_wm_id"]), sql_sessions.row({k: v for k, v in r.items() if not k.startswith("_wm_")}))
            for r in rows]


def _from_api(prepared: Prepared, connection: Mapping[str, Any], after: Mark | None, until: dt.datetime | None,
              limit: int) -> list[Record]:
    config = prepared.config
    auth = dict(connection.get("auth") or {})
    headers = {"Accept": "application/json", **connector_http.auth_headers(
        auth.get("type", "none"), auth.get("header", "X-API-Key"), lambda k: str(auth.get(k, "")))}
    query = {config["limit_param"]: limit}
    if after is not None:
        query.update({config["since_param"]: _sent(after[0]), config["after_param"]: _sent(after[1])})
    url = str(connection.get("base_url", "")).rstrip("/") + config["path"]
    session = http_client.session(prepared.egress() if prepared.egress else None)
    answer = connector_http.send(session, "GET", url, headers=headers, timeout_s=config["timeout_s"], params=query)
    if prepared.records is not None:
        try:
            answer = prepared.records.evaluate(answer, {})
        except ExpressionError as err:
            raise NodeError("expression_error", f"records: {err.code}: {err.message}", field="records") from None
    if answer is None:
        answer = []
    if not isinstance(answer, list):
        answer = [answer] if isinstance(answer, dict) and prepared.records is not None else None
    if answer is None:
        raise NodeError("invalid_answer", f"GET {url}: the answer is no list of records (set records)",
                        field="records")
    found = []
    for record in answer:
        mark = (_timestamp(_at(record, config["timestamp_field"])), _id(_at(record, config["id_field"])))
        if mark[0] is None or mark[1] is None:
            raise NodeError("invalid_record", f"GET {url}: a record has no {config['timestamp_field']} or "
                            f"{config['id_field']}", field="timestamp_field")
        try:
            if (after is None or mark > after) and (until is None or not isinstance(mark[0], dt.datetime)
                                                     or _naive(mark[0]) <= until):
                found.append((*mark, record))
        except TypeError:
            raise NodeError("invalid_record", f"GET {url}: record {mark[1]!r} has a timestamp or id of another "
                            "kind than the watermark's", field="timestamp_field") from None
    found.sort(key=lambda r: (r[0], r[1]))
    return found[:limit]


def _at(record: Any, path: str) -> Any:
    for part in path.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    return record


def _timestamp(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _id(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else (
        None if value is None else str(value))


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _sent(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else str(value)


def encode(mark: Mark) -> dict:
    """A watermark as JSON for the cursor row (runtime/polls.py)."""
    ts, key = mark
    if isinstance(ts, dt.datetime):
        return {"ts": ts.isoformat(), "kind": "datetime", "id": key}
    if isinstance(ts, dt.date):
        return {"ts": ts.isoformat(), "kind": "date", "id": key}
    return {"ts": ts, "kind": "value", "id": key}


def decode(stored: dict | None) -> Mark | None:
    if not isinstance(stored, dict):
        return None
    ts = stored.get("ts")
    if stored.get("kind") == "datetime":
        ts = dt.datetime.fromisoformat(ts)
    elif stored.get("kind") == "date":
        ts = dt.date.fromisoformat(ts)
    return ts, stored.get("id")
