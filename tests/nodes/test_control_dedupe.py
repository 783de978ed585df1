import pytest

from nodes import control_dedupe as dedupe
from nodes.base import NodeError
from support.ledger import MemoryLedger


def run(config, message, ctx, env):
    return list(dedupe.run(dedupe.prepare(dedupe.Config().load(config), env), message, ctx))


def test_the_first_message_with_a_key_passes_later_ones_go_to_duplicate(ctx, env):
    ctx.ledger = MemoryLedger()
    assert run({"key": "number"}, {"number": "A1"}, ctx, env) == [("out", {"number": "A1"})]
    ctx.run_id = "run-2"
    assert run({"key": "number"}, {"number": "A1"}, ctx, env) == [("duplicate", {"number": "A1", "duplicate_of": "run-1"})]
    assert run({"key": "number"}, {"number": "A2"}, ctx, env) == [("out", {"number": "A2"})]
    assert ctx.logs == ["skipped: A1 is a duplicate of run run-1"]


def test_a_retry_of_the_same_run_is_not_a_duplicate_and_scopes_are_apart(ctx, env):
    ctx.ledger = MemoryLedger()
    assert run({"key": "number"}, {"number": 7}, ctx, env)[0][0] == "out"
    assert run({"key": "number"}, {"number": 7}, ctx, env)[0][0] == "out"
    ctx.run_id = "run-2"
    assert run({"key": "number", "scope": "other"}, {"number": 7}, ctx, env)[0][0] == "out"
    assert ("order-release:node-1", "7") in ctx.ledger.claims and ("other", "7") in ctx.ledger.claims


@pytest.mark.parametrize("message", [{}, {"number": ""}, {"number": {"a": 1}}])
def test_a_message_without_a_business_key_is_a_business_error(ctx, env, message):
    ctx.ledger = MemoryLedger()
    with pytest.raises(NodeError) as err:
        run({"key": "number"}, message, ctx, env)
    assert err.value.code == "missing_business_key" and err.value.field == "key"
