"""The database layer: migrations create every table the models declare and are safe to run again, on
SQLite and PostgreSQL; SQLite's WAL + BEGIN IMMEDIATE keeps concurrent read-modify-write transactions whole."""
from __future__ import annotations

import fcntl
import os
import threading
import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, insert, inspect, select, text, update

from runtime import db
from runtime.models import Base, Run, Workspace
from support import services


@pytest.fixture
def engine(backend, tmp_path, request):
    """An empty database of this test's own: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "embedded":
        eng = db.make_engine(db.default_sqlite_url(str(tmp_path / "nested" / "data")))
        yield eng
        eng.dispose()
        return
    services.count(request)
    schema = f"cd_test_{services.RUN_ID}_db{uuid.uuid4().hex[:6]}"
    admin = create_engine(services.PG_URL)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    eng = db.make_engine(services.PG_URL, schema)
    yield eng
    eng.dispose()
    with admin.begin() as c:
        c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def test_migrate_creates_every_table_and_column_of_the_models(engine):
    db.migrate(engine)
    found = inspect(engine)
    assert set(Base.metadata.tables) <= set(found.get_table_names())
    for name, table in Base.metadata.tables.items():
        assert {c.name for c in table.columns} == {c["name"] for c in found.get_columns(name)}, name
    ledger = found.get_unique_constraints("ledger")
    assert any(set(u["column_names"]) == {"workspace", "scope", "key"} for u in ledger)


def test_migrating_twice_changes_nothing(engine):
    db.migrate(engine)
    with engine.connect() as c:
        head = c.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    with engine.begin() as c:
        c.execute(insert(Workspace).values(id="w1", name="kept"))
    db.migrate(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == head
        assert c.execute(select(Workspace.name).where(Workspace.id == "w1")).scalar() == "kept"
    assert len(head) == 1


@pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)
def test_postgresql_compresses_the_run_stores_messages_with_lz4(engine, backend):
    """pglz was the largest cost of a webhook's INSERT of a multi-kB order (migration 0023)."""
    db.migrate(engine)
    with engine.connect() as c:
        if not c.exec_driver_sql("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
                                 " AND 'lz4' = ANY(enumvals)").first():
            pytest.skip("this PostgreSQL was built without LZ4")
        found = dict(c.exec_driver_sql(
            "SELECT c.relname || '.' || a.attname, a.attcompression FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND a.attnum > 0 AND format_type(a.atttypid, NULL) = 'json'"
            " AND c.relname IN ('runs', 'steps', 'payloads', 'dead_letters')").all())
    assert found == {f"{table}.{column}": "l" for table, columns in (
        ("runs", ("input", "output", "error", "reply", "checkpoint")), ("steps", ("input", "output", "error")),
        ("payloads", ("data",)), ("dead_letters", ("payload",))) for column in columns}
    with engine.begin() as c:  # a stored order reads back whole
        c.execute(insert(Workspace).values(id="w1", name="w1"))
        order = {"lines": [{"sku": f"SKU-{i}", "qty": i} for i in range(400)]}
        run_id = c.execute(insert(Run).values(workspace="w1", flow_id="f", version=1, status="queued",
                                              trigger="manual", input=order, attempt=0).returning(Run.id)).scalar()
    with engine.connect() as c:
        assert c.execute(select(Run.input).where(Run.id == run_id)).scalar() == order


def test_sqlite_engine_is_in_wal_mode_with_foreign_keys(tmp_path):
    engine = db.make_engine(db.default_sqlite_url(str(tmp_path / "a" / "b")))
    assert (tmp_path / "a" / "b").is_dir()  # created on first use
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_sqlite_read_modify_write_from_threads_loses_no_update(tmp_path):
    engine = db.make_engine(db.default_sqlite_url(str(tmp_path)))
    db.migrate(engine)
    with engine.begin() as c:
        run_id = c.execute(insert(Run).values(workspace="w", flow_id="f", version=1, status="queued",
                                              trigger="manual", attempt=0)).inserted_primary_key[0]
    threads, per_thread, barrier = 4, 10, threading.Barrier(4)

    def bump():
        barrier.wait()
        for _ in range(per_thread):
            with engine.begin() as c:  # BEGIN IMMEDIATE: the read below already holds the write lock
                n = c.execute(select(Run.attempt).where(Run.id == run_id)).scalar()
                c.execute(update(Run).where(Run.id == run_id).values(attempt=n + 1))

    workers = [threading.Thread(target=bump) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    with engine.connect() as c:
        assert c.execute(select(Run.attempt).where(Run.id == run_id)).scalar() == threads * per_thread
    engine.dispose()


def test_default_sqlite_url_is_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert db.default_sqlite_url("data") == f"sqlite:///{tmp_path}/data/crossdock.sqlite"


def _drop_connections_of(engine):
    """What a PostgreSQL restart does to the pool: every connection it holds is closed by the server."""
    with engine.connect() as c:
        pids = {c.exec_driver_sql("SELECT pg_backend_pid()").scalar()}
    admin = create_engine(services.PG_URL)
    with admin.begin() as c:
        for pid in pids:
            c.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    admin.dispose()


@pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)
def test_a_pooled_connection_idle_for_a_while_is_pinged_and_replaced_when_dropped(engine, backend, monkeypatch):
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # every checkout finds its connection idle long enough
    _drop_connections_of(engine)
    with engine.connect() as c:  # the dropped one is found by the ping and replaced: no error
        assert c.exec_driver_sql("SELECT 1").scalar() == 1


@pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)
def test_a_write_that_finds_its_connection_dropped_runs_once_more_on_a_new_one(engine, backend, monkeypatch):
    from runtime.store.writer import Writer
    db.migrate(engine)
    monkeypatch.setattr(db, "PING_IDLE_S", 3600.0)  # a connection used a moment ago: not pinged
    writer = Writer(engine)
    _drop_connections_of(engine)
    calls = []

    def work(conn):
        calls.append(1)
        conn.execute(insert(Workspace).values(id="w-dropped", name="w"))
        return "stored"

    assert writer.write(work) == "stored" and len(calls) == 2  # the first found the dropped connection
    with engine.connect() as c:
        assert c.scalar(select(Workspace.name).where(Workspace.id == "w-dropped")) == "w"
    with pytest.raises(Exception):
        writer.write(lambda conn: conn.execute(insert(Workspace).values(id="w-dropped", name="again")))


@pytest.mark.parametrize("backend", services.ONLY_SERVICES, indirect=True)
def test_a_shared_write_that_finds_the_kept_connection_dropped_runs_once_more_on_a_new_one(engine, backend):
    """Shared writes (a webhook's run) are grouped by a leader that keeps its connection between batches,
    unpinged: after a PostgreSQL restart the next webhook's run is still stored."""
    from runtime.store.writer import Writer
    db.migrate(engine)
    writer = Writer(engine)
    writer.write(lambda conn: conn.execute(insert(Workspace).values(id="w-kept", name="w")), shared=True)
    kept = writer._shared._conn
    pid = kept.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    kept.rollback()
    admin = create_engine(services.PG_URL)
    with admin.begin() as c:
        c.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    admin.dispose()
    calls = []

    def work(conn):
        calls.append(1)
        conn.execute(insert(Workspace).values(id="w-after", name="w"))
        return "stored"

    assert writer.write(work, shared=True) == "stored" and len(calls) == 2  # the first found it dropped
    with engine.connect() as c:
        assert c.scalar(select(Workspace.name).where(Workspace.id == "w-after")) == "w"
    writer.close()


def test_sqlite_writers_of_two_engines_queue_on_the_lock_file_and_lose_no_update(tmp_path):
    """Two engines on one file stand for the web process and an executor: each holds the lock file from
    BEGIN IMMEDIATE to its end, so they take turns without SQLite's sleeping busy handler."""
    url = db.default_sqlite_url(str(tmp_path))
    engines = [db.make_engine(url), db.make_engine(url)]
    db.migrate(engines[0])
    with engines[0].begin() as c:
        run_id = c.execute(insert(Run).values(workspace="w", flow_id="f", version=1, status="queued",
                                              trigger="manual", attempt=0)).inserted_primary_key[0]
    barrier = threading.Barrier(4)

    def bump(engine):
        barrier.wait()
        for _ in range(10):
            with engine.begin() as c:
                n = c.execute(select(Run.attempt).where(Run.id == run_id)).scalar()
                c.execute(update(Run).where(Run.id == run_id).values(attempt=n + 1))

    workers = [threading.Thread(target=bump, args=(engines[i % 2],)) for i in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    with engines[1].connect() as c:
        assert c.execute(select(Run.attempt).where(Run.id == run_id)).scalar() == 40
    for engine in engines:
        engine.dispose()


def test_the_sqlite_write_lock_is_held_from_begin_to_commit_rollback_or_error_and_never_by_reads(tmp_path):
    url = db.default_sqlite_url(str(tmp_path))
    engine = db.make_engine(url)
    db.migrate(engine)
    probe = os.open(url.split("///", 1)[1] + ".writelock", os.O_RDWR)

    def locked() -> bool:  # another open file: flock conflicts with this engine's, as another process's would
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(probe, fcntl.LOCK_UN)
        return False

    with engine.begin() as c:
        c.execute(insert(Workspace).values(id="a", name="a"))
        assert locked()
    assert not locked()  # committed
    conn = engine.connect()
    tx = conn.begin()
    assert locked()
    tx.rollback()
    assert not locked()
    conn.close()
    with pytest.raises(ZeroDivisionError):
        with engine.begin() as c:
            c.execute(insert(Workspace).values(id="b", name="b"))
            1 / 0
    assert not locked()  # rolled back by the error
    with db.reader(engine).begin() as c:  # a read takes no write lock
        c.execute(select(Workspace.id)).all()
        assert not locked()
    with engine.connect() as c:
        assert c.execute(select(Workspace.id).where(Workspace.id.in_(["a", "b"]))).scalars().all() == ["a"]
    os.close(probe)
    engine.dispose()


# db.migrate's shortcut: a schema at the newest revision is left alone after one read of its version table, and a
# schema behind it is still upgraded all the way.
def _upgrade_to(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _versions(engine) -> list[str]:
    with engine.connect() as c:
        return c.execute(text("SELECT version_num FROM alembic_version")).scalars().all()


def test_a_schema_behind_the_newest_revision_is_upgraded_to_it(engine):
    _upgrade_to(engine, "0010")
    assert _versions(engine) == ["0010"] and "poll_cursors" not in inspect(engine).get_table_names()
    db.migrate(engine)
    assert _versions(engine) == list(db._heads())
    assert "poll_cursors" in inspect(engine).get_table_names()  # made by 0011


def test_a_schema_at_the_newest_revision_runs_no_migration(engine, monkeypatch):
    db.migrate(engine)
    assert _versions(engine) == list(db._heads())

    def refuse(*args, **kwargs):
        raise AssertionError("an upgrade ran on a schema at head")

    monkeypatch.setattr(command, "upgrade", refuse)
    db.migrate(engine)
    assert _versions(engine) == list(db._heads())
