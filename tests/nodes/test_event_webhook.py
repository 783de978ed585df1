import marshmallow
import pytest

from nodes import catalog, event_webhook


def load(config):
    return catalog.load_config(event_webhook.SPEC, config)


def test_design_example_loads_with_defaults():
    assert load({"path": "orders", "respond": "async"}) == {
        "path": "orders", "method": "POST", "respond": "async", "timeout_s": 30}


def test_nested_paths_and_sync_reply_are_accepted():
    assert load({"path": "edi/940-in_v2", "method": "PUT", "respond": "sync", "timeout_s": 300})["timeout_s"] == 300


@pytest.mark.parametrize("config", [
    {},
    {"path": "/orders"},
    {"path": "Orders"},
    {"path": "orders?x=1"},
    {"path": "orders", "method": "TRACE"},
    {"path": "orders", "respond": "later"},
    {"path": "orders", "timeout_s": 0},
    {"path": "orders", "timeout_s": 301},
    {"path": "orders", "timeout_s": "30"},
    {"path": "orders", "secret": "x"},
])
def test_bad_config_is_rejected(config):
    with pytest.raises(marshmallow.ValidationError):
        load(config)


def test_run_passes_the_request_body_on(ctx):
    message = {"order": {"number": "PO-4711"}}
    assert list(event_webhook.run(load({"path": "orders"}), message, ctx)) == [("out", message)]


def test_spec_is_a_trigger_with_one_output():
    assert event_webhook.SPEC.trigger
    assert event_webhook.SPEC.inputs == ()
    assert [p.name for p in event_webhook.SPEC.outputs] == ["out"]
