"""nodes/mapping_functions.py through nodes.base.evaluate_field, as a step evaluates a mapping: $lookup("table", key)
reads the step's tables (read-only, bounded), JSONata's own $lookup(object, key) still works beside it, and
$convertUnit converts by the fixed table; a conversion that cannot be made fails the step as a mapping error."""
from __future__ import annotations

import pytest

from nodes import mapping_functions
from nodes.base import NodeError, compile_field, evaluate_field

TABLES = {("uom", "EA"): "PCS", ("uom", "3"): "three", ("uom", "2.5"): "two and a half"}


@pytest.fixture
def table_ctx(ctx):
    reads = []
    ctx.lookup = lambda table, key: reads.append((table, key)) or TABLES.get((table, key))
    ctx.reads = reads
    return ctx


def run(source: str, data, ctx):
    return evaluate_field(compile_field(source, "expression"), data, ctx, "expression", "mapping_error")


def test_a_table_lookup_reads_the_steps_tables_with_keys_as_text_and_a_default(table_ctx):
    out = run('{"a": $lookup("uom", u), "b": $lookup("uom", n), "c": $lookup("uom", f), '
              '"d": $lookup("uom", "nope", "?"), "e": $lookup("uom", missing, "?"), "f": $lookup("uom", "nope")}',
              {"u": "EA", "n": 3, "f": 2.5}, table_ctx)
    assert out == {"a": "PCS", "b": "three", "c": "two and a half", "d": "?", "e": "?"}
    assert ("uom", "3") in table_ctx.reads and not any(key is None for _, key in table_ctx.reads)


def test_jsonatas_own_lookup_of_an_object_keeps_working(table_ctx):
    assert run('$lookup({"kg": "KGM"}, unit)', {"unit": "kg"}, table_ctx) == "KGM"
    assert run('$lookup(items, "sku")', {"items": [{"sku": "A"}, {"sku": "B"}]}, table_ctx) == ["A", "B"]
    assert run('($m := {"x": 1}; $lookup($m, "x"))', {}, table_ctx) == 1
    assert table_ctx.reads == []


def test_lookups_are_bounded_per_evaluation(table_ctx, monkeypatch):
    monkeypatch.setattr(mapping_functions, "MAX_LOOKUPS", 3)
    assert run('[1..3].$lookup("uom", "EA")', {}, table_ctx) == ["PCS"] * 3
    with pytest.raises(NodeError) as err:
        run('[1..4].$lookup("uom", "EA")', {}, table_ctx)
    assert err.value.code == "mapping_error" and "at most 3 lookups" in err.value.message
    with pytest.raises(NodeError):
        run('$lookup("uom", $pad("", 600, "x"))', {}, table_ctx)


def test_unit_conversion_and_its_errors(ctx):
    assert run('$convertUnit(w, "kg", "lb")', {"w": 2}, ctx) == pytest.approx(4.409245244)
    assert run('$convertUnit(q, "case", "each", 24)', {"q": 3}, ctx) == 72
    assert run('{"w": $convertUnit(missing, "kg", "lb")}', {}, ctx) == {}
    for bad in ('$convertUnit(w, "kg", "m")', '$convertUnit(w, "case", "each")', '$convertUnit("x", "kg", "g")'):
        with pytest.raises(NodeError) as err:
            run(bad, {"w": 1}, ctx)
        assert err.value.code == "mapping_error"
