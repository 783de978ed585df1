"""db.migrate's shortcut: a schema at the newest revision is left alone after one read of its version table, and a
schema behind it is still upgraded all the way (SQLite and PostgreSQL)."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

from runtime import db
from support import services


@pytest.fixture
def engine(backend, tmp_path, request):
    """An empty database of this test's own: a new SQLite file, or a new PostgreSQL schema."""
    if backend == "embedded":
        eng = db.make_engine(db.default_sqlite_url(str(tmp_path / "data")))
        yield eng
        eng.dispose()
        return
    services.count(request)
    schema = f"cd_test_{services.RUN_ID}_mig{uuid.uuid4().hex[:6]}"
    admin = create_engine(services.PG_URL)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    eng = db.make_engine(services.PG_URL, schema)
    yield eng
    eng.dispose()
    with admin.begin() as c:
        c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


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
