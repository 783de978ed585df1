"""event.schedule: the latest due time of a deployed schedule trigger fires one run, once, across processes,
on the wall clock of the node's time zone through daylight-saving changes, by the real or the file clock
(runtime/clock.py).
On PostgreSQL the schema is shared by the session's tests, so each test counts the runs of its own workspace.
Several real processes: tests/runtime/test_schedule_processes.py."""
from __future__ import annotations

import copy
import datetime as dt
import logging
import pytest
from sqlalchemy import select, update

from designer import drafts
from runtime import clock, deployments, schedules
from runtime.models import FlowVersion, Run, ScheduleFire, Workspace
from runtime.settings import Settings, from_env

DOC = {"schema": "crossdock.flow/1", "id": "nightly", "name": "nightly",
       "nodes": [{"id": "tick", "type": "event.schedule", "config": {"cron": "0 2 * * *", "input": {"full": True}}},
                 {"id": "map", "type": "transform.map", "config": {"expression": "{'full': full}"}}],
       "edges": [{"id": "e1", "source": "tick", "source_port": "out", "target": "map", "target_port": "in"}]}
DEPLOYED_AT = dt.datetime(2026, 11, 25, 12, 0)


def _deploy(rt, workspace, doc=DOC):
    drafts.create(rt, workspace, doc)
    deployments.deploy(rt, workspace, "nightly", drafts.load_or_400(doc))
    with rt.sessions.begin() as s:
        s.execute(update(FlowVersion).where(FlowVersion.workspace == workspace).values(created_at=DEPLOYED_AT))


def _runs(rt, workspace):
    with rt.sessions() as s:
        return list(s.scalars(select(Run).where(Run.workspace == workspace).order_by(Run.id)))


def test_a_due_time_fires_one_run_with_the_configured_input_and_only_once(rt, workspace):
    _deploy(rt, workspace)
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 1, 59))
    assert _runs(rt, workspace) == []  # 02:00 on the 25th was before the deploy
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 0, 20))
    assert len(_runs(rt, workspace)) == 1
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 0, 35))  # the next pass, or another worker
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 9, 0))
    [run] = _runs(rt, workspace)
    assert (run.trigger, run.trigger_node, run.input) == ("schedule", "tick", {"full": True})


def test_after_downtime_only_the_latest_due_time_fires(rt, workspace):
    _deploy(rt, workspace)
    schedules.fire_due(rt, dt.datetime(2026, 11, 29, 3, 0))
    assert len(_runs(rt, workspace)) == 1  # three nights missed: one run
    schedules.fire_due(rt, dt.datetime(2026, 11, 30, 2, 0))
    assert len(_runs(rt, workspace)) == 2


def test_an_undeployed_flow_does_not_fire(rt, workspace):
    _deploy(rt, workspace)
    deployments.undeploy(rt, workspace, "nightly")
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 1))
    assert _runs(rt, workspace) == []


def test_a_suspended_workspace_does_not_fire_until_it_is_active_again(rt, workspace):
    _deploy(rt, workspace)
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(status="suspended"))
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 1))
    assert _runs(rt, workspace) == []
    with rt.sessions.begin() as s:
        s.execute(update(Workspace).where(Workspace.id == workspace).values(status="active"))
    schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 2))
    assert len(_runs(rt, workspace)) == 1


def test_due_is_the_latest_time_at_or_before_now():
    assert schedules.due("0 2 * * *", dt.datetime(2026, 11, 26, 2, 0), DEPLOYED_AT) == dt.datetime(2026, 11, 26, 2, 0)
    assert schedules.due("*/15 * * * *", dt.datetime(2026, 11, 26, 2, 14), DEPLOYED_AT) == dt.datetime(2026, 11, 26, 2, 0)


# -- time zones and daylight saving: schedules.due -----------------------------------------------------------------
SINCE = dt.datetime(2026, 1, 1)


def _ticks(cron: str, zone: str, start: dt.datetime, hours: int) -> list[dt.datetime]:
    """The distinct due times (UTC) a pass every minute from `start` on would fire: what the scheduler does."""
    seen = []
    for minute in range(hours * 60 + 1):
        when = schedules.due(cron, start + dt.timedelta(minutes=minute), SINCE, zone)
        if when is not None and when >= start and (not seen or seen[-1] != when):
            seen.append(when)
    assert seen == sorted(set(seen))  # never back to an earlier tick
    return seen


