"""Target databases for the SQL nodes' tests (connector.sql, event.poll): a PostgreSQL database of the test run's own
on the machine's server (never the one Crossdock's tests store runs in), dropped at the end."""
from __future__ import annotations

import contextlib
import uuid

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from support import services


@contextlib.contextmanager
def postgres_database(purpose: str):
    """The URL of a fresh PostgreSQL database (TEMPLATE template0: a concurrent CREATE DATABASE elsewhere cannot make
    template1 busy)."""
    name = f"cd_{purpose}_{services.RUN_ID}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(services.PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0")
    try:
        yield make_url(services.PG_URL).set(database=name)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
