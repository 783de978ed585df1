"""Settings from the environment: each documented variable is read, anything unset keeps its default."""
from __future__ import annotations

import dataclasses

import pytest

from runtime.settings import Settings, from_env

ENV = {
    "CROSSDOCK_DATABASE_URL": ("database_url", "postgresql+psycopg://cd@db/cd", "postgresql+psycopg://cd@db/cd"),
    "CROSSDOCK_DATABASE_SCHEMA": ("database_schema", "tenant_a", "tenant_a"),
    "CROSSDOCK_REDIS_URL": ("redis_url", "redis://redis:6379/2", "redis://redis:6379/2"),
    "CROSSDOCK_QUEUE": ("queue_name", "orders", "orders"),
    "CROSSDOCK_SECRET_KEY": ("secret_key", "s3cret", "s3cret"),
    "CROSSDOCK_HOST": ("host", "0.0.0.0", "0.0.0.0"),
    "CROSSDOCK_PORT": ("port", "9090", 9090),
    "CROSSDOCK_DATA_DIR": ("data_dir", "/var/lib/crossdock", "/var/lib/crossdock"),
    "CROSSDOCK_SANDBOX_PORT": ("sandbox_port", "6001", 6001),
    "CROSSDOCK_EXECUTORS": ("executors", "3", 3),
    "CROSSDOCK_EXECUTOR_NICE": ("executor_nice", "7", 7),
    "CROSSDOCK_STEP_PAYLOAD_MAX": ("step_payload_max", "2048", 2048),
    "CROSSDOCK_LEASE_S": ("lease_s", "12.5", 12.5),
    "CROSSDOCK_POISON_TAKEOVERS": ("poison_takeovers", "5", 5),
    "CROSSDOCK_SHUTDOWN_GRACE_S": ("shutdown_grace_s", "4", 4.0),
    "CROSSDOCK_MAINTENANCE_S": ("maintenance_s", "2", 2.0),
    "CROSSDOCK_RETENTION_DAYS": ("retention_days", "7.5", 7.5),
    "CROSSDOCK_RETENTION_MAX_RUNS": ("retention_max_runs", "500", 500),
    "CROSSDOCK_EXPRESSION_TIME_MS": ("expression_time_ms", "1500", 1500),
    "CROSSDOCK_EXPRESSION_OUTPUT_BYTES": ("expression_output_bytes", "65536", 65536),
    "CROSSDOCK_EXPRESSION_ITEMS": ("expression_items", "5000", 5000),
    "CROSSDOCK_EXPRESSION_DEPTH": ("expression_depth", "120", 120),
}


@pytest.mark.parametrize("variable", sorted(ENV))
def test_each_variable_sets_its_field_alone(variable):
    field, raw, value = ENV[variable]
    settings = from_env({variable: raw})
    assert getattr(settings, field) == value
    assert dataclasses.replace(settings, **{field: getattr(Settings(), field)}) == Settings()


def test_all_variables_together():
    settings = from_env({name: raw for name, (_, raw, _) in ENV.items()})
    assert {field: getattr(settings, field) for field, _, _ in ENV.values()} == {f: v for f, _, v in ENV.values()}
    assert not settings.embedded_queue


def test_defaults_run_everything_embedded():
    settings = from_env({})
    assert settings == Settings()
    assert settings.database_url == "" and settings.embedded_queue
    assert (settings.host, settings.port, settings.data_dir, settings.queue_name) == ("127.0.0.1", 8080, "data",
                                                                                     "crossdock")
    assert settings.database_schema is None
    assert settings.default_retry == {"max_attempts": 3, "backoff_s": 1.0}
    assert (settings.retention_days, settings.retention_max_runs) == (30.0, 100_000)


def test_an_empty_schema_means_none():
    assert from_env({"CROSSDOCK_DATABASE_SCHEMA": ""}).database_schema is None


def test_other_variables_are_ignored_and_os_environ_is_the_default(monkeypatch):
    assert from_env({"PORT": "1", "CROSSDOCK_UNKNOWN": "x"}) == Settings()
    monkeypatch.setenv("CROSSDOCK_PORT", "7001")
    assert from_env().port == 7001


def test_a_malformed_number_is_refused():
    with pytest.raises(ValueError):
        from_env({"CROSSDOCK_PORT": "eighty"})


def test_settings_are_frozen_and_retry_defaults_are_not_shared():
    a, b = Settings(), Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.port = 1
    a.default_retry["max_attempts"] = 9
    assert b.default_retry["max_attempts"] == 3


def test_previous_secret_keys_are_a_comma_separated_list():
    assert from_env({"CROSSDOCK_SECRET_KEY_PREVIOUS": "a,b"}).previous_secret_keys == ("a", "b")
    assert from_env({}).previous_secret_keys == ()


def test_the_session_cookie_is_secure_in_production_unless_told_otherwise():
    assert from_env({}).secure_cookies is False  # embedded: plain HTTP on the user's machine
    assert from_env({"CROSSDOCK_REDIS_URL": "redis://x"}).secure_cookies is True
    assert from_env({"CROSSDOCK_DATABASE_URL": "postgresql://x"}).secure_cookies is True
    assert from_env({"CROSSDOCK_REDIS_URL": "redis://x", "CROSSDOCK_COOKIE_SECURE": "0"}).secure_cookies is False
    assert from_env({"CROSSDOCK_COOKIE_SECURE": "1"}).secure_cookies is True
    assert from_env({"CROSSDOCK_SESSION_HOURS": "0.5"}).session_hours == 0.5


def test_the_embedded_default_makes_a_key_of_its_own_and_still_reads_what_the_built_in_one_sealed(tmp_path):
    import os
    import stat

    from runtime import connections
    from runtime.wiring import Runtime
    from runtime.settings import DEV_SECRET_KEY, installation_key

    data = str(tmp_path / "data")
    old = Runtime(Settings(data_dir=data, load_samples=False))  # an installation from before: the built-in key
    old.ensure_workspace("acme")
    connections.save(old, "acme", "erp", {"system": "erp", "base_url": "http://erp.example",
                                          "auth": {"type": "bearer", "token": "sealed-long-ago"}})
    old.close()

    mine = installation_key(Settings(data_dir=data, load_samples=False))
    key_file = os.path.join(data, "secret.key")
    assert mine.secret_key not in ("", DEV_SECRET_KEY) and len(mine.secret_key) >= 48
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert installation_key(Settings(data_dir=data)).secret_key == mine.secret_key  # the same on every start
    assert mine.previous_secret_keys == (DEV_SECRET_KEY,)
    assert installation_key(Settings(data_dir=str(tmp_path / "other"))).secret_key != mine.secret_key
    rt = Runtime(mine)
    try:
        assert connections.resolve(rt, "acme", "erp")["auth"]["token"] == "sealed-long-ago"
    finally:
        rt.close()
    # a key the operator set, and production, are theirs: untouched
    assert installation_key(Settings(data_dir=data, secret_key="chosen")).secret_key == "chosen"
    production = Settings(data_dir=data, redis_url="redis://127.0.0.1:6379/15")
    assert installation_key(production) is production
