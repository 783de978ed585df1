"""The scheduler of `event.schedule` triggers: every maintenance pass starts the runs that fell due.
A unique (workspace, flow, node, due time) row, written in the transaction that stores the tick's run, decides
which process fires a tick, so any number of processes can run the pass; only the latest due time fires (no
catch-up storm after downtime). Cron is read in the node's time zone; `due` says how daylight saving is met."""
from __future__ import annotations

import datetime as dt
import logging
import weakref
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy.exc import IntegrityError

from runtime import clock, triggers
from runtime.models import ScheduleFire, utcnow
from runtime.plan import PlanError, evaluate_key
from runtime.store import runs

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
SHIFT = dt.timedelta(hours=3)  # more than any daylight-saving change of a zone's clocks (2 h at most)
MAX_CANDIDATES = 600  # cron times looked at per due(): 3 h of minutes ahead, an hour repeated, an hour skipped
FIRE = ScheduleFire.__table__.insert()
# per Runtime: (workspace, flow, node) -> the due time this process last fired or saw fired, so that a
# process tries each tick once instead of on every pass until the next one
_tried: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def due(cron: str, now: dt.datetime, since: dt.datetime, zone: str = "UTC") -> dt.datetime | None:
    """The latest due time of `cron`, read on the wall clock of `zone`, at or before `now`, if it is after
    `since` (the deploy); all three naive UTC.

    Daylight saving, as cron daemons do it: a schedule at set times (no `*` in its minute or hour field, e.g.
    `30 2 * * *`) fires once per local time: a time the clocks skip in spring fires at the instant they jump
    (03:00), a time that occurs twice in autumn fires on its first pass only. A schedule with `*` in its minute
    or hour field (`*/15 * * * *`, `0 * * * *`) goes by the time that really passes: the skipped hour has no
    ticks, and the repeated hour has its ticks twice, since they are different instants."""
    tz = ZoneInfo(zone)
    at = now.replace(tzinfo=UTC)
    by_clock = _by_clock(cron)
    # the latest local time that may already have passed: during an hour's second pass, its later minutes
    # are past too (their first pass)
    start = max(_wall(at, tz), _wall(at - SHIFT, tz) + SHIFT)
    times = croniter(cron, start + dt.timedelta(microseconds=1))
    best = None
    for _ in range(MAX_CANDIDATES):
        wall = times.get_prev(dt.datetime)
        instants = _instants(wall, tz, by_clock)
        past = [i for i in instants if i <= now]
        if past:
            best = max(past) if best is None else max(best, *past)
            if len(instants) == 1:  # an earlier local time has an earlier instant, unless it repeats
                break
    return best if best is not None and best > since else None


def _by_clock(cron: str) -> bool:
    fields = cron.split()
    return len(fields) < 2 or fields[0].startswith("*") or fields[1].startswith("*")


def _wall(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return at.astimezone(tz).replace(tzinfo=None)


def _instants(wall: dt.datetime, tz: ZoneInfo, by_clock: bool) -> list[dt.datetime]:
    """The instants (naive UTC) at which local time `wall` fires: one; two in autumn's repeated hour when the
    schedule goes `by_clock`, else its first; in spring's skipped hour none `by_clock`, else the jump."""
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if first == second:
        return [first.replace(tzinfo=None)]
    if _wall(first, tz) == wall:  # it exists twice: fold 0 is the first pass
        return [first.replace(tzinfo=None), second.replace(tzinfo=None)][:2 if by_clock else 1]
    # skipped: fold 0 reads it with the offset before the jump (later in UTC), fold 1 with the one after
    return [] if by_clock else [_jump(second, first, tz).replace(tzinfo=None)]


def _jump(before: dt.datetime, after: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first second at or before `after` with `after`'s UTC offset (`before` has the other one)."""
    lo, hi = before, after
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(tz).utcoffset() == after.astimezone(tz).utcoffset():
            hi = mid
        else:
            lo = mid
    return hi


def fire_due(rt, now: dt.datetime | None = None) -> list[int]:
    """Start the runs of every deployed schedule trigger that fell due; return their run ids."""
    if now is None:
        try:
            now = clock.now(rt.settings)
        except clock.ClockError as err:  # a test's or operator's clock file gone wrong: no tick on a guess
            log.warning("schedules not fired on this pass: %s", err)
            return []
    tried = _tried.setdefault(rt, {})
    seen = set()
    started = []
    for t in triggers.deployed(rt, {"event.schedule"}):
        config = t.node.get("config") or {}
        key = (t.workspace, t.flow_id, t.node["id"])
        seen.add(key)
        try:
            when = due(str(config.get("cron")), now, t.deployed_at, str(config.get("timezone") or "UTC"))
        except (ValueError, KeyError, OSError):  # a bad cron or zone is refused at deploy; an old document may have one
            continue
        if when is None or tried.get(key) == when:
            continue
        try:
            run_id = _fire(rt, t, config.get("input"), when)
        except PlanError:  # its version went away meanwhile (the flow deleted): nothing to start
            log.warning("schedule of flow %s node %s not fired", t.flow_id, t.node["id"], exc_info=True)
            continue
        tried[key] = when
        if run_id is not None:
            started.append(run_id)
    for key in [k for k in tried if k not in seen]:
        del tried[key]
    return started


def _fire(rt, t: triggers.Trigger, message, when: dt.datetime) -> int | None:
    """Store the tick's run together with its fired-tick row; None when another process has fired the tick."""
    keys = rt.keys_for(t.workspace, t.flow_id, t.version, t.node["id"])
    fire = {"workspace": t.workspace, "flow_id": t.flow_id, "node_id": t.node["id"], "due_at": when,
            "fired_at": utcnow()}
    tick = f"schedule tick {when.isoformat()}Z of flow {t.flow_id} node {t.node['id']} (workspace {t.workspace})"
    try:
        [run_id] = runs.start_many(rt, t.workspace, t.flow_id, t.version, [message], trigger="schedule",
                                   trigger_node=t.node["id"], keys=[(evaluate_key(keys.business_key, message),
                                                                    evaluate_key(keys.sequence_key, message))],
                                   then=lambda conn: conn.execute(FIRE, fire))
    except IntegrityError:
        log.info("%s: fired by another process", tick)
        return None
    log.info("%s: fired as run %d", tick, run_id)
    return run_id
