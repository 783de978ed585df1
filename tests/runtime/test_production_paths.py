"""The production store's cheaper paths (issue 10): a live event's Redis message made without
python-socketio's scan for bytes, a one-statement write in autocommit on PostgreSQL, and a connection
pool that keeps what a loaded web process uses at once."""
from __future__ import annotations

import threading

import pytest
import socketio
from sqlalchemy import event, select

from runtime import events, redis_relay
from runtime.db import MAX_OVERFLOW, POOL_SIZE, make_engine
from runtime.models import Payload
from runtime.store import runs
from runtime.store.writer import Writer
from support import services


def _messages(emit, *args, **kwargs) -> list:
    outbox = redis_relay.Outbox("redis://127.0.0.1:1/0", flush_s=60)  # never sent: the messages are only looked at
    manager = redis_relay._OutboxManager(outbox, "redis://127.0.0.1:1/0", channel="c", write_only=True,
                                    json=events.LenientJson)
    sent = []
    manager._publish = sent.append
    emit(manager, *args, **kwargs)
    return [{**m, "host_id": None} for m in sent]


@pytest.mark.parametrize("data", [
    {"workspace": "a", "flow_id": "f", "run_id": 1, "status": "succeeded",
     "output": {"lines": [{"sku": "A", "qty": 2, "tags": ["x", None, 1.5]}] * 30, "note": "ü"}},
    {"workspace": "a", "run_id": 2}, "text", 3, None, ("a", {"b": 1})])
@pytest.mark.parametrize("room", [["ws:a", "flow:a:f"], None])
def test_a_live_event_is_the_message_python_socketio_makes_of_it(data, room):
    ours = _messages(redis_relay._OutboxManager.emit, "run.finished", data, namespace="/", room=room)
    library = _messages(socketio.PubSubManager.emit, "run.finished", data, namespace="/", room=room)
    assert ours == library and len(ours) == 1


def test_a_live_event_with_an_acknowledgement_is_left_to_the_library():
    with pytest.raises(RuntimeError, match="context of a server"):  # what PubSubManager.emit says without one
        _messages(redis_relay._OutboxManager.emit, "x", {}, room="r", callback=lambda *a: None)


@pytest.fixture
def store(settings, workspace):
    from runtime.wiring import Runtime

    runtime = Runtime(settings, events=events.Publisher())
    runtime.ensure_workspace(workspace)
    yield runtime
    runtime.close()


def test_a_single_statement_write_is_committed_in_autocommit_on_postgresql_only(store, workspace):
    run_id = runs.start(store, workspace, "f", 1, {}, trigger="manual").id
    seen = []

    def insert(conn):
        seen.append(conn.connection.dbapi_connection.autocommit if conn.dialect.name != "sqlite" else None)
        return conn.execute(Payload.__table__.insert().values(run_id=run_id, step_seq=1, kind="x", data={"i": 1})
                            ).inserted_primary_key[0]

    pk = store.writer.write(insert, single=True)
    store.writer.write(lambda conn: seen.append(conn.connection.dbapi_connection.autocommit
                                                if conn.dialect.name != "sqlite" else None))
    postgres = store.engine.dialect.name != "sqlite"
    assert seen == ([True, False] if postgres else [None, None])  # the pooled connection is itself again after
    with store.engine.connect() as conn:  # committed: another connection sees it
        assert conn.execute(select(Payload.step_seq).where(Payload.id == pk)).scalar() == 1


def test_a_failing_single_statement_write_raises_and_stores_nothing(store, workspace):
    run_id = runs.start(store, workspace, "f", 1, {}, trigger="manual").id
    writer = Writer(store.engine)
    with pytest.raises(Exception):
        writer.write(lambda conn: conn.execute(Payload.__table__.insert().values(
            run_id=run_id, step_seq=None, kind="x", data=None)), single=True)  # step_seq is NOT NULL
    with store.engine.connect() as conn:
        assert conn.execute(select(Payload.id).where(Payload.run_id == run_id)).all() == []


@pytest.mark.parametrize("backend", services.BACKENDS, indirect=True)
def test_the_pool_keeps_the_connections_sixteen_concurrent_requests_use(settings, tmp_path):
    url = settings.database_url or f"sqlite:///{tmp_path}/pool.sqlite"
    engine = make_engine(url, settings.database_schema)
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    try:
        for _ in range(3):  # three waves of 16 requests, each holding a connection at the same time
            barrier = threading.Barrier(16)

            def request():
                with engine.connect() as conn:
                    barrier.wait(10)
                    conn.exec_driver_sql("SELECT 1")

            threads = [threading.Thread(target=request) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
        assert len(opened) == 16  # opened in the first wave, kept for the next two
        assert POOL_SIZE >= 16 and POOL_SIZE + MAX_OVERFLOW == 30
    finally:
        engine.dispose()


def test_an_ungrouped_single_write_on_sqlite_still_takes_a_transaction(tmp_path):
    """SQLite writers queue on its lock file from BEGIN on (runtime/db.py): autocommit would skip it."""
    engine = make_engine(f"sqlite:///{tmp_path}/single.sqlite")
    try:
        writer = Writer(engine, grouped=False)
        assert writer.write(lambda conn: (conn.exec_driver_sql("CREATE TABLE t (x INTEGER)"),
                                          conn.connection.dbapi_connection.in_transaction)[1], single=True)
    finally:
        engine.dispose()
