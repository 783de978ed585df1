import marshmallow
import pytest

from nodes import catalog, event_webhook


def load(config):
    return catalog.load_config(event_webhook.SPEC, config)


def test_design_example_loads_with_defaults():
    assert load({"path": "orders", "respond": "async"}) == {
        "path": "orders", "method": "POST", "respond": "async", "timeout_s": 30, "auth": "key",
        "signature_header": "X-Crossdock-Signature"}


def test_an_hmac_webhook_has_its_secret_and_a_header_of_its_sender():
    config = load({"path": "orders", "auth": "hmac", "hmac_secret": "s" * 32, "signature_header": "X-Hub-Signature-256"})
    assert (config["auth"], config["hmac_secret"], config["signature_header"]) == ("hmac", "s" * 32, "X-Hub-Signature-256")
    with pytest.raises(marshmallow.ValidationError) as err:
        load({"path": "orders", "auth": "hmac"})
    assert "hmac_secret" in err.value.messages


def test_the_secret_field_is_marked_secret():
    assert event_webhook.Config().fields["hmac_secret"].metadata["format"] == "secret"


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
    {"path": "orders", "auth": "none"},
    {"path": "orders", "auth": "hmac", "hmac_secret": ""},
    {"path": "orders", "signature_header": "X-Sig: 1"},
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
