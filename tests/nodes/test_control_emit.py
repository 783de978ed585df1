"""control.emit: its config (event names, key and payload JSONata), what it asks of the runtime's business events
and what it passes on; and, on both backends, a deployed flow whose emit has a key that is empty for a message (the
message goes to `error`, nothing is published). Delivery to subscribers: tests/runtime/test_business_events.py."""
from __future__ import annotations

from dataclasses import dataclass, field

import marshmallow
import pytest
from sqlalchemy import func, select

from designer import drafts
from nodes import catalog, control_emit
from nodes.base import NodeError
from runtime import deployments, intake
from runtime.event_models import BusinessEvent
from runtime.models import Run
from support import wait_for
from support.flowdocs import done, edge


@dataclass
class Published:
    """ctx.business_events as a list of what the node handed it (the runtime's: tests/runtime)."""
    calls: list = field(default_factory=list)

    def emit(self, name, key, payload):
        self.calls.append((name, key, payload))
        return {"id": len(self.calls), "name": name, "key": key, "hops": 1, "subscribers": 0, "runs": [],
                "duplicate": False}


def run(config, message, ctx, env):
    loaded = control_emit.Config().load(config)
    return list(control_emit.run(control_emit.prepare(loaded, env), message, ctx))


@pytest.mark.parametrize("name", ["shipment.departed", "order.credit_hold.released", "inv_2.counted"])
def test_event_names_are_lower_dotted(name):
    assert catalog.load_config(control_emit.SPEC, {"event": name})["event"] == name


@pytest.mark.parametrize("name", ["shipment", "Shipment.departed", "shipment.*", "shipment..departed", "a.b.c.d.e.f.g",
                                  "shipment.departed ", "1shipment.departed", "x" * 41 + ".y", ""])
def test_other_event_names_are_refused_naming_the_field(name):
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(control_emit.SPEC, {"event": name})
    assert "event" in err.value.messages


def test_validate_marks_a_key_that_does_not_compile():
    doc = {"schema": "crossdock.flow/1", "id": "a", "name": "a",
           "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                     {"id": "emit", "type": "control.emit", "config": {"event": "shipment.departed", "key": "a.(b"}}],
           "edges": [edge(1, "start", "emit")]}
    problems = drafts.check(doc)
    assert [(p.node, p.field) for p in problems if p.severity == "error"] == [("emit", "key")]


def test_the_message_goes_on_with_what_was_emitted(ctx, env):
    ctx.business_events = Published()
    out = run({"event": "shipment.departed", "key": "number", "payload": "{'n': number}"}, {"number": 7}, ctx, env)
    assert ctx.business_events.calls == [("shipment.departed", "7", {"n": 7})]
    assert out == [("out", {"number": 7, "emitted": {"id": 1, "name": "shipment.departed", "key": "7", "hops": 1,
                                                      "subscribers": 0, "runs": [], "duplicate": False}})]
    out = run({"event": "shipment.departed"}, ["a"], ctx, env)  # no key: the runtime takes the run's
    assert ctx.business_events.calls[-1] == ("shipment.departed", None, ["a"]) and out[0][1]["message"] == ["a"]


@pytest.mark.parametrize("message, code", [({}, "missing_business_key"), ({"number": ""}, "missing_business_key"),
                                           ({"number": {"a": 1}}, "missing_business_key"),
                                           ({"number": "x" * 201}, "key_too_long")])
def test_a_key_that_is_empty_or_too_long_is_a_business_error_and_nothing_is_emitted(ctx, env, message, code):
    ctx.business_events = Published()
    with pytest.raises(NodeError) as err:
        run({"event": "shipment.departed", "key": "number"}, message, ctx, env)
    assert (err.value.code, err.value.field, err.value.error_class) == (code, "key", "business")
    assert ctx.business_events.calls == []


def test_a_context_without_business_events_publishes_nothing(ctx, env):
    with pytest.raises(NodeError) as err:
        run({"event": "shipment.departed"}, {}, ctx, env)
    assert err.value.code == "no_events"


def test_a_message_without_its_key_goes_to_error_and_no_event_is_stored(rt, workspace):
    doc = {"schema": "crossdock.flow/1", "id": "a", "name": "a",
           "nodes": [{"id": "start", "type": "event.manual", "config": {}},
                     {"id": "emit", "type": "control.emit",
                      "config": {"event": "shipment.departed", "key": "shipment.number"}}, done("no key")],
           "edges": [edge(1, "start", "emit"), edge(2, "emit", "done", "error")]}
    drafts.create(rt, workspace, doc)
    deployments.deploy(rt, workspace, "a", drafts.load_or_400(doc))
    run_id = intake.start_manual(rt, workspace, "a", {"shipment": {}}).id

    def finished():
        with rt.sessions() as s:
            row = s.get(Run, run_id)
            return row if row.status in ("succeeded", "failed") else None
    row = wait_for(finished)
    assert row.status == "succeeded" and row.output["error"]["code"] == "missing_business_key"
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(BusinessEvent).where(
            BusinessEvent.workspace == workspace)) == 0
