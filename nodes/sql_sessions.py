"""A transaction of a SQL node on its target (connector.sql, event.poll): the statement timeout set inside it,
read-only when it only reads, rows turned into JSON values, and the driver's failures turned into NodeErrors
classified as technical (retryable: connection lost, timeout, deadlock) or business (a statement or value a
person must fix).
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import json
import time
import uuid
from typing import Any, Iterator

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError

from nodes import sql_targets, turns
from nodes.base import TECHNICAL, NodeError

RETRYABLE_STATES = ("08", "40", "53", "57P", "55P03")  # connection, rollback (deadlock), resources, shutdown, lock
CANCELED = "57014"  # PostgreSQL: statement_timeout reached
EXCERPT = 300  # characters of a driver message kept in an error


@contextlib.contextmanager
def transaction(url: URL, guard: sql_targets.Guard, timeout_s: float, *, read_only: bool = False,
                utc: bool = False, field: str = "connection") -> Iterator[Connection]:
    """A connection inside a transaction (committed when the block ends without error), every statement of it
    limited to `timeout_s`; `utc`: PostgreSQL reads and writes times in UTC in it, as Crossdock does. Failures
    become NodeErrors (`field` names the config field the target comes from)."""
    with failures(url, field), turns.waiting():  # mostly on the database: another run computes meanwhile
        with sql_targets.engine(url, guard).connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                _sqlite_limits(conn, timeout_s, read_only)
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        if read_only:
                            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                        if utc:
                            conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                        conn.execute(text("SELECT set_config('statement_timeout', :ms, true)"),
                                     {"ms": str(max(1, int(timeout_s * 1000)))})
                    yield conn
            finally:
                if sqlite:
                    _sqlite_limits(conn, None, False)


def _sqlite_limits(conn: Connection, timeout_s: float | None, read_only: bool) -> None:
    raw = conn.connection.dbapi_connection
    if timeout_s is None:
        raw.set_progress_handler(None, 0)
    else:
        deadline = time.monotonic() + timeout_s
        raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)  # non-zero interrupts
    conn.exec_driver_sql(f"PRAGMA query_only = {1 if read_only else 0}")
    conn.commit()  # ends SQLAlchemy's autobegun transaction: the node's own begins next


@contextlib.contextmanager
def failures(url: URL, field: str = "connection") -> Iterator[None]:
    """Turn what the guard or the driver raises into a NodeError naming the target (never its password)."""
    where = sql_targets.where(url)
    try:
        yield
    except NodeError:
        raise
    except sql_targets.TargetDenied as err:
        raise NodeError("egress_denied", f"{where}: {err.reason}", field=field, details={"reason": err.reason}) \
            from None
    except ConnectionError as err:
        raise NodeError("connection_error", f"{where}: {err}", error_class=TECHNICAL, retryable=True,
                        field=field) from None
    except IntegrityError as err:
        raise NodeError("constraint_violation", f"{where}: {_reason(err)}", field="params",
                        details=_details(err)) from None
    except DBAPIError as err:
        raise _classified(where, err) from None
    except StatementError as err:  # a bind parameter without a value, a value the driver cannot send
        raise NodeError("invalid_params", f"{where}: {_reason(err)}", field="params") from None


def _classified(where: str, err: DBAPIError) -> NodeError:
    state = str(getattr(err.orig, "sqlstate", "") or "")
    message = _reason(err)
    if state == CANCELED or "interrupted" in message:
        return NodeError("timeout", f"{where}: the statement ran past its timeout", error_class=TECHNICAL,
                         retryable=True, field="timeout_s", details=_details(err))
    if err.connection_invalidated or state.startswith(RETRYABLE_STATES) or "database is locked" in message or (
            not state and type(err.orig).__name__ == "OperationalError" and "unable to open" in message):
        return NodeError("connection_error", f"{where}: {message}", error_class=TECHNICAL, retryable=True,
                         details=_details(err))
    return NodeError("sql_error", f"{where}: {message}", field="statement", details=_details(err))


def _reason(err: Exception) -> str:
    orig = getattr(err, "orig", None)
    return " ".join(str(orig if orig is not None else err).split())[:EXCERPT]


def _details(err: DBAPIError) -> dict:
    state = getattr(err.orig, "sqlstate", None)
    return {"sqlstate": state} if state else {}


def bind(values: Any, field: str = "params") -> dict[str, Any]:
    """The named parameters of a statement from a params expression's value: an object (or nothing). Objects
    and lists inside it are sent as JSON text; a value is always bound, never written into the SQL."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise NodeError("invalid_params", f"{field} gives {type(values).__name__}, not an object of named "
                        "parameters", field=field)
    return {str(k): json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in values.items()}


def jsonable(value: Any) -> Any:
    """A column value as JSON: numbers stay numbers (a decimal without fraction an integer), times ISO 8601,
    bytes base64, anything else its text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return str(value)


def row(mapping: Any) -> dict[str, Any]:
    return {str(k): jsonable(v) for k, v in mapping.items()}
