"""transform.split: one message per line with its correlation id, index and count; what each part keeps of the
message; no lines on `empty` (or an error); bounds named by field."""
from __future__ import annotations

import marshmallow
import pytest

from nodes import catalog, transform_split
from nodes.base import NodeError

ORDER = {"order": {"number": "PO-4711", "customer": "ACME", "lines": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2},
                                                                      {"sku": "C", "qty": 3}]}}


def split(env, ctx, message, **config):
    prepared = transform_split.prepare(catalog.load_config(transform_split.SPEC, config), env)
    return list(transform_split.run(prepared, message, ctx))


def test_each_line_goes_out_alone_with_its_correlation_index_and_count(env, ctx):
    got = split(env, ctx, ORDER, lines="order.lines", correlation="order.number",
                keep="{'order': order.number, 'customer': order.customer}")
    assert [port for port, _ in got] == ["out"] * 3
    assert [m for _, m in got] == [
        {"order": "PO-4711", "customer": "ACME", "line": {"sku": sku, "qty": qty},
         "split": {"correlation": "PO-4711", "index": i, "count": 3}}
        for i, (sku, qty) in enumerate([("A", 1), ("B", 2), ("C", 3)])]


def test_without_a_correlation_expression_the_parts_share_the_run_and_node(env, ctx):
    got = split(env, ctx, ORDER, lines="order.lines")
    assert {m["split"]["correlation"] for _, m in got} == {f"{ctx.run_id}/{ctx.node_id}"}
    assert set(got[0][1]) == {"line", "split"}  # nothing kept but the line


def test_a_number_correlation_is_text_and_a_single_line_is_one_part(env, ctx):
    got = split(env, ctx, {"n": 42.0, "lines": {"sku": "only"}}, lines="lines", correlation="n")
    assert got == [("out", {"line": {"sku": "only"}, "split": {"correlation": "42", "index": 0, "count": 1}})]


@pytest.mark.parametrize("lines", ["order.none", "order.empty"])
def test_a_message_without_lines_goes_on_empty_unchanged(env, ctx, lines):
    message = {"order": {"number": "PO-1", "empty": []}}
    assert split(env, ctx, message, lines=lines) == [("empty", message)]


def test_no_lines_may_be_an_error_instead_and_then_the_empty_port_needs_no_edge(env, ctx):
    with pytest.raises(NodeError) as err:
        split(env, ctx, {"order": {}}, lines="order.lines", on_empty="error")
    assert err.value.code == "no_lines" and err.value.field == "lines"
    empty = next(p for p in transform_split.SPEC.outputs if p.name == "empty")
    assert empty.unused({"on_empty": "error"}) and not empty.unused({"on_empty": "empty"})


def test_more_lines_than_the_bound_is_a_business_error_naming_lines(env, ctx):
    with pytest.raises(NodeError) as err:
        split(env, ctx, {"lines": list(range(11))}, lines="lines", max_parts=10)
    assert (err.value.code, err.value.field, err.value.error_class) == ("too_many_parts", "lines", "business")
    assert err.value.details == {"count": 11, "max_parts": 10}
    assert len(split(env, ctx, {"lines": list(range(10))}, lines="lines", max_parts=10)) == 10


@pytest.mark.parametrize("config,field", [
    ({"max_parts": transform_split.MAX_PARTS + 1}, "max_parts"),
    ({"max_parts": 0}, "max_parts"),
    ({"on_empty": "drop"}, "on_empty"),
    ({"lines": ""}, "lines"),
])
def test_config_out_of_bounds_is_refused_naming_the_field(config, field):
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(transform_split.SPEC, {"lines": "lines", **config})
    assert field in err.value.messages


@pytest.mark.parametrize("config,message,code,field", [
    ({"correlation": "missing"}, {"lines": [1]}, "correlation_invalid", "correlation"),
    ({"correlation": "c"}, {"lines": [1], "c": {"an": "object"}}, "correlation_invalid", "correlation"),
    ({"correlation": "c"}, {"lines": [1], "c": "x" * 201}, "correlation_invalid", "correlation"),
    ({"keep": "lines"}, {"lines": [1, 2]}, "keep_invalid", "keep"),
    ({"lines": "$substring(1)"}, {}, "expression_error", "lines"),
])
def test_bad_values_are_business_errors_naming_the_field(env, ctx, config, message, code, field):
    with pytest.raises(NodeError) as err:
        split(env, ctx, message, **{"lines": "lines", **config})
    assert (err.value.code, err.value.field) == (code, field)


def test_an_expression_that_does_not_compile_names_its_field(env):
    with pytest.raises(NodeError) as err:
        transform_split.prepare(catalog.load_config(transform_split.SPEC, {"lines": "lines", "keep": "{"}), env)
    assert err.value.field == "keep"
