import pytest

from flows import document, migrate
from flows.migrate import CURRENT, upgrade


def test_current_schema_id():
    assert CURRENT == "crossdock.flow/1"


def test_a_current_document_is_returned_unchanged(sample_flow):
    before = {**sample_flow}
    assert upgrade(sample_flow) == before


@pytest.mark.parametrize("doc", [None, 5, "crossdock.flow/1", [], {}, {"schema": ["x"]}, {"schema": {"a": 1}},
                                 {"schema": "crossdock.flow/0"}])
def test_anything_that_is_not_a_known_old_document_passes_through(doc):
    assert upgrade(doc) is doc


def test_an_unknown_schema_id_is_a_load_problem_not_an_exception(flow):
    flow["schema"] = "crossdock.flow/0"
    doc, problems = document.load(flow)
    assert doc is None
    assert [(p.code, p.field) for p in problems] == [("invalid_document", "schema")]
    assert "crossdock.flow/0" in problems[0].message


def _rename_disabled_flag(doc):
    """A made-up older schema that called `disabled` `off`."""
    nodes = [{("disabled" if k == "off" else k): v for k, v in n.items()} for n in doc["nodes"]]
    return {**doc, "schema": "crossdock.flow/0.9", "nodes": nodes}


def test_steps_are_chained_up_to_the_current_schema(monkeypatch, flow):
    monkeypatch.setattr(migrate, "STEPS", {
        "crossdock.flow/0": _rename_disabled_flag,
        "crossdock.flow/0.9": lambda d: {**d, "schema": CURRENT},
    })
    flow["schema"] = "crossdock.flow/0"
    flow["nodes"][2]["off"] = True
    old = {**flow, "nodes": [dict(n) for n in flow["nodes"]]}
    new = upgrade(flow)
    assert new["schema"] == CURRENT
    assert new["nodes"][2]["disabled"] is True and "off" not in new["nodes"][2]
    assert flow == old  # steps build a new document; the stored old one is untouched


def test_load_upgrades_before_it_checks(monkeypatch, flow):
    monkeypatch.setattr(migrate, "STEPS", {"crossdock.flow/0": lambda d: {**d, "schema": CURRENT}})
    flow["schema"] = "crossdock.flow/0"
    doc, problems = document.load(flow)
    assert problems == []
    assert doc["schema"] == CURRENT


def test_a_step_that_goes_round_in_circles_stops(monkeypatch):
    monkeypatch.setattr(migrate, "STEPS", {"a": lambda d: {**d, "schema": "b"}, "b": lambda d: {**d, "schema": "a"}})
    assert upgrade({"schema": "a"}) == {"schema": "a"}
    doc, problems = document.load({"schema": "a", "id": "x"})
    assert doc is None and problems[0].field == "schema"
