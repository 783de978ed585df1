import marshmallow
import pytest

from nodes import catalog, control_respond
from nodes.base import NodeError


def prepared(config, env):
    return control_respond.prepare(catalog.load_config(control_respond.SPEC, config), env)


def test_replies_with_the_message_by_default_and_yields_nothing(ctx, env):
    assert list(control_respond.run(prepared({}, env), {"ok": 1}, ctx)) == []
    assert ctx.responses == [(200, {"ok": 1}, None)]


def test_replies_with_status_and_jsonata_body(ctx, env):
    p = prepared({"status": 201, "body": '{"id": order.number, "run": $run.id}'}, env)
    list(control_respond.run(p, {"order": {"number": "PO-1"}}, ctx))
    assert ctx.responses == [(201, {"id": "PO-1", "run": "run-1"}, None)]


@pytest.mark.parametrize("config", [{"status": 99}, {"status": 600}, {"status": "200"}, {"headers": {}}])
def test_bad_config_is_rejected(config):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(control_respond.SPEC, config)


def test_body_that_fails_is_a_business_error_and_no_reply_is_sent(ctx, env):
    p = prepared({"body": '"x" + 1'}, env)
    with pytest.raises(NodeError) as err:
        list(control_respond.run(p, {}, ctx))
    assert err.value.field == "body" and err.value.details["code"] == "T2001"
    assert ctx.responses == []


def test_has_no_outputs():
    assert control_respond.SPEC.outputs == ()
    assert control_respond.SPEC.expressions == ("body",)
