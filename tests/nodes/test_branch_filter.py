import marshmallow
import pytest

from nodes import branch_filter, catalog
from nodes.base import NodeError


def prepared(config, env):
    return branch_filter.prepare(catalog.load_config(branch_filter.SPEC, config), env)


def test_matching_messages_pass_and_others_are_dropped(ctx, env):
    p = prepared({"when": "status = 'open' and total >= $threshold"}, env)
    assert list(branch_filter.run(p, {"status": "open", "total": 1000}, ctx)) == [
        ("out", {"status": "open", "total": 1000})]
    assert list(branch_filter.run(p, {"status": "open", "total": 999}, ctx)) == []
    assert list(branch_filter.run(p, {"status": "closed", "total": 5000}, ctx)) == []


def test_non_boolean_results_use_jsonata_truthiness(ctx, env):
    p = prepared({"when": "lines"}, env)
    assert list(branch_filter.run(p, {"lines": [{"sku": "A"}]}, ctx))
    assert not list(branch_filter.run(p, {"lines": []}, ctx))
    assert not list(branch_filter.run(p, {}, ctx))


def test_failing_condition_is_an_error_not_a_drop(ctx, env):
    p = prepared({"when": "total + 'x' > 1"}, env)
    with pytest.raises(NodeError) as err:
        list(branch_filter.run(p, {"total": 1}, ctx))
    assert err.value.field == "when" and err.value.details["code"] == "T2002"


@pytest.mark.parametrize("config", [{}, {"when": None}, {"when": "a", "otherwise": "x"}])
def test_bad_config_is_rejected(config):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(branch_filter.SPEC, config)
