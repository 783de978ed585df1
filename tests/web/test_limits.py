"""Rate limits per API key and per workspace, in Redis on the services backend (memory when embedded):
429 `rate_limited` with Retry-After, the partner's limits over the installation's, nothing charged before
a caller has authenticated."""
from __future__ import annotations

import dataclasses

import pytest

from support import identity
from support.flowdocs import http_sink, order
from runtime import partners
from runtime.wiring import Runtime
from runtime.models import Run
from web import limits
from web.app import create_app


def set_limits(rt, partner: str, **per_minute) -> None:
    partners.update(rt, partner, {"limits": per_minute})  # what PUT /api/v1/partner does


def hook_runs(rt, workspace: str) -> int:
    with rt.sessions() as s:
        return len(s.execute(Run.__table__.select().where(Run.workspace == workspace)).all())


@pytest.fixture
def hooked(api, store, workspace, partner):
    """The test workspace with a deployed webhook (its runs are stored, never executed: no workers)."""
    assert api.post("/api/v1/flows", json=http_sink("f", "http://127.0.0.1:9/x")).status_code == 201
    assert api.post("/api/v1/flows/f/deploy").status_code == 201
    return api


def test_over_the_partner_limit_a_key_gets_429_with_retry_after_and_no_run(hooked, store, workspace, partner, hook_key):
    set_limits(store, partner, hooks_per_minute=3)
    for n in range(3):
        assert hooked.post(f"/hooks/{workspace}/orders", json=order(f"R-{n}")).status_code == 202
    r = hooked.post(f"/hooks/{workspace}/orders", json=order("R-3"))
    assert r.status_code == 429
    assert r.json["error"]["code"] == "rate_limited" and "3" in r.json["error"]["message"]
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert hook_runs(store, workspace) == 3
    # the workspace's budget is spent too: another key of it waits as well
    other = identity.twin(hooked)
    other.hook_key = identity.hook_key(store, workspace)
    assert other.post(f"/hooks/{workspace}/orders", json=order("R-4")).status_code == 429
    assert hook_runs(store, workspace) == 3


def test_requests_that_do_not_authenticate_spend_nothing(hooked, store, workspace, partner):
    """Nobody can spend a tenant's budget by naming its workspace or its key id."""
    set_limits(store, partner, hooks_per_minute=2)
    stranger = identity.twin(hooked)
    stranger.hook_key = None
    for headers in ({}, {"X-Crossdock-Key": "cdk_k_0123456789_" + "a" * 43}):
        for _ in range(5):
            assert stranger.post(f"/hooks/{workspace}/orders", json=order("X"), headers=headers).status_code == 401
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("A")).status_code == 202
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("B")).status_code == 202
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("C")).status_code == 429


def test_workspaces_have_budgets_of_their_own(hooked, store, workspace, partner):
    set_limits(store, partner, hooks_per_minute=1)
    second = workspace + "b"
    store.ensure_workspace(second, partner_id=partner)
    admin = identity.make_user(store, partner, "admin")
    there = identity.client_for(hooked.application, admin, second, identity.hook_key(store, second))
    assert there.post("/api/v1/flows", json=http_sink("f", "http://127.0.0.1:9/x")).status_code == 201
    assert there.post("/api/v1/flows/f/deploy").status_code == 201
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("1")).status_code == 202
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("2")).status_code == 429
    assert there.post(f"/hooks/{second}/orders", json=order("1")).status_code == 202


def test_an_hmac_webhook_is_charged_to_its_workspace(hooked, store, workspace, partner):
    import hashlib
    import hmac

    secret = "shared-secret-of-the-shop-0123456789"
    doc = http_sink("signed", "http://127.0.0.1:9/x", path="signed")
    doc["nodes"][0]["config"].update(auth="hmac", hmac_secret=secret)
    assert hooked.post("/api/v1/flows", json=doc).status_code == 201
    assert hooked.post("/api/v1/flows/signed/deploy").status_code == 201
    set_limits(store, partner, hooks_per_minute=2)
    raw = b'{"order": {"number": "S"}}'
    sig = {"X-Crossdock-Signature": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}
    answers = [hooked.post(f"/hooks/{workspace}/signed", data=raw, content_type="application/json",
                           headers=sig).status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("K")).status_code == 429  # one budget


