"""event.schedule's config: a cron of five fields and an IANA time zone (UTC when absent, so documents written
before the field keep firing in UTC); a bad zone is a problem naming the field.
Firing: tests/runtime/test_schedules.py."""
import marshmallow
import pytest

from designer import drafts
from nodes import catalog, event_schedule


def load(config):
    return catalog.load_config(event_schedule.SPEC, config)


def test_the_time_zone_defaults_to_utc_and_takes_iana_names():
    assert load({"cron": "0 2 * * *"}) == {"cron": "0 2 * * *", "timezone": "UTC", "input": None}
    for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Etc/GMT+5", "UTC"):
        assert load({"cron": "*/15 6-18 * * 1-5", "timezone": zone})["timezone"] == zone
    assert event_schedule.SPEC.version == 1  # an optional field with a default: old documents load unchanged


@pytest.mark.parametrize("zone", ["", "Berlin", "europe/berlin", "America", "../../etc/passwd", "/etc/localtime",
                                  "localtime", "Mars/Olympus_Mons", "UTC" * 30, None, 1])
def test_anything_but_a_zone_name_is_refused_naming_the_field(zone):
    with pytest.raises(marshmallow.ValidationError) as err:
        load({"cron": "0 2 * * *", "timezone": zone})
    assert list(err.value.messages) == ["timezone"]


def test_a_flow_with_a_wrong_zone_gets_a_problem_on_that_node_and_field():
    doc = {"schema": "crossdock.flow/1", "id": "nightly", "name": "nightly",
           "nodes": [{"id": "tick", "type": "event.schedule", "config": {"cron": "0 2 * * *", "timezone": "CET+1"}},
                     {"id": "done", "type": "control.discard", "config": {"reason": "test"}}],
           "edges": [{"id": "e1", "source": "tick", "source_port": "out", "target": "done", "target_port": "in"}]}
    problems = [p for p in drafts.check(doc) if p.severity == "error"]
    assert [(p.node, p.field) for p in problems] == [("tick", "timezone")], problems
    doc["nodes"][0]["config"]["timezone"] = "Europe/Berlin"
    assert [p for p in drafts.check(doc) if p.severity == "error"] == []


@pytest.mark.parametrize("cron", ["0 2 * *", "0 2 * * * *", "61 2 * * *", "every night", "0 0 30 2 *", "0 0 31 4 *"])
def test_a_cron_that_is_not_five_fields_or_never_falls_due_is_refused(cron):
    with pytest.raises(marshmallow.ValidationError) as err:
        load({"cron": cron})
    assert list(err.value.messages) == ["cron"]
    assert load({"cron": "0 0 29 2 *"})["cron"] == "0 0 29 2 *"  # leap days do come


def test_the_zone_list_leaves_out_names_that_mean_the_servers_own_setting():
    assert "Europe/Berlin" in event_schedule.zones() and "localtime" not in event_schedule.zones()


def test_run_passes_the_configured_input_on(ctx):
    assert list(event_schedule.run(load({"cron": "0 2 * * *"}), {"full": True}, ctx)) == [("out", {"full": True})]
    assert event_schedule.SPEC.trigger and event_schedule.SPEC.inputs == ()
