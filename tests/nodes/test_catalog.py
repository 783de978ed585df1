import json

import marshmallow
import pytest

from flows.spec import CATEGORIES, NodeSpec
from nodes import catalog

CONTRACT = {  # ports that templates, golden flows and the canvas rely on
    "event.webhook": ([], ["out"]),
    "event.manual": ([], ["out"]),
    "transform.map": (["in"], ["out", "error"]),
    "transform.set": (["in"], ["out", "error"]),
    "branch.choice": (["in"], ["otherwise", "error"]),
    "branch.filter": (["in"], ["out", "error"]),
    "connector.http": (["in"], ["out", "error"]),
    "control.respond": (["in"], []),
    "connector.erp": (["in"], ["out", "error"]),
    "connector.oms": (["in"], ["out", "error"]),
    "connector.wms": (["in"], ["out", "error"]),
    "connector.tms": (["in"], ["out", "error"]),
    "transform.conform": (["in"], ["out", "rejected"]),
    "transform.lookup": (["in"], ["out", "not_found"]),
    "control.dedupe": (["in"], ["out", "duplicate"]),
    "control.dead_letter": (["in"], []),
    "control.discard": (["in"], []),
    "transform.split": (["in"], ["out", "empty", "error"]),
    "transform.aggregate": (["in"], ["out", "partial", "error"]),
    "edi.read": (["in"], ["out", "ack", "error"]),
    "edi.write": (["in"], ["out", "error"]),
    "event.schedule": ([], ["out"]),
    "connector.sql": (["in"], ["out", "error"]),
    "event.poll": ([], ["out"]),
    "event.subscribe": ([], ["out"]),
    "control.emit": (["in"], ["out", "error"]),
    "event.file": ([], ["out", "error"]),
    "connector.file": (["in"], ["out", "error"]),
    "control.wait": (["in", "arrival"], ["out", "timeout", "receipt", "error"]),
    "control.throttle": (["in"], ["out", "error"]),
}


def test_catalogue_lists_the_contract_types_with_their_ports():
    specs = catalog.specs()
    assert set(specs) == set(CONTRACT)
    for type_, (inputs, outputs) in CONTRACT.items():
        spec = specs[type_]
        assert isinstance(spec, NodeSpec) and spec.type == type_ and spec.category in CATEGORIES
        assert type_.startswith(spec.category + ".")
        assert ([p.name for p in spec.inputs], [p.name for p in spec.outputs]) == (inputs, outputs)


def test_only_a_connector_answer_is_an_optional_port():
    # its message already reached the target system; every other port must be wired or discarded
    optional = {(t, p.name) for t, spec in catalog.specs().items() for p in spec.outputs if p.optional}
    # and control.emit's: the message left the flow as a business event, stored and delivered; and control.wait's
    # receipt: the arrival was delivered to the waiting run (or is held for one)
    assert optional == {(t, "out") for t in CONTRACT if t.startswith("connector.")} | {("control.emit", "out"),
                                                                                       ("control.wait", "receipt")}
    assert catalog.describe(catalog.specs()["connector.erp"])["outputs"][0]["optional"] is True


def test_every_module_has_a_run_function_and_prepare_where_it_compiles_jsonata():
    for type_, module in catalog.TYPES.items():
        assert callable(module.run)
        assert hasattr(module, "prepare") == bool(module.SPEC.expressions), type_


def test_get_by_type_and_version():
    assert catalog.get("transform.map", 1) is catalog.TYPES["transform.map"]
    assert catalog.get("transform.map") is catalog.TYPES["transform.map"]
    with pytest.raises(KeyError):
        catalog.get("transform.map", 2)
    with pytest.raises(KeyError):
        catalog.get("transform.nope", 1)


def test_describe_gives_the_palette_shape_of_the_api_contract():
    d = catalog.describe(catalog.specs()["branch.choice"])
    assert list(d) == ["type", "version", "category", "title", "description", "icon", "inputs", "outputs",
                       "dynamic_outputs", "expressions", "references", "preview", "summary", "config_schema"]
    assert d["inputs"] == [{"name": "in", "label": "", "record": None, "optional": False}]
    assert d["outputs"][0] == {"name": "otherwise", "label": "No rule matched", "record": None, "optional": False}
    assert d["dynamic_outputs"] == "rules[].port" and d["expressions"] == ["rules[].when"]
    assert d["config_schema"]["required"] == ["rules"]
    assert catalog.describe(catalog.specs()["transform.map"])["dynamic_outputs"] is None
    assert d["references"] == {} and d["preview"] is None
    assert catalog.describe(catalog.specs()["connector.http"])["references"]["headers.*"] == "template"


def test_every_description_is_json():
    palette = [catalog.describe(s) for s in catalog.specs().values()]
    assert json.loads(json.dumps(palette)) == palette


def test_load_config_fills_defaults_and_rejects_bad_config():
    spec = catalog.specs()["connector.http"]
    loaded = catalog.load_config(spec, {"url": "{{erp_url}}/orders"})
    assert loaded["method"] == "POST" and loaded["timeout_s"] == 10
    assert loaded["retry"] == {"max_attempts": 3, "backoff_s": 1}
    assert loaded["auth"] == {"type": "none", "header": "X-API-Key"}
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(spec, {"url": "{{erp url}}"})
    assert "url" in err.value.messages
    assert catalog.load_config(catalog.specs()["event.manual"], None) == {"sample": None}