def test_api_keys_on_api_v1_are_limited_and_sessions_are_not(api, store, workspace, partner):
    set_limits(store, partner, api_per_minute=2)
    reader = identity.client_for(api.application, None, workspace)
    reader.environ_base["HTTP_X_CROSSDOCK_KEY"] = identity.hook_key(store, workspace, ("flows:read",))
    assert [reader.get("/api/v1/flows").status_code for _ in range(3)] == [200, 200, 429]
    r = reader.get("/api/v1/flows")
    assert r.json["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    assert [api.get("/api/v1/flows").status_code for _ in range(5)] == [200] * 5  # a person at a page


def test_the_installation_default_applies_without_partner_limits(make_settings, workspace, partner):
    rt = Runtime(dataclasses.replace(make_settings(), hooks_per_minute=2))
    try:
        identity.make_partner(rt, partner)
        rt.ensure_workspace(workspace, partner_id=partner)
        admin = identity.make_user(rt, partner, "admin")
        c = identity.client_for(create_app(rt), admin, workspace, identity.hook_key(rt, workspace))
        assert c.post("/api/v1/flows", json=http_sink("f", "http://127.0.0.1:9/x")).status_code == 201
        assert c.post("/api/v1/flows/f/deploy").status_code == 201
        assert [c.post(f"/hooks/{workspace}/orders", json=order(str(n))).status_code for n in range(3)] == [202, 202, 429]
        assert limits.per_minute(rt, partner, "hooks") == 2 and limits.per_minute(rt, partner, "api") == 6000
        set_limits(rt, partner, hooks_per_minute=50)  # a figure left out takes the installation's
        assert limits.per_minute(rt, partner, "hooks") == 50 and limits.per_minute(rt, partner, "api") == 6000
    finally:
        rt.close()


def test_windows_are_kept_in_redis_on_the_services_backend(hooked, settings, workspace):
    """Every web process counts in the same windows: they live in Redis, not in the process."""
    storage = hooked.application.extensions["crossdock.limiter"].limiter.storage
    assert type(storage).__name__ == ("LazyMemoryStorage" if settings.embedded_queue else "RedisStorage")
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("1")).status_code == 202
    if not settings.embedded_queue:
        import redis

        pattern = f"*crossdock-limits:{settings.queue_name}/hooks/ws/{workspace}/*"
        found = redis.Redis.from_url(settings.redis_url).keys(pattern)
        assert len(found) == 1


def test_a_redis_that_lost_its_scripts_still_counts(hooked, store, settings, workspace, partner):
    """After a Redis restart the counting script is gone: the request counts through limits' own incr,
    which loads it again, and the next one is back to one round trip."""
    set_limits(store, partner, hooks_per_minute=2)
    storage = hooked.application.extensions["crossdock.limiter"].limiter.storage
    if not settings.embedded_queue:
        storage.lua_incr_expire.sha = "0" * 40  # a script Redis does not hold, as after a restart
    answers = [hooked.post(f"/hooks/{workspace}/orders", json=order(str(n))).status_code for n in range(3)]
    assert answers == [202, 202, 429]
    if not settings.embedded_queue:
        assert storage.lua_incr_expire.sha != "0" * 40  # loaded again by the fall-back


def test_flask_limiters_own_check_does_not_run_before_each_request(hooked, store, workspace, partner):
    """It would count the limits of Flask-Limiter's decorators and defaults, of which there are none (`charge`
    counts after authentication): resolving that cost a tenth of a webhook request. Limits still apply."""
    app = hooked.application
    limiter = app.extensions["crossdock.limiter"]
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    set_limits(store, partner, hooks_per_minute=1)
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("L-1")).status_code == 202
    assert hooked.post(f"/hooks/{workspace}/orders", json=order("L-2")).status_code == 429


