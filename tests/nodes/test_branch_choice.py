import marshmallow
import pytest

from nodes import branch_choice, catalog
from nodes.base import NodeError

RULES = [{"port": "big", "when": "total > 1000"}, {"port": "priority", "when": "customer.tier = 'gold'"}]


def prepared(config, env):
    return branch_choice.prepare(catalog.load_config(branch_choice.SPEC, config), env)


@pytest.mark.parametrize("message, port", [
    ({"total": 5000, "customer": {"tier": "gold"}}, "big"),  # first match wins
    ({"total": 10, "customer": {"tier": "gold"}}, "priority"),
    ({"total": 10, "customer": {"tier": "silver"}}, "otherwise"),
    ({}, "otherwise"),
])
def test_routes_to_the_first_matching_rule(ctx, env, message, port):
    assert list(branch_choice.run(prepared({"rules": RULES}, env), message, ctx)) == [(port, message)]


def test_unmatched_is_dropped_when_configured(ctx, env):
    p = prepared({"rules": RULES, "drop_unmatched": True}, env)
    assert list(branch_choice.run(p, {"total": 1}, ctx)) == []


def test_conditions_see_params(ctx, env):
    p = prepared({"rules": [{"port": "big", "when": "total > $threshold"}]}, env)
    assert list(branch_choice.run(p, {"total": 1001}, ctx))[0][0] == "big"


@pytest.mark.parametrize("value, expected", [
    (None, False), (False, False), (0, False), (0.0, False), ("", False), ([], False), ({}, False),
    ([0, ""], False), ([0, 1], True), (1, True), (-2.5, True), ("no", True), ({"a": None}, True), (True, True),
])
def test_truthiness_follows_jsonata_boolean(value, expected):
    assert branch_choice.truthy(value) is expected


def test_truthiness_agrees_with_jsonata_itself(ctx, env):
    p = prepared({"rules": [{"port": "yes", "when": "v"}, {"port": "check", "when": "$boolean(v) = false"}]}, env)
    for v in ([0, 0], ["x"], {}, {"k": 1}, "", "0", 0.5):
        port = list(branch_choice.run(p, {"v": v}, ctx))[0][0]
        assert port == ("yes" if branch_choice.truthy(v) else "check"), v


def test_a_rule_whose_result_is_a_function_fails_naming_the_rule(ctx, env):
    # JSONata would cast it to false and route to otherwise; a result must be JSON (docs/expressions.md),
    # and `$sum` for `$sum(x)` is a slip the flow's author wants to hear about
    for when in ("function($x){$x}", "$sum"):
        p = prepared({"rules": [{"port": "a", "when": when}]}, env)
        with pytest.raises(NodeError) as err:
            list(branch_choice.run(p, {}, ctx))
        assert err.value.field == "rules[0].when" and err.value.details["code"] == "result_not_json"


def test_failing_rule_names_its_index(ctx, env):
    p = prepared({"rules": [{"port": "a", "when": "false"}, {"port": "b", "when": "total + 'x'"}]}, env)
    with pytest.raises(NodeError) as err:
        list(branch_choice.run(p, {"total": 1}, ctx))
    assert err.value.field == "rules[1].when" and err.value.details["code"] == "T2002"


def test_rule_that_does_not_compile_fails_prepare(env):
    with pytest.raises(NodeError) as err:
        prepared({"rules": [{"port": "a", "when": "total >"}]}, env)
    assert err.value.field == "rules[0].when" and err.value.details["position"] is not None


def test_duplicate_ports_are_rejected_at_the_later_rule():
    with pytest.raises(marshmallow.ValidationError) as err:
        catalog.load_config(branch_choice.SPEC, {"rules": [RULES[0], {"port": "big", "when": "true"}]})
    assert err.value.messages == {"rules": {1: {"port": ["port 'big' is already used by an earlier rule"]}}}


@pytest.mark.parametrize("config", [
    {},
    {"rules": []},
    {"rules": [{"port": "otherwise", "when": "true"}]},
    {"rules": [{"port": "error", "when": "true"}]},
    {"rules": [{"port": "has space", "when": "true"}]},
    {"rules": [{"port": "a"}]},
    {"rules": [{"port": "a", "when": ""}]},
    {"rules": [{"port": "a", "when": "true", "extra": 1}]},
    {"rules": RULES, "drop_unmatched": "sometimes"},
])
def test_bad_config_is_rejected(config):
    with pytest.raises(marshmallow.ValidationError):
        catalog.load_config(branch_choice.SPEC, config)


def test_rule_ports_become_outputs():
    spec = branch_choice.SPEC
    assert spec.output_names({"rules": RULES}) == ["otherwise", "error", "big", "priority"]
    assert spec.dynamic_outputs == "rules[].port" and spec.expressions == ("rules[].when",)
