"""Rate limits of API keys and workspaces: Flask-Limiter's fixed one-minute windows, kept in Redis when the
installation has one (every web process counts in the same windows) and in memory otherwise.

Two kinds: `hooks` (webhook intake and published experience APIs) and `api` (/api/v1). A request is charged
after it has authenticated, to its API key and to its workspace, so nobody can spend another tenant's budget
by naming it; an HMAC-signed webhook has no key and is charged to its workspace only. The figures per minute
are the partner's `limits` (runtime/partners.py keeps them per process) over the installation's Settings.
Over a limit: 429 `rate_limited` with Retry-After (seconds until the window ends).

Flask-Limiter's own per-view decorators run before a view authenticates, so they could only count what a
caller claims; `charge` uses the extension's strategy and storage directly.

On Redis a web process sends its counts in batches (`Tally`) instead of one round trip a request (that trip
was ~12% of a loaded production web process's CPU): below 7/8 of a limit it counts a bucket's hits itself
and adds them to the shared window every FLUSH_S or every amount/64 hits (at most SLACK_MAX), whichever
comes first; from 7/8 on, every request counts in Redis at once, as do limits under 64 a minute. With one
web process that is exact (its own counts are the window's). With several, what each holds is seen by the
others at most FLUSH_S late: a window lets through at most amount/64 (and at most SLACK_MAX) more per web
process than its amount, and only if its last eighth is spent within FLUSH_S; hits held across a window's
end count in the next window.
"""
from __future__ import annotations

import logging
import math
import threading
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, RedisStorage
from redis.exceptions import NoScriptError
from werkzeug.exceptions import TooManyRequests

from designer import access
from runtime import keys, partners

log = logging.getLogger(__name__)
KINDS = {"hooks": "hooks_per_minute", "api": "api_per_minute"}
_items: dict[int, RateLimitItemPerMinute] = {}
_names: dict[tuple, str] = {}
_last_outage_log = [0.0]
FLUSH_S = 0.1  # the longest a process holds hits of a bucket before the shared window sees them
SLACK_PARTS = 64  # a process holds at most amount/64 hits of a bucket uncounted in Redis ...
SLACK_MAX = 256  # ... and never more than this
HEADROOM_PARTS = 8  # the last amount/8 of a window is counted in Redis at every hit


def register(app: Flask, runtime) -> Limiter:
    """The limiter of this app: Redis storage when Settings.redis_url, else memory."""
    settings = runtime.settings
    limiter = Limiter(key_func=lambda: request.path, storage_uri=settings.redis_url or "crossdock-memory://",
                      strategy="fixed-window", headers_enabled=False)
    limiter.init_app(app)
    # its own check before every request counts the limits of its decorators and defaults: there are none here
    # (`charge` counts once the caller has authenticated), and finding that out was a tenth of a webhook
    # request's CPU; the extension stays for its storage and strategy
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    app.extensions["crossdock.limiter"] = limiter
    # installations (and test runs) sharing one Redis count apart: the queue name tells them apart already
    app.extensions["crossdock.limits_prefix"] = f"crossdock-limits:{settings.queue_name}"
    app.before_request(charge_api)
    return limiter


class LazyMemoryStorage(MemoryStorage):
    """limits' memory storage without its expiry timer: MemoryStorage.incr starts a new 10 ms threading.Timer
    whenever the last one has run, so under load a webhook request started a thread every 10 ms and waited for
    it to be scheduled (4% of the web process's samples at 140 req/s). A fixed window needs no timer:
    MemoryStorage.get already drops an expired count when it is read, and a sweep every SWEEP_EVERY counts
    drops the windows nobody reads any more."""
    STORAGE_SCHEME = ["crossdock-memory"]
    SWEEP_EVERY = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._counted = 0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.get(key)  # an expired window starts again
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
            count = self.storage[key]
        self._counted += 1
        if self._counted % self.SWEEP_EVERY == 0:
            now = time.time()
            for stale in [k for k, at in list(self.expirations.items()) if at <= now]:
                self.get(stale)
        return count


def charge(kind: str, workspace: str, partner_id: str | None, key_id: str | None = None) -> None:
    """Count one request of `kind` against the key (if any) and the workspace; 429 when either is spent.
    Call it once the caller has authenticated (web/hooks.py, web/ext_api.py, charge_api)."""
    app = current_app
    limiter: Limiter = app.extensions["crossdock.limiter"]
    item = _item(per_minute(app.extensions["crossdock.runtime"], partner_id, kind))
    prefix = app.extensions["crossdock.limits_prefix"]
    buckets = ((prefix, kind, "key", key_id), (prefix, kind, "ws", workspace)) if key_id else (
        (prefix, kind, "ws", workspace),)
    try:
        strategy = limiter.limiter
        spent = _first_spent(strategy.storage, item, buckets)
        if spent is not None:
            reset = strategy.get_window_stats(item, *spent).reset_time
            retry = max(1, math.ceil(reset - time.time()))
            over = "API key" if spent[2] == "key" else "workspace"
            raise TooManyRequests(description=f"this {over} may make {item.amount} {kind} requests a minute; "
                                              f"try again in {retry} s", retry_after=retry)
    except TooManyRequests:
        raise
    except Exception:  # Redis away: the queue is too, and intake still stores the run; let it in
        now = time.monotonic()
        if now - _last_outage_log[0] > 60:
            _last_outage_log[0] = now
            log.warning("rate limits not counted: their storage does not answer", exc_info=True)