def test_memory_windows_start_no_thread_per_count_and_still_expire(monkeypatch):
    """limits' MemoryStorage started a Timer thread per 10 ms of counting; the lazy one starts none, and a
    window past its expiry counts from 1 again (and is swept once nobody reads it)."""
    import threading
    import time as clock

    from web.limits import LazyMemoryStorage
    storage = LazyMemoryStorage("crossdock-memory://")
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    now = clock.time()
    monkeypatch.setattr(clock, "time", lambda: now + 61)
    assert storage.incr("k", 60) == 1
    storage.incr("gone", 1)
    monkeypatch.setattr(clock, "time", lambda: now + 200)
    storage._counted = LazyMemoryStorage.SWEEP_EVERY - 1
    storage.incr("k", 60)
    assert "gone" not in storage.storage and "gone" not in storage.expirations
    assert started == []


def _redis_storage():
    from limits.storage import RedisStorage
    from support import services

    if "services" not in services.BACKENDS:
        pytest.skip("needs Redis")
    return RedisStorage(services.REDIS_URL)


def _bucket(name: str) -> tuple:
    from support import services
    return (f"crossdock-limits:{services.queue_name()}", "hooks", "ws", name)


def test_a_process_counts_hits_in_batches_and_redis_sees_them_within_the_flush_interval(monkeypatch):
    """Far from its limit a bucket is not a round trip per request: the process holds its hits and adds them to
    the shared window after FLUSH_S (or amount/64 hits); the first hit of a bucket goes to Redis at once."""
    from limits import RateLimitItemPerMinute
    storage = _redis_storage()
    tally = limits.Tally(flush_s=3600)
    monkeypatch.setattr(limits, "_tally", tally)
    item, bucket = RateLimitItemPerMinute(64 * 100), _bucket("batched")
    key = storage.prefixed_key(limits._name(item, bucket))
    trips = []
    real = storage.get_connection

    def counted(*a, **k):
        trips.append(1)
        return real(*a, **k)
    monkeypatch.setattr(storage, "get_connection", counted)
    assert all(limits._first_spent(storage, item, (bucket,)) is None for _ in range(101))
    assert len(trips) == 1 and int(real().get(key)) == 1  # the first hit; then 100 held (amount/64 = 100)
    assert limits._first_spent(storage, item, (bucket,)) is None
    assert len(trips) == 2 and int(real().get(key)) == 102  # the held ones with this one
    assert limits._first_spent(storage, item, (bucket,)) is None
    assert int(real().get(key)) == 102  # held
    tally.flush_s = 0  # the interval has passed: the next hit takes what is held to Redis
    assert limits._first_spent(storage, item, (bucket,)) is None
    assert int(real().get(key)) == 104


def test_batched_counting_stays_exact_with_one_process_and_bounded_with_several(monkeypatch):
    """One process: exactly `amount` hits a window. Several processes (a Tally each, one Redis): at most
    amount/64 more per process, never fewer than `amount`."""
    from limits import RateLimitItemPerMinute
    storage = _redis_storage()
    item = RateLimitItemPerMinute(640)
    one = limits.Tally(flush_s=3600)
    monkeypatch.setattr(limits, "_tally", one)
    bucket = _bucket("one")
    assert sum(limits._first_spent(storage, item, (bucket,)) is None for _ in range(1000)) == 640
    processes = [limits.Tally(flush_s=3600) for _ in range(3)]
    bucket = _bucket("several")
    admitted = 0
    for n in range(3000):
        monkeypatch.setattr(limits, "_tally", processes[n % 3])
        admitted += limits._first_spent(storage, item, (bucket,)) is None
    assert 640 <= admitted <= 640 + 3 * (640 // 64)
