import pytest

from nodes import transform_lookup as lookup


@pytest.fixture
def lctx(ctx):
    """The node tests' context with cross-reference tables (Context.lookup) and a record of what was asked."""
    ctx.tables = {"sku_xref": {"hw-1": "HW-1", "hw-2": "HW-2"}, "carriers": {"GROUND": "UPSN"}}
    ctx.asked = []

    def find(table, key):
        ctx.asked.append((table, key))
        return ctx.tables.get(table, {}).get(key)

    ctx.lookup = find
    return ctx


def run(config, message, ctx):
    return list(lookup.run(lookup.Config().load(config), message, ctx))


def test_each_item_of_a_list_gets_its_value_and_the_message_is_not_mutated(lctx):
    message = {"lines": [{"sku": "hw-1"}, {"sku": "hw-2"}]}
    [(port, out)] = run({"table": "sku_xref", "items": "lines", "key": "sku", "target": "item_no"}, message, lctx)
    assert port == "out" and [l["item_no"] for l in out["lines"]] == ["HW-1", "HW-2"]
    assert "item_no" not in message["lines"][0]


def test_without_target_the_value_replaces_the_key_and_without_items_the_message_is_the_item(lctx):
    [(_, out)] = run({"table": "carriers", "key": "method"}, {"method": "GROUND"}, lctx)
    assert out == {"method": "UPSN"}


def test_unknown_keys_go_to_not_found_with_every_field_path_and_the_business_class(lctx):
    message = {"source_id": 7, "lines": [{"sku": "hw-1"}, {"sku": "nope"}, {"sku": None}]}
    [(port, out)] = run({"table": "sku_xref", "items": "lines", "key": "sku", "business_class": "unknown_sku"},
                        message, lctx)
    assert port == "not_found" and out["source_id"] == 7 and out["lines"] == message["lines"]
    assert [(p["field"], p["class"]) for p in out["rejection"]["problems"]] == [
        ("lines[1].sku", "unknown_sku"), ("lines[2].sku", "unknown_sku")]
    assert out["rejection"]["class"] == "unknown_sku" and out["rejection"]["field"] == "lines[1].sku"


def test_missing_keep_leaves_the_item_and_missing_default_sets_the_default(lctx):
    message = {"lines": [{"sku": "hw-1"}, {"sku": "other"}]}
    [(_, kept)] = run({"table": "sku_xref", "items": "lines", "key": "sku", "missing": "keep"}, message, lctx)
    assert kept["lines"] == [{"sku": "HW-1"}, {"sku": "other"}]
    [(_, defaulted)] = run({"table": "carriers", "key": "m", "target": "carrier", "missing": "default",
                            "default": "FDEG"}, {"m": "AIR"}, lctx)
    assert defaulted == {"m": "AIR", "carrier": "FDEG"}


def test_nested_key_paths_and_keys_are_looked_up_as_text(lctx):
    lctx.tables["uom"] = {"12": "DZ"}
    [(_, out)] = run({"table": "uom", "key": "unit.size", "target": "uom"}, {"unit": {"size": 12}}, lctx)
    assert out["uom"] == "DZ" and ("uom", "12") in lctx.asked
