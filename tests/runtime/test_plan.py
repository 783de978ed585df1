"""Planning a deployed document: params, retry policy precedence and backoff, disabled nodes, the errors
of documents that can no longer be planned, business keys, and the plan cache."""
from __future__ import annotations

import pytest

from runtime.plan import PlanCache, PlanError, RetryPolicy, RunKeys, compile, evaluate_key, param_values, run_keys

DEFAULT = {"max_attempts": 3, "backoff_s": 1.0}


def flow(*nodes, edges=(), **extra) -> dict:
    return {"schema": "crossdock.flow/1", "id": "f", "name": "f", "nodes": list(nodes), "edges": list(edges), **extra}


def edge(i, source, target, port="out"):
    return {"id": f"e{i}", "source": source, "source_port": port, "target": target, "target_port": "in"}


HOOK = {"id": "hook", "type": "event.webhook", "config": {"path": "orders"}}


def http(node_id="sink", **config):
    return {"id": node_id, "type": "connector.http", "config": {"url": "http://127.0.0.1:9/x", **config}}


def mapping(node_id="map", expression="$"):
    return {"id": node_id, "type": "transform.map", "config": {"expression": expression}}


def test_plan_carries_ids_wiring_and_prepared_configs():
    plan = compile(flow(HOOK, mapping(), http(), edges=[edge(1, "hook", "map"), edge(2, "map", "sink"),
                                                         edge(3, "map", "sink", "error")]), "ws", "f", 4, DEFAULT)
    assert (plan.workspace, plan.flow_id, plan.version) == ("ws", "f", 4)
    assert list(plan.nodes) == ["hook", "map", "sink"]
    assert plan.targets("hook", "out") == [("map", "in")]
    assert plan.targets("map", "error") == [("sink", "in")]
    assert plan.targets("sink", "out") == []
    assert plan.nodes["map"].error_wired and not plan.nodes["sink"].error_wired
    assert plan.nodes["map"].prepared.expression.evaluate({"a": 1}, {}) == {"a": 1}  # JSONata compiled once


def test_params_take_their_defaults_and_overrides_win():
    doc = flow(HOOK, params={"erp": {"type": "string", "default": "http://erp"}, "n": {"type": "integer"}})
    assert compile(doc, "ws", "f", 1, DEFAULT).params == {"erp": "http://erp", "n": None}
    assert param_values(doc, {"n": 5}) == {"erp": "http://erp", "n": 5}
    assert param_values(flow(HOOK)) == {}


def retry_of(doc, node_id="sink", default=DEFAULT):
    return compile(doc, "ws", "f", 1, default).nodes[node_id].retry


def test_retry_policy_defaults_to_the_installation_setting():
    assert retry_of(flow(HOOK, http())) == RetryPolicy(3, 1.0)
    assert retry_of(flow(HOOK, http()), default={"max_attempts": 9, "backoff_s": 0.25}) == RetryPolicy(9, 0.25)


def test_flow_settings_override_the_default_for_every_node():
    doc = flow(HOOK, http(), mapping(), settings={"retry": {"max_attempts": 7, "backoff_s": 0.5}})
    assert retry_of(doc, "sink") == RetryPolicy(7, 0.5)  # a node schema's own defaults must not shadow this
    assert retry_of(doc, "map") == RetryPolicy(7, 0.5)
    partial = flow(HOOK, http(), settings={"retry": {"max_attempts": 6}})
    assert retry_of(partial) == RetryPolicy(6, 1.0)


def test_node_retry_overrides_flow_settings_field_by_field():
    doc = flow(HOOK, http(retry={"max_attempts": 2, "backoff_s": 0.1}),
               settings={"retry": {"max_attempts": 7, "backoff_s": 0.5}})
    assert retry_of(doc) == RetryPolicy(2, 0.1)
    doc = flow(HOOK, http(retry={"max_attempts": 2}), settings={"retry": {"max_attempts": 7, "backoff_s": 0.5}})
    assert retry_of(doc) == RetryPolicy(2, 0.5)