def test_cron_is_read_on_the_wall_clock_of_the_zone():
    # 02:00 in Berlin is 01:00 UTC in winter, 00:00 UTC in summer
    assert schedules.due("0 2 * * *", dt.datetime(2026, 11, 26, 0, 59), SINCE, "Europe/Berlin") == dt.datetime(
        2026, 11, 25, 1, 0)
    assert schedules.due("0 2 * * *", dt.datetime(2026, 11, 26, 1, 0), SINCE, "Europe/Berlin") == dt.datetime(
        2026, 11, 26, 1, 0)
    assert schedules.due("0 2 * * *", dt.datetime(2026, 7, 1, 0, 0), SINCE, "Europe/Berlin") == dt.datetime(
        2026, 7, 1, 0, 0)
    assert schedules.due("0 9 * * 1-5", dt.datetime(2026, 11, 27, 3, 45), SINCE, "Asia/Kolkata") == dt.datetime(
        2026, 11, 27, 3, 30)  # 09:00 IST, +05:30
    assert schedules.due("0 2 * * *", dt.datetime(2026, 11, 26, 2, 0), SINCE) == dt.datetime(2026, 11, 26, 2, 0)


@pytest.mark.parametrize("zone, day, jump, after", [
    # 02:00 EST -> 03:00 EDT; the night after, 02:30 EDT
    ("America/New_York", dt.datetime(2026, 3, 8), dt.datetime(2026, 3, 8, 7, 0), dt.datetime(2026, 3, 9, 6, 30)),
    # 02:00 CET -> 03:00 CEST; the night after, 02:30 CEST
    ("Europe/Berlin", dt.datetime(2026, 3, 29), dt.datetime(2026, 3, 29, 1, 0), dt.datetime(2026, 3, 30, 0, 30)),
])
def test_a_set_time_the_clocks_skip_fires_once_when_they_jump(zone, day, jump, after):
    # 02:30 does not exist that night: it fires once, at once when the clocks show 03:00
    assert _ticks("30 2 * * *", zone, day - dt.timedelta(hours=12), 48) == [jump, after]
    night_before = jump - dt.timedelta(days=1) + dt.timedelta(minutes=30)  # 02:30 in standard time
    assert schedules.due("30 2 * * *", jump - dt.timedelta(seconds=1), SINCE, zone) == night_before


@pytest.mark.parametrize("zone, cron, day, first, second", [
    # 01:30 happens twice: 05:30 UTC (EDT), then 06:30 UTC (EST)
    ("America/New_York", "30 1 * * *", dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 1, 5, 30),
     dt.datetime(2026, 11, 1, 6, 30)),
    # 02:30 happens twice: 00:30 UTC (CEST), then 01:30 UTC (CET)
    ("Europe/Berlin", "30 2 * * *", dt.datetime(2026, 10, 25), dt.datetime(2026, 10, 25, 0, 30),
     dt.datetime(2026, 10, 25, 1, 30)),
])
def test_a_set_time_the_clocks_repeat_fires_once_on_its_first_pass(zone, cron, day, first, second):
    assert _ticks(cron, zone, day - dt.timedelta(hours=12), 48) == [first, second + dt.timedelta(days=1)]
    for now in (second, second + dt.timedelta(minutes=20), first + dt.timedelta(hours=5)):
        assert schedules.due(cron, now, SINCE, zone) == first  # the second pass is no new tick


def test_every_few_minutes_follows_real_time_through_both_changes():
    # the repeated hour has its ticks twice (different instants), the skipped hour none: every 30 real minutes
    autumn = _ticks("*/30 * * * *", "America/New_York", dt.datetime(2026, 11, 1, 4, 0), 4)
    assert autumn == [dt.datetime(2026, 11, 1, 4, 0) + dt.timedelta(minutes=30 * i) for i in range(9)]
    spring = _ticks("*/30 * * * *", "America/New_York", dt.datetime(2026, 3, 8, 5, 0), 4)
    assert spring == [dt.datetime(2026, 3, 8, 5, 0) + dt.timedelta(minutes=30 * i) for i in range(9)]
    hourly = _ticks("0 * * * *", "Europe/Berlin", dt.datetime(2026, 10, 24, 22, 0), 5)
    assert hourly == [dt.datetime(2026, 10, 24, 22, 0) + dt.timedelta(hours=i) for i in range(6)]


