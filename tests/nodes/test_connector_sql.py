"""connector.sql against real databases: a SQLite file and (with the services) a PostgreSQL database of this test
run's own. Values only ever travel as bound parameters (issue 16, acceptance 6), rows come in pages, statements are
time-limited, and the guard refuses what a workspace must not reach."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

import marshmallow
import pytest
from sqlalchemy import create_engine, text

from nodes import catalog, connector_sql, sql_targets
from nodes.base import NodeError
from nodes.http_client import Egress
from runtime import databases
from support import services

from .conftest import FakeContext

TARGETS = ["sqlite", "postgresql"] if services.SERVICES else ["sqlite"]
HOSTILE = ["x'); DROP TABLE orders; --", "' OR '1'='1", "Robert'); DELETE FROM orders WHERE ('1'='1",
           "1; UPDATE orders SET qty = 0", "\\'; SELECT pg_sleep(10); --", ":qty", "$$; DROP TABLE orders; $$"]


@dataclass
class Target:
    url: str
    guard: sql_targets.Guard
    engine: Any

    def rows(self, sql: str = "SELECT id, name, qty FROM orders ORDER BY id") -> list[tuple]:
        with self.engine.connect() as c:
            return [tuple(r) for r in c.execute(text(sql))]


@pytest.fixture(params=TARGETS)
def target(request, tmp_path, pg_url):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'target.db'}"
        guard = sql_targets.Guard(file_dirs=(str(tmp_path),))
    else:
        services.count(request)
        url = pg_url.render_as_string(hide_password=False)
        guard = sql_targets.Guard(egress=Egress.parse([f"{pg_url.host}:{pg_url.port or 5432}"]))
    engine = create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("DROP TABLE IF EXISTS orders")
        c.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, name VARCHAR(200), qty INTEGER, "
                          "note VARCHAR(200) DEFAULT 'none')")
    yield Target(url, guard, engine)
    engine.dispose()
    sql_targets.dispose_all()


@dataclass
class SqlContext(FakeContext):
    connections: dict = field(default_factory=dict)

    def connection(self, name: str) -> dict:
        return self.connections[name]


@dataclass
class Env:
    guard: sql_targets.Guard
    params: dict = field(default_factory=dict)

    def databases(self) -> sql_targets.Guard:
        return self.guard


def node(target: Target, **config) -> connector_sql.Prepared:
    return connector_sql.prepare(catalog.load_config(connector_sql.SPEC, {"connection": "db", **config}),
                                 Env(target.guard))


def ctx_for(target: Target, url: str | None = None, system: str = "sql") -> SqlContext:
    return SqlContext(connections={"db": {"name": "db", "system": system, "base_url": url or target.url,
                                          "auth": {"type": "none"}}})


def run(prepared, message, ctx) -> list:
    return list(connector_sql.run(prepared, message, ctx))


def failure(prepared, message, ctx) -> NodeError:
    with pytest.raises(NodeError) as caught:
        run(prepared, message, ctx)
    return caught.value


def test_a_query_yields_its_rows_in_pages_with_the_values_bound(target):
    ctx = ctx_for(target)
    run(node(target, operation="insert", table="orders"), [{"id": i, "name": f"n{i}", "qty": i} for i in range(7)],
        ctx)
    query = node(target, statement="SELECT id, name FROM orders WHERE qty >= :least ORDER BY id",
                 params="{'least': least}", page_size=3)
    pages = run(query, {"least": 1}, ctx)
    assert [port for port, _ in pages] == ["out"] * 2
    assert pages[0][1] == {"rows": [{"id": 1, "name": "n1"}, {"id": 2, "name": "n2"}, {"id": 3, "name": "n3"}],
                           "page": 1, "last": False}
    assert pages[1][1] == {"rows": [{"id": 4, "name": "n4"}, {"id": 5, "name": "n5"}, {"id": 6, "name": "n6"}],
                           "page": 2, "last": True, "total": 6}
    assert run(query, {"least": 100}, ctx) == [("out", {"rows": [], "page": 1, "last": True, "total": 0})]


def test_more_rows_than_max_rows_fail_the_step(target):
    ctx = ctx_for(target)
    run(node(target, operation="insert", table="orders"), [{"id": i} for i in range(5)], ctx)
    err = failure(node(target, statement="SELECT * FROM orders", page_size=2, max_rows=4), {}, ctx)
    assert (err.code, err.field) == ("too_many_rows", "max_rows")
    err = failure(node(target, operation="insert", table="orders", max_rows=2), [{"id": i} for i in range(10, 13)],
                  ctx)
    assert (err.code, err.field) == ("too_many_rows", "max_rows")
    assert len(target.rows()) == 5


def test_insert_then_upsert_updates_matched_rows_and_inserts_new_ones(target):
    ctx = ctx_for(target)
    assert run(node(target, operation="insert", table="orders", params="lines.{'id': n, 'qty': q}"),
               {"lines": [{"n": 1, "q": 5}, {"n": 2, "q": 6}]}, ctx) == [
        ("out", {"operation": "insert", "table": "orders", "rows": 2})]
    upsert = node(target, operation="upsert", table="orders", key=["id"])
    assert run(upsert, [{"id": 2, "qty": 60, "name": "two"}, {"id": 3, "qty": 7, "name": "three"}], ctx) == [
        ("out", {"operation": "upsert", "table": "orders", "rows": 2})]
    assert target.rows() == [(1, None, 5), (2, "two", 60), (3, "three", 7)]
    assert target.rows("SELECT note FROM orders WHERE id = 1") == [("none",)]  # a column left out keeps its default
    err = failure(upsert, {"name": "no key"}, ctx)
    assert (err.code, err.field) == ("invalid_rows", "params")


def test_injection_attempts_in_message_values_are_stored_as_data(target):
    """Issue 16 acceptance 6: whatever a message value holds, it reaches the database as a value."""
    ctx = ctx_for(target)
    insert = node(target, operation="insert", table="orders")
    upsert = node(target, operation="upsert", table="orders", key=["id"], params="{'id': n, 'name': text}")
    call = node(target, operation="call", statement="UPDATE orders SET qty = 5 WHERE name = :name AND id = :n",
                params="{'name': text, 'n': n}")
    query = node(target, statement="SELECT id FROM orders WHERE name = :name ORDER BY id", params="{'name': text}")
    for i, hostile in enumerate(HOSTILE):
        run(insert, {"id": 2 * i, "name": hostile, "qty": 1}, ctx)
        run(upsert, {"n": 2 * i + 1, "text": hostile}, ctx)
        run(call, {"n": 2 * i + 1, "text": hostile}, ctx)
        assert run(query, {"text": hostile}, ctx)[0][1]["rows"] == [{"id": 2 * i}, {"id": 2 * i + 1}], hostile
    # the table is there, and holds exactly what was written
    assert target.rows() == [(n, HOSTILE[n // 2], 5 if n % 2 else 1) for n in range(2 * len(HOSTILE))]
    assert run(query, {"text": "' OR ''='"}, ctx)[0][1]["rows"] == []


def test_column_names_from_the_message_that_are_no_plain_names_are_refused(target):
    ctx = ctx_for(target)
    for key in ("name = 'x'; DROP TABLE orders; --", "qty)", "a b", ""):
        err = failure(node(target, operation="insert", table="orders"), {"id": 1, key: "x"}, ctx)
        assert (err.code, err.field) == ("invalid_column", "params"), key
    assert target.rows() == []


def test_a_query_only_reads_and_a_call_commits(target):
    ctx = ctx_for(target)
    run(node(target, operation="insert", table="orders"), [{"id": 1, "qty": 1}, {"id": 2, "qty": 2}], ctx)
    err = failure(node(target, statement="DELETE FROM orders"), {}, ctx)
    assert (err.code, err.field) == ("sql_error", "statement")
    assert len(target.rows()) == 2
    assert run(node(target, operation="call", statement="DELETE FROM orders WHERE id = :id", params="{'id': 1}"),
               {}, ctx) == [("out", {"operation": "call", "rowcount": 1})]
    assert target.rows() == [(2, None, 2)]
    if target.url.startswith("postgresql"):  # a function with a side effect, in a query: the transaction is read-only
        with target.engine.begin() as c:
            c.exec_driver_sql("CREATE SEQUENCE IF NOT EXISTS numbers")
        err = failure(node(target, statement="SELECT nextval('numbers') AS n"), {}, ctx)
        assert err.code == "sql_error" and "read-only" in err.message
        assert run(node(target, operation="call", statement="SELECT nextval('numbers') AS n"), {}, ctx)[0][1][
            "rows"] == [{"n": 1}]


def test_a_postgresql_procedure_is_called_with_bound_values(target):
    if not target.url.startswith("postgresql"):
        assert target.url.startswith("sqlite")  # SQLite has no stored procedures: the call of a statement above
        return
    with target.engine.begin() as c:
        c.exec_driver_sql("CREATE OR REPLACE PROCEDURE add_order(n integer, label text) LANGUAGE sql AS "
                          "$$ INSERT INTO orders (id, name) VALUES (n, label) $$")
    ctx = ctx_for(target)
    run(node(target, operation="call", statement="CALL add_order(:n, :label)", params="{'n': 9, 'label': l}"),
        {"l": HOSTILE[0]}, ctx)
    assert target.rows() == [(9, HOSTILE[0], None)]


def test_a_statement_past_its_timeout_fails_retryable(target):
    slow = ("SELECT pg_sleep(5)" if target.url.startswith("postgresql") else
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c")
    err = failure(node(target, statement=slow, timeout_s=0.2), {}, ctx_for(target))
    assert (err.code, err.field, err.retryable) == ("timeout", "timeout_s", True)
    assert run(node(target, statement="SELECT 1 AS one"), {}, ctx_for(target))[0][1]["rows"] == [{"one": 1}]


def test_failures_name_their_code_and_field(target):
    ctx = ctx_for(target)
    run(node(target, operation="insert", table="orders"), {"id": 1}, ctx)
    cases = [
        (node(target, operation="insert", table="orders"), {"id": 1}, ("constraint_violation", "params")),
        (node(target, statement="SELEKT 1"), {}, ("sql_error", "statement")),
        (node(target, statement="SELECT * FROM orders WHERE id = :id"), {}, ("invalid_params", "params")),
        (node(target, statement="SELECT 1", params="[1, 2]"), {}, ("invalid_params", "params")),
        (node(target, statement="SELECT 1", params="$number('x')"), {}, ("expression_error", "params")),
        (node(target, operation="insert", table="no_such_table"), {"id": 1}, ("sql_error", "statement")),
        (node(target, operation="insert", table="orders"), "text", ("invalid_rows", "params")),
    ]
    for prepared, message, expected in cases:
        err = failure(prepared, message, ctx)
        assert (err.code, err.field) == expected, (expected, err.message)
        assert not err.retryable
    assert (failure(node(target, statement="SELECT 1"), {}, SqlContext()).code) == "unknown_connection"
    other = ctx_for(target, url="http://erp.example", system="erp")
    assert failure(node(target, statement="SELECT 1"), {}, other).code == "connection_system"


def test_the_guard_refuses_what_the_workspace_may_not_reach(target, tmp_path):
    if target.url.startswith("sqlite"):
        outside = tmp_path.parent / f"{tmp_path.name}-other.db"
        err = failure(node(target, statement="SELECT 1"), {}, ctx_for(target, url=f"sqlite:///{outside}"))
        assert (err.code, err.field) == ("egress_denied", "connection")
        assert not outside.exists()
        err = failure(node(target, operation="call", statement=f"ATTACH DATABASE '{outside}' AS other"), {},
                      ctx_for(target))
        assert err.code == "sql_error" and not outside.exists()
        return
    url = sql_targets.parse(target.url)
    # not on the allow list: a loopback address is refused as for HTTP
    bare = connector_sql.prepare(catalog.load_config(connector_sql.SPEC, {"connection": "db", "statement": "SELECT 1"}),
                                 Env(sql_targets.Guard()))
    assert failure(bare, {}, ctx_for(target)).code == "egress_denied"
    # allowed server, but the database Crossdock itself stores in: refused on every local address of the server
    own, _ = databases.own_database(url, str(tmp_path))
    guard = sql_targets.Guard(egress=Egress.parse(["127.0.0.0/8", "::1/128"]), refused=own)
    mine = connector_sql.prepare(catalog.load_config(connector_sql.SPEC, {"connection": "db", "statement": "SELECT 1"}),
                                 Env(guard))
    assert any(ipaddress.ip_address("127.0.0.2") in net for net, _, _ in own)
    for host in ("127.0.0.1", "localhost", "127.0.0.2"):
        err = failure(mine, {}, ctx_for(target, url=url.set(host=host).render_as_string(hide_password=False)))
        assert (err.code, err.field) == ("egress_denied", "connection"), host
        assert "Crossdock's own database" in err.message
    with pytest.raises(ValueError, match="passfile"):
        sql_targets.parse(target.url + "?passfile=/etc/passwd")
    with pytest.raises(ValueError, match="no host"):
        sql_targets.parse("postgresql+psycopg:///test")


def test_the_config_it_refuses():
    for config in ({"connection": "db"}, {"connection": "db", "operation": "insert"},
                   {"connection": "db", "operation": "upsert", "table": "t"},
                   {"connection": "db", "operation": "insert", "table": "t; DROP TABLE t"},
                   {"connection": "db", "statement": "SELECT 1", "max_rows": 0},
                   {"connection": "db", "statement": "SELECT 1", "extra": 1}):
        with pytest.raises(marshmallow.ValidationError):
            catalog.load_config(connector_sql.SPEC, config)