def test_delay_is_exponential_and_capped():
    policy = RetryPolicy(max_attempts=20, backoff_s=0.5)
    assert [policy.delay(a) for a in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert policy.delay(15) == 300.0
    assert RetryPolicy(3, 0.0).delay(5) == 0.0


def test_delay_honours_a_longer_retry_after_only():
    policy = RetryPolicy(max_attempts=5, backoff_s=1.0)
    assert policy.delay(1, retry_after_s=30) == 30
    assert policy.delay(3, retry_after_s=0.5) == 4.0  # our backoff is longer: it wins
    assert policy.delay(1, retry_after_s=None) == 1.0


def test_disabled_nodes_are_absent_and_receive_nothing():
    doc = flow(HOOK, {**mapping(), "disabled": True}, http(), edges=[edge(1, "hook", "map"), edge(2, "map", "sink")])
    plan = compile(doc, "ws", "f", 1, DEFAULT)
    assert set(plan.nodes) == {"hook", "sink"}
    assert plan.targets("hook", "out") == []


@pytest.mark.parametrize("node,match", [
    ({"id": "x", "type": "connector.ftp", "config": {}}, "node x: .*connector.ftp"),
    ({"id": "x", "type": "event.webhook", "type_version": 9, "config": {"path": "a"}}, "node x: .*version 9"),
    ({"id": "x", "type": "connector.http", "config": {"method": "FETCH", "url": "http://h"}}, "node x: .*method"),
    ({"id": "x", "type": "transform.map", "config": {}}, "node x: .*expression"),
    ({"id": "x", "type": "transform.map", "config": {"expression": "{ 'a': "}}, "node x: expression"),
], ids=["unknown type", "unknown version", "bad option", "missing field", "JSONata that does not compile"])
def test_a_node_that_cannot_be_planned_is_a_plan_error(node, match):
    with pytest.raises(PlanError, match=match):
        compile(flow(HOOK, node), "ws", "f", 1, DEFAULT)


def test_an_invalid_document_is_a_plan_error():
    with pytest.raises(PlanError, match="Not a valid list"):
        compile({**flow(HOOK), "nodes": "hook"}, "ws", "f", 1, DEFAULT)


@pytest.mark.parametrize("setting", ["business_key", "sequence_key"])
def test_a_key_expression_that_does_not_compile_is_a_plan_error(setting):
    with pytest.raises(PlanError, match="settings key 'order.\\('"):
        compile(flow(HOOK, settings={setting: "order.("}), "ws", "f", 1, DEFAULT)


def test_business_key_falls_back_to_the_sequence_key():
    plan = compile(flow(HOOK, settings={"sequence_key": "order.number"}), "ws", "f", 1, DEFAULT)
    assert evaluate_key(plan.business_key, {"order": {"number": "A-1"}}) == "A-1"
    assert evaluate_key(plan.sequence_key, {"order": {"number": "A-1"}}) == "A-1"
    plan = compile(flow(HOOK, settings={"business_key": "po"}), "ws", "f", 1, DEFAULT)
    assert plan.sequence_key is None and evaluate_key(plan.business_key, {"po": 4711}) == "4711"


def test_evaluate_key_never_raises_and_keeps_scalars_only():
    plan = compile(flow(HOOK, settings={"business_key": "k"}), "ws", "f", 1, DEFAULT)
    key = plan.business_key
    assert evaluate_key(None, {"k": 1}) is None
    assert evaluate_key(key, {}) is None
    assert evaluate_key(key, {"k": {"a": 1}}) is None
    assert evaluate_key(key, {"k": [1, 2]}) is None
    assert evaluate_key(key, {"k": "x" * 500}) == "x" * 200
    assert evaluate_key(key, "not an object") is None
    failing = compile(flow(HOOK, settings={"business_key": "$number('abc')"}), "ws", "f", 1, DEFAULT).business_key
    assert evaluate_key(failing, {}) is None


def test_plan_cache_reuses_a_plan_and_builds_it_once():
    cache, built = PlanCache(size=2), []

    def build(name):
        def make():
            built.append(name)
            return name
        return make

    assert cache.get(("ws", "f", 1), build("a")) == "a"
    assert cache.get(("ws", "f", 1), build("again")) == "a"
    assert built == ["a"]


def test_plan_cache_evicts_the_least_recently_used():
    cache, built = PlanCache(size=2), []

    def get(key):
        return cache.get(key, lambda: built.append(key) or key)

    get(1), get(2), get(1)  # 1 is now the most recently used
    get(3)  # evicts 2
    get(1)
    assert built == [1, 2, 3]
    get(2)
    assert built == [1, 2, 3, 2]
    get(3)  # 3 was evicted by 2's return (1 had been used after 3)
    assert built == [1, 2, 3, 2, 3]


def test_a_failed_build_is_not_cached():
    cache = PlanCache()

    def broken():
        raise PlanError("gone")

    with pytest.raises(PlanError):
        cache.get("k", broken)
    assert cache.get("k", lambda: "ok") == "ok"


def test_concurrent_callers_of_one_plan_build_it_once():
    import threading

    cache, built, gate = PlanCache(), [], threading.Event()

    def build():
        built.append(1)
        gate.wait(5)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("k", build))) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(5)
    assert built == [1] and len(got) == 4 and all(g is got[0] for g in got)