def test_a_time_zone_with_a_half_hour_change_skips_and_repeats_half_an_hour():
    # Lord Howe Island: 02:00 -> 02:30 in October, 02:00 -> 01:30 in April
    spring = _ticks("15 2 * * *", "Australia/Lord_Howe", dt.datetime(2026, 10, 3, 0, 0), 48)
    assert dt.datetime(2026, 10, 3, 15, 30) in spring and len(spring) == 2  # the jump: 02:30 +11 is 15:30 UTC
    autumn = _ticks("45 1 * * *", "Australia/Lord_Howe", dt.datetime(2026, 4, 4, 0, 0), 48)
    assert len(autumn) == 2 and dt.datetime(2026, 4, 4, 14, 45) in autumn  # 01:45 +11, its first pass


# -- fire_due: zones, the clock file, a tick another process fired ---------------------------------------------------
def test_a_deployed_zone_decides_when_the_tick_fires(rt, workspace):
    doc = copy.deepcopy(DOC)
    doc["nodes"][0]["config"]["timezone"] = "Europe/Berlin"
    _deploy(rt, workspace, doc)
    assert schedules.fire_due(rt, dt.datetime(2026, 11, 26, 0, 59)) == []  # 01:59 in Berlin
    [run_id] = schedules.fire_due(rt, dt.datetime(2026, 11, 26, 1, 0, 10))
    assert [r.id for r in _runs(rt, workspace)] == [run_id]
    with rt.sessions() as s:
        assert s.scalars(select(ScheduleFire.due_at).where(ScheduleFire.workspace == workspace)).all() == [
            dt.datetime(2026, 11, 26, 1, 0)]


def test_a_tick_another_process_has_fired_starts_no_run_here(rt, workspace):
    _deploy(rt, workspace)
    with rt.sessions.begin() as s:  # the other process's row, as its run's transaction left it
        s.add(ScheduleFire(workspace=workspace, flow_id="nightly", node_id="tick", due_at=dt.datetime(2026, 11, 26, 2),
                           fired_at=dt.datetime(2026, 11, 26, 2, 0, 1)))
    assert schedules.fire_due(rt, dt.datetime(2026, 11, 26, 2, 0, 30)) == []
    assert _runs(rt, workspace) == []
    schedules.fire_due(rt, dt.datetime(2026, 11, 27, 2, 0, 30))
    assert len(_runs(rt, workspace)) == 1  # the next night's is this one's


def test_the_clock_file_is_the_time_schedules_go_by(make_settings, workspace, tmp_path, caplog):
    from runtime.wiring import Runtime

    path = tmp_path / "clock"
    rt = Runtime(make_settings(clock_file=str(path)))
    try:
        rt.ensure_workspace(workspace)
        _deploy(rt, workspace)
        clock.write(str(path), dt.datetime(2026, 11, 26, 1, 59, 30, tzinfo=dt.timezone.utc))
        assert clock.now(rt.settings) == dt.datetime(2026, 11, 26, 1, 59, 30)
        schedules.fire_due(rt)
        assert _runs(rt, workspace) == []
        path.write_text("2026-11-26T03:00:20+01:00\n")  # 02:00:20 UTC, written by hand with an offset
        schedules.fire_due(rt)
        assert len(_runs(rt, workspace)) == 1
        path.write_text("tomorrow")
        with caplog.at_level(logging.WARNING, logger="runtime.schedules"):
            assert schedules.fire_due(rt) == []  # no tick on a guess, and no crash of the maintenance pass
        assert "not an ISO 8601 time" in caplog.text
        path.unlink()
        assert schedules.fire_due(rt) == []
        clock.write(str(path), dt.datetime(2026, 11, 27, 2, 0, 5))
        schedules.fire_due(rt)
        assert len(_runs(rt, workspace)) == 2
    finally:
        rt.close()


def test_without_a_clock_file_it_is_the_real_time():
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    assert before <= clock.now(Settings()) <= before + dt.timedelta(minutes=1)
    assert from_env({"CROSSDOCK_CLOCK_FILE": "/tmp/clock"}).clock_file == "/tmp/clock" and from_env({}).clock_file == ""
