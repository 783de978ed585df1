"""event.poll's reading of its sources: a SQL table (SQLite file, and PostgreSQL with the services) and an HTTP list,
after a (timestamp, id) watermark, in watermark order. Cursors, leases and runs: tests/runtime/test_polls.py."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import marshmallow
import pytest
from sqlalchemy import create_engine

from nodes import catalog, event_poll, sql_targets
from nodes.base import NodeError
from nodes.http_client import Egress
from support import services

from .conftest import LOCAL

T0 = dt.datetime(2026, 11, 28, 9, 0)
TARGETS = ["sqlite", "postgresql"] if services.SERVICES else ["sqlite"]


@dataclass
class Env:
    guard: sql_targets.Guard
    params: dict = field(default_factory=dict)
    egress: object = lambda: LOCAL

    def databases(self) -> sql_targets.Guard:
        return self.guard


@pytest.fixture(params=TARGETS)
def source(request, tmp_path, pg_url):
    """A table `changes` of 9 rows: three share each timestamp, ids not in timestamp order."""
    if request.param == "sqlite":
        url, guard = f"sqlite:///{tmp_path / 'source.db'}", sql_targets.Guard(file_dirs=(str(tmp_path),))
    else:
        services.count(request)
        url = pg_url.render_as_string(hide_password=False)
        guard = sql_targets.Guard(egress=Egress.parse([f"{pg_url.host}:{pg_url.port or 5432}"]))
    engine = create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("DROP TABLE IF EXISTS changes")
        c.exec_driver_sql("CREATE TABLE changes (id INTEGER PRIMARY KEY, changed_at TIMESTAMP, sku VARCHAR(20))")
        for i in range(9):
            c.exec_driver_sql("INSERT INTO changes VALUES (%s, %s, %s)" if request.param == "postgresql" else
                              "INSERT INTO changes VALUES (?, ?, ?)", ((9 - i), T0 + dt.timedelta(minutes=i // 3),
                                                                      f"S{9 - i}"))
    engine.dispose()
    yield {"system": "sql", "base_url": url, "auth": {"type": "none"}}, guard
    sql_targets.dispose_all()


def poller(guard, **config):
    loaded = catalog.load_config(event_poll.SPEC, {"connection": "src", **config})
    return event_poll.prepare(loaded, Env(guard))


def test_a_table_is_read_after_the_watermark_in_timestamp_then_id_order(source):
    connection, guard = source
    prepared = poller(guard, table="changes", timestamp_field="changed_at", columns=["sku"])
    first = event_poll.fetch(prepared, connection, None, None, 4)
    assert [i for _, i, _ in first] == [7, 8, 9, 4]
    # the timestamp as the database gives it (SQLite: text), so that it compares with the column exactly as stored
    assert [str(ts)[:19] for ts, _, _ in first] == ["2026-11-28 09:00:00"] * 3 + ["2026-11-28 09:01:00"]
    assert first[0][2] == {"sku": "S7"}  # the columns asked for
    after = event_poll.decode(event_poll.encode(first[-1][:2]))  # as the cursor row keeps it
    assert after == first[-1][:2]
    rest = event_poll.fetch(prepared, connection, after, None, 100)
    assert [i for _, i, _ in rest] == [5, 6, 1, 2, 3]
    assert event_poll.fetch(prepared, connection, rest[-1][:2], None, 100) == []
    # settle: nothing younger than `until`
    assert [i for _, i, _ in event_poll.fetch(prepared, connection, None, T0 + dt.timedelta(seconds=90), 100)] == [
        7, 8, 9, 4, 5, 6]
    everything = poller(guard, table="changes", timestamp_field="changed_at")
    assert set(event_poll.fetch(everything, connection, None, None, 1)[0][2]) == {"id", "changed_at", "sku"}


def test_postgresql_times_are_read_in_utc_whatever_the_server_zone(source, pg_url):
    connection, guard = source
    if not connection["base_url"].startswith("postgresql"):
        assert connection["base_url"].startswith("sqlite")  # SQLite keeps no zone
        return
    engine = create_engine(connection["base_url"])
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE zoned (id INTEGER PRIMARY KEY, at TIMESTAMPTZ)")
        c.exec_driver_sql("INSERT INTO zoned VALUES (1, '2026-11-28 09:00:00+00'), (2, '2026-11-28 09:01:00+00')")
        c.exec_driver_sql(f"ALTER DATABASE {pg_url.database} SET timezone = 'America/New_York'")
    engine.dispose()
    sql_targets.dispose_all()  # connections opened from now on take the zone
    try:
        prepared = poller(guard, table="zoned", timestamp_field="at")
        found = event_poll.fetch(prepared, connection, None, T0 + dt.timedelta(seconds=30), 10)  # T0 is UTC
        assert [i for _, i, _ in found] == [1]
        assert found[0][2]["at"] == "2026-11-28T09:00:00+00:00"
    finally:
        sql_targets.dispose_all()
        with create_engine(connection["base_url"]).begin() as c:
            c.exec_driver_sql(f"ALTER DATABASE {pg_url.database} RESET timezone")


def test_a_table_that_is_not_there_fails_naming_the_statement(source):
    connection, guard = source
    with pytest.raises(NodeError) as caught:
        event_poll.fetch(poller(guard, table="nope"), connection, None, None, 10)
    assert (caught.value.code, caught.value.field) == ("sql_error", "statement")


def test_an_http_list_is_read_after_the_watermark_with_the_query_parameters(http_target):
    records = [{"id": "b", "meta": {"updated": "2026-11-28T09:00:00Z"}},
               {"id": "a", "meta": {"updated": "2026-11-28T09:00:00Z"}},
               {"id": "c", "meta": {"updated": "2026-11-28T08:00:00Z"}},
               {"id": "d", "meta": {"updated": "2026-11-28T10:00:00Z"}}]
    http_target.script = [(200, {"items": records}, {})]
    prepared = poller(None, source="http", path="/changes", records="items", timestamp_field="meta.updated",
                      since_param="from", limit_param="max")
    connection = {"system": "http", "base_url": http_target.url, "auth": {"type": "bearer", "token": "t0k"}}
    utc = dt.timezone.utc
    first = event_poll.fetch(prepared, connection, None, None, 3)
    assert [i for _, i, _ in first] == ["c", "a", "b"]
    assert first[1][2] == records[1]
    request = http_target.requests[0]
    assert request["path"] == "/changes?max=3" and request["headers"]["Authorization"] == "Bearer t0k"
    mark = event_poll.decode(event_poll.encode(first[-1][:2]))
    assert mark == (dt.datetime(2026, 11, 28, 9, tzinfo=utc), "b")
    assert [i for _, i, _ in event_poll.fetch(prepared, connection, mark, None, 3)] == ["d"]  # the rest is filtered
    assert http_target.requests[1]["path"] == "/changes?max=3&from=2026-11-28T09%3A00%3A00%2B00%3A00&after_id=b"


def test_an_http_answer_without_a_list_or_watermark_fields_fails(http_target):
    connection = {"system": "http", "base_url": http_target.url, "auth": {"type": "none"}}
    http_target.script = [(200, {"items": []}, {})]
    with pytest.raises(NodeError) as caught:
        event_poll.fetch(poller(None, source="http"), connection, None, None, 10)
    assert (caught.value.code, caught.value.field) == ("invalid_answer", "records")
    http_target.script = [(200, [{"id": 1}], {})]
    with pytest.raises(NodeError) as caught:
        event_poll.fetch(poller(None, source="http"), connection, None, None, 10)
    assert (caught.value.code, caught.value.field) == ("invalid_record", "timestamp_field")
    http_target.script = [(503, {"error": "busy"}, {})]
    with pytest.raises(NodeError) as caught:
        event_poll.fetch(poller(None, source="http"), connection, None, None, 10)
    assert caught.value.code == "http_5xx" and caught.value.retryable


def test_run_passes_the_record_on(ctx):
    prepared = poller(None, table="t")
    assert list(event_poll.run(prepared, {"id": 1}, ctx)) == [("out", {"id": 1})]


def test_the_config_it_refuses():
    for config in ({"connection": "db"}, {"connection": "db", "table": "t", "timestamp_field": "a.b"},
                   {"connection": "db", "table": "t; --"}, {"connection": "db", "table": "t", "settle_s": -1},
                   {"connection": "db", "table": "t", "max_per_poll": 0},
                   {"connection": "db", "source": "http", "since_param": "a b"}):
        with pytest.raises(marshmallow.ValidationError):
            catalog.load_config(event_poll.SPEC, config)