def test_warm_builds_in_the_background_and_a_caller_waits_for_that_build():
    import threading

    cache, built, gate = PlanCache(), [], threading.Event()

    def build():
        built.append("warm")
        gate.wait(5)
        return "plan"

    thread = cache.warm("k", build)
    assert cache.warm("k", build) is None  # being built: not twice
    got = []
    caller = threading.Thread(target=lambda: got.append(cache.get("k", lambda: built.append("caller") or "other")))
    caller.start()
    gate.set()
    caller.join(5)
    thread.join(5)
    assert got == ["plan"] and built == ["warm"] and cache.cached("k") == "plan"
    assert cache.warm("k", build) is None  # built: nothing to do


def test_a_failed_warm_leaves_the_plan_to_its_first_caller():
    cache = PlanCache()

    def broken():
        raise PlanError("gone")

    cache.warm("k", broken).join(5)
    assert cache.cached("k") is None
    assert cache.get("k", lambda: "ok") == "ok"


def test_run_keys_come_from_the_settings_alone_and_agree_with_the_plan():
    settings = {"business_key": "po", "sequence_key": "order.number"}
    keys = run_keys(settings)
    plan = compile(flow(HOOK, settings=settings), "ws", "f", 1, DEFAULT)
    message = {"po": 4711, "order": {"number": "A-1"}}
    assert evaluate_key(keys.business_key, message) == evaluate_key(plan.business_key, message) == "4711"
    assert evaluate_key(keys.sequence_key, message) == evaluate_key(plan.sequence_key, message) == "A-1"
    assert evaluate_key(run_keys({"sequence_key": "n"}).business_key, {"n": 2}) == "2"  # falls back, as plans do
    assert run_keys(None) == run_keys({}) == RunKeys(None, None)
    with pytest.raises(PlanError, match="settings key 'order.\\('"):
        run_keys({"business_key": "order.("})


def test_keys_read_the_settings_once_and_prefer_a_plan_this_process_has():
    cache, reads = PlanCache(), []

    def settings():
        reads.append(1)
        return {"business_key": "po"}

    first = cache.keys("k", settings)
    assert cache.keys("k", settings) is first and reads == [1]
    plan = cache.get("p", lambda: compile(flow(HOOK, settings={"business_key": "ref"}), "ws", "f", 1, DEFAULT))
    assert cache.keys("p", settings).business_key is plan.business_key and reads == [1]


def test_the_cache_says_when_it_holds_as_many_plans_as_it_keeps():
    cache = PlanCache(size=2)
    cache.get(1, lambda: "a")
    assert not cache.full()
    cache.get(2, lambda: "b")
    assert cache.full()