def charge_api() -> None:
    """before_request of /api/v1: a request with a valid API key is charged to the key and its workspace
    (keys.verify is cached, and designer.access asks it again for nothing). Browser sessions are people
    at a page and are not counted; a request with a bad key is left to the view (401)."""
    if not request.path.startswith("/api/v1/"):
        return
    secret = access.presented_key()
    if secret is None:
        return
    info = keys.verify(current_app.extensions["crossdock.runtime"], secret)
    if info is not None:
        charge("api", info.workspace, info.partner_id, info.id)


def _first_spent(storage, item: RateLimitItemPerMinute, buckets: tuple) -> tuple | None:
    """Count one hit in each bucket (a fixed window: the hit that makes the count pass the amount is refused);
    the first bucket that is over, or None. On Redis the hits go through the process's Tally (see the module's
    docstring); those it sends go in one round trip, with the script limits' own RedisStorage.incr runs."""
    expiry = item.get_expiry()
    names = [_name(item, bucket) for bucket in buckets]
    if not isinstance(storage, RedisStorage):
        counts = [storage.incr(name, expiry) for name in names]
        return next((bucket for bucket, count in zip(buckets, counts) if int(count) > item.amount), None)
    tally = _tally
    sends = tally.take(names, item.amount)
    if sends is None:  # counted here, well inside every bucket's window
        return None
    counts = None
    script = storage.lua_incr_expire
    pipe = storage.get_connection().pipeline(transaction=False)
    for name, amount in zip(names, sends):  # evalsha: a Script called on a pipeline asks SCRIPT EXISTS first
        pipe.evalsha(script.sha, 1, storage.prefixed_key(name), expiry, amount)
    try:
        counts = pipe.execute()
    except NoScriptError:  # Redis restarted since: incr below loads the script again
        counts = None
    if counts is None:
        counts = [storage.incr(name, expiry, amount) for name, amount in zip(names, sends)]
    tally.seen(names, counts)
    return next((bucket for bucket, count in zip(buckets, counts) if int(count) > item.amount), None)


class Tally:
    """A web process's hits not yet added to the shared windows in Redis, and the counts Redis last answered,
    by bucket (limits' storage key). See the module's docstring for the rule and its bound."""

    def __init__(self, flush_s: float = FLUSH_S):
        self.flush_s = flush_s
        self._lock = threading.Lock()
        self._held: dict[str, list] = {}  # name -> [hits held, count Redis last said, when it said it]

    def take(self, names: list[str], amount: int) -> list[int] | None:
        """This request's hit on each bucket: None when it is counted here (every bucket has room for it),
        else the hits to add to each bucket in Redis now (what the process held, and this one)."""
        slack = min(amount // SLACK_PARTS, SLACK_MAX)
        ceiling = amount - amount // HEADROOM_PARTS
        now = time.monotonic()
        with self._lock:
            held = self._held
            entries = [held.get(name) for name in names]
            if slack and all(e is not None and e[0] < slack and e[1] + e[0] + 1 <= ceiling and
                             now - e[2] < self.flush_s for e in entries):
                for e in entries:
                    e[0] += 1
                return None
            sends = []
            for name, e in zip(names, entries):
                if e is None:
                    if len(held) >= 20_000:  # a bound on memory, not a policy: what is held is a few hits
                        held.clear()
                    e = held[name] = [0, 0, now]
                sends.append(e[0] + 1)
                e[0], e[2] = 0, now
            return sends

    def seen(self, names: list[str], counts: list) -> None:
        """What Redis answered for each bucket (its count with the hits just sent)."""
        with self._lock:
            for name, count in zip(names, counts):
                e = self._held.get(name)
                if e is not None:
                    e[1] = int(count)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


_tally = Tally()


def per_minute(rt, partner_id: str | None, kind: str) -> int:
    """The partner's limit of `kind` per minute, else the installation's (Settings.<kind>_per_minute).
    runtime.partners keeps the figures per process: a save there applies here at once, elsewhere within
    its LIMITS_FRESH_S."""
    field = KINDS[kind]
    default = getattr(rt.settings, field)
    own = partners.limits_of(rt, partner_id).get(field) if partner_id else None
    return own if isinstance(own, int) and not isinstance(own, bool) and own > 0 else default


def _name(item: RateLimitItemPerMinute, bucket: tuple) -> str:
    """limits' storage key of a bucket, kept: building it (quoting each part) cost more than counting."""
    found = _names.get((item.amount, bucket))
    if found is None:
        if len(_names) >= 20_000:  # a bound on memory, not a policy
            _names.clear()
        found = _names[(item.amount, bucket)] = item.key_for(*bucket)
    return found


def _item(amount: int) -> RateLimitItemPerMinute:
    item = _items.get(amount)
    if item is None:
        item = _items[amount] = RateLimitItemPerMinute(amount)
    return item
