"""event.subscribe: which events a subscription takes (exact names and subject.* patterns), its config, and a flow
with only this trigger validating and deploying. Runs started by events: tests/runtime/test_business_events.py."""
from __future__ import annotations

import marshmallow
import pytest

from designer import drafts
from nodes import catalog, event_subscribe
from support.flowdocs import done, edge


@pytest.mark.parametrize("pattern, name, taken", [
    ("shipment.departed", "shipment.departed", True),
    ("shipment.departed", "shipment.departed_late", False),
    ("shipment.*", "shipment.departed", True),
    ("shipment.*", "shipment.pod.received", True),
    ("shipment.*", "shipments.departed", False),
    ("shipment.*", "order.shipment.departed", False),
    ("order.credit_hold.*", "order.credit_hold.released", True),
    ("order.credit_hold.*", "order.released", False),
])
def test_a_subscription_takes_its_name_or_every_name_under_its_subject(pattern, name, taken):
    assert catalog.load_config(event_subscribe.SPEC, {"event": pattern})["event"] == pattern
    assert event_subscribe.matches(pattern, name) is taken


@pytest.mark.parametrize("pattern", ["*", "shipment", "shipment*", "*.departed", "shipment.*.x", "Shipment.*",
                                     "a.b.c.d.e.f.*", ""])
def test_other_patterns_are_refused_naming_the_field(pattern):
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(event_subscribe.SPEC, {"event": pattern})
    assert "event" in err.value.messages


def test_envelope_is_a_json_boolean_off_by_default():
    assert catalog.load_config(event_subscribe.SPEC, {"event": "a.b"})["envelope"] is False
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(event_subscribe.SPEC, {"event": "a.b", "envelope": "yes"})


def test_a_flow_started_by_an_event_validates_clean():
    doc = {"schema": "crossdock.flow/1", "id": "b", "name": "b",
           "nodes": [{"id": "on", "type": "event.subscribe", "config": {"event": "shipment.*"}}, done()],
           "edges": [edge(1, "on", "done")]}
    assert [p for p in drafts.check(doc) if p.severity == "error"] == []


def test_the_node_hands_the_run_message_on(ctx):
    assert list(event_subscribe.run({"event": "a.b", "envelope": False}, {"n": 1}, ctx)) == [("out", {"n": 1})]
