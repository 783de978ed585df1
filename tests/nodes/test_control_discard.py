"""control.discard: an explicit end with a reason; it takes any message and sends nothing on."""
import marshmallow
import pytest

from nodes import catalog, control_discard


def test_ends_the_message_and_logs_why(ctx):
    config = catalog.load_config(control_discard.SPEC, {"reason": "unknown SKUs are handled in the ERP"})
    assert list(control_discard.run(config, {"sku": "X-1"}, ctx)) == []
    assert ctx.logs == ["discarded: unknown SKUs are handled in the ERP"]


@pytest.mark.parametrize("config", [{}, {"reason": ""}, {"reason": 5}, {"reason": "x" * 501}, {"reason": "ok", "x": 1}])
def test_a_reason_is_required(config):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(control_discard.SPEC, config)


def test_is_a_control_node_with_one_input_and_no_outputs():
    spec = catalog.specs()["control.discard"]
    assert spec is control_discard.SPEC and spec.category == "control"
    assert [p.name for p in spec.inputs] == ["in"] and spec.outputs == ()
    described = catalog.describe(spec)
    assert described["outputs"] == [] and described["config_schema"]["required"] == ["reason"]
