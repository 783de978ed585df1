import pytest

from nodes.url_template import TemplateError, parse

PARAMS = {"erp_url": "http://127.0.0.1:5001/erp", "host": "erp.local:8080", "tenant": "acme corp"}


def test_base_url_param_is_kept_and_path_pieces_are_encoded():
    t = parse("{{erp_url}}/orders/{{$.order.number}}")
    assert t.render_url(PARAMS, {"order": {"number": "A/B 1?#"}}) == \
        "http://127.0.0.1:5001/erp/orders/A%2FB%201%3F%23"


def test_host_placeholders_are_not_encoded_but_query_values_are():
    t = parse("https://{{host}}/t/{{tenant}}/items?sku={{$.lines[1].sku}}&all={{$.flag}}")
    message = {"lines": [{"sku": "X"}, {"sku": "A&B=C"}], "flag": True}
    assert t.render_url(PARAMS, message) == "https://erp.local:8080/t/acme%20corp/items?sku=A%26B%3DC&all=true"


def test_plain_render_does_not_encode_and_serialises_values():
    t = parse("Token {{ tenant }} {{$.n}} {{$.obj}} {{$}}")
    assert t.render(PARAMS, {"n": 4711, "obj": {"a": [1]}}) == 'Token acme corp 4711 {"a":[1]} {"n":4711,"obj":{"a":[1]}}'


def test_params_lists_the_param_names():
    assert parse("{{erp_url}}/x/{{$.id}}/{{tenant}}").params == ["erp_url", "tenant"]


def test_literal_url_needs_no_values():
    assert parse("http://127.0.0.1/ping").render_url({}, None) == "http://127.0.0.1/ping"


@pytest.mark.parametrize("source, position", [
    ("{{erp url}}", 0), ("x/{{$.}}", 2), ("{{$order}}", 0), ("{{}}", 0), ("abc/{{erp_url", 4), ("{{$.a..b}}", 0),
])
def test_malformed_placeholders_are_rejected_with_position(source, position):
    with pytest.raises(TemplateError) as err:
        parse(source)
    assert err.value.position == position


@pytest.mark.parametrize("params, message, text", [
    ({}, {}, "param 'erp_url' has no value"),
    ({"erp_url": "u"}, {"order": {}}, "the message has no value at $.order.number"),
    ({"erp_url": "u"}, {"order": {"number": None}}, "'{{$.order.number}}' is null"),
    ({"erp_url": "u"}, {"order": "flat"}, "the message has no value at $.order.number"),
    ({"erp_url": None}, {"order": {"number": 1}}, "'{{erp_url}}' is null"),
])
def test_missing_values_are_errors_not_empty_strings(params, message, text):
    with pytest.raises(TemplateError) as err:
        parse("{{erp_url}}/orders/{{$.order.number}}").render_url(params, message)
    assert err.value.message == text


def test_index_past_the_end_is_missing():
    with pytest.raises(TemplateError):
        parse("{{$.lines[2].sku}}").render({}, {"lines": [{"sku": "A"}]})
