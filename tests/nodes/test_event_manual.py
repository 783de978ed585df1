import marshmallow
import pytest

from nodes import catalog, event_manual


def test_sample_is_optional_and_any_json():
    assert catalog.load_config(event_manual.SPEC, {}) == {"sample": None}
    sample = {"order": {"number": "PO-4711", "lines": [{"sku": "A-1", "qty": 2}]}}
    assert catalog.load_config(event_manual.SPEC, {"sample": sample}) == {"sample": sample}
    assert catalog.load_config(event_manual.SPEC, {"sample": [1, "two"]}) == {"sample": [1, "two"]}


def test_unknown_keys_are_rejected():
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(event_manual.SPEC, {"input": {}})
    assert "input" in err.value.messages


def test_run_passes_the_input_on(ctx):
    assert list(event_manual.run({"sample": None}, {"n": 1}, ctx)) == [("out", {"n": 1})]
    assert event_manual.SPEC.trigger and event_manual.SPEC.inputs == ()
