import pytest

from nodes import control_dead_letter as dead_letter
from nodes.base import BUSINESS, NodeError


def raised(config, message, ctx, env):
    with pytest.raises(NodeError) as err:
        list(dead_letter.run(dead_letter.prepare(dead_letter.Config().load(config), env), message, ctx))
    return err.value


def test_a_rejection_becomes_a_business_error_with_its_class_field_path_and_problems(ctx, env):
    problems = [{"field": "lines[1].sku", "class": "unknown_sku", "message": "not in sku_xref"},
                {"field": "lines[2].sku", "class": "unknown_sku", "message": "not in sku_xref"}]
    err = raised({}, {"rejection": {"class": "unknown_sku", "field": "lines[1].sku", "problems": problems}}, ctx, env)
    assert (err.code, err.error_class, err.retryable, err.field) == ("unknown_sku", BUSINESS, False, "lines[1].sku")
    assert err.message == "lines[1].sku: not in sku_xref; lines[2].sku: not in sku_xref"
    assert err.details == {"problems": problems}


def test_class_and_message_come_from_the_config_expressions(ctx, env):
    err = raised({"business_class": "'credit_hold'", "message": "'order ' & no & ' held'", "field": "'customer_no'"},
                 {"no": "SO1"}, ctx, env)
    assert (err.code, err.message, err.field) == ("credit_hold", "order SO1 held", "customer_no")


def test_a_message_without_a_rejection_still_ends_as_an_exception(ctx, env):
    err = raised({}, [1], ctx, env)
    assert err.code == "business_exception" and err.error_class == BUSINESS
