"""The step context: idempotency keys stable across attempts and replays, the sync reply hook, and the
ledger's first-claim-wins on its unique constraint, on both backends."""
from __future__ import annotations

import threading

import pytest

from runtime.context import DatabaseLedger, StepContext


def context(*, run_id=10, business_key=None, root_run_id=None, flow_id="f", workspace="ws", on_respond=None):
    return StepContext(workspace=workspace, flow_id=flow_id, flow_version=1, run_id=run_id, params={"a": 1},
                       ledger=None, business_key=business_key, root_run_id=root_run_id or run_id,
                       on_respond=on_respond or (lambda *a: None))


def key(ctx, node="sink", attempt=1, **kw):
    return ctx.at(node, attempt).idempotency_key(**kw)


def test_the_key_is_stable_across_attempts():
    ctx = context(business_key="PO-1")
    assert key(ctx, attempt=1) == key(ctx, attempt=4)


def test_replays_of_the_same_business_key_share_the_key():
    assert key(context(run_id=10, business_key="PO-1")) == key(context(run_id=99, business_key="PO-1",
                                                                       root_run_id=10))
    assert key(context(run_id=10, business_key="PO-1")) == key(context(run_id=55, business_key="PO-1"))


def test_messages_one_step_emitted_several_of_get_keys_of_their_own_stable_across_attempts():
    ctx = context(business_key="PO-1")
    line = key(ctx)
    first, second = (ctx.at("sink", 1, branch).idempotency_key() for branch in ("/read.0", "/read.1"))
    assert len({line, first, second}) == 3
    assert ctx.at("sink", 4, "/read.1").idempotency_key() == second
    assert ctx.at("sink", 1, "/read.1").idempotency_key(business_key="PO-1") == line  # a node naming its own key
    assert key(ctx) == line  # at() without a branch is the run's own line again


def test_without_a_business_key_replays_share_the_root_run():
    original = key(context(run_id=10))
    assert key(context(run_id=11, root_run_id=10)) == original
    assert key(context(run_id=11)) != original


def test_the_key_differs_per_node_flow_workspace_and_business_key():
    base = key(context(business_key="PO-1"))
    assert key(context(business_key="PO-1"), node="other") != base
    assert key(context(business_key="PO-1", flow_id="g")) != base
    assert key(context(business_key="PO-1", workspace="ws2")) != base
    assert key(context(business_key="PO-2")) != base
    assert key(context(business_key="PO-2"), business_key="PO-1") == base  # a node may name its own key
    assert len(base) == 40 and int(base, 16) >= 0


def test_respond_hands_the_reply_to_the_runtime_and_connections_are_optional():
    replies = []
    ctx = context(on_respond=lambda status, body, headers: replies.append((status, body, headers)))
    ctx.respond(201, {"ok": True}, {"X-A": "1"})
    assert replies == [(201, {"ok": True}, {"X-A": "1"})]
    assert ctx.run_id == "10" and ctx.params == {"a": 1}
    with pytest.raises(KeyError):
        ctx.connection("erp")


def test_ledger_first_claim_wins(store, workspace):
    ledger = DatabaseLedger(store.sessions, workspace)
    assert ledger.claim("dedupe:orders", "PO-1", "1") is None
    assert ledger.claim("dedupe:orders", "PO-1", "1") is None  # the same run again, e.g. on its retry
    assert ledger.claim("dedupe:orders", "PO-1", "2") == "1"
    assert ledger.claim("dedupe:orders", "PO-2", "2") is None
    assert ledger.claim("dedupe:other", "PO-1", "3") is None  # keys are per scope
    assert DatabaseLedger(store.sessions, workspace + "x").claim("dedupe:orders", "PO-1", "4") is None


def test_concurrent_claims_of_one_key_have_one_winner(store, workspace):
    ledger = DatabaseLedger(store.sessions, workspace)
    results, barrier = {}, threading.Barrier(6)

    def claim(run_id):
        barrier.wait()
        results[run_id] = ledger.claim("dedupe", "race", str(run_id))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r, owner in results.items() if owner is None]
    assert len(winners) == 1
    assert {owner for r, owner in results.items() if r not in winners} == {str(winners[0])}
